"""Read labelled structures for training and write them in the form trainers expect."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

from heo_calc.atomic import atomic_output

#: Keys (info, arrays) mace-torch reads by default; every training file we write uses them.
TRAINING_ENERGY_KEY = "REF_energy"
TRAINING_FORCES_KEY = "REF_forces"

_ENERGY_KEY_CANDIDATES = ("REF_energy", "DFT_energy", "energy", "dft_energy", "total_energy")
_FORCES_KEY_CANDIDATES = ("REF_forces", "DFT_forces", "forces", "dft_forces")


class TrainingDataError(ValueError):
    """Training data that cannot be used as it is (no energies, no forces, unreadable)."""


def detect_label_keys(atoms: Atoms) -> tuple[str | None, str | None]:
    """Return the (energy, forces) keys found on ``atoms``; ``"calc"`` means its calculator."""
    energy_key = next((k for k in _ENERGY_KEY_CANDIDATES if k in atoms.info), None)
    forces_key = next((k for k in _FORCES_KEY_CANDIDATES if k in atoms.arrays), None)
    if atoms.calc is not None:
        results = getattr(atoms.calc, "results", {})
        energy_key = energy_key or ("calc" if "energy" in results else None)
        forces_key = forces_key or ("calc" if "forces" in results else None)
    return energy_key, forces_key


def load_labelled_structures(
    path: str | os.PathLike,
    *,
    energy_key: str | None = None,
    forces_key: str | None = None,
    split: str | None = None,
) -> list[Atoms]:
    """Load structures with DFT energy (eV) and forces (eV/Å) from an HDF5 or extxyz file.

    The labels are copied to ``info["REF_energy"]`` and ``arrays["REF_forces"]``.
    Raises :class:`TrainingDataError` naming the structure and the missing label.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training data {path} does not exist; pass an existing .h5 or .extxyz file")
    if path.suffix in {".h5", ".hdf5"}:
        from dataset_builder.hdf5_io import read as read_hdf5

        structures = read_hdf5(path, split=split)
    else:
        from ase.io import read as ase_read

        try:
            structures = ase_read(path, index=":")
        except Exception as error:  # ase raises many types for malformed files
            raise TrainingDataError(f"cannot read {path} as extended XYZ: {error}") from error
    labelled = []
    for index, atoms in enumerate(structures):
        found_energy, found_forces = detect_label_keys(atoms)
        use_energy = energy_key or found_energy
        use_forces = forces_key or found_forces
        if use_energy is None or (use_energy != "calc" and use_energy not in atoms.info):
            raise TrainingDataError(
                f"structure {index} of {path} has no energy label "
                f"(looked for {energy_key or _ENERGY_KEY_CANDIDATES}); pass --energy-key"
            )
        if use_forces is None or (use_forces != "calc" and use_forces not in atoms.arrays):
            raise TrainingDataError(
                f"structure {index} of {path} has no forces (looked for "
                f"{forces_key or _FORCES_KEY_CANDIDATES}); finetuning needs forces, pass --forces-key"
            )
        energy = atoms.get_potential_energy() if use_energy == "calc" else float(atoms.info[use_energy])
        forces = atoms.get_forces() if use_forces == "calc" else np.asarray(atoms.arrays[use_forces])
        clean = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        clean.info.update({k: v for k, v in atoms.info.items() if k not in _ENERGY_KEY_CANDIDATES})
        clean.info[TRAINING_ENERGY_KEY] = energy
        clean.arrays[TRAINING_FORCES_KEY] = np.array(forces, dtype=float)
        labelled.append(clean)
    if not labelled:
        raise TrainingDataError(f"{path} holds no structures")
    return labelled


def write_training_extxyz(structures: Sequence[Atoms], path: str | os.PathLike) -> Path:
    """Write structures with REF_ labels to extended XYZ atomically (temp file + rename)."""
    from ase.io import write as ase_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Every structure gets the same info keys: trainers turn them into graph attributes,
    # and torch-geometric cannot batch graphs whose attributes differ.
    uniform = []
    for index, atoms in enumerate(structures):
        clean = atoms.copy()
        clean.info = {
            TRAINING_ENERGY_KEY: float(atoms.info[TRAINING_ENERGY_KEY]),
            "immutable_id": str(atoms.info.get("immutable_id", f"structure-{index}")),
        }
        uniform.append(clean)
    with atomic_output(path) as temporary:
        ase_write(temporary, uniform, format="extxyz")
    return path
