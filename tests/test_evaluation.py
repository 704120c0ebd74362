"""heo-calc evaluate and heo_calc.evaluation against independently computed errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from heo_base.units import EV_PER_A3_TO_GPA
from heo_calc import get_calculator
from heo_calc.cli import main
from heo_calc.evaluation import evaluate_calculator, evaluate_structures, summarize_accuracy


@pytest.fixture(scope="module")
def labelled(packaged_small_structures):
    return [atoms.copy() for atoms in packaged_small_structures[:6]]


def test_force_and_energy_errors_match_a_direct_computation(labelled):
    table, summary = evaluate_calculator("sevennet-0", labelled)
    calc = get_calculator("sevennet-0", device="cpu")
    force_errors, energy_errors = [], []
    for atoms in labelled:
        evaluated = atoms.copy()
        evaluated.calc = calc
        force_errors.append((evaluated.get_forces() - atoms.arrays["DFT_forces"]).ravel())
        energy_errors.append((evaluated.get_potential_energy() - atoms.info["DFT_energy"]) / len(atoms))
    expected_force_rmse = 1000 * np.sqrt(np.mean(np.concatenate(force_errors) ** 2))
    assert summary.force_rmse == pytest.approx(expected_force_rmse, rel=1e-6)
    assert summary.energy_mae == pytest.approx(1000 * np.mean(np.abs(energy_errors)), rel=1e-6)
    assert len(table) == len(labelled) and (table["calculator"] == "sevennet-0").all()


def test_cli_prints_the_table_and_writes_csv(labelled, tmp_path, capsys):
    write(tmp_path / "data.extxyz", labelled)
    assert (
        main(
            [
                "evaluate",
                "--calc",
                "sevennet-0",
                "--data",
                str(tmp_path / "data.extxyz"),
                "--out",
                str(tmp_path / "t.csv"),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "| sevennet-0 |" in printed and "worst energy" in printed
    assert len((tmp_path / "t.csv").read_text().splitlines()) == len(labelled) + 1


def test_several_splits_share_one_reference_fit_and_match_single_split_runs(
    packaged_small_structures, tmp_path, capsys
):
    """`--split valid,test` gives, per split, the numbers a run on that split alone gives."""
    import pandas as pd

    from dataset_builder.cli import main as dataset_main
    from heo_base.labelled_data import load_labelled_structures

    small = [atoms.copy() for atoms in packaged_small_structures[:40]]
    write(tmp_path / "small.extxyz", small)
    h5 = tmp_path / "small.h5"
    assert (
        dataset_main(["build", "--source", str(tmp_path / "small.extxyz"), "--out", str(h5), "--no-progress"])
        == 0
    )
    capsys.readouterr()
    args = ["evaluate", "--calc", "sevennet-0", "--data", str(h5), "--device", "cpu"]
    assert main([*args, "--split", "valid,test", "--out", str(tmp_path / "both.csv")]) == 0
    printed = capsys.readouterr().out
    assert "(split valid)" in printed and "(split test)" in printed
    both = pd.read_csv(tmp_path / "both.csv")
    assert main([*args, "--split", "test", "--out", str(tmp_path / "test.csv")]) == 0
    alone = pd.read_csv(tmp_path / "test.csv")
    test_rows = both[both["split"] == "test"].reset_index(drop=True)
    n_valid = len(load_labelled_structures(h5, split="valid"))
    assert len(both) == n_valid + len(alone) and n_valid > 0
    np.testing.assert_allclose(
        test_rows["energy_error_corrected"], alone["energy_error_corrected"], atol=1e-6
    )
    # float32 model on two threads: repeated calls agree to ~1e-7 eV/Å, not bit for bit
    np.testing.assert_allclose(test_rows["force_rmse"], alone["force_rmse"], atol=1e-6)
    assert main([*args, "--split", ","]) == 2
    assert "--split names no split" in capsys.readouterr().err


class _ConstantCalculator(Calculator):
    """Energy = -1 eV per atom, forces 0.1 eV/Å along x, zero stress; NaN for 'bad' structures."""

    implemented_properties = ["energy", "forces", "stress"]  # noqa: RUF012

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        n = len(self.atoms)
        forces = np.zeros((n, 3))
        forces[:, 0] = 0.1
        energy = float("nan") if self.atoms.info.get("bad") else -1.0 * n
        self.results = {"energy": energy, "forces": forces, "stress": np.zeros(6)}


def _labelled(n_cells: int, energy: float, *, bad: bool = False, stress: bool = False) -> Atoms:
    atoms = bulk("MgO", "rocksalt", a=4.2).repeat((n_cells, 1, 1))
    atoms.info["DFT_energy"] = energy
    atoms.arrays["DFT_forces"] = np.zeros((len(atoms), 3))
    atoms.info["name"] = f"mgo-{n_cells}-{bad}"
    if bad:
        atoms.info["bad"] = True
    if stress:
        atoms.info["REF_stress"] = np.array([0.01, 0, 0, 0, 0, 0])
    return atoms


def test_evaluate_structures_gives_a_tidy_table_and_failed_rows():
    structures = [_labelled(1, -2.5), _labelled(2, -3.0, stress=True), _labelled(1, -2.0, bad=True)]
    table = evaluate_structures(_ConstantCalculator(), structures, keep_arrays=True)
    assert list(table["id"]) == ["mgo-1-False", "mgo-2-False", "mgo-1-True"]
    assert list(table["formula"]) == ["MgO"] * 3
    assert list(table["status"]) == ["ok", "ok", "failed"]
    assert "NaN" in table.loc[2, "error"]
    # per-atom errors: (-2 + 2.5)/2 = 0.25; (-4 + 3)/4 = -0.25
    np.testing.assert_allclose(table["energy_error"][:2], [0.25, -0.25])
    assert math.isnan(table["energy_error"][2])
    # forces: 0.1 along x only -> per component RMSE sqrt(0.01/3), MAE 0.1/3
    np.testing.assert_allclose(table["force_rmse"][:2], math.sqrt(0.01 / 3))
    np.testing.assert_allclose(table["force_mae"][:2], 0.1 / 3)
    assert math.isnan(table["stress_rmse"][0])
    assert table["stress_rmse"][1] == pytest.approx(0.01 / math.sqrt(6))
    assert table["forces_pred"][0].shape == (2, 3)

    summary = summarize_accuracy(table, worst_k=1)
    assert summary.energy_rmse == pytest.approx(250.0)
    assert summary.energy_mae == pytest.approx(250.0)
    assert summary.force_rmse == pytest.approx(1000 * math.sqrt(0.01 / 3))
    assert summary.force_mae == pytest.approx(100 / 3)
    assert summary.stress_rmse == pytest.approx(0.01 / math.sqrt(6) * EV_PER_A3_TO_GPA)
    assert summary.n == 3 and summary.n_failed == 1
    assert summary.worst_energy[0][0] in {"mgo-1-False", "mgo-2-False"}


def test_evaluate_structures_on_label_free_and_calculator_labelled_structures():
    """No labels: NaN errors, still a row. A label on the structure's own calculator (as ASE's
    extxyz reader stores a plain energy=) counts, like everywhere labels are read."""
    bare = bulk("MgO", "rocksalt", a=4.2)
    labelled_by_calculator = bulk("MgO", "rocksalt", a=4.2)
    labelled_by_calculator.calc = SinglePointCalculator(labelled_by_calculator, energy=-1.0)
    table = evaluate_structures(_ConstantCalculator(), [bare, labelled_by_calculator])
    assert list(table["status"]) == ["ok", "ok"]
    assert math.isnan(table.loc[0, "energy_error"]) and math.isnan(table.loc[0, "force_rmse"])
    assert list(table["id"]) == ["structure-0", "structure-1"]
    # predicted -2 eV for 2 atoms against the label -1 eV: (-2 + 1) / 2
    assert table.loc[1, "energy_error"] == pytest.approx(-0.5)
