"""Bad inputs through the command line: a one-line error or a failed row, never a traceback, a lost or mixed result.

Every case runs ``heo-calc`` (or ``heo-dataset``, ``pytest benchmark_suite``) as a user would and
checks the message, the exit status and that nothing already on disk changed. The calculator
is the cheap analytic ``toy-ionic`` (tests/toy_ionic.py) on 8-atom rock-salt cells.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import toy_ionic
from ase import Atoms
from ase.io import read, write

from heo_calc.cli import main
from heo_calc.model import open_model


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    with toy_ionic.installed(tmp_path_factory.mktemp("toy-ionic")) as name:
        yield name


def _cells(n: int = 3) -> list[Atoms]:
    return toy_ionic.named_cells(n)


def _og(atoms: Atoms) -> Atoms:
    """``atoms`` with its first atom made oganesson (no model covers it)."""
    frame = atoms.copy()
    frame[0].symbol = "Og"
    frame.info["name"] = "with-og"
    return frame


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``heo-calc ARGV``; argparse's usage errors included."""
    try:
        code = main(list(argv))
    except SystemExit as stop:
        code = int(stop.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _relax(capsys, files, out, *extra: str) -> tuple[int, str, str]:
    return _cli(capsys, "relax", *map(str, files), "--calc", "toy-ionic", "--out", str(out), "-q", *extra)


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _one_line_error(err: str, message: str) -> None:
    lines = [line for line in err.splitlines() if not line.startswith(("usage:", " ", "INFO", "WARNING"))]
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err


def _summary(out: Path) -> dict:
    def refuse(constant: str) -> None:
        raise AssertionError(f"summary.json holds a bare {constant}: not JSON")

    return json.loads((out / "summary.json").read_text(), parse_constant=refuse)


# 2. One bad structure is a failed row ---------------------------------------------------------


@pytest.mark.parametrize("extra", [(), ("--workers", "2")])
def test_an_og_frame_is_one_failed_row_and_the_others_relax(toy, tmp_path, capsys, extra):
    write(tmp_path / "in.extxyz", [*_cells(2), _og(_cells(3)[2])])
    code, out, _ = _relax(capsys, [tmp_path / "in.extxyz"], tmp_path / "out", *extra)
    assert code == 1
    assert "2/3 converged, 1 failed" in out
    rows = _summary(tmp_path / "out")["results"]
    assert [row["status"] for row in rows] == ["ok", "ok", "failed"]
    assert "does not cover element(s) Og" in rows[2]["error"] and rows[2]["name"] == "with-og"
    assert rows[2]["energy_eV"] is None  # NaN written as null
    assert sorted(p.name for p in (tmp_path / "out").glob("*.extxyz")) == [
        "0000-cell-0.extxyz",
        "0001-cell-1.extxyz",
    ]


def test_relax_many_gives_a_failed_row_for_og_and_takes_one_atoms(toy):
    from heo_calc.relax import relax_many

    results = relax_many([_cells(1)[0], _og(_cells(1)[0])], toy, progress=False)
    assert [r.status for r in results] == ["ok", "failed"]
    assert "Og" in results[1].error
    (single,) = relax_many(_cells(1)[0], toy, progress=False)
    assert single.status == "ok" and single.name == "cell-0"
    with pytest.raises(ValueError, match="workers must be >= 1"):
        open_model(toy, workers=-3)


def test_a_model_error_inside_a_worker_is_that_structures_failure_not_a_broken_pool(toy, monkeypatch, caplog):
    from concurrent.futures import BrokenExecutor, ThreadPoolExecutor

    import heo_calc.relax.strategies as strategies
    from heo_calc.relax import relax_many

    assert strategies.is_executor_error(BrokenExecutor("a worker died"))
    assert not strategies.is_executor_error(RuntimeError("CUDA error: an illegal memory access"))
    relax_in_worker = strategies.relax_in_worker

    def model_breaks_on_cell_1(atoms, *args):
        if atoms.info["name"] == "cell-1":
            raise RuntimeError("CUDA error: an illegal memory access")
        return relax_in_worker(atoms, *args)

    monkeypatch.setattr(strategies, "relax_in_worker", model_breaks_on_cell_1)
    with ThreadPoolExecutor(2) as pool:
        results = relax_many(_cells(3), open_model(toy, executor=pool), progress=False)
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert results[1].error == "RuntimeError: CUDA error: an illegal memory access"
    assert "the executor failed" not in caplog.text  # not taken for a broken pool: nothing recomputed here


# 3. Runs never mix ----------------------------------------------------------------------------


def test_out_holding_another_run_is_refused_unless_resume_or_overwrite(toy, tmp_path, capsys):
    write(tmp_path / "in.extxyz", _cells(3))
    write(tmp_path / "two.extxyz", _cells(2))
    out = tmp_path / "out"
    assert _relax(capsys, [tmp_path / "in.extxyz"], out)[0] == 0
    (out / "notes.txt").write_text("mine")
    before = _snapshot(out)
    code, _, err = _cli(
        capsys, "relax", str(tmp_path / "two.extxyz"), "--calc", "toy-committee", "--out", str(out), "-q"
    )
    assert code == 2
    _one_line_error(
        err, "already holds 3 finished structure(s); pass --resume to continue that relax, --overwrite"
    )
    assert _snapshot(out) == before
    code, _, err = _relax(capsys, [tmp_path / "two.extxyz"], out, "--resume")
    assert code == 2
    _one_line_error(err, "holds a relax with other settings (inputs: ")
    assert _snapshot(out) == before
    code, _, _ = _cli(
        capsys,
        "relax",
        str(tmp_path / "two.extxyz"),
        "--calc",
        "toy-committee",
        "--out",
        str(out),
        "-q",
        "--overwrite",
    )
    assert code == 0
    summary = _summary(out)
    assert summary["model"]["name"] == "toy-committee" and len(summary["results"]) == 2
    assert sorted(p.name for p in out.glob("*.extxyz")) == ["0000-cell-0.extxyz", "0001-cell-1.extxyz"]
    assert len(list((out / "results").glob("*.json"))) == 2
    assert (out / "notes.txt").read_text() == "mine"  # --overwrite deletes only what a relax run writes


def test_out_with_results_of_an_older_version_is_refused(toy, tmp_path, capsys):
    write(tmp_path / "in.extxyz", _cells(1))
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"results": []}')
    (out / "0000-old.extxyz").write_text("old")
    before = _snapshot(out)
    code, _, err = _relax(capsys, [tmp_path / "in.extxyz"], out)
    assert code == 2
    _one_line_error(err, "already holds results of another relax")
    code, _, err = _relax(capsys, [tmp_path / "in.extxyz"], out, "--resume")
    assert code == 2
    _one_line_error(err, "holds results without a run record")
    assert _snapshot(out) == before
    (out / "relax.json").write_text("{}")  # a run record, but these files are none of its records
    before = _snapshot(out)
    code, _, err = _relax(capsys, [tmp_path / "in.extxyz"], out)
    assert code == 2
    _one_line_error(err, "already holds results of another relax")
    assert _snapshot(out) == before


def test_out_that_is_a_file_is_a_one_line_error(toy, tmp_path, capsys):
    write(tmp_path / "in.extxyz", _cells(1))
    (tmp_path / "taken").write_text("a file")
    code, _, err = _relax(capsys, [tmp_path / "in.extxyz"], tmp_path / "taken")
    assert code == 2
    _one_line_error(err, "is a file, not a folder")
    assert (tmp_path / "taken").read_text() == "a file"


def test_a_screen_into_a_file_is_a_one_line_error(toy, tmp_path, capsys):
    (tmp_path / "taken").write_text("a file")
    code, _, err = _cli(
        capsys,
        "screen",
        "--lattice",
        "rocksalt",
        "--calc",
        "toy-ionic",
        "--out",
        str(tmp_path / "taken"),
        "--cations",
        "Mg,Ni",
    )
    assert code == 2
    _one_line_error(err, "is a file, not a folder")
    assert (tmp_path / "taken").read_text() == "a file"


def test_resume_with_other_weights_stops_and_discard_stale_relaxes_again(toy, tmp_path, capsys, monkeypatch):
    import heo_calc.provenance as provenance

    write(tmp_path / "in.extxyz", _cells(2))
    out = tmp_path / "out"
    assert _relax(capsys, [tmp_path / "in.extxyz"], out)[0] == 0
    before = _snapshot(out)
    identity = provenance.model_identity

    def retrained(calculator, name=None):  # the same name, other weights
        return {**identity(calculator, name), "model_sha256": "f" * 64}

    monkeypatch.setattr(provenance, "model_identity", retrained)
    code, _, err = _relax(capsys, [tmp_path / "in.extxyz"], out, "--resume")
    assert code == 2
    _one_line_error(err, "holds 2 structure(s) computed with other weights")
    assert "--discard-stale" in err
    assert _snapshot(out) == before
    code, out_text, _ = _relax(capsys, [tmp_path / "in.extxyz"], out, "--resume", "--discard-stale")
    assert code == 0 and "resuming" not in out_text
    assert _summary(out)["model"]["model_sha256"] == "f" * 64


# 4. Safe names --------------------------------------------------------------------------------


def test_structure_names_never_leave_out_and_are_kept_in_the_results(toy, tmp_path, capsys):
    names = ["x/../../escaped", "mp-1/relaxed", "/etc/passwd", "..", "cell-0"]
    cells = _cells(len(names))
    for atoms, name in zip(cells, names):
        atoms.info["name"] = name
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    write(work / "in.extxyz", cells)
    outside = _snapshot(tmp_path)
    code, _, _ = _relax(capsys, [work / "in.extxyz"], work / "out")
    assert code == 0
    assert {k: v for k, v in _snapshot(tmp_path).items() if not k.startswith("a/b/out/")} == outside
    files = sorted(p.name for p in (work / "out").glob("*.extxyz"))
    assert files == [
        "0000-x_._._escaped.extxyz",
        "0001-mp-1_relaxed.extxyz",
        "0002-etc_passwd.extxyz",
        "0003-structure.extxyz",
        "0004-cell-0.extxyz",
    ]
    assert not [p for p in (work / "out").iterdir() if p.is_dir() and p.name != "results"]
    assert [row["name"] for row in _summary(work / "out")["results"]] == names
    assert read(work / "out" / "0000-x_._._escaped.extxyz").info["name"] == "x/../../escaped"


def test_safe_file_stem():
    from heo_base.labels import safe_file_stem

    assert safe_file_stem("x/../../escaped") == "x_._._escaped"
    assert safe_file_stem("..") == "structure"
    assert safe_file_stem("C:\\temp\\a b") == "C_temp_a_b"
    assert len(safe_file_stem("a" * 500)) == 80


# 5. Options checked before anything loads or is written ---------------------------------------


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--fmax", "inf"), "argument --fmax: 'inf' must be a finite number > 0"),
        (("--fmax", "nan"), "argument --fmax: 'nan' must be a finite number > 0"),
        (("--fmax", "-1"), "argument --fmax: '-1' must be a finite number > 0"),
        (("--steps", "-1"), "argument --steps: '-1' must be >= 0"),
        (("--workers", "-3"), "argument --workers: '-3' must be >= 1"),
        (("--workers", "0"), "argument --workers: '0' must be >= 1"),
        (("--discard-stale",), "--discard-stale goes with --resume"),
        (("--resume", "--overwrite"), "--resume continues the run in --out, --overwrite replaces it"),
    ],
)
def test_bad_relax_options_stop_before_the_model_loads_and_write_nothing(
    toy, tmp_path, capsys, option, message
):
    write(tmp_path / "in.extxyz", _cells(1))
    code, _, err = _relax(capsys, [tmp_path / "in.extxyz"], tmp_path / "out", *option)
    assert code == 2
    _one_line_error(err, message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (("--fmax", "-1"), "argument --fmax: '-1' must be a finite number > 0"),
        (("--steps", "-2"), "argument --steps: '-2' must be >= 0"),
        (("--workers", "0"), "argument --workers: '0' must be >= 1"),
    ],
)
def test_bad_screen_options_record_nothing_so_the_corrected_resume_runs(
    toy, tmp_path, capsys, option, message
):
    screen = ("screen", "--lattice", "rocksalt", "--calc", "toy-ionic", "--out", str(tmp_path), "-q")
    cells = ("--cations", "Mg,Ni", "--realizations", "1", "--sites", "8")
    code, _, err = _cli(capsys, *screen, *cells, *option)
    assert code == 2
    _one_line_error(err, message)
    assert not (tmp_path / "screen.json").exists()
    if option[0] == "--fmax":  # the reported case: the corrected --resume runs (one screen is enough)
        assert _cli(capsys, *screen, *cells, "--resume")[0] == 0


# 6. Screen chemistry --------------------------------------------------------------------------


def test_a_non_metal_cation_is_refused(toy, tmp_path, capsys):
    code, _, err = _cli(
        capsys,
        "screen",
        "--lattice",
        "rocksalt",
        "--calc",
        "toy-ionic",
        "--out",
        str(tmp_path / "s"),
        "--cations",
        "Mg,F",
    )
    assert code == 2
    _one_line_error(err, "composition Mg-F: F is not a metal")
    assert not (tmp_path / "s").exists()


def test_the_metal_definition_is_one_set():
    import dataset_builder.elements
    import heo_base.elements

    assert dataset_builder.elements.METALS is heo_base.elements.METALS
    assert {"Mg", "Zn", "Ce", "U"} <= heo_base.elements.METALS
    assert not {"F", "Si", "B", "O", "Te"} & heo_base.elements.METALS


def test_a_parent_that_did_not_converge_marks_its_rows(toy, tmp_path, capsys, monkeypatch):
    import dataclasses

    import pandas as pd

    import heo_calc.screening.runner as runner

    relax_parents = runner.relax_parents

    def nio_unconverged(*args, **kwargs):
        parents = relax_parents(*args, **kwargs)
        return {c: dataclasses.replace(p, converged=False) if c == "Ni" else p for c, p in parents.items()}

    monkeypatch.setattr(runner, "relax_parents", nio_unconverged)
    screen = ("screen", "--lattice", "rocksalt", "--calc", "toy-ionic", "--out", str(tmp_path), "-q")
    code, out, _ = _cli(
        capsys, *screen, "--cations", "Mg,Ni", "--cations", "Mg,Cu", "--realizations", "1", "--sites", "8"
    )
    assert code == 0
    assert "1 ok, 1 not converged, 0 failed" in out
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("composition")
    assert summary.loc["Mg-Ni", "status"] == "not_converged" and summary.loc["Mg-Cu", "status"] == "ok"
    assert "NiO did not converge" in summary.loc["Mg-Ni", "error"]
    assert "not_converged: parent reference(s) NiO did not converge" in (tmp_path / "ranking.md").read_text()


# 7. The smaller items -------------------------------------------------------------------------


def test_atomic_output_removes_its_temporary_file_when_the_rename_fails(tmp_path):
    from heo_base.atomic_write import atomic_output

    (tmp_path / "taken").mkdir()
    with pytest.raises(OSError), atomic_output(tmp_path / "taken") as temporary:
        temporary.write_text("data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_heo_dataset_build_into_a_folder_is_refused_and_leaves_nothing(tmp_path, capsys):
    from dataset_builder.cli import main as dataset_main

    (tmp_path / "existing").mkdir()
    write(tmp_path / "src.extxyz", _cells(1))
    before = _snapshot(tmp_path)
    code = dataset_main(
        ["build", "--source", str(tmp_path / "src.extxyz"), "--out", str(tmp_path / "existing")]
    )
    assert code == 2
    err = capsys.readouterr().err
    _one_line_error(err, "is a folder; give the HDF5 file to write")
    assert _snapshot(tmp_path) == before and not list(tmp_path.rglob(".*.tmp"))


def test_benchmark_with_an_empty_calc_is_a_usage_error():
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmark_suite", "--calc", "", "-q", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert completed.returncode == 4, completed.stdout + completed.stderr  # pytest's usage error
    assert "--calc names no calculator" in completed.stderr + completed.stdout


def test_summary_json_is_json_with_nan_as_null():
    from heo_base.json_text import dumps

    assert json.loads(dumps({"a": float("nan"), "b": [float("inf"), 1.0]})) == {"a": None, "b": [None, 1.0]}
