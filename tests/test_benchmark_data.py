"""The benchmark set packaged with benchmark_suite: schema, licence note, regeneration, selection helpers."""

from __future__ import annotations

import importlib.util
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from machine_paths import machine_path_pattern

from benchmark_suite.data import element_coverage_sample, load_packaged_dataset, packaged_set

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def packaged():
    return load_packaged_dataset()


def test_packaged_set_is_small_compressed_package_data_with_a_licence_note():
    info = packaged_set()
    assert info.path.name == "heo_benchmark.extxyz.gz" and info.path.parent.name == "benchmark_data"
    total = sum(p.stat().st_size for p in info.path.parent.iterdir())
    assert total < 1_000_000
    assert info.licence.startswith("CC-BY-4.0") and info.licence_id == "CC-BY-4.0"
    assert "LeMat-Bulk" in info.licence and "compatible_pbe" in info.licence
    provenance = info.provenance.read_text()
    assert "make_benchmark_set.py --source" in provenance
    assert not machine_path_pattern().search(provenance.encode())


def test_packaged_set_loads_with_labels_splits_and_ids(packaged):
    assert packaged.split_source == "file"
    counts = Counter(packaged.splits)
    assert counts["test"] == 129 and counts["train"] + counts["valid"] > 500
    assert packaged.licence.startswith("CC-BY-4.0")
    assert packaged.n_with_forces == len(packaged.structures)
    for atoms in packaged.structures:
        assert isinstance(atoms.info["REF_energy"], float) and atoms.arrays["REF_forces"].shape == (
            len(atoms),
            3,
        )
        assert atoms.info["name"] == atoms.info["immutable_id"]
    names = [atoms.info["name"] for atoms in packaged.structures]
    assert len(set(names)) == len(names) and all(n.startswith("heo_lemat_dev-") for n in names)
    # formula-disjoint: no test formula in the fit pool
    from heo_base.labels import reduced_formula

    test = {reduced_formula(a) for a in packaged.split("test")}
    fit = {reduced_formula(a) for a in packaged.split("train") + packaged.split("valid")}
    assert not test & fit


def test_pyproject_ships_the_packaged_set():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["benchmark_suite"]
    data = ROOT / "benchmark_suite" / "benchmark_data"
    shipped = {p.name for pattern in patterns for p in data.glob(pattern.split("/", 1)[1])}
    assert shipped == {p.name for p in data.iterdir()}


def test_packaged_set_regenerates_byte_identical_from_the_dev_data(dev_data_path):
    spec = importlib.util.spec_from_file_location(
        "make_benchmark_set", ROOT / "benchmarks" / "make_benchmark_set.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--source", str(dev_data_path), "--out", str(packaged_set().path), "--check"]) == 0


def test_element_coverage_sample_covers_rare_elements_before_repeating_common_ones(packaged):
    pool = packaged.split("train") + packaged.split("valid")
    chosen = element_coverage_sample(pool, 80)
    assert len(chosen) == 80 and chosen == [a for a in pool if any(a is c for c in chosen)]  # input order
    covered = {e for a in chosen for e in a.get_chemical_symbols()}
    assert covered == {e for a in pool for e in a.get_chemical_symbols()}
    assert element_coverage_sample(pool, None) == pool and element_coverage_sample(pool, 10_000) == pool
