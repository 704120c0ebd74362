"""``heo-calc relax`` killed or interrupted mid-batch keeps what finished, and ``--resume`` completes it.

The command runs as a subprocess with the analytic ``toy-ionic`` calculator, which waits
forever on a structure holding iron while ``TOY_IONIC_HANG_ON=Fe`` is set: the run is
stopped at a known point (after the structures before that one finished), never by a timing race.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import toy_ionic
from ase.io import read, write

from heo_calc.structures import rocksalt_heo_supercell

N_STRUCTURES = 6
#: The structure the run is held at: the ones before it finish first (sequential, in input order).
HELD = 4


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory) -> Path:
    return toy_ionic.register(tmp_path_factory.mktemp("toy-ionic"))


@pytest.fixture
def structures(tmp_path) -> Path:
    cells = [
        rocksalt_heo_supercell(("Mg", "Ni"), repeat=1, seed=seed, rattle=0.08) for seed in range(N_STRUCTURES)
    ]
    cells[HELD][0].symbol = "Fe"
    for seed, atoms in enumerate(cells):
        atoms.info["name"] = f"cell-{seed}"
    write(tmp_path / "in.extxyz", cells)
    return tmp_path / "in.extxyz"


def _command(structures: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "heo_calc.cli",
        "relax",
        str(structures),
        "--calc",
        "toy-ionic",
        "--out",
        str(out),
        "-q",
        *extra,
    ]


def _env(toy_dir: Path, *, hang: bool) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(toy_dir), env.get("PYTHONPATH")]))
    env.pop(toy_ionic.HANG_ON_VARIABLE, None)
    if hang:
        env[toy_ionic.HANG_ON_VARIABLE] = "Fe"
    return env


def _held_run(structures: Path, out: Path, toy_dir: Path) -> subprocess.Popen:
    """Start the run and return once the structures before :data:`HELD` are on disk (the run then waits)."""
    process = subprocess.Popen(
        _command(structures, out),
        env=_env(toy_dir, hang=True),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    # The summary is rebuilt after each structure's record: wait for both, or a kill can fall between.
    while len(list((out / "results").glob("*.json"))) < HELD or _summary_rows(out) < HELD:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run ended or stalled before {HELD} structures: {process.communicate()}")
        time.sleep(0.05)
    return process


def _summary_rows(out: Path) -> int:
    """Rows in ``out/summary.json`` so far (0 before it exists; it is written atomically)."""
    summary = out / "summary.json"
    return len(json.loads(summary.read_text())["results"]) if summary.exists() else 0


def _rows(out: Path) -> list[dict]:
    rows = json.loads((out / "summary.json").read_text())["results"]
    return [{k: v for k, v in row.items() if k != "wall_time_s"} for row in rows]


def test_sigkill_mid_batch_then_resume_gives_the_uninterrupted_results(structures, toy_dir, tmp_path):
    reference = tmp_path / "reference"
    completed = subprocess.run(
        _command(structures, reference),
        env=_env(toy_dir, hang=False),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr

    out = tmp_path / "out"
    process = _held_run(structures, out, toy_dir)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    kept = json.loads((out / "summary.json").read_text())
    assert not kept["complete"] and [row["index"] for row in kept["results"]] == list(range(HELD))

    resumed = subprocess.run(
        _command(structures, out, "--resume"),
        env=_env(toy_dir, hang=False),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {HELD} of {N_STRUCTURES} structures already finished" in resumed.stdout
    assert sum("converged in" in line for line in resumed.stdout.splitlines()) == N_STRUCTURES - HELD
    assert _rows(out) == _rows(reference)
    assert json.loads((out / "summary.json").read_text())["complete"]
    files = sorted(p.name for p in out.glob("*.extxyz"))
    assert files == sorted(p.name for p in reference.glob("*.extxyz")) and len(files) == N_STRUCTURES
    for name in files:
        np.testing.assert_array_equal(read(out / name).positions, read(reference / name).positions)
    assert not list(out.rglob(".*.tmp"))


def test_ctrl_c_stops_with_one_line_and_keeps_what_finished(structures, toy_dir, tmp_path):
    out = tmp_path / "out"
    process = _held_run(structures, out, toy_dir)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "Traceback" not in stderr
    (line,) = [line for line in stdout.splitlines() if line.startswith("interrupted")]
    assert line == (
        f"interrupted: {HELD} of {N_STRUCTURES} structures finished and kept in {out}; rerun with --resume to continue"
    )
    assert len(json.loads((out / "summary.json").read_text())["results"]) == HELD
