"""The shipped finetuned model: loads offline as the default and beats its base on held-out HEOs."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import read
from pymatgen.core import Composition

from heo_base.splits import assign_splits_by_formula
from heo_calc import HEOCalculator
from heo_calc.backends.heo_ft import heo_ft_metadata, heo_ft_weights_path


@pytest.fixture(scope="module")
def held_out(dev_data_path):
    """Structures of the test split heo-ft never saw (formula-grouped, seed 0, 0.8/0.1/0.1)."""
    structures = read(dev_data_path, index=":")
    splits = assign_splits_by_formula(
        [Composition(a.get_chemical_formula()).reduced_formula for a in structures], seed=0
    )
    test = [a for a, s in zip(structures, splits) if s == "test" and len(a) <= 40]
    return test[:24]


def _force_rmse(calc, structures) -> float:
    errors = []
    for atoms in structures:
        evaluated = atoms.copy()
        evaluated.calc = calc
        errors.append((evaluated.get_forces() - atoms.arrays["DFT_forces"]).ravel())
    return float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))


@pytest.mark.parametrize("name", ["heo-ft", "heo-ft-l3i5"])
def test_finetuned_models_ship_with_the_package(name):
    assert heo_ft_weights_path(name).is_file()
    assert heo_ft_weights_path(name).stat().st_size < 20 * 2**20
    metadata = heo_ft_metadata(name)
    assert metadata["name"] == name
    assert metadata["split"]["seed"] == 0
    assert heo_ft_metadata("heo-ft")["base_model"] == "SevenNet-0 (11Jul2024)"


def test_default_calculator_is_closer_to_dft_than_its_base(held_out):
    finetuned = _force_rmse(HEOCalculator(device="cpu"), held_out)
    base = _force_rmse(HEOCalculator(heo_ft_metadata("heo-ft")["base_calculator"], device="cpu"), held_out)
    assert finetuned < base


def test_the_l3i5_finetune_loads_by_name_and_is_closer_to_dft_than_its_base(held_out):
    calculator = HEOCalculator("heo-ft-l3i5", device="cpu")
    assert calculator.parameters["model_file"] == str(heo_ft_weights_path("heo-ft-l3i5"))
    base = HEOCalculator(heo_ft_metadata("heo-ft-l3i5")["base_calculator"], device="cpu")
    assert _force_rmse(calculator, held_out[:12]) < _force_rmse(base, held_out[:12])
