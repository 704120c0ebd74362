"""One model identity (heo_calc.provenance), read back from every output of relax, screen, evaluate, select
and forgetting; a screen resumed after its weights changed does not reuse its parents."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import toy_ionic
from ase.io import read, write

from heo_calc.cli import main
from heo_calc.provenance import (
    describe_identity,
    flat_identity,
    identity_key,
    model_identity,
    sha256_of_file,
)
from heo_calc.structures import rocksalt_heo_supercell


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    with toy_ionic.installed(tmp_path_factory.mktemp("toy-ionic")) as name:
        yield name


@pytest.fixture(scope="module")
def sevennet_0_file():
    from heo_calc.backends.sevennet import sevennet_pretrained_path

    return sevennet_pretrained_path("7net-0")


@pytest.fixture(scope="module")
def perturbed_sevennet_file(sevennet_0_file, tmp_path_factory):
    """SevenNet-0's checkpoint with one weight tensor scaled by 1.05: other weights, same architecture."""
    import torch

    from heo_calc.backends.sevennet import load_checkpoint

    state = load_checkpoint(sevennet_0_file)
    weights = state["model_state_dict"]
    name = [key for key, value in weights.items() if value.is_floating_point() and value.numel() > 1][-1]
    weights[name] = weights[name] * 1.05
    path = tmp_path_factory.mktemp("perturbed") / "perturbed.pth"
    torch.save(state, path)
    return path


def test_sha256_of_file_is_hashlibs_and_sees_a_rewrite(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"a" * 3_000_000)
    assert sha256_of_file(path) == hashlib.sha256(b"a" * 3_000_000).hexdigest()
    assert sha256_of_file(str(path)) == sha256_of_file(path)  # cached, same answer
    path.write_bytes(b"b" * 3_000_000)  # same size, rewritten in place
    os.utime(path, ns=(1, 1))  # even with a modification time set back
    assert sha256_of_file(path) == hashlib.sha256(b"b" * 3_000_000).hexdigest()


def test_identity_of_a_shipped_sevenn_model_names_its_pretrained_file(sevennet_calculator, sevennet_0_file):
    identity = model_identity(sevennet_calculator, "sevennet-0")
    assert identity["name"] == "sevennet-0" and identity["backend"] == "sevennet"
    assert identity["model_file"] == "7net-0"
    assert identity["model_sha256"] == hashlib.sha256(sevennet_0_file.read_bytes()).hexdigest()
    assert identity["dtype"] == "float32" and identity["device"] == "cpu"
    assert {"heo-relax", "torch", "ase", "sevenn"} == set(identity["versions"])
    assert "sha256 " + identity["model_sha256"][:12] in describe_identity(identity)


def test_weights_shipped_in_the_package_are_recorded_by_their_package_path(tmp_path, monkeypatch):
    """No report carries the install location: heo-ft's weights are ``heo_calc/models/heo-ft.pth``."""
    from heo_calc.backends.heo_ft import heo_ft_weights_path
    from heo_calc.provenance import portable_model_file, resolve_model_file
    from heo_calc.registry import get_calculator

    shipped = heo_ft_weights_path()
    identity = model_identity(get_calculator("heo-ft", device="cpu"), "heo-ft")
    assert identity["model_file"] == "heo_calc/models/heo-ft.pth"
    assert identity["model_sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert "heo-ft (heo_calc/models/heo-ft.pth, sha256 " in describe_identity(identity)
    monkeypatch.chdir(tmp_path)  # resolved wherever the package is installed, not from the working folder
    assert resolve_model_file(identity["model_file"]) == shipped.resolve()
    elsewhere = tmp_path / "mine.pth"
    elsewhere.write_bytes(b"w")
    assert portable_model_file(str(elsewhere)) == str(elsewhere)  # a user's file keeps its path


def test_identity_key_follows_the_weights_not_the_device_nor_the_versions(sevennet_calculator):
    identity = model_identity(sevennet_calculator, "sevennet-0")
    key = identity_key(identity)
    assert len(key) == 12 and key == identity_key(dict(identity))
    assert identity_key({**identity, "device": "cuda:0", "versions": {"torch": "9"}}) == key
    assert identity_key({**identity, "model_file": "/elsewhere/copy.pth"}) == key
    assert identity_key({**identity, "model_sha256": "0" * 64}) != key
    assert identity_key({**identity, "dtype": "float64"}) != key
    assert identity_key({**identity, "name": "heo-ft"}) != key


def test_committee_identity_holds_each_member(sevennet_calculator):
    from heo_calc import get_calculator
    from heo_calc.committee import CommitteeCalculator

    heo_ft = get_calculator("heo-ft", device="cpu")
    committee = CommitteeCalculator([sevennet_calculator, heo_ft])
    identity = model_identity(committee, "pair")
    assert identity["backend"] == "committee"
    assert [m["name"] for m in identity["members"]] == ["sevennet-0", "heo-ft"]
    assert identity["members"][1]["model_sha256"] == sha256_of_file(heo_ft.parameters["model_file"])
    flat = flat_identity(identity)
    assert flat["model_members"] == "sevennet-0;heo-ft"
    assert flat["model_sha256"].split(";") == [m["model_sha256"] for m in identity["members"]]
    swapped = CommitteeCalculator([heo_ft, sevennet_calculator])
    assert identity_key(model_identity(swapped, "pair")) != identity_key(identity)


def test_relax_writes_the_identity_into_summary_and_structures(sevennet_calculator, tmp_path):
    write(tmp_path / "in.extxyz", rocksalt_heo_supercell(repeat=1, seed=1, rattle=0.05))
    out = tmp_path / "out"
    args = ["relax", str(tmp_path / "in.extxyz"), "--calc", "sevennet-0", "--out", str(out)]
    assert main([*args, "--steps", "3", "--device", "cpu", "-q"]) == 0
    expected = model_identity(sevennet_calculator, "sevennet-0")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == expected
    (relaxed,) = [read(path) for path in out.glob("*.extxyz")]
    for key, value in flat_identity(expected).items():
        assert str(relaxed.info[key]) == value, key
    assert relaxed.info["model_key"] == identity_key(expected)


def _toy_screen(out, *extra: str) -> int:
    args = ["screen", "--lattice", "rocksalt", "--calc", "toy-ionic", "--out", str(out), "-q"]
    return main([*args, "--cations", "Mg,Ni", "--realizations", "1", "--sites", "8", *extra])


def test_screen_writes_the_identity_into_every_file(toy, tmp_path):
    assert _toy_screen(tmp_path) == 0
    from heo_calc import get_calculator

    identity = model_identity(get_calculator("toy-ionic"), "toy-ionic")
    key = identity_key(identity)
    stored = json.loads((tmp_path / "screen.json").read_text())
    assert stored["model_key"] == key and stored["model"]["name"] == "toy-ionic"
    assert json.loads((tmp_path / "results.json").read_text())["model"] == stored["model"]
    for table in ("results.csv", "summary.csv"):
        rows = pd.read_csv(tmp_path / table, keep_default_na=False)
        assert set(rows["model_key"]) == {key} and set(rows["model_name"]) == {"toy-ionic"}
        assert set(rows["model_sha256"]) == {"none"}  # an analytic model has no weights file
    assert "Model: toy-ionic (no model file, no checksum, float64)" in (tmp_path / "ranking.md").read_text()
    parents = sorted((tmp_path / "parents").rglob("*.json"))
    assert len(parents) == 2
    assert all(json.loads(p.read_text())["model"]["name"] == "toy-ionic" for p in parents)
    assert {read(p.with_suffix(".extxyz")).info["model_key"] for p in parents} == {key}


def test_parent_cache_paths_differ_between_model_identities(tmp_path):
    from heo_calc.screening import ScreenSettings
    from heo_calc.screening.references import cache_path

    settings = ScreenSettings(lattice="rocksalt", calculator="sevennet:model.pth")
    first, second = (cache_path(tmp_path, settings, "Mg", key) for key in ("aaaaaaaaaaaa", "bbbbbbbbbbbb"))
    assert first != second and first.parent == second.parent
    assert cache_path(tmp_path, settings, "Mg", "aaaaaaaaaaaa") == first


def test_resuming_a_screen_after_the_weights_changed_does_not_reuse_its_parents(
    sevennet_0_file, perturbed_sevennet_file, tmp_path, capsys
):
    """``sevennet:PATH`` retrained in place: --resume stops naming both identities; --discard-stale recomputes."""
    weights = tmp_path / "model.pth"
    shutil.copyfile(sevennet_0_file, weights)
    out = tmp_path / "screen"
    args = ["screen", "--lattice", "rocksalt", "--calc", f"sevennet:{weights}", "--out", str(out), "-q"]
    args += ["--cations", "Mg", "--realizations", "1", "--sites", "8", "--steps", "2", "--device", "cpu"]
    assert main(args) == 0
    first = json.loads((out / "results.json").read_text())
    old_sha = hashlib.sha256(sevennet_0_file.read_bytes()).hexdigest()
    assert first["model"]["model_sha256"] == old_sha and first["model"]["model_file"] == str(weights)
    capsys.readouterr()

    shutil.copyfile(perturbed_sevennet_file, weights)  # same path, same name, other weights
    new_sha = hashlib.sha256(perturbed_sevennet_file.read_bytes()).hexdigest()
    assert main([*args, "--resume"]) == 2
    error = capsys.readouterr().err
    assert f"sha256 {old_sha[:12]}" in error and f"sha256 {new_sha[:12]}" in error
    assert str(weights) in error and "--discard-stale" in error
    assert len(list((out / "compositions").glob("*.json"))) == 1  # nothing deleted without the flag

    assert main([*args, "--resume", "--discard-stale"]) == 0
    second = json.loads((out / "results.json").read_text())
    assert second["model"]["model_sha256"] == new_sha
    parents = sorted((out / "parents").rglob("rocksalt-MgO-*.json"))
    assert len(parents) == 2  # the old model's parent stays in its own cache entry, unused
    by_sha = {json.loads(p.read_text())["model"]["model_sha256"]: json.loads(p.read_text()) for p in parents}
    assert set(by_sha) == {old_sha, new_sha}
    assert by_sha[new_sha]["energy_eV"] != pytest.approx(by_sha[old_sha]["energy_eV"], abs=1e-6)
    assert second["parents"][0]["energy_eV"] == pytest.approx(by_sha[new_sha]["energy_eV"])
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["model_sha256"]) == {new_sha}


def test_evaluate_table_names_the_weights(packaged_small_structures, sevennet_calculator, tmp_path):
    labelled = packaged_small_structures[:2]
    write(tmp_path / "data.extxyz", labelled)
    args = ["evaluate", "--calc", "sevennet-0", "--data", str(tmp_path / "data.extxyz")]
    assert main([*args, "--out", str(tmp_path / "t.csv"), "--device", "cpu"]) == 0
    table = pd.read_csv(tmp_path / "t.csv")
    expected = flat_identity(model_identity(sevennet_calculator, "sevennet-0"))
    for column in ("model_file", "model_sha256", "model_dtype", "model_key"):
        assert set(table[column]) == {expected[column]}, column
    assert list(table.columns[:5]) == ["calculator", "model_file", "model_sha256", "model_dtype", "model_key"]


def test_select_writes_the_committees_identity(sevennet_calculator, tmp_path, monkeypatch):
    import heo_calc.registry
    from heo_calc import get_calculator
    from heo_calc.committee import CommitteeCalculator

    committee = CommitteeCalculator([sevennet_calculator, get_calculator("heo-ft", device="cpu")])
    monkeypatch.setattr(heo_calc.registry, "get_calculator", lambda name, **kwargs: committee)
    frames = [rocksalt_heo_supercell(repeat=1, seed=2, rattle=r) for r in (0.05, 0.1)]
    write(tmp_path / "frames.extxyz", frames)
    out = tmp_path / "picked"
    args = ["select", str(tmp_path / "frames.extxyz"), "--calc", "pair", "--top", "1", "--out", str(out)]
    assert main([*args, "-q"]) == 0
    expected = flat_identity(model_identity(committee, "pair"))
    (picked,) = read(out / "selected.extxyz", index=":")
    for key, value in expected.items():
        assert str(picked.info[key]) == value, key
    table = pd.read_csv(out / "selection.csv")
    assert set(table["model_sha256"]) == {expected["model_sha256"]}
    assert set(table["model_key"]) == {expected["model_key"]}


def test_forgetting_writes_each_models_identity(sevennet_calculator, tmp_path, monkeypatch):
    import heo_calc.registry

    monkeypatch.setattr(heo_calc.registry, "get_calculator", lambda name, **kwargs: sevennet_calculator)
    out = tmp_path / "report"
    args = ["forgetting", "--calc", "ft", "--base", "base", "--cations", "Mg", "--solid-solutions", "none"]
    assert main([*args, "--out", str(out), "--fmax", "0.2", "--steps", "3", "--min-atoms", "8", "-q"]) == 0
    sha = model_identity(sevennet_calculator)["model_sha256"]
    document = json.loads((out / "forgetting.json").read_text())
    assert set(document["models"]) == {"base", "ft"}
    for name, identity in document["models"].items():
        assert identity["model_name"] == name and identity["model_sha256"] == sha
        assert identity["model_key"] == identity_key(model_identity(sevennet_calculator, name))
    assert document["options"]["max_steps"] == 3 and "ft vs base" in document["summaries"]
    relaxed = pd.read_csv(out / "relaxed.csv")
    assert set(relaxed["model_sha256"]) == {sha} and set(relaxed["model_dtype"]) == {"float32"}
    comparison = pd.read_csv(out / "forgetting.csv")
    assert list(comparison["model_sha256"]) == [sha] and list(comparison["base_sha256"]) == [sha]
    [cached_path] = (out / "cache" / "ft").glob("MgO-*.extxyz")
    cached = read(cached_path)
    assert cached.info["model_sha256"] == sha and cached.info["model_name"] == "ft"


def test_forgetting_cache_is_not_reused_for_other_weights(
    sevennet_0_file, perturbed_sevennet_file, tmp_path, monkeypatch
):
    from heo_calc import get_calculator
    from heo_calc.forgetting import ForgettingOptions, relax_model
    from heo_calc.relax.cache import RelaxationCache

    options = ForgettingOptions(fmax=0.2, max_steps=2, min_atoms=8, solution_repeat=1)
    cache = RelaxationCache(tmp_path / "cache")
    weights = tmp_path / "model.pth"
    energies = []
    for source in (sevennet_0_file, perturbed_sevennet_file):
        shutil.copyfile(source, weights)
        calculator = get_calculator(f"sevennet:{weights}", device="cpu")
        table = relax_model(
            "ft", ["Mg"], solid_solutions=[], options=options, cache=cache, calculator=calculator
        )
        energies.append(float(table["energy_eV"].iloc[0]))
    records = [json.loads(path.read_text()) for path in (tmp_path / "cache" / "ft").glob("*.json")]
    assert len(records) == 2 and len({record["model_key"] for record in records}) == 2
    # each record names the bytes it was computed with, hashed here independently
    assert {record["model"]["model_sha256"] for record in records} == {
        hashlib.sha256(Path(source).read_bytes()).hexdigest()
        for source in (sevennet_0_file, perturbed_sevennet_file)
    }
    assert not np.isclose(energies[0], energies[1], rtol=0, atol=1e-6)


def test_a_screen_resumed_with_the_same_model_reuses_its_parents(toy, tmp_path, monkeypatch, capsys):
    import heo_calc.screening.references as references

    assert _toy_screen(tmp_path) == 0
    parents = {p: p.stat().st_mtime_ns for p in (tmp_path / "parents").rglob("*.json")}
    shutil.rmtree(tmp_path / "compositions")  # interrupted after the parents, before the composition

    def no_relaxing(*args, **kwargs):
        raise AssertionError("parents of the same model must come from the cache")

    monkeypatch.setattr(references, "relax_many", no_relaxing)
    capsys.readouterr()
    assert _toy_screen(tmp_path, "--resume") == 0
    assert "1 ok" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "parents").rglob("*.json")} == parents


def test_a_screen_without_a_recorded_identity_is_stale(toy, tmp_path, capsys):
    assert _toy_screen(tmp_path) == 0
    stored = json.loads((tmp_path / "screen.json").read_text())
    (tmp_path / "screen.json").write_text(json.dumps({"settings": stored["settings"]}))  # an older heo-relax
    capsys.readouterr()
    assert _toy_screen(tmp_path, "--resume") == 2
    error = capsys.readouterr().err
    assert "whose identity was not recorded" in error and "now toy-ionic (no model file" in error
    assert _toy_screen(tmp_path, "--discard-stale") == 2
    assert "--discard-stale goes with --resume" in capsys.readouterr().err
    assert _toy_screen(tmp_path, "--resume", "--discard-stale") == 0
    assert json.loads((tmp_path / "screen.json").read_text())["model_key"] == stored["model_key"]
