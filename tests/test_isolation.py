"""Tests see no cache, model folder, setting nor location of the machine they run on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import CACHE_ENVIRONMENT, OFFLINE_ENVIRONMENT
from machine_paths import machine_path_pattern

from heo_calc.backends.mace import mace_cache_dir, mace_foundation_file_name

ROOT = Path(__file__).resolve().parents[1]
#: Tests whose expectations hold only where mace-mp0's weights are absent and downloads are off.
OFFLINE_EXPECTATIONS = (
    "tests/test_cli.py::test_list_prints_every_calculator",
    "tests/test_registry.py::test_available_calculators_lists_every_built_in_with_reasons",
)


def test_every_test_runs_with_empty_caches_and_downloads_off(isolated_from_this_machine):
    for name in CACHE_ENVIRONMENT:
        assert Path(os.environ[name]).is_relative_to(isolated_from_this_machine), name
    assert mace_cache_dir().is_relative_to(isolated_from_this_machine)
    assert not mace_cache_dir().exists() or not any(mace_cache_dir().iterdir())
    assert {name: os.environ[name] for name in OFFLINE_ENVIRONMENT} == {
        "HEO_CALC_OFFLINE": "1",
        "HF_HUB_OFFLINE": "1",
    }
    assert "HEO_CALC_MODEL_DIR" not in os.environ


def test_a_machine_with_mace_weights_cached_and_downloads_on_still_passes_the_offline_tests(tmp_path):
    """A user's machine: mace-mp0 in ~/.cache/mace, in $HEO_CALC_MODEL_DIR, and HEO_CALC_OFFLINE=0."""
    home = tmp_path / "home"
    file_name, _ = mace_foundation_file_name("mace-mp0")
    for folder in (home / ".cache" / "mace", tmp_path / "models"):
        folder.mkdir(parents=True)
        (folder / file_name).write_bytes(b"not a real model, only there")
    environment = {k: v for k, v in os.environ.items() if k not in (*CACHE_ENVIRONMENT, *OFFLINE_ENVIRONMENT)}
    environment |= {
        "HOME": str(home),
        "HEO_CALC_OFFLINE": "0",
        "HEO_CALC_MODEL_DIR": str(tmp_path / "models"),
    }
    # The leak is real: outside the test fixtures this machine has mace-mp0.
    probe = "from heo_calc.backends.mace import resolve_mace_model_file as r; print(r('mace-mp0'))"
    found = subprocess.run(
        [sys.executable, "-c", probe], env=environment, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert Path(found) == tmp_path / "models" / file_name
    command = [sys.executable, "-m", "pytest", *OFFLINE_EXPECTATIONS, "-q", "-p", "no:cacheprovider"]
    completed = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert f"{len(OFFLINE_EXPECTATIONS)} passed" in completed.stdout


def test_machine_paths_are_found_wherever_the_checkout_lies():
    at_top = machine_path_pattern(Path("/heo-relax"), home=Path("/"))
    assert not at_top.search(b"see https://github.com/ACEsuit/mace and file:///x")
    assert at_top.search(b"model_file: /heo-relax/models/a.pth")
    # folders no real checkout lies in, so that this file names none of this machine's
    nested = machine_path_pattern(Path("/example-checkouts/heo-relax"), home=Path("/example-home/me"))
    assert nested.search(b'"path": "/example-checkouts/shared/data/x.extxyz"')
    assert nested.search(b"log /example-home/me/runs/1")
    assert not nested.search(
        b"https://example.org/example-checkouts/heo-relax/ and /data/example-checkouts/x"
    )
    assert not nested.search(b"example-checkouts/heo-relax/relative.txt")
