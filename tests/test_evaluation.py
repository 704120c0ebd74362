"""heo-calc evaluate and heo_calc.evaluation against independently computed errors."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import read, write

from heo_calc import get_calculator
from heo_calc.cli import main
from heo_calc.evaluation import evaluate_calculator


@pytest.fixture(scope="module")
def labelled(dev_data_path):
    return [a for a in read(dev_data_path, index=":120") if len(a) <= 12][:6]


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
    assert summary["force_rmse"] == pytest.approx(expected_force_rmse, rel=1e-6)
    assert summary["energy_mae"] == pytest.approx(1000 * np.mean(np.abs(energy_errors)), rel=1e-6)
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


def test_several_splits_share_one_reference_fit_and_match_single_split_runs(dev_data_path, tmp_path, capsys):
    """`--split valid,test` gives, per split, the numbers a run on that split alone gives."""
    import pandas as pd

    from dataset_builder.cli import main as dataset_main
    from heo_calc.finetune.data import load_labelled_structures

    small = [a for a in read(dev_data_path, index=":400") if len(a) <= 12][:40]
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
