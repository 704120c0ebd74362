"""The HEO dataset for the in-distribution tasks: loading, splits and structure selection."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms

logger = logging.getLogger(__name__)

#: Split fractions and seed used when the file carries no splits (extxyz): the project's convention.
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
SPLIT_SEED = 0


@dataclass
class HEODataset:
    """Labelled structures (``info["REF_energy"]`` eV, ``arrays["REF_forces"]`` eV/Å) and their splits."""

    path: Path
    structures: list[Atoms]
    splits: list[str]
    split_source: str  # "file" (HDF5 / extxyz with info["split"]) or "assigned"

    def split(self, name: str) -> list[Atoms]:
        """Structures of one split (``train``, ``valid``, ``test``), in file order."""
        return [atoms for atoms, split in zip(self.structures, self.splits) if split == name]


def load_dataset(path: str | Path) -> HEODataset:
    """Read a heo-dataset HDF5 file or an extended-XYZ file with DFT labels.

    HDF5 files keep their stored splits. Extended XYZ files get formula-grouped splits:
    :func:`heo_base.splits.assign_splits_by_formula` with seed 0 and fractions
    (0.8, 0.1, 0.1) on pymatgen reduced formulas, unless every structure already has
    ``info["split"]``. Labels are detected (``REF_*``, ``DFT_*``, ...) by
    :func:`heo_base.labelled_data.load_labelled_structures`.
    """
    from pymatgen.core import Composition

    from heo_base.labelled_data import load_labelled_structures
    from heo_base.splits import SPLIT_NAMES, assign_splits_by_formula

    path = Path(path)
    structures = load_labelled_structures(path)
    stored = [atoms.info.get("split") for atoms in structures]
    if all(split in SPLIT_NAMES for split in stored):
        splits, source = [str(s) for s in stored], "file"
    else:
        formulas = [Composition(atoms.get_chemical_formula()).reduced_formula for atoms in structures]
        splits = assign_splits_by_formula(formulas, fractions=SPLIT_FRACTIONS, seed=SPLIT_SEED)
        source = "assigned"
    for index, atoms in enumerate(structures):
        atoms.info.setdefault("name", atoms.info.get("immutable_id", f"{path.stem}-{index}"))
    logger.info(
        "dataset %s: %d structures, splits %s (%s)",
        path,
        len(structures),
        {name: splits.count(name) for name in SPLIT_NAMES},
        source,
    )
    return HEODataset(path=path, structures=structures, splits=splits, split_source=source)


def sample(structures: list[Atoms], n: int | None, *, seed: int = 0) -> list[Atoms]:
    """``n`` structures drawn without replacement with ``seed`` (all when ``n`` is None), in input order."""
    if n is None or n >= len(structures):
        return list(structures)
    chosen = np.sort(np.random.default_rng(seed).permutation(len(structures))[:n])
    return [structures[i] for i in chosen]


def max_force(atoms: Atoms) -> float:
    """Largest DFT force norm of a labelled structure (eV/Å)."""
    return float(np.linalg.norm(atoms.arrays["REF_forces"], axis=1).max())


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


def relaxed_references(
    dataset: HEODataset,
    *,
    n: int,
    max_force_threshold: float,
    min_atoms: int,
    max_atoms: int,
    split: str = "test",
    seed: int = 0,
) -> list[Atoms]:
    """DFT-relaxed structures of ``split`` (max |F| < threshold), as supercells of >= ``min_atoms``.

    Candidates have at most ``max_atoms`` atoms before repeating; ``n`` are sampled with
    ``seed``. Each supercell keeps the parent's ``info`` (``name`` gets the repeat).
    """
    candidates = [
        atoms
        for atoms in dataset.split(split)
        if max_force(atoms) < max_force_threshold and len(atoms) <= max_atoms
    ]
    references = []
    for atoms in sample(candidates, n, seed=seed):
        supercell = supercell_at_least(atoms, min_atoms)
        supercell.info["name"] = f"{atoms.info.get('name', 'structure')}-x{supercell.info['repeat']}"
        references.append(supercell)
    return references
