"""A plain script without ``if __name__ == "__main__":`` that calls relax_many by name starts no process and runs once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import multiprocessing.process

started = []
start = multiprocessing.process.BaseProcess.start


def counting_start(self):
    started.append(self.name)
    return start(self)


multiprocessing.process.BaseProcess.start = counting_start
print("script body runs", flush=True)

from heo_calc import relax_many
from heo_calc.structures import rocksalt_heo_supercell

(result,) = relax_many([rocksalt_heo_supercell(repeat=1, seed=1, rattle=0.05)], "heo-ft", progress=False)
print("status", result.status, "processes started", len(started), flush=True)
"""


def test_relax_many_by_name_in_a_plain_script_starts_no_process_and_prints_once(tmp_path):
    script = tmp_path / "plain_script.py"
    script.write_text(SCRIPT)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    completed = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=environment,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.count("script body runs") == 1
    assert "status ok processes started 0" in completed.stdout
