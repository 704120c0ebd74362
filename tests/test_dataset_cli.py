"""heo-dataset CLI: commands, report files, and one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from dataset_builder import sources
from dataset_builder.cli import main
from dataset_builder.report import FIGURES
from dataset_builder.synthetic import lemat_row, lemat_table, write_lemat_parquet

HEO = ["Mg", "Co", "Ni", "Cu", "Zn"] * 2 + ["O"] * 10


@pytest.fixture(scope="module")
def parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [lemat_row(f"mp-{i}", HEO[i % 5 :] + HEO[: i % 5]) for i in range(6)]
    rows += [lemat_row("agm1", ["Li", "La", "Ti", "Nb", "Ta"] * 2 + ["O"] * 10, stress=np.eye(3).tolist())]
    rows += [lemat_row("mp-bad", HEO, forces=[[0.0, 0.0, 0.0]])]
    path = tmp_path_factory.mktemp("cli") / "lemat.parquet"
    write_lemat_parquet(lemat_table(rows), path)
    return path


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("heo-dataset: error: ")
    assert "Traceback" not in err[0]
    return err[0]


def test_build_export_report_from_the_command_line(parquet: Path, tmp_path: Path, capsys) -> None:
    h5 = tmp_path / "heo.h5"
    assert main(["build", "--source", str(parquet), "--out", str(h5), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "wrote 7 structures" in out
    assert "forces_site_mismatch 1" in out

    assert main(["export", str(h5), "--out", str(tmp_path / "all.extxyz")]) == 0
    assert (tmp_path / "all.extxyz").is_file()

    report = tmp_path / "report"
    assert main(["report", str(h5), "--out", str(report), "--samples", "2"]) == 0
    for name in FIGURES:
        assert (report / name).stat().st_size > 1000, name
        assert (report / name).read_bytes()[:4] == b"\x89PNG"
    summary = (report / "summary.md").read_text()
    assert "| mp | 6 |" in summary
    assert "| alexandria | 1 |" in summary
    assert "forces_site_mismatch" in summary
    assert "## Structures per split" in summary
    assert "## Structures per number of elements" in summary


def test_missing_source_file_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    code = main(["build", "--source", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "x.h5")])
    assert code == 2
    assert "does not exist" in _one_error_line(capsys)


def test_missing_column_error_names_the_column(parquet: Path, tmp_path: Path, capsys) -> None:
    table = pq.read_table(parquet).drop_columns(["forces"])
    path = tmp_path / "no_forces.parquet"
    pq.write_table(table, path)
    assert main(["build", "--source", str(path), "--out", str(tmp_path / "x.h5"), "--no-progress"]) == 2
    line = _one_error_line(capsys)
    assert "no column 'forces'" in line
    assert str(path) in line
    assert not (tmp_path / "x.h5").exists()


def test_unreadable_files_are_clear_errors(tmp_path: Path, capsys) -> None:
    garbage = tmp_path / "broken.parquet"
    garbage.write_bytes(b"this is not parquet")
    assert main(["build", "--source", str(garbage), "--out", str(tmp_path / "x.h5")]) == 2
    assert "cannot read" in _one_error_line(capsys)

    not_h5 = tmp_path / "fake.h5"
    not_h5.write_text("hello")
    assert main(["report", str(not_h5), "--out", str(tmp_path / "r")]) == 2
    assert "cannot read" in _one_error_line(capsys)
    assert main(["export", str(tmp_path / "missing.h5"), "--out", str(tmp_path / "a.extxyz")]) == 2
    assert "does not exist" in _one_error_line(capsys)


def test_hf_source_without_huggingface_hub_says_what_to_do(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails at once, no network
    assert main(["build", "--out", str(tmp_path / "x.h5")]) == 2
    line = _one_error_line(capsys)
    assert "LeMaterial/LeMat-Bulk" in line
    assert "compatible_pbe" in line
    assert "huggingface_hub is not installed" in line
    assert "heo-relax[hf]" in line
    assert "--source DIR" in line


def test_hf_source_offline_says_hub_unreachable(tmp_path: Path, capsys, monkeypatch) -> None:
    class OfflineFileSystem:
        def glob(self, pattern: str) -> list[str]:
            raise ConnectionError(f"cannot reach huggingface.co for {pattern}")

    monkeypatch.setattr(sources, "_hf_filesystem", OfflineFileSystem)
    assert main(["build", "--source", "hf", "--out", str(tmp_path / "x.h5")]) == 2
    line = _one_error_line(capsys)
    assert "LeMaterial/LeMat-Bulk" in line
    assert "unreachable" in line
    assert "--source DIR" in line


def test_bad_options_are_one_line_errors(parquet: Path, tmp_path: Path, capsys) -> None:
    args = ["build", "--source", str(parquet), "--out", str(tmp_path / "x.h5"), "--no-progress"]
    assert main([*args, "--exclude-elements", "Xx"]) == 2
    assert "unknown element" in _one_error_line(capsys)
    assert main([*args, "--split-fractions", "0.5", "0.5", "0.5"]) == 2
    assert "sum to 1" in _one_error_line(capsys)
    assert main([*args, "--min-elements", "9"]) == 2
    assert "no structure passed" in _one_error_line(capsys)
    with pytest.raises(SystemExit) as exit_info:
        main(["build", "--min-elements", "five", "--out", "x.h5"])
    assert exit_info.value.code == 2
    assert "invalid int value" in _one_error_line(capsys)


def test_help_states_units_and_defaults_without_heavy_imports() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from dataset_builder.cli import main\n"
        "buffer = io.StringIO()\n"
        "with contextlib.redirect_stdout(buffer):\n"
        "    try:\n"
        "        main(['build', '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('pyarrow', 'h5py', 'ase', 'pymatgen', 'matplotlib') if m in sys.modules]\n"
        "print(heavy)\n"
        "print(buffer.getvalue())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "[]"
    text = " ".join(result.stdout.split())
    assert "default: hf" in text
    assert "default: 5" in text
    assert "default: 0.8 0.1 0.1" in text
    assert "eV/Å" in text
    assert "units of R" in text


def test_exclude_elements_accepts_commas(parquet: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "x.h5"
    args = ["build", "--source", str(parquet), "--out", str(out), "--no-progress"]
    assert main([*args, "--exclude-elements", "Ta,W", "Pt"]) == 0
    assert "wrote 6 structures" in capsys.readouterr().out
