"""The one mixing energy and the one Vegard's law (heo_calc.mixing), as both studies use them."""

from __future__ import annotations

import pytest

from heo_calc.mixing import mixing_energy_mev_per_atom, vegard_lattice_parameter


def test_mixing_energy_is_the_energy_above_the_end_members_per_atom():
    # (Mg16Ni16)O32: 64 atoms, 0.64 eV above 16 MgO + 16 NiO formula units: 10 meV/atom.
    energy = -12.0 * 16 - 10.0 * 16 + 0.64
    assert mixing_energy_mev_per_atom(energy, 64, {"Mg": 16, "Ni": 16}, {"Mg": -12.0, "Ni": -10.0}) == (
        pytest.approx(10.0)
    )
    # Uneven counts (5 cations on 32 sites) weigh each end member by its count.
    counts = {"Mg": 7, "Co": 7, "Ni": 6, "Cu": 6, "Zn": 6}
    per_fu = {"Mg": -12.0, "Co": -11.0, "Ni": -10.0, "Cu": -9.0, "Zn": -8.0}
    reference = sum(n * per_fu[c] for c, n in counts.items())
    assert mixing_energy_mev_per_atom(reference, 64, counts, per_fu) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(KeyError):
        mixing_energy_mev_per_atom(energy, 64, {"Mg": 16, "Zn": 16}, {"Mg": -12.0})


def test_equimolar_mixing_energy_matches_the_screens_parent_form():
    """The screen's ΔE = (E - N mean(e_c)) / n_atoms is the general form with n_c = N / k."""
    per_site = {"Mg": -12.1, "Co": -11.3, "Ni": -10.7}
    n_sites, n_atoms, energy = 30, 60, -340.0
    screen_form = 1000.0 * (energy - n_sites * sum(per_site.values()) / 3) / n_atoms
    general = mixing_energy_mev_per_atom(energy, n_atoms, dict.fromkeys(per_site, n_sites / 3), per_site)
    assert general == pytest.approx(screen_form, rel=1e-12)


def test_vegard_is_the_composition_weighted_mean():
    assert vegard_lattice_parameter([4.2, 4.2, 4.3, 4.3]) == pytest.approx(4.25)
    assert vegard_lattice_parameter([4.0, 5.0], fractions=[0.75, 0.25]) == pytest.approx(4.25)
