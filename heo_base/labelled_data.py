"""Read labelled structures (for training, evaluation and the benchmark) and write training files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from heo_base.atomic_write import atomic_output
from heo_base.errors import LabelledDataError
from heo_base.labels import (
    ENERGY_KEY,
    ENERGY_KEYS,
    FORCES_KEY,
    STRESS_KEY,
    energy_label,
    forces_label,
    label_keys,
)


def load_labelled_structures(
    path: str | os.PathLike,
    *,
    energy_key: str | None = None,
    forces_key: str | None = None,
    split: str | None = None,
    require_forces: bool = True,
) -> list[Atoms]:
    """Load structures with DFT energy (eV) and forces (eV/Å) from an HDF5 or extxyz (or ``.extxyz.gz``) file.

    The labels are found by :func:`heo_base.labels.find_label` (or under ``energy_key`` /
    ``forces_key``) and copied to ``info["REF_energy"]`` and ``arrays["REF_forces"]``.
    ``split`` selects one split of a heo-dataset ``.h5`` file. With ``require_forces=False``
    structures without forces are kept (without ``REF_forces``).

    Raises:
        FileNotFoundError: no such file.
        LabelledDataError: unreadable, empty, or a structure without a label (naming it).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist; pass an existing .h5 or .extxyz file")
    if path.suffix in {".h5", ".hdf5"}:
        from heo_base.dataset_file import read as read_hdf5

        structures = read_hdf5(path, split=split)
    else:
        try:
            structures = _read_extxyz(path)
        except Exception as error:  # ase (and gzip) raise many types for malformed files
            raise LabelledDataError(
                f"cannot read {path} as extended XYZ ({type(error).__name__}: {error})"
            ) from error
    labelled = []
    for index, atoms in enumerate(structures):
        energy = energy_label(atoms, energy_key)
        forces = forces_label(atoms, forces_key)
        if energy is None:
            raise LabelledDataError(
                f"structure {index} of {path} has no energy label "
                f"(looked for {energy_key or ', '.join(label_keys('energy'))}); pass --energy-key"
            )
        if forces is None and require_forces:
            raise LabelledDataError(
                f"structure {index} of {path} has no forces (looked for "
                f"{forces_key or ', '.join(label_keys('forces'))}); finetuning needs forces, pass --forces-key"
            )
        clean = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        clean.info.update({k: v for k, v in atoms.info.items() if k not in ENERGY_KEYS})
        clean.info[ENERGY_KEY] = energy
        if forces is not None:
            clean.arrays[FORCES_KEY] = forces
        labelled.append(clean)
    if not labelled:
        raise LabelledDataError(f"{path} holds no structures")
    return labelled


def _read_extxyz(path: Path) -> list[Atoms]:
    """Every structure of an extended-XYZ file; ``.gz`` is decompressed in memory first
    (ASE's own gzip path reads line by line, ~25x slower)."""
    import gzip
    import io

    from ase.io import read as ase_read

    if path.suffix == ".gz":
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        return ase_read(io.StringIO(text), index=":", format="extxyz")
    return ase_read(path, index=":")


def write_training_extxyz(structures: Sequence[Atoms], path: str | os.PathLike) -> Path:
    """Write structures with REF_ labels to extended XYZ atomically (temp file + rename).

    Stress labels (``info["REF_stress"]``, eV/Å³) are written when any structure has one;
    then every structure gets the key, NaN where it has no label (trainers mask NaN).
    """
    from ase.io import write as ase_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Every structure gets the same info keys: trainers turn them into graph attributes,
    # and torch-geometric cannot batch graphs whose attributes differ.
    with_stress = any(STRESS_KEY in atoms.info for atoms in structures)
    uniform = []
    for index, atoms in enumerate(structures):
        clean = atoms.copy()
        clean.info = {
            ENERGY_KEY: float(atoms.info[ENERGY_KEY]),
            "immutable_id": str(atoms.info.get("immutable_id", f"structure-{index}")),
        }
        if with_stress:
            stress = atoms.info.get(STRESS_KEY)
            clean.info[STRESS_KEY] = np.full(6, np.nan) if stress is None else _voigt(stress)
        uniform.append(clean)
    with atomic_output(path) as temporary:
        ase_write(temporary, uniform, format="extxyz")
    return path


def _voigt(stress) -> np.ndarray:
    """A stress (Voigt 6 or 3x3, eV/Å³) as ASE's Voigt 6: xx, yy, zz, yz, xz, xy."""
    array = np.asarray(stress, dtype=float)
    if array.shape == (3, 3):
        return array[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
    if array.shape != (6,):
        raise LabelledDataError(f"a stress label must be Voigt 6 or 3x3, got shape {array.shape}")
    return array
