"""Baking a per-element energy reference into a SevenNet checkpoint (heo_calc.finetune.energy_reference)."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import numpy as np
import pytest
from ase.io import write

from heo_calc.backends.heo_ft import heo_ft_weights_path
from heo_calc.backends.sevennet import make_sevennet_from_file
from heo_calc.cli import main
from heo_calc.errors import UnsupportedElementsError
from heo_calc.finetune.energy_reference import apply_energy_reference, fit_energy_reference
from heo_calc.finetune.runner import finetune


@pytest.fixture(scope="module")
def shipped_copy(tmp_path_factory):
    """A writable copy of the shipped heo-ft checkpoint."""
    path = tmp_path_factory.mktemp("energy-reference") / "heo-ft.pth"
    shutil.copy(heo_ft_weights_path(), path)
    return path


@pytest.fixture(scope="module")
def small_structures(packaged_small_structures):
    """Twelve small (<= 12 atoms) real HEO structures with DFT labels (the packaged set)."""
    small = [atoms.copy() for atoms in packaged_small_structures[:12]]
    assert len(small) == 12
    return small


def _energy_and_forces(atoms, calculator) -> tuple[float, np.ndarray]:
    atoms = atoms.copy()
    atoms.calc = calculator
    return atoms.get_potential_energy(), atoms.get_forces()


def test_applied_offsets_move_energy_by_composition_and_leave_forces(
    shipped_copy, small_structures, tmp_path
):
    atoms = small_structures[0]
    counts = Counter(atoms.get_chemical_symbols())
    cation = next(symbol for symbol in counts if symbol != "O")
    offsets = {"O": 0.25, cation: -0.5}
    corrected = apply_energy_reference(shipped_copy, offsets, tmp_path / "corrected.pth")
    before, forces_before = _energy_and_forces(atoms, make_sevennet_from_file(shipped_copy, device="cpu"))
    after, forces_after = _energy_and_forces(atoms, make_sevennet_from_file(corrected, device="cpu"))
    # The offsets are what the model had too much: they come off, per atom of each element.
    expected = -(0.25 * counts["O"] - 0.5 * counts[cation])
    assert after - before == pytest.approx(expected, abs=2e-4)
    np.testing.assert_allclose(forces_after, forces_before, atol=1e-5)


def test_refit_makes_the_model_reproduce_labels_that_differ_by_per_element_constants(
    shipped_copy, small_structures, tmp_path
):
    """Labels = model energy minus known constants per atom of each element: after the refit the model hits them."""
    true_offsets = {"O": 0.03, "Mg": -0.2, "Co": 0.1, "Ni": 0.05}
    labelled = []
    model = make_sevennet_from_file(shipped_copy, device="cpu")
    for atoms in small_structures:
        energy, _ = _energy_and_forces(atoms, model)
        counts = Counter(atoms.get_chemical_symbols())
        shifted = atoms.copy()
        shifted.info["DFT_energy"] = energy - sum(true_offsets.get(e, 0.0) * n for e, n in counts.items())
        labelled.append(shifted)
    data = tmp_path / "labelled.extxyz"
    write(data, labelled)
    out = tmp_path / "refit.pth"
    assert main(["refit-energies", str(shipped_copy), "--data", str(data), "--out", str(out)]) == 0
    refitted = make_sevennet_from_file(out, device="cpu")
    for atoms in labelled:
        energy, _ = _energy_and_forces(atoms, refitted)
        assert (energy - atoms.info["DFT_energy"]) / len(atoms) == pytest.approx(0.0, abs=1e-4)
    record = json.loads(out.with_suffix(".energy_reference.json").read_text())
    assert record["n_structures"] == 12
    assert set(record["offsets_eV_per_atom"]) == {e for a in labelled for e in a.get_chemical_symbols()}
    # The same fit, from Python, on the refitted model: nothing left to remove.
    leftover = fit_energy_reference(refitted, labelled)
    assert max(abs(v) for v in leftover.values()) < 1e-4


def test_an_element_the_model_does_not_know_is_refused(shipped_copy, tmp_path):
    with pytest.raises(UnsupportedElementsError, match="Og"):
        apply_energy_reference(shipped_copy, {"O": 0.1, "Og": 0.1}, tmp_path / "x.pth")
    assert not (tmp_path / "x.pth").exists()


def test_missing_checkpoint_is_a_clear_error(small_structures, tmp_path, capsys):
    data = tmp_path / "few.extxyz"
    write(data, small_structures[:2])
    missing = tmp_path / "missing.pth"
    assert main(["refit-energies", str(missing), "--data", str(data), "--out", str(tmp_path / "o.pth")]) == 2
    assert f"{missing} does not exist" in capsys.readouterr().err


def test_refit_is_refused_for_mace_bases(small_structures, tmp_path):
    data = tmp_path / "few.extxyz"
    write(data, small_structures[:2])
    with pytest.raises(ValueError, match="works on SevenNet models"):
        finetune(
            base="mace-mp0", train=data, valid=None, out_dir=tmp_path / "run", refit_energy_reference=True
        )
