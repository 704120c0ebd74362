"""Mixing energy and Vegard's law of a solid solution against its end members: one of each for every study.

The screen (:mod:`heo_calc.screening`) measures a mixture on a fixed lattice against its
single-cation parents on that lattice; the forgetting report (:mod:`heo_calc.forgetting`)
measures rock-salt solid solutions against the same model's rock-salt end members. Both
come down to the same two formulas.

Mixing energy of a cell of ``n_atoms`` atoms with total energy ``E`` that holds ``n_c``
formula units of each end member ``c`` (one per substituted site: the cation with its
anions and any spectators)::

    ΔE_mix = (E - Σ_c n_c e_c) / n_atoms,      e_c = energy of end member c per formula unit

The end members share the mixture's lattice and stoichiometry, so the atoms balance exactly
and no chemical potential enters. For an equimolar mixture of ``k`` cations on ``N`` sites,
``n_c = N / k``.

Vegard's law: the lattice parameter of the mixture is the composition-weighted mean of
its end members' (the plain mean for an equimolar mixture).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from heo_base.units import MEV


def mixing_energy_mev_per_atom(
    energy_ev: float,
    n_atoms: int,
    formula_units: Mapping[str, float],
    energy_per_formula_unit_ev: Mapping[str, float],
) -> float:
    """ΔE_mix (meV/atom) of a cell with total energy ``energy_ev`` (eV) and ``n_atoms`` atoms.

    ``formula_units``: how many formula units of each end member the cell holds (its cation
    count per substituted site, e.g. ``{"Mg": 16, "Ni": 16}``); ``energy_per_formula_unit_ev``:
    each end member's relaxed energy per formula unit (eV). Every end member of
    ``formula_units`` must have an energy (``KeyError`` otherwise).
    """
    reference = sum(n * energy_per_formula_unit_ev[member] for member, n in formula_units.items())
    return MEV * (energy_ev - reference) / n_atoms


def vegard_lattice_parameter(
    end_member_lattice_parameters: Sequence[float], fractions: Sequence[float] | None = None
) -> float:
    """Vegard's law (Å): the mean of the end members' lattice parameters, weighted by ``fractions`` if given."""
    return float(np.average(np.asarray(end_member_lattice_parameters, dtype=float), weights=fractions))
