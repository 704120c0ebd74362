"""The one relaxation cache (heo_calc.relax.cache), keyed by the model identity, behind the screen's parents and forgetting."""

from __future__ import annotations

import json

import pytest
from ase.build import bulk
from ase.io import read

from heo_calc.provenance import identity_key
from heo_calc.relax.cache import RelaxationCache


def _identity(sha: str, **extra) -> dict:
    return {"name": "sevennet:model.pth", "model_sha256": sha, "dtype": "float32", "device": "cpu", **extra}


SETTINGS = {"structure": "MgO", "options": {"fmax": 0.05, "rattle": 0.02}}


def test_an_entry_is_found_by_the_same_weights_only(tmp_path):
    cache = RelaxationCache(tmp_path)
    atoms = bulk("MgO", "rocksalt", a=4.21, cubic=True)
    old = _identity("a" * 64)
    path = cache.store(
        "sevennet:model.pth", "MgO", SETTINGS, old, {"energy_eV": -47.5, "status": "ok"}, atoms
    )

    # The same weights on another device, from another path, under other package versions: found.
    moved = _identity("a" * 64, device="cuda", model_file="/elsewhere/model.pth", versions={"torch": "9"})
    assert cache.load("sevennet:model.pth", "MgO", SETTINGS, moved) == {"energy_eV": -47.5, "status": "ok"}
    # Other weights under the same name, other settings, another dtype: not found.
    assert cache.load("sevennet:model.pth", "MgO", SETTINGS, _identity("b" * 64)) is None
    assert cache.load("sevennet:model.pth", "MgO", {**SETTINGS, "options": {"fmax": 0.01}}, old) is None
    assert cache.load("sevennet:model.pth", "MgO", SETTINGS, {**old, "dtype": "float64"}) is None

    # The record holds the full identity, the relaxed structure its flat fields.
    assert path.parent == tmp_path / "sevennet_model.pth"
    assert json.loads(path.read_text())["model"] == old
    relaxed = read(path.with_suffix(".extxyz"))
    assert relaxed.info["model_key"] == identity_key(old) and relaxed.cell.lengths()[0] == pytest.approx(4.21)


def test_the_identity_field_of_a_record_is_reserved(tmp_path):
    with pytest.raises(ValueError, match="model"):
        RelaxationCache(tmp_path).store("m", "MgO", SETTINGS, _identity("a" * 64), {"model": "m"}, bulk("Cu"))
