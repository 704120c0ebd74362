"""Shared fixtures: isolation from the machine, small real HEO structures, the dev data and the offline calculators."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "heo_lemat_dev.extxyz"
#: The start of every skip reason of a test that needs the dev data; ``.ci/check_skips`` fails CI on it.
DEV_DATA_SKIP = "needs the HEO dev data ../shared/data/heo_lemat_dev.extxyz"

#: Environment variables forced in every test (and every subprocess a test starts): never download.
OFFLINE_ENVIRONMENT = {"HEO_CALC_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
#: Environment variables of the user's machine (or of the outer pytest run, whose options the
#: pytest runs that tests start must not inherit) that would decide what a test sees; removed.
MACHINE_ENVIRONMENT = ("HEO_CALC_MODEL_DIR", "PYTEST_ADDOPTS")
#: Cache folders of the packages tests load (mace's downloads, torch hub, matplotlib, Hugging Face),
#: each pointed into the session's temporary folder.
CACHE_ENVIRONMENT = ("XDG_CACHE_HOME", "TORCH_HOME", "MPLCONFIGDIR", "HF_HOME")

# Forced already at import, so that collection never downloads either.
os.environ.update(OFFLINE_ENVIRONMENT)


@pytest.fixture(scope="session", autouse=True)
def isolated_from_this_machine(tmp_path_factory):
    """Every test runs as on a fresh machine: empty caches, downloads off, no user model folder.

    The caches that decide whether a model is available (mace's ``$XDG_CACHE_HOME/mace``, else
    ``~/.cache/mace``) and those that packages write (torch hub, matplotlib, Hugging Face) point
    into a temporary folder; ``$HEO_CALC_OFFLINE`` and ``$HF_HUB_OFFLINE`` are ``1`` whatever the
    user's shell says; ``$HEO_CALC_MODEL_DIR`` is unset. Tests that need another setting set it
    with ``monkeypatch``. Yields the temporary cache root.
    """
    root = tmp_path_factory.mktemp("machine-caches")
    with pytest.MonkeyPatch.context() as patch:
        for name in CACHE_ENVIRONMENT:
            (root / name.lower()).mkdir()
            patch.setenv(name, str(root / name.lower()))
        for name, value in OFFLINE_ENVIRONMENT.items():
            patch.setenv(name, value)
        for name in MACHINE_ENVIRONMENT:
            patch.delenv(name, raising=False)
        yield root


def require_dev_data(path: Path = SHARED_DATA) -> Path:
    """``path`` if the dev data file is there, else skip the test with a reason starting with :data:`DEV_DATA_SKIP`."""
    if not path.is_file():
        pytest.skip(f"{DEV_DATA_SKIP} (not found at {path})")
    return path


@pytest.fixture(scope="session")
def dev_data_path() -> Path:
    """The real HEO DFT data beside the repo (../shared/data); skip where it is absent.

    Only tests that truly need the dev data use it (reproducing the packaged set, the shipped
    models' held-out numbers and outlier lists, the MACE finetune's split); those that need a
    few labelled structures take ``packaged_small_structures``. CI has the data and fails on
    such a skip (``.ci/check_skips.py``).
    """
    return require_dev_data()


@pytest.fixture(scope="session")
def packaged_small_structures() -> tuple:
    """The packaged benchmark set's structures of <= 12 atoms (real LeMat-Bulk PBE labels), in file order,
    with the labels under ``DFT_energy`` / ``DFT_forces`` as in ../shared/data: for tests that
    need a few real labelled structures but not the dev data. Shared by the session: copy an
    ``Atoms`` before changing it."""
    from ase.io import read

    from benchmark_suite.data import packaged_set

    small = []
    for atoms in read(packaged_set().path, index=":"):
        if len(atoms) <= 12:
            atoms.info = {"DFT_energy": atoms.info["REF_energy"], "immutable_id": atoms.info["immutable_id"]}
            atoms.arrays["DFT_forces"] = atoms.arrays.pop("REF_forces")
            small.append(atoms)
    return tuple(small)


@pytest.fixture
def rattled_heo_64():
    """A rattled 64-atom rock-salt (Mg,Co,Ni,Cu,Zn)O supercell (σ = 0.05 Å)."""
    from heo_calc.structures import rocksalt_heo_supercell

    return rocksalt_heo_supercell(repeat=2, seed=3, rattle=0.05)


@pytest.fixture(scope="session")
def sevennet_calculator():
    from heo_calc import get_calculator

    return get_calculator("sevennet-0", device="cpu")


@pytest.fixture(scope="session")
def chgnet_calculator():
    from heo_calc import get_calculator

    return get_calculator("chgnet", device="cpu")


@pytest.fixture(scope="session")
def tiny_mace_file(tmp_path_factory) -> Path:
    """A tiny float64 MACE model for the rock-salt HEO elements, saved like a foundation model."""
    from ase.data import atomic_numbers
    from tiny_mace import build_tiny_mace_model

    numbers = [atomic_numbers[s] for s in ("O", "Mg", "Co", "Ni", "Cu", "Zn")]
    return build_tiny_mace_model(
        tmp_path_factory.mktemp("tiny-mace") / "tiny.model", atomic_numbers=numbers, r_max=4.0
    )
