"""Columnar in-memory form of a set of labelled structures (what the HDF5 file stores).

Per-atom arrays are ragged: structure ``i`` owns rows ``offsets[i]:offsets[i + 1]`` of
``numbers``, ``positions`` and ``forces``. Units are ASE's: Å, eV, eV/Å, eV/Å^3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Final

import numpy as np

#: Values of ``source_db``.
SOURCE_DATABASES: Final[tuple[str, ...]] = ("mp", "alexandria", "oqmd", "unknown")

#: Per-structure string columns.
STRING_COLUMNS: Final[tuple[str, ...]] = ("immutable_id", "source_db", "functional", "formula", "split")


def source_database(immutable_id: str) -> str:
    """Source database of a LeMat-Bulk id: ``mp-…`` -> mp, ``agm…`` -> alexandria,
    ``oqmd-…`` -> oqmd, anything else -> unknown."""
    if immutable_id.startswith("mp-"):
        return "mp"
    if immutable_id.startswith("agm"):
        return "alexandria"
    if immutable_id.startswith("oqmd-"):
        return "oqmd"
    return "unknown"


def stress_to_voigt(stress: np.ndarray) -> np.ndarray:
    """3x3 stress -> Voigt-6 ``[xx, yy, zz, yz, xz, xy]`` (ASE's order), same units."""
    stress = np.asarray(stress, dtype=float)
    return np.array([stress[0, 0], stress[1, 1], stress[2, 2], stress[1, 2], stress[0, 2], stress[0, 1]])


def stress_to_matrix(stress: np.ndarray) -> np.ndarray:
    """Voigt-6 ``[xx, yy, zz, yz, xz, xy]``, 9 values or 3x3 -> 3x3 array, same units."""
    stress = np.asarray(stress, dtype=float)
    if stress.shape == (3, 3):
        return stress.copy()
    if stress.shape == (9,):
        return stress.reshape(3, 3).copy()
    if stress.shape == (6,):
        xx, yy, zz, yz, xz, xy = stress
        return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    raise ValueError(f"stress must have 6, 9 or 3x3 values, got shape {stress.shape}")


@dataclass
class StructureTable:
    """N labelled structures with A atoms in total.

    Attributes:
        n_atoms: (N,) int64, atoms per structure.
        numbers: (A,) int16, atomic numbers.
        positions: (A, 3) float64, Cartesian positions in Å.
        forces: (A, 3) float64, DFT forces in eV/Å.
        cell: (N, 3, 3) float64, lattice vectors as rows, Å.
        pbc: (N, 3) bool, periodic directions.
        energy: (N,) float64, DFT total energy in eV.
        stress: (N, 3, 3) float64, DFT stress in eV/Å^3 (ASE sign: positive = tensile);
            NaN where the source has none.
        immutable_id, source_db, functional, formula, split: (N,) object arrays of str.
    """

    n_atoms: np.ndarray
    numbers: np.ndarray
    positions: np.ndarray
    forces: np.ndarray
    cell: np.ndarray
    pbc: np.ndarray
    energy: np.ndarray
    stress: np.ndarray
    immutable_id: np.ndarray
    source_db: np.ndarray
    functional: np.ndarray
    formula: np.ndarray
    split: np.ndarray

    def __post_init__(self) -> None:
        n_structures = len(self.n_atoms)
        n_total = int(np.sum(self.n_atoms))
        for name in ("cell", "pbc", "energy", "stress", *STRING_COLUMNS):
            if len(getattr(self, name)) != n_structures:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, expected {n_structures}")
        for name in ("numbers", "positions", "forces"):
            if len(getattr(self, name)) != n_total:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, expected {n_total} atoms")

    def __len__(self) -> int:
        return len(self.n_atoms)

    @property
    def offsets(self) -> np.ndarray:
        """(N + 1,) int64: structure ``i`` owns atoms ``offsets[i]:offsets[i + 1]``."""
        return np.concatenate([[0], np.cumsum(self.n_atoms, dtype=np.int64)])

    @property
    def has_stress(self) -> np.ndarray:
        """(N,) bool, True where the stress is known (all nine values finite)."""
        return np.isfinite(self.stress).all(axis=(1, 2))

    @classmethod
    def empty(cls) -> StructureTable:
        """A table with no structures."""
        strings = np.array([], dtype=object)
        return cls(
            n_atoms=np.zeros(0, np.int64),
            numbers=np.zeros(0, np.int16),
            positions=np.zeros((0, 3)),
            forces=np.zeros((0, 3)),
            cell=np.zeros((0, 3, 3)),
            pbc=np.zeros((0, 3), bool),
            energy=np.zeros(0),
            stress=np.zeros((0, 3, 3)),
            **{name: strings.copy() for name in STRING_COLUMNS},
        )

    @classmethod
    def from_rows(cls, rows: Sequence[dict]) -> StructureTable:
        """Build a table from per-structure dicts with the attribute names as keys
        (``numbers`` (n,), ``positions``/``forces`` (n, 3), ``cell`` (3, 3), ``pbc`` (3,),
        ``energy``, ``stress`` (3, 3) or None, and the string columns; ``split`` optional)."""
        if not rows:
            return cls.empty()

        def strings(key: str) -> np.ndarray:
            return np.array([str(row.get(key, "")) for row in rows], dtype=object)

        return cls(
            n_atoms=np.array([len(row["numbers"]) for row in rows], dtype=np.int64),
            numbers=np.concatenate([np.asarray(row["numbers"], dtype=np.int16) for row in rows]),
            positions=np.concatenate([np.asarray(row["positions"], dtype=np.float64) for row in rows]),
            forces=np.concatenate([np.asarray(row["forces"], dtype=np.float64) for row in rows]),
            cell=np.stack([np.asarray(row["cell"], dtype=np.float64) for row in rows]),
            pbc=np.stack([np.asarray(row["pbc"], dtype=bool) for row in rows]),
            energy=np.array([row["energy"] for row in rows], dtype=np.float64),
            stress=np.stack(
                [
                    np.full((3, 3), np.nan) if row.get("stress") is None else stress_to_matrix(row["stress"])
                    for row in rows
                ]
            ),
            **{name: strings(name) for name in STRING_COLUMNS},
        )

    @classmethod
    def concatenate(cls, tables: Sequence[StructureTable]) -> StructureTable:
        """One table holding the structures of ``tables`` in order."""
        tables = [table for table in tables if len(table)]
        if not tables:
            return cls.empty()
        if len(tables) == 1:
            return tables[0]
        return cls(**{f.name: np.concatenate([getattr(t, f.name) for t in tables]) for f in fields(cls)})

    def take(self, indices: Sequence[int] | np.ndarray) -> StructureTable:
        """A new table with the structures at ``indices`` (in that order)."""
        indices = np.asarray(indices, dtype=np.int64)
        offsets = self.offsets
        atom_index = (
            np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in indices])
            if len(indices)
            else np.zeros(0, np.int64)
        )
        per_atom = {"numbers", "positions", "forces"}
        return StructureTable(
            **{
                f.name: getattr(self, f.name)[atom_index if f.name in per_atom else indices]
                for f in fields(self)
            }
        )
