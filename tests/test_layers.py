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


def test_no_module_outside_the_task_modules_and_the_registry_names_a_task():
    """A task is one module plus one registry record: no other package module refers to a task by name.

    A reference is the name quoted (``"md_stability"``) or as a module path (``tasks.md_stability``);
    prose ("substitution cells", "accuracy") is not one.
    """
    import re

    from benchmark_suite.registry import TASKS

    pattern = re.compile(rf"""["'.]({"|".join(map(re.escape, TASKS))})\b""")
    task_files = {
        ROOT / "benchmark_suite" / "registry.py",
        *(ROOT / "benchmark_suite" / "tasks").rglob("*.py"),
    }
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("benchmark_suite", "heo_calc", "heo_base", "dataset_builder")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path not in task_files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert len(TASKS) >= 4 and offenders == []
