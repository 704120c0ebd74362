"""The HEO dataset for the in-distribution tasks: the packaged set, loading, splits and selection.

Without ``--heo-dataset`` the benchmark uses the set shipped with the package
(:func:`packaged_set`: ``benchmark_data/heo_benchmark.extxyz.gz``, the formula-disjoint test
split of the project's LeMat-Bulk HEO dev data plus a fit pool for the energy reference;
CC-BY-4.0, see ``benchmark_data/PROVENANCE.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Final

import numpy as np
from ase import Atoms

from heo_base.labels import FORCES_KEY

logger = logging.getLogger(__name__)

#: Split seed used when the file carries no splits (extxyz), with heo_base's default fractions.
SPLIT_SEED = 0

#: Package data of :mod:`benchmark_suite` (``[tool.setuptools.package-data]`` in pyproject.toml).
PACKAGE_DATA_DIR: Final = "benchmark_data"
PACKAGED_SET_FILE: Final = "heo_benchmark.extxyz.gz"
PROVENANCE_FILE: Final = "PROVENANCE.md"


@dataclass(frozen=True)
class PackagedSet:
    """Where the packaged benchmark set lives and under which licence."""

    path: Path
    provenance: Path
    licence: str

    @property
    def licence_id(self) -> str:
        """The licence's SPDX identifier (``CC-BY-4.0``)."""
        return self.licence.split()[0] if self.licence else "unknown licence"


def packaged_set() -> PackagedSet:
    """The benchmark set shipped in the package: its path, its provenance file and licence note.

    Raises:
        FileNotFoundError: the package data are missing (a broken install).
    """
    directory = Path(str(resources.files("benchmark_suite").joinpath(PACKAGE_DATA_DIR)))
    path, provenance = directory / PACKAGED_SET_FILE, directory / PROVENANCE_FILE
    for required in (path, provenance):
        if not required.is_file():
            raise FileNotFoundError(f"packaged benchmark data {required} is missing; reinstall heo-relax")
    licence = next(
        (
            line.partition(":")[2].strip()
            for line in provenance.read_text(encoding="utf-8").splitlines()
            if line.startswith("Licence:")
        ),
        "",
    )
    return PackagedSet(path=path, provenance=provenance, licence=licence)


@dataclass
class HEODataset:
    """Labelled structures (``info["REF_energy"]`` eV, ``arrays["REF_forces"]`` eV/Å where known) and splits."""

    path: Path
    structures: list[Atoms]
    splits: list[str]
    split_source: str  # "file" (HDF5 / extxyz with info["split"]) or "assigned"
    licence: str = ""

    def split(self, name: str) -> list[Atoms]:
        """Structures of one split (``train``, ``valid``, ``test``), in file order."""
        return [atoms for atoms, split in zip(self.structures, self.splits) if split == name]

    @property
    def n_with_forces(self) -> int:
        """Structures that carry DFT forces."""
        return sum(FORCES_KEY in atoms.arrays for atoms in self.structures)


def load_dataset(path: str | Path, *, licence: str = "") -> HEODataset:
    """Read a heo-dataset HDF5 file or an extended-XYZ file (optionally ``.gz``) with DFT labels.

    HDF5 files keep their stored splits. Extended XYZ files get formula-grouped splits:
    :func:`heo_base.splits.assign_splits_by_formula` with seed 0 and fractions
    (0.8, 0.1, 0.1) on pymatgen reduced formulas, unless every structure already has
    ``info["split"]``. Labels are detected (``REF_*``, ``DFT_*``, ...) by
    :func:`heo_base.labelled_data.load_labelled_structures`; structures without forces are
    kept (the energy metrics still run).

    Raises:
        FileNotFoundError: no such file.
        heo_base.errors.LabelledDataError, heo_base.errors.DatasetFileError: empty or
            unreadable file, or a structure without an energy label.
    """
    from heo_base.labelled_data import load_labelled_structures
    from heo_base.labels import reduced_formula
    from heo_base.splits import DEFAULT_SPLIT_FRACTIONS, SPLIT_NAMES, assign_splits_by_formula

    path = Path(path)
    structures = load_labelled_structures(path, require_forces=False)
    stored = [atoms.info.get("split") for atoms in structures]
    if all(split in SPLIT_NAMES for split in stored):
        splits, source = [str(s) for s in stored], "file"
    else:
        formulas = [reduced_formula(atoms) for atoms in structures]
        splits = assign_splits_by_formula(formulas, fractions=DEFAULT_SPLIT_FRACTIONS, seed=SPLIT_SEED)
        source = "assigned"
    stem = path.name.split(".")[0]
    for index, atoms in enumerate(structures):
        atoms.info.setdefault("name", atoms.info.get("immutable_id", f"{stem}-{index}"))
    logger.info(
        "dataset %s: %d structures, splits %s (%s)",
        path,
        len(structures),
        {name: splits.count(name) for name in SPLIT_NAMES},
        source,
    )
    return HEODataset(path=path, structures=structures, splits=splits, split_source=source, licence=licence)


def load_packaged_dataset() -> HEODataset:
    """The packaged benchmark set (:func:`packaged_set`) as an :class:`HEODataset`."""
    packaged = packaged_set()
    return load_dataset(packaged.path, licence=packaged.licence)


def sample(structures: list[Atoms], n: int | None, *, seed: int = 0) -> list[Atoms]:
    """``n`` structures drawn without replacement with ``seed`` (all when ``n`` is None), in input order."""
    if n is None or n >= len(structures):
        return list(structures)
    chosen = np.sort(np.random.default_rng(seed).permutation(len(structures))[:n])
    return [structures[i] for i in chosen]


def element_coverage_sample(structures: Sequence[Atoms], n: int | None) -> list[Atoms]:
    """``n`` structures chosen so that every element is in as many of them as possible, in input order.

    Greedy: each step takes the structure whose elements are least covered so far (gain
    ``sum 1 / (1 + count)`` over its elements), the smaller one on ties, then the earlier.
    A per-element energy-reference fit needs every element in a few structures; a random
    sample of a hundred leaves rare elements out. All structures when ``n`` is None or
    not smaller than their number.
    """
    if n is None or n >= len(structures):
        return list(structures)
    symbols = [set(atoms.get_chemical_symbols()) for atoms in structures]
    elements = sorted(set().union(*symbols))
    present = np.array([[e in s for e in elements] for s in symbols], dtype=float)
    sizes = np.array([len(atoms) for atoms in structures])
    counts = np.zeros(len(elements))
    available = np.ones(len(structures), dtype=bool)
    for _ in range(n):
        gain = np.where(available, present @ (1.0 / (1.0 + counts)), -np.inf)
        best = np.lexsort((np.arange(len(structures)), sizes, -gain))[0]
        available[best] = False
        counts += present[best]
    return [structures[i] for i in np.flatnonzero(~available)]


def max_force(atoms: Atoms) -> float:
    """Largest DFT force norm of a labelled structure (eV/Å)."""
    return float(np.linalg.norm(atoms.arrays[FORCES_KEY], axis=1).max())


def supercell_at_least(atoms: Atoms, min_atoms: int) -> Atoms:
    """A diagonal supercell with at least ``min_atoms`` atoms, grown along the shortest cell height.

    Repeating the direction with the smallest perpendicular height keeps the supercell as
    compact as a diagonal repeat allows. Labels (``REF_forces``) are tiled with the atoms.
    """
    repeat = np.ones(3, dtype=int)
    heights = atoms.cell.volume / np.linalg.norm(
        np.cross(atoms.cell[[1, 2, 0]], atoms.cell[[2, 0, 1]]), axis=1
    )
    while len(atoms) * repeat.prod() < min_atoms:
        repeat[np.argmin(heights * repeat)] += 1
    supercell = atoms.repeat(tuple(int(r) for r in repeat))
    supercell.info = dict(atoms.info)
    supercell.info["repeat"] = "x".join(str(r) for r in repeat)
    return supercell


def _relaxed_candidates(
    dataset: HEODataset, *, max_force_threshold: float, max_atoms: int | None, split: str
) -> list[Atoms]:
    """Structures of ``split`` with DFT forces, max |F| < threshold (eV/Å) and at most ``max_atoms`` atoms."""
    return [
        atoms
        for atoms in dataset.split(split)
        if FORCES_KEY in atoms.arrays
        and max_force(atoms) < max_force_threshold
        and (max_atoms is None or len(atoms) <= max_atoms)
    ]


def relaxed_cells(
    dataset: HEODataset,
    *,
    n: int | None,
    max_force_threshold: float,
    max_atoms: int | None,
    split: str = "test",
    seed: int = 0,
) -> list[Atoms]:
    """DFT-relaxed structures of ``split`` as stored (max |F| < threshold, eV/Å), ``n`` sampled with ``seed``.

    Copies, each with ``info["name"]`` set (its id). ``max_atoms`` bounds the cost (``None``: any size).
    """
    candidates = _relaxed_candidates(
        dataset, max_force_threshold=max_force_threshold, max_atoms=max_atoms, split=split
    )
    cells = []
    for atoms in sample(candidates, n, seed=seed):
        copy = atoms.copy()
        copy.info["name"] = str(atoms.info.get("name", "structure"))
        cells.append(copy)
    return cells


def free_relaxation_supercells(
    cells: Sequence[Atoms], *, n: int | None, min_atoms: int, max_atoms: int
) -> list[Atoms]:
    """Supercells of >= ``min_atoms`` of the first ``n`` of ``cells`` with at most ``max_atoms`` atoms.

    ``cells`` are the DFT-relaxed structures of the symmetric relaxation (already a seeded
    sample), so every free relaxation has a symmetric twin to compare energies with.
    Each supercell keeps the cell's ``info``; ``name`` gets the repeat, ``parent`` is the cell's name.
    """
    chosen = [atoms for atoms in cells if len(atoms) <= max_atoms]
    supercells = []
    for atoms in chosen if n is None else chosen[:n]:
        supercell = supercell_at_least(atoms, min_atoms)
        parent = str(atoms.info.get("name", "structure"))
        supercell.info["name"] = f"{parent}-x{supercell.info['repeat']}"
        supercell.info["parent"] = parent
        supercells.append(supercell)
    return supercells
