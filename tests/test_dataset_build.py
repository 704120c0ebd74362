"""dataset_builder: HEO selection, HDF5 round trip, grouped splits, extxyz in and out."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import h5py
import numpy as np
import pytest
from ase.io import read as ase_read
from ase.units import GPa

from dataset_builder import read as read_dataset
from dataset_builder.build import build_dataset
from dataset_builder.elements import METALS
from dataset_builder.errors import EmptyDatasetError
from dataset_builder.export import export_extxyz
from dataset_builder.extxyz_source import scan_extxyz
from dataset_builder.heo_filter import HEOFilter
from dataset_builder.synthetic import (
    REFERENCE_METALS,
    expected_heo_ids,
    lemat_row,
    lemat_table,
    synthetic_lemat_table,
    write_lemat_parquet,
)
from heo_base.dataset_file import read_attributes, read_table, write
from heo_base.structure_table import StructureTable

ROCKSALT_HEO = ["Mg", "Co", "Ni", "Cu", "Zn"] * 2 + ["O"] * 10
STRESS_KBAR = [[10.0, 1.0, 2.0], [1.0, -20.0, 3.0], [2.0, 3.0, 5.0]]
EXPECTED_IDS = {"mp-1", "agm002", "oqmd-3", "mp-with-pt", "agm-low-entropy"}


def _decoy_rows() -> list[dict]:
    nan_forces = np.random.default_rng(1).normal(0, 0.1, (20, 3))
    nan_forces[3, 1] = np.nan
    return [
        # HEOs
        lemat_row("mp-1", ROCKSALT_HEO, stress=STRESS_KBAR),
        lemat_row("agm002", ["Li", "La", "Ti", "Nb", "Ta", "W"] + ["O"] * 9),
        lemat_row("oqmd-3", ["Mg", "Co", "Ni", "Cu", "Zn"] * 2 + ["O"] * 10, functional="PBE"),
        lemat_row("mp-with-pt", ["Mg", "Co", "Ni", "Pt", "Zn", "O", "O", "O", "O", "O"]),
        lemat_row("agm-low-entropy", ["Mg"] * 12 + ["Co", "Ni", "Cu", "Zn"] + ["O"] * 16),
        # decoys
        lemat_row("mp-metalloid", ["Mg", "Co", "Ni", "Sb", "Zn"] + ["O"] * 5),
        lemat_row("mp-four-elements", ["Mg", "Co", "Ni"] * 2 + ["O"] * 6),
        lemat_row("mp-no-forces", ROCKSALT_HEO, forces=None),
        lemat_row("mp-empty-forces", ROCKSALT_HEO, forces=[]),
        lemat_row("mp-no-oxygen", ["Mg", "Co", "Ni", "Cu", "Zn"] * 2 + ["F"] * 10),
        lemat_row("mp-forces-short", ROCKSALT_HEO, forces=np.zeros((19, 3)).tolist()),
        lemat_row("mp-nan-forces", ROCKSALT_HEO, forces=nan_forces.tolist()),
        lemat_row("mp-nan-energy", ROCKSALT_HEO, energy=float("nan")),
        dict(lemat_row("mp-sites-mismatch", ROCKSALT_HEO), nsites=21),
    ]


@pytest.fixture(scope="module")
def lemat_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lemat") / "shard-00000.parquet"
    write_lemat_parquet(lemat_table(_decoy_rows()), path, row_group_size=5)
    return path


@pytest.fixture(scope="module")
def built(lemat_parquet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "heo.h5"
    build_dataset(str(lemat_parquet), out, progress=False)
    return out


def test_filter_keeps_exactly_the_heos_of_a_lemat_parquet(built: Path) -> None:
    table = read_table(built)
    assert set(table.immutable_id) == EXPECTED_IDS
    assert dict(zip(table.immutable_id, table.source_db))["agm002"] == "alexandria"
    assert dict(zip(table.immutable_id, table.source_db))["oqmd-3"] == "oqmd"
    attributes = read_attributes(built)
    assert attributes["n_scanned"] == 14
    assert attributes["dropped_non_metal_cation"] == 1
    assert attributes["dropped_too_few_elements"] == 1
    assert attributes["dropped_no_oxygen"] == 1
    assert attributes["dropped_missing_forces"] == 2
    assert attributes["dropped_forces_site_mismatch"] == 1
    assert attributes["dropped_non_finite_values"] == 2
    assert attributes["dropped_inconsistent_sites"] == 1
    assert attributes["n_dropped"] == 9
    assert attributes["dropped"]["missing_forces"] == 2
    assert attributes["schema_version"] == 1
    assert "CC-BY-4.0" in attributes["licence"]
    assert attributes["filter"]["min_elements"] == 5


def test_optional_criteria_drop_excluded_low_entropy_and_other_functionals(
    lemat_parquet: Path, tmp_path: Path
) -> None:
    strict = HEOFilter(exclude_elements=("Pt", "Pd"), min_config_entropy=1.5)
    build_dataset(str(lemat_parquet), tmp_path / "strict.h5", heo_filter=strict, progress=False)
    assert set(read_table(tmp_path / "strict.h5").immutable_id) == EXPECTED_IDS - {
        "mp-with-pt",
        "agm-low-entropy",
    }

    equimolar = HEOFilter(equimolar_tol=0.05, min_cations=5)
    build_dataset(str(lemat_parquet), tmp_path / "eq.h5", heo_filter=equimolar, progress=False)
    assert set(read_table(tmp_path / "eq.h5").immutable_id) == {"mp-1", "agm002", "oqmd-3", "mp-with-pt"}

    build_dataset(
        str(lemat_parquet), tmp_path / "pbe.h5", heo_filter=HEOFilter(functional="pbe"), progress=False
    )
    assert "oqmd-3" in set(read_table(tmp_path / "pbe.h5").immutable_id)  # case-insensitive
    with pytest.raises(EmptyDatasetError, match="functional_mismatch 14"):
        build_dataset(
            str(lemat_parquet), tmp_path / "x.h5", heo_filter=HEOFilter(functional="r2scan"), progress=False
        )
    assert not (tmp_path / "x.h5").exists()


def test_vectorised_scan_agrees_with_row_by_row_reference(tmp_path: Path) -> None:
    table = synthetic_lemat_table(3000, heo_fraction=0.02, seed=3)
    path = tmp_path / "synthetic.parquet"
    write_lemat_parquet(table, path, row_group_size=700)
    build_dataset(str(path), tmp_path / "syn.h5", progress=False)
    assert set(read_table(tmp_path / "syn.h5").immutable_id) == expected_heo_ids(table)


#: Elements at the metal/metalloid border: metalloids are refused as cations, p-block metals kept.
METALLOIDS = ("B", "Si", "Ge", "As", "Sb", "Te")
P_BLOCK_METALS = ("Al", "Ga", "In", "Tl", "Sn", "Pb", "Bi")


def test_the_metal_rule_is_the_hand_written_reference_table() -> None:
    assert METALS == REFERENCE_METALS
    assert len(METALS) == 76  # 10 s-block, 7 p-block, 29 d-block, 15 lanthanoids, 15 actinoids
    assert not METALS & {"H", "O", "Fr", "Ra", "Po", "At", "Rf", *METALLOIDS}


def test_metalloid_cations_are_refused_and_p_block_metals_kept(tmp_path: Path) -> None:
    four = ["Mg", "Co", "Ni", "Cu"] * 2
    rows = [lemat_row(f"with-{x}", [*four, x, x, *["O"] * 10]) for x in METALLOIDS + P_BLOCK_METALS]
    path = tmp_path / "border.parquet"
    write_lemat_parquet(lemat_table(rows), path, row_group_size=5)
    build_dataset(str(path), tmp_path / "border.h5", progress=False)
    assert set(read_table(tmp_path / "border.h5").immutable_id) == {f"with-{x}" for x in P_BLOCK_METALS}
    for x in METALLOIDS:
        assert HEOFilter().reject_reason([*four, x, "O"]).name == "NON_METAL_CATION", x
    for x in P_BLOCK_METALS:
        assert HEOFilter().reject_reason([*four, x, "O"]) is None, x


def test_only_row_groups_with_candidates_are_read_and_rows_map_back(tmp_path: Path) -> None:
    rows = [lemat_row(f"mp-{i}", ["Mg", "Co", "O"]) for i in range(40)]
    for i in (5, 6, 17, 39):  # row groups 1, 1, 4 and 9 of 4 rows each
        rows[i] = lemat_row(f"agm{i}", ROCKSALT_HEO)
    path = tmp_path / "sparse.parquet"
    write_lemat_parquet(lemat_table(rows), path, row_group_size=4)
    build_dataset(str(path), tmp_path / "sparse.h5", progress=False)
    stored = read_table(tmp_path / "sparse.h5")
    assert set(stored.immutable_id) == {"agm5", "agm6", "agm17", "agm39"}
    original = {row["immutable_id"]: row for row in rows}
    offsets = stored.offsets
    for i, immutable_id in enumerate(stored.immutable_id):
        expected = np.array(original[immutable_id]["cartesian_site_positions"])
        assert np.array_equal(stored.positions[offsets[i] : offsets[i + 1]], expected)


def test_lemat_stress_is_converted_from_kbar_to_ev_per_a3_with_ase_sign(built: Path) -> None:
    table = read_table(built)
    index = list(table.immutable_id).index("mp-1")
    np.testing.assert_allclose(table.stress[index], -0.1 * GPa * np.array(STRESS_KBAR))
    assert table.has_stress.sum() == 1
    atoms = {a.info["immutable_id"]: a for a in read_dataset(built)}
    voigt = atoms["mp-1"].info["REF_stress"]
    assert voigt.shape == (6,)
    np.testing.assert_allclose(voigt, -0.1 * GPa * np.array([10.0, -20.0, 5.0, 3.0, 2.0, 1.0]))
    assert "REF_stress" not in atoms["agm002"].info


def test_write_then_read_keeps_every_array_bit_for_bit(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    rows = []
    for i, n in enumerate((3, 7, 1, 12)):
        rows.append(
            {
                "numbers": rng.integers(1, 100, n),
                "positions": rng.normal(size=(n, 3)) * 3.3,
                "forces": rng.normal(size=(n, 3)) * 1e-3,
                "cell": rng.normal(size=(3, 3)),
                "pbc": [True, i % 2 == 0, True],
                "energy": float(rng.normal() * 100),
                "stress": rng.normal(size=(3, 3)) if i % 2 else None,
                "immutable_id": f"mp-{i}",
                "source_db": "mp",
                "functional": "pbe",
                "formula": f"F{i}",
                "split": ("train", "valid", "test", "train")[i],
            }
        )
    table = StructureTable.from_rows(rows)
    path = write(tmp_path / "sub" / "round.h5", table, attributes={"note": "x", "nested": {"a": 1}})
    back = read_table(path)
    for name in ("n_atoms", "numbers", "positions", "forces", "cell", "pbc", "energy"):
        original, restored = getattr(table, name), getattr(back, name)
        assert restored.dtype == original.dtype, name
        assert np.array_equal(original, restored), name
        assert original.tobytes() == restored.tobytes(), name
    assert np.array_equal(table.stress, back.stress, equal_nan=True)
    for name in ("immutable_id", "source_db", "functional", "formula", "split"):
        assert list(getattr(back, name)) == list(getattr(table, name))
    assert read_attributes(path)["nested"] == {"a": 1}
    atoms = read_dataset(path)
    assert [a.info["split"] for a in atoms] == ["train", "valid", "test", "train"]
    assert atoms[3].positions.tobytes() == table.positions[11:].tobytes()
    assert atoms[3].arrays["REF_forces"].tobytes() == table.forces[11:].tobytes()
    assert atoms[3].info["REF_energy"] == table.energy[3]
    assert list(atoms[1].pbc) == [True, False, True]
    assert [a.info["immutable_id"] for a in read_dataset(path, split="train")] == ["mp-0", "mp-3"]
    # readable without this package: plain h5py and the documented layout
    with h5py.File(path) as handle:
        offsets = handle["structures/offsets"][()]
        assert offsets.tolist() == [0, 3, 10, 11, 23]
        assert handle["structures/split"].asstr()[2] == "test"
        assert handle["atoms/positions"].compression == "gzip"
    assert not list(tmp_path.glob("sub/.*tmp"))


def test_interrupted_write_leaves_no_file(tmp_path: Path) -> None:
    table = StructureTable.from_rows(
        [
            {
                "numbers": [8],
                "positions": [[0, 0, 0]],
                "forces": [[0, 0, 0]],
                "cell": np.eye(3),
                "pbc": [True] * 3,
                "energy": -1.0,
                "immutable_id": "mp-0",
            }
        ]
    )
    with pytest.raises(TypeError):
        write(tmp_path / "broken.h5", table, attributes={"bad": object()})
    assert list(tmp_path.iterdir()) == []


def test_no_formula_is_in_two_splits(tmp_path: Path) -> None:
    table = synthetic_lemat_table(4000, heo_fraction=0.05, seed=11)
    path = tmp_path / "many.parquet"
    write_lemat_parquet(table, path)
    build_dataset(str(path), tmp_path / "many.h5", split_fractions=(0.6, 0.2, 0.2), seed=5, progress=False)
    stored = read_table(tmp_path / "many.h5")
    splits_of = defaultdict(set)
    for formula, split in zip(stored.formula, stored.split):
        splits_of[formula].add(split)
    assert all(len(s) == 1 for s in splits_of.values())
    assert set(stored.split) == {"train", "valid", "test"}
    assert 0.45 < np.mean(stored.split == "train") < 0.75


def test_export_writes_extxyz_with_ref_keys_that_ase_reads(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.extxyz"
    assert export_extxyz(built, out) == 5
    frames = ase_read(out, ":")
    originals = {a.info["immutable_id"]: a for a in read_dataset(built)}
    assert len(frames) == 5
    for atoms in frames:
        original = originals[atoms.info["immutable_id"]]
        assert atoms.info["REF_energy"] == pytest.approx(original.info["REF_energy"], abs=1e-8)
        np.testing.assert_allclose(atoms.arrays["REF_forces"], original.arrays["REF_forces"], atol=1e-8)
        assert atoms.info["split"] == original.info["split"]
        assert atoms.info["source"] in {"mp", "alexandria", "oqmd"}
    stressed = next(a for a in frames if a.info["immutable_id"] == "mp-1")
    assert np.asarray(stressed.info["REF_stress"]).shape == (6,)
    train = read_dataset(built, split="train")
    if train:
        export_extxyz(built, tmp_path / "train.extxyz", split="train")
        assert len(ase_read(tmp_path / "train.extxyz", ":")) == len(train)


def test_cross_database_duplicates_are_dropped_with_dedup(tmp_path: Path) -> None:
    base = lemat_row("mp-10", ROCKSALT_HEO)
    twin = dict(base, immutable_id="agm0010")  # same structure from Alexandria
    same_db = dict(base, immutable_id="mp-11")  # same database: kept
    other = lemat_row("oqmd-12", ["Li", "La", "Ti", "Nb", "Ta", "W"] + ["O"] * 9)
    path = tmp_path / "dups.parquet"
    write_lemat_parquet(lemat_table([twin, base, same_db, other]), path)
    build_dataset(str(path), tmp_path / "dedup.h5", dedup=True, progress=False)
    assert set(read_table(tmp_path / "dedup.h5").immutable_id) == {"mp-10", "mp-11", "oqmd-12"}
    assert read_attributes(tmp_path / "dedup.h5")["dropped_duplicate_across_databases"] == 1
    build_dataset(str(path), tmp_path / "all.h5", progress=False)
    assert len(read_table(tmp_path / "all.h5")) == 4


def test_extxyz_source_reads_the_dev_heo_file(dev_data_path: Path) -> None:
    result = scan_extxyz(dev_data_path, heo_filter=HEOFilter(), progress=False)
    assert len(result.table) == 1292
    assert result.n_scanned == 1292
    first = ase_read(dev_data_path, 0)
    assert result.table.energy[0] == first.info["DFT_energy"]
    assert np.array_equal(result.table.forces[: len(first)], first.arrays["DFT_forces"])
    assert set(result.table.source_db) == {"unknown"}
    assert not result.table.has_stress.any()
