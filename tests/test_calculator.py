"""HEOCalculator as an honest ASE calculator: errors on bad structures, ASE and pymatgen interplay."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from heo_calc import HEOCalculator
from heo_calc.errors import InvalidStructureError, ModelUnavailableError, UnsupportedElementsError


@pytest.fixture(scope="module")
def tiny_calc(tiny_mace_file):
    return HEOCalculator(f"mace:{tiny_mace_file}", device="cpu")


def _energy(atoms, calc):
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy()


def test_non_periodic_input_is_rejected(tiny_calc, rattled_heo_64):
    atoms = rattled_heo_64.copy()
    atoms.pbc = False
    with pytest.raises(InvalidStructureError, match="not periodic"):
        _energy(atoms, tiny_calc)


def test_nan_positions_are_rejected(tiny_calc, rattled_heo_64):
    atoms = rattled_heo_64.copy()
    atoms.positions[5, 1] = np.nan
    with pytest.raises(InvalidStructureError, match=r"atom\(s\) \[5\] are NaN"):
        _energy(atoms, tiny_calc)


def test_overlapping_atoms_are_rejected(tiny_calc, rattled_heo_64):
    atoms = rattled_heo_64.copy()
    atoms.positions[1] = atoms.positions[0] + [0.1, 0.0, 0.0]
    with pytest.raises(InvalidStructureError, match=r"atoms 0 .* and 1 .* are 0\.100 Å apart"):
        _energy(atoms, tiny_calc)


def test_uncovered_elements_are_named(tiny_calc, rattled_heo_64):
    atoms = rattled_heo_64.copy()
    atoms.symbols[0] = "Gd"
    atoms.symbols[2] = "Eu"
    with pytest.raises(UnsupportedElementsError, match=r"does not cover element\(s\) Eu, Gd"):
        _energy(atoms, tiny_calc)


def test_default_model_is_heo_ft():
    from heo_calc.backends.heo_ft import heo_ft_weights_path

    if heo_ft_weights_path().is_file():
        calc = HEOCalculator()
        assert calc.parameters["model"] == "heo-ft"
        assert calc.parameters["model_file"] == str(heo_ft_weights_path())
    else:
        with pytest.raises(ModelUnavailableError, match="'heo-ft' is not in this installation"):
            HEOCalculator()


def test_energy_survives_the_pymatgen_round_trip(tiny_calc, rattled_heo_64):
    from pymatgen.io.ase import AseAtomsAdaptor

    structure = AseAtomsAdaptor.get_structure(rattled_heo_64)
    back = AseAtomsAdaptor.get_atoms(structure)
    assert _energy(back, tiny_calc) == pytest.approx(_energy(rattled_heo_64, tiny_calc), abs=1e-8)


def test_ase_optimizer_with_frechet_cell_filter_lowers_the_energy(sevennet_calculator, rattled_heo_64):
    from ase.filters import FrechetCellFilter
    from ase.optimize import LBFGS

    atoms = rattled_heo_64.copy()
    atoms.calc = HEOCalculator("sevennet-0", device="cpu")
    start = atoms.get_potential_energy()
    LBFGS(FrechetCellFilter(atoms), logfile=None).run(fmax=0.1, steps=40)
    assert atoms.get_potential_energy() < start - 0.05
    assert np.abs(atoms.get_forces()).max() < 0.1


def test_results_change_with_the_structure(tiny_calc, rattled_heo_64):
    atoms = rattled_heo_64.copy()
    atoms.calc = tiny_calc
    first = atoms.get_potential_energy()
    atoms.positions[0] += 0.05
    assert atoms.get_potential_energy() != first


def test_atoms_without_cell_get_a_clear_error(tiny_calc):
    atoms = Atoms("MgO", positions=[[0, 0, 0], [2, 0, 0]], pbc=True)
    with pytest.raises(InvalidStructureError, match="degenerate"):
        _energy(atoms, tiny_calc)
