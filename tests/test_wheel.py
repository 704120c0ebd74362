"""The wheel works on its own: built (sdist, then the wheel from it), installed with ``--no-deps``
into a fresh virtual environment and used from a folder outside the checkout.

The fresh environment sees the tested packages (torch, sevenn, ...) through a ``.pth`` file that
names this environment's site-packages; ``.pth`` files found there are not run, so the editable
install of the checkout stays invisible and ``heo_calc`` comes from the wheel (asserted).
Building runs ``python -m build``, whose isolated build environment installs setuptools from the
package index.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

#: What the wheel must carry besides code: heo-ft's weights, its model card, the benchmark data.
PACKAGED = (
    "heo_calc/models/heo-ft.pth",
    "heo_calc/models/heo-ft.json",
    "heo_calc/models/heo-ft-l3i5.pth",
    "heo_calc/models/MODEL_CARD.md",
    "benchmark_suite/benchmark_data/heo_benchmark.extxyz.gz",
    "benchmark_suite/benchmark_data/PROVENANCE.md",
)

#: Energy (eV) and forces (eV/Å) of the first packaged benchmark structure with HEOCalculator().
PROBE = """
import json, ase.io, benchmark_suite, heo_calc
from benchmark_suite.data import packaged_set
from heo_calc import HEOCalculator
atoms = ase.io.read(packaged_set().path, index=0)
atoms.calc = HEOCalculator(device="cpu")
print(json.dumps({
    "heo_calc": heo_calc.__file__, "benchmark_suite": benchmark_suite.__file__,
    "weights": atoms.calc.backend.parameters.get("model_file"), "data": str(packaged_set().path),
    "energy": atoms.get_potential_energy(), "forces": atoms.get_forces().tolist(),
}))
"""


def _environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env.update({"OMP_NUM_THREADS": "1", "HEO_CALC_OFFLINE": "1", **extra})
    return env


def _run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        command, cwd=cwd, env=env or _environment(), capture_output=True, text=True, timeout=1800
    )
    assert completed.returncode == 0, (
        f"{command} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    )
    return completed.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The sdist and wheel of the checkout, and a fresh venv with the wheel installed ``--no-deps``."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)], cwd=root)
    (wheel,) = dist.glob("heo_relax-*.whl")
    (sdist,) = dist.glob("heo_relax-*.tar.gz")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=root)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)], cwd=root)
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=root)
    purelib = Path(purelib.strip())
    # after the install, so that pip never saw the editable heo-relax of this environment
    (purelib / "tested_packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return {"wheel": wheel, "sdist": sdist, "python": python, "venv": venv, "root": root}


def test_the_wheel_carries_the_weights_the_model_card_and_the_benchmark_data(built):
    names = set(zipfile.ZipFile(built["wheel"]).namelist())
    missing = [name for name in PACKAGED if name not in names]
    assert not missing, f"{built['wheel'].name} lacks {missing}"
    assert not any(name.startswith(("tests/", "results/")) for name in names)


def test_the_installed_wheel_computes_what_the_checkout_computes(built, tmp_path):
    from_wheel = json.loads(_run([str(built["python"]), "-c", PROBE], cwd=tmp_path).splitlines()[-1])
    editable_env = _environment(PYTHONPATH=os.environ["PYTHONPATH"]) if "PYTHONPATH" in os.environ else None
    from_checkout = json.loads(
        _run([sys.executable, "-c", PROBE], cwd=tmp_path, env=editable_env).splitlines()[-1]
    )
    venv = str(built["venv"].resolve())
    for key in ("heo_calc", "benchmark_suite", "weights", "data"):
        assert str(Path(from_wheel[key]).resolve()).startswith(venv), (key, from_wheel[key])
        assert str(Path(from_checkout[key]).resolve()).startswith(str(REPO)), (key, from_checkout[key])
    assert from_wheel["energy"] == pytest.approx(from_checkout["energy"], abs=1e-6)
    forces_wheel = [value for row in from_wheel["forces"] for value in row]
    forces_checkout = [value for row in from_checkout["forces"] for value in row]
    assert forces_wheel == pytest.approx(forces_checkout, abs=1e-6)


def test_the_installed_wheel_collects_the_benchmark_on_its_packaged_data(built, tmp_path):
    out = _run(
        [
            str(built["python"]),
            "-m",
            "pytest",
            "--pyargs",
            "benchmark_suite",
            "--calc",
            "heo-ft",
            "--collect-only",
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
    )
    assert "heo-benchmark: calculators heo-ft; profile quick; dataset packaged benchmark set" in out, out
    assert "plugins: heo-relax-0.1.0" in out or "heo-relax-" in out, out
    from benchmark_suite.registry import TASKS

    for task in TASKS:  # every registered task, from the installed wheel's packaged data
        assert f"<Function test_task[{task}-heo-ft]>" in out, out
