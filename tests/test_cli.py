"""The heo-calc command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ase.io import write

from heo_calc.cli import main
from heo_calc.structures import rocksalt_heo_supercell


def test_help_is_instant_and_names_units():
    completed = subprocess.run(
        [sys.executable, "-m", "heo_calc.cli", "relax", "--help"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0
    assert "eV/Å" in completed.stdout
    probe = "import sys, heo_calc.cli; print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip()
        == "False"
    )


def test_list_prints_every_calculator(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split()[1] for line in lines[1:]}
    assert rows["sevennet-0"] == "yes" and rows["chgnet"] == "yes" and rows["mace-mp0"] == "no"


def test_relax_writes_structures_and_summary(tmp_path, capsys):
    structures = [rocksalt_heo_supercell(repeat=1, seed=seed, rattle=0.05) for seed in range(2)]
    write(tmp_path / "in.extxyz", structures)
    out = tmp_path / "out"
    code = main(
        [
            "relax",
            str(tmp_path / "in.extxyz"),
            "--calc",
            "sevennet-0",
            "--out",
            str(out),
            "-q",
            "--device",
            "cpu",
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [row["status"] for row in summary["results"]] == ["ok", "ok"]
    assert len(list(out.glob("*.extxyz"))) == 2
    printed = capsys.readouterr().out
    assert "2/2 converged, 0 failed" in printed


def test_relax_reports_a_missing_file(tmp_path, capsys):
    assert main(["relax", str(tmp_path / "nope.xyz"), "--calc", "sevennet-0"]) == 2
    assert "input file" in capsys.readouterr().err


def test_unknown_calculator_is_a_one_line_error(tmp_path, capsys):
    write(tmp_path / "in.extxyz", rocksalt_heo_supercell(repeat=1))
    assert main(["relax", str(tmp_path / "in.extxyz"), "--calc", "nope", "--out", str(tmp_path)]) == 2
    assert "no calculator named 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize("base", ["sevennet-0", "mace-mp0"])
def test_finetune_without_training_data_says_so(tmp_path, capsys, base):
    assert (
        main(
            [
                "finetune",
                "--base",
                base,
                "--train",
                str(tmp_path / "absent.extxyz"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "training data" in capsys.readouterr().err


def test_relax_offers_exactly_the_engines_optimizers():
    from heo_calc.cli import build_parser
    from heo_calc.relax import DEFAULT_OPTIMIZER, OPTIMIZERS

    relax = build_parser()._subparsers._group_actions[0].choices["relax"]
    (optimizer,) = [action for action in relax._actions if action.dest == "optimizer"]
    assert sorted(optimizer.choices) == sorted(OPTIMIZERS)
    assert optimizer.default == DEFAULT_OPTIMIZER
