"""Shared fixtures: small real HEO structures, the dev data and the offline calculators."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Never try to download model weights from tests; the offline error is tested explicitly.
os.environ.setdefault("HEO_CALC_OFFLINE", "1")

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "heo_lemat_dev.extxyz"


@pytest.fixture(scope="session")
def dev_data_path() -> Path:
    """The real HEO DFT data beside the repo (../shared/data); skip where it is absent."""
    if not SHARED_DATA.is_file():
        pytest.skip(f"HEO dev data not found at {SHARED_DATA}")
    return SHARED_DATA


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
