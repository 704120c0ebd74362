"""``--heo-report DIR --heo-resume``: a benchmark killed with SIGKILL goes on where it stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

SUITE = Path(__file__).resolve().parents[1] / "benchmark_suite"
#: Columns that hold elapsed times: the only ones a resumed run may differ in.
TIMES = ("wall_time_s", "reference_time_s")


@pytest.fixture
def slow_plugin(tmp_path):
    """A registered Lennard-Jones calculator that takes 20 ms per call, so a run can be killed midway."""
    root = tmp_path / "plugins"
    root.mkdir()
    (root / "heo_slow_plugin.py").write_text(
        textwrap.dedent(
            """
            import time
            from ase.calculators.lj import LennardJones

            class SlowLJ(LennardJones):
                def calculate(self, *args, **kwargs):
                    time.sleep(0.02)
                    super().calculate(*args, **kwargs)

            def make(*, device="auto", dtype="float64", **kwargs):
                return SlowLJ(sigma=2.0, epsilon=0.01, rc=5.0, smooth=True)
            """
        )
    )
    dist_info = root / "heo_slow_plugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: heo-slow-plugin\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text("[heo_calc.calculators]\nslow-lj = heo_slow_plugin:make\n")
    return root


def _command(report: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE),
        "--calc",
        "slow-lj",
        "-k",
        "rattle",
        "--heo-n-symmetric",
        "12",
        "--heo-n-rattle",
        "2",
        "--heo-max-steps",
        "25",
        "--heo-report",
        str(report),
        "-p",
        "no:cacheprovider",
        "-q",
        *extra,
    ]


def _environment(plugins: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugins), os.environ.get("PYTHONPATH", "")]),
        "HEO_CALC_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
    }


def _rows(report: Path) -> pd.DataFrame:
    rows = pd.read_csv(report / "rows.csv")
    return (
        rows.drop(columns=[c for c in TIMES if c in rows]).sort_values(["task", "id"]).reset_index(drop=True)
    )


def test_a_killed_benchmark_resumes_to_the_rows_of_an_uninterrupted_run(slow_plugin, tmp_path):
    environment = _environment(slow_plugin)
    killed = tmp_path / "killed"
    journal = killed / "parts" / "journal-rattle_relax-slow-lj.jsonl"
    process = subprocess.Popen(
        _command(killed),
        env=environment,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if journal.is_file() and journal.read_text().count("\n") >= 4:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    journaled = journal.read_text().count("\n")
    assert 4 <= journaled < 26 and not (killed / "rows.csv").exists()

    resumed = subprocess.run(
        _command(killed, "--heo-resume"), env=environment, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    whole = tmp_path / "whole"
    uninterrupted = subprocess.run(_command(whole), env=environment, capture_output=True, text=True)
    assert uninterrupted.returncode == 0, uninterrupted.stdout[-3000:]
    resumed_rows, whole_rows = _rows(killed), _rows(whole)
    assert len(whole_rows) == 2 * 12 + 2
    pd.testing.assert_frame_equal(resumed_rows, whole_rows)
    # the journal was read, not recomputed: its rows were written once
    assert journal.read_text().count("\n") == len(whole_rows)
    metrics = pd.read_csv(killed / "metrics.csv")
    assert (metrics["model_key"].astype(str).str.len() == 12).all()


def test_resume_with_other_options_or_without_a_run_is_refused(slow_plugin, tmp_path):
    environment = _environment(slow_plugin)
    report = tmp_path / "report"
    missing = subprocess.run(
        _command(report, "--heo-resume"), env=environment, capture_output=True, text=True
    )
    assert missing.returncode == 4 and "holds no interrupted run" in missing.stderr
    first = subprocess.run(
        [*_command(report), "--heo-n-accuracy", "1"], env=environment, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stdout[-2000:]
    other = [arg if arg != "12" else "10" for arg in _command(report, "--heo-resume")]
    refused = subprocess.run(other, env=environment, capture_output=True, text=True)
    assert refused.returncode == 4
    assert "symmetric_n_structures: 12 then, 10 now" in refused.stderr
    assert "run without --heo-resume to start over" in refused.stderr
