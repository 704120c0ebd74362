"""Where the DFT labels of a structure live, and what a structure is called: one owner for both.

Labels on an ASE ``Atoms``: the total energy (eV) in ``info``, forces (eV/Å, (n, 3)) in
``arrays``, stress (eV/Å^3, Voigt 6 or 3x3, ASE's sign) in ``info``. Files name them in
several ways; :data:`ENERGY_KEYS`, :data:`FORCES_KEYS` and :data:`STRESS_KEYS` list the
spellings understood, in the order they are looked for. Everything the project writes for
trainers uses the first of each (mace-torch's defaults: ``REF_energy``, ``REF_forces``,
``REF_stress``). A label may also sit on the structure's calculator (as ASE's extxyz
reader leaves a plain ``energy=`` there).
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

import numpy as np
from ase import Atoms

#: Keys under which every file the project writes stores the labels.
ENERGY_KEY: Final = "REF_energy"
FORCES_KEY: Final = "REF_forces"
STRESS_KEY: Final = "REF_stress"

ENERGY_KEYS: Final[tuple[str, ...]] = (ENERGY_KEY, "DFT_energy", "energy", "dft_energy", "total_energy")
FORCES_KEYS: Final[tuple[str, ...]] = (FORCES_KEY, "DFT_forces", "forces", "dft_forces")
STRESS_KEYS: Final[tuple[str, ...]] = (STRESS_KEY, "DFT_stress", "stress", "dft_stress")

LabelKind = Literal["energy", "forces", "stress"]

_KEYS: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "energy": (ENERGY_KEYS, "info"),
    "forces": (FORCES_KEYS, "arrays"),
    "stress": (STRESS_KEYS, "info"),
}

#: ``info`` keys that name a structure, in the order :func:`structure_id` looks for them.
NAME_KEYS: Final[tuple[str, ...]] = ("name", "immutable_id", "id")


def label_keys(kind: LabelKind) -> tuple[str, ...]:
    """The keys looked for a label of ``kind``, in order."""
    return _KEYS[kind][0]


def find_label(atoms: Atoms, kind: LabelKind, key: str | None = None) -> Any:
    """The ``kind`` label of ``atoms`` or ``None``.

    With ``key``, only that key of ``info`` (energy, stress) or ``arrays`` (forces);
    without, the first of :func:`label_keys` present. Then, when no key was given or the
    key is the plain ``kind``, the structure's calculator results (``atoms.calc.results``),
    where ASE's extxyz reader puts a plain ``energy=``/``forces``.
    """
    keys, store = _KEYS[kind]
    mapping = atoms.info if store == "info" else atoms.arrays
    for candidate in (key,) if key else keys:
        if candidate in mapping:
            return mapping[candidate]
    if (key is None or key == kind) and atoms.calc is not None:
        return (getattr(atoms.calc, "results", None) or {}).get(kind)
    return None


def energy_label(atoms: Atoms, key: str | None = None) -> float | None:
    """Total DFT energy (eV) or ``None``."""
    value = find_label(atoms, "energy", key)
    return float(value) if value is not None else None


def forces_label(atoms: Atoms, key: str | None = None) -> np.ndarray | None:
    """DFT forces (eV/Å, shape (n_atoms, 3)) or ``None``."""
    value = find_label(atoms, "forces", key)
    return np.asarray(value, dtype=float) if value is not None else None


def structure_id(atoms: Atoms, index: int) -> str:
    """A structure's label: the first of ``info["name"]``, ``["immutable_id"]``, ``["id"]``, else ``structure-<index>``."""
    for key in NAME_KEYS:
        if key in atoms.info:
            return str(atoms.info[key])
    return f"structure-{index}"


#: Longest file-name stem :func:`safe_file_stem` returns (characters).
MAX_STEM = 80


def safe_file_stem(name: str, *, fallback: str = "structure") -> str:
    """``name`` reduced to a file name that stays in its folder: the name of a structure's output files.

    Every run of characters other than letters, digits, ``_``, ``.`` and ``-`` becomes one
    ``_`` (so no ``/``, ``\\`` or drive separators), runs of dots become one dot, leading and
    trailing dots, dashes and underscores go (no ``..``, no hidden files), and at most
    :data:`MAX_STEM` characters are kept; an empty result is ``fallback``. Different names
    may give the same stem: callers that need unique files prefix an index.
    """
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name))
    stem = re.sub(r"\.{2,}", ".", stem).strip("._-")[:MAX_STEM].strip("._-")
    return stem or fallback


def reduced_formula(atoms: Atoms) -> str:
    """pymatgen's reduced formula (``MgCoNiCuZnO5``), the canonical form for grouping and tables."""
    from pymatgen.core import Composition

    return Composition(atoms.get_chemical_formula()).reduced_formula
