"""The package layers of pyproject.toml's import-linter contracts hold (also run by tox's lint env)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept():
    """In a subprocess: import-linter's CLI reconfigures logging and would silence every logger of this session."""
    pytest.importorskip("importlinter")
    script = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filename='pyproject.toml'))"
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]


def test_base_layer_imports_nothing_of_ours():
    """Read the source: heo_base must not mention the packages above it (a second, tool-free check)."""
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in (ROOT / "heo_base").glob("*.py")
        for line in path.read_text().splitlines()
        if line.lstrip().startswith(("import ", "from "))
        and any(package in line for package in ("heo_calc", "dataset_builder", "benchmark_suite"))
    ]
    assert offenders == []
