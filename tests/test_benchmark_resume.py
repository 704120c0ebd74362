"""``--heo-report DIR --heo-resume``: a benchmark killed with SIGKILL goes on where it stopped."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow  # each test runs the benchmark's rattle task two or three times

SUITE = Path(__file__).resolve().parents[1] / "benchmark_suite"
#: Columns that hold elapsed times: the only ones a resumed run may differ in.
TIMES = ("wall_time_s", "reference_time_s")


#: Environment variable of the plugin: the journal whose fourth row makes the run signal and wait to be killed.
FREEZE_AT_JOURNAL = "HEO_TEST_FREEZE_AT_JOURNAL"
#: Environment variable of the plugin: the file it creates when it waits to be killed.
READY_FILE = "HEO_TEST_READY_TO_DIE"
#: Journal rows written before the run signals that it is ready to be killed.
ROWS_BEFORE_KILL = 4


@pytest.fixture
def slow_plugin(tmp_path):
    """A registered Lennard-Jones calculator (``slow-lj``) whose weights are a file.

    The file (``$HEO_TEST_WEIGHTS``, else none) is its ``model_paths``, so swapping its bytes
    gives the calculator other weights. With :data:`FREEZE_AT_JOURNAL` set, the calculator
    stops inside its first call after that journal holds :data:`ROWS_BEFORE_KILL` rows:
    it creates :data:`READY_FILE` and waits, so the test kills a run that is surely midway.
    """
    root = tmp_path / "plugins"
    root.mkdir()
    (root / "heo_slow_plugin.py").write_text(
        textwrap.dedent(
            f"""
            import os
            import time
            from pathlib import Path
            from ase.calculators.lj import LennardJones

            class SlowLJ(LennardJones):
                def calculate(self, *args, **kwargs):
                    journal = os.environ.get("{FREEZE_AT_JOURNAL}")
                    if journal and Path(journal).is_file():
                        if Path(journal).read_text().count("\\n") >= {ROWS_BEFORE_KILL}:
                            Path(os.environ["{READY_FILE}"]).touch()
                            while True:  # ready to die: the test kills this process now
                                time.sleep(1)
                    super().calculate(*args, **kwargs)

            def make(*, device="auto", dtype="float64", **kwargs):
                calculator = SlowLJ(sigma=2.0, epsilon=0.01, rc=5.0, smooth=True)
                weights = os.environ.get("HEO_TEST_WEIGHTS")
                if weights:
                    calculator.model_paths = [weights]
                return calculator
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


def _wait_until_ready_to_die(process: subprocess.Popen, ready: Path, timeout_s: float = 600.0) -> None:
    """Return once the run has created ``ready`` (and waits to be killed); fail if it ended first."""
    give_up = time.monotonic() + timeout_s
    while not ready.exists():
        if process.poll() is not None:
            pytest.fail(f"the run ended (exit {process.returncode}) before it was ready to be killed")
        if time.monotonic() > give_up:  # a safety net, not a condition of the test
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"the run did not journal {ROWS_BEFORE_KILL} rows within {timeout_s:.0f} s")
        time.sleep(0.05)


def test_a_killed_benchmark_resumes_to_the_rows_of_an_uninterrupted_run(slow_plugin, tmp_path):
    environment = _environment(slow_plugin)
    killed = tmp_path / "killed"
    journal = killed / "parts" / "journal-rattle_relax-slow-lj.jsonl"
    ready = tmp_path / "ready-to-die"
    process = subprocess.Popen(
        _command(killed),
        env={**environment, FREEZE_AT_JOURNAL: str(journal), READY_FILE: str(ready)},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_until_ready_to_die(process, ready)  # no race: once ready, the run cannot end on its own
    assert process.poll() is None
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    journaled = journal.read_text().count("\n")
    assert ROWS_BEFORE_KILL <= journaled < 26 and not (killed / "rows.csv").exists()

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


def test_resume_with_other_weights_under_the_same_name_is_refused(slow_plugin, tmp_path):
    weights = tmp_path / "slow-lj.weights"
    weights.write_bytes(b"the weights of the first run")
    environment = {**_environment(slow_plugin), "HEO_TEST_WEIGHTS": str(weights)}
    report = tmp_path / "report"
    first = subprocess.run(_command(report), env=environment, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout[-2000:]
    same = subprocess.run(_command(report, "--heo-resume"), env=environment, capture_output=True, text=True)
    assert same.returncode == 0, same.stdout[-2000:] + same.stderr[-2000:]
    old_sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    weights.write_bytes(b"other weights, same file name")
    new_sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    refused = subprocess.run(
        _command(report, "--heo-resume"), env=environment, capture_output=True, text=True
    )
    assert refused.returncode == 4, refused.stdout[-2000:]
    assert "slow-lj has other weights than in the interrupted run" in refused.stderr
    assert f"sha256 {old_sha[:12]}" in refused.stderr and f"sha256 {new_sha[:12]}" in refused.stderr
    assert (
        refused.stderr.index(old_sha[:12])
        < refused.stderr.index(" then, ")
        < refused.stderr.index(new_sha[:12])
    )
    assert "run without --heo-resume to start over" in refused.stderr
