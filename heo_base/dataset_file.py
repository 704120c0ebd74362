"""Read and write the heo-dataset HDF5 file (schema in docs/dataset.md).

Layout (schema_version 1), every dataset gzip-compressed::

    /                       attributes: schema_version, format, source, filter, ... (see docs)
    /structures/offsets     (N+1,) int64   atoms of structure i: offsets[i]:offsets[i+1]
    /structures/n_atoms     (N,)   int64
    /structures/cell        (N,3,3) float64  Å, lattice vectors as rows
    /structures/pbc         (N,3)  uint8   1 = periodic
    /structures/energy      (N,)   float64  eV, DFT total energy
    /structures/stress      (N,3,3) float64 eV/Å^3, ASE sign (positive = tensile), NaN if absent
    /structures/has_stress  (N,)   uint8
    /structures/immutable_id, source_db, functional, formula, split   (N,) UTF-8 strings
    /atoms/numbers          (A,)   int16   atomic numbers
    /atoms/positions        (A,3)  float64  Å, Cartesian
    /atoms/forces           (A,3)  float64  eV/Å

The file is written to a temporary file in the same directory and renamed, so an
interrupted write never leaves a half-written file under the final name.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from heo_base.atomic_write import atomic_output
from heo_base.errors import DatasetFileError
from heo_base.labels import ENERGY_KEY, FORCES_KEY, STRESS_KEY
from heo_base.splits import SPLIT_NAMES
from heo_base.structure_table import STRING_COLUMNS, StructureTable, stress_to_voigt

if TYPE_CHECKING:
    from ase import Atoms

logger = logging.getLogger(__name__)

SCHEMA_VERSION: Final[int] = 1
FILE_FORMAT: Final[str] = "heo-dataset"

# The labels on the ASE Atoms that :func:`read` returns use heo_base.labels' keys (mace-torch's defaults).

_UNITS: Final[dict[str, str]] = {
    "structures/offsets": "index",
    "structures/n_atoms": "count",
    "structures/cell": "Angstrom",
    "structures/pbc": "bool (0/1)",
    "structures/energy": "eV",
    "structures/stress": "eV/Angstrom^3",
    "structures/has_stress": "bool (0/1)",
    "atoms/numbers": "atomic number",
    "atoms/positions": "Angstrom",
    "atoms/forces": "eV/Angstrom",
}


def _attribute_value(value: Any) -> Any:
    """HDF5-storable form of an attribute: dicts, lists and None become JSON strings."""
    if isinstance(value, dict | list | tuple) or value is None:
        return json.dumps(value, sort_keys=True)
    return value


def write(
    path: str | os.PathLike, table: StructureTable, *, attributes: Mapping[str, Any] | None = None
) -> Path:
    """Write ``table`` to ``path`` atomically (temporary file in the same directory + rename).

    Args:
        path: destination ``.h5`` file; its directory is created if needed.
        table: the structures; ``table.split`` is stored as is.
        attributes: file-level attributes (provenance, filter settings, drop counts);
            dicts, lists and None are stored as JSON strings.

    Returns:
        The path written.
    """
    import h5py

    path = Path(path)
    string_type = h5py.string_dtype("utf-8")
    columns: dict[str, np.ndarray] = {
        "structures/offsets": table.offsets,
        "structures/n_atoms": np.asarray(table.n_atoms, dtype=np.int64),
        "structures/cell": np.asarray(table.cell, dtype=np.float64),
        "structures/pbc": np.asarray(table.pbc, dtype=np.uint8),
        "structures/energy": np.asarray(table.energy, dtype=np.float64),
        "structures/stress": np.asarray(table.stress, dtype=np.float64),
        "structures/has_stress": table.has_stress.astype(np.uint8),
        "atoms/numbers": np.asarray(table.numbers, dtype=np.int16),
        "atoms/positions": np.asarray(table.positions, dtype=np.float64),
        "atoms/forces": np.asarray(table.forces, dtype=np.float64),
    }
    with atomic_output(path) as temporary, h5py.File(temporary, "w") as handle:
        handle.attrs["schema_version"] = SCHEMA_VERSION
        handle.attrs["format"] = FILE_FORMAT
        handle.attrs["n_structures"] = len(table)
        handle.attrs["n_atoms"] = len(table.numbers)
        for key, value in (attributes or {}).items():
            handle.attrs[key] = _attribute_value(value)
        for name, data in columns.items():
            compression = {"compression": "gzip", "shuffle": True} if data.size else {}
            dataset = handle.create_dataset(name, data=data, **compression)
            dataset.attrs["units"] = _UNITS[name]
        for name in STRING_COLUMNS:
            values = np.asarray([str(v) for v in getattr(table, name)], dtype=object)
            compression = {"compression": "gzip"} if values.size else {}
            handle.create_dataset(f"structures/{name}", data=values, dtype=string_type, **compression)
    logger.info("wrote %d structures (%d atoms) to %s", len(table), len(table.numbers), path)
    return path


def _open(path: str | os.PathLike):
    """Open a heo-dataset file for reading, with errors that say what is wrong."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise DatasetFileError(f"dataset file {path} does not exist; build one with `heo-dataset build`")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise DatasetFileError(
            f"cannot read {path} as HDF5 ({error}); is it a heo-dataset .h5 file?"
        ) from error
    version = handle.attrs.get("schema_version")
    if version is None or "structures" not in handle or "atoms" not in handle:
        handle.close()
        raise DatasetFileError(f"{path} is HDF5 but not a heo-dataset file (no schema_version attribute)")
    if int(version) > SCHEMA_VERSION:
        handle.close()
        raise DatasetFileError(
            f"{path} has schema_version {int(version)}, newer than this package reads ({SCHEMA_VERSION}); "
            "upgrade heo-relax"
        )
    return handle


def read_attributes(path: str | os.PathLike) -> dict[str, Any]:
    """File-level attributes of a heo-dataset file; JSON strings are decoded."""
    with _open(path) as handle:
        attributes = {}
        for key, value in handle.attrs.items():
            if isinstance(value, bytes):
                value = value.decode()
            if isinstance(value, str):
                if value[:1] in ("{", "[") or value == "null":
                    with contextlib.suppress(json.JSONDecodeError):
                        value = json.loads(value)
            elif isinstance(value, np.generic):
                value = value.item()
            attributes[key] = value
        return attributes


def read_table(path: str | os.PathLike, split: str | None = None) -> StructureTable:
    """Read a heo-dataset file into a :class:`StructureTable` (all structures, or one split).

    Raises:
        DatasetFileError: the file is missing, not HDF5, or not a heo-dataset file.
        ValueError: ``split`` is not one of train, valid, test.
    """
    if split is not None and split not in SPLIT_NAMES:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLIT_NAMES)}")
    with _open(path) as handle:
        structures, atoms = handle["structures"], handle["atoms"]
        strings = {name: structures[name].asstr()[()].astype(object) for name in STRING_COLUMNS}
        table = StructureTable(
            n_atoms=structures["n_atoms"][()],
            numbers=atoms["numbers"][()],
            positions=atoms["positions"][()],
            forces=atoms["forces"][()],
            cell=structures["cell"][()],
            pbc=structures["pbc"][()].astype(bool),
            energy=structures["energy"][()],
            stress=structures["stress"][()],
            **strings,
        )
    if split is None:
        return table
    return table.take(np.flatnonzero(table.split == split))


def table_to_atoms(table: StructureTable) -> list[Atoms]:
    """ASE Atoms with ``info["REF_energy"]`` (eV), ``arrays["REF_forces"]`` (eV/Å),
    ``info["REF_stress"]`` (Voigt-6 xx yy zz yz xz xy, eV/Å^3, only when known) and
    ``info`` keys ``immutable_id``, ``source``, ``split``, ``functional``, ``formula``."""
    from ase import Atoms

    offsets = table.offsets
    has_stress = table.has_stress
    structures = []
    for i in range(len(table)):
        start, stop = offsets[i], offsets[i + 1]
        atoms = Atoms(
            numbers=table.numbers[start:stop],
            positions=table.positions[start:stop],
            cell=table.cell[i],
            pbc=table.pbc[i],
        )
        atoms.arrays[FORCES_KEY] = table.forces[start:stop].copy()
        atoms.info[ENERGY_KEY] = float(table.energy[i])
        if has_stress[i]:
            atoms.info[STRESS_KEY] = stress_to_voigt(table.stress[i])
        atoms.info["immutable_id"] = str(table.immutable_id[i])
        atoms.info["source"] = str(table.source_db[i])
        atoms.info["split"] = str(table.split[i])
        atoms.info["functional"] = str(table.functional[i])
        atoms.info["formula"] = str(table.formula[i])
        structures.append(atoms)
    return structures


def read(path: str | os.PathLike, split: str | None = None) -> list[Atoms]:
    """Read structures from a heo-dataset HDF5 file as ASE Atoms.

    Args:
        path: the ``.h5`` file written by ``heo-dataset build``.
        split: ``"train"``, ``"valid"`` or ``"test"``; None reads every structure.

    Returns:
        One Atoms per structure with ``info["REF_energy"]`` (total energy, eV),
        ``arrays["REF_forces"]`` (eV/Å, shape (n_atoms, 3)), ``info["REF_stress"]``
        (Voigt-6 ``[xx, yy, zz, yz, xz, xy]`` in eV/Å^3, ASE sign, only where the source
        had a stress; mace-torch reads this form) and ``info["immutable_id"]``,
        ``["source"]`` (mp / alexandria / oqmd / unknown), ``["split"]``, ``["functional"]``,
        ``["formula"]`` (reduced formula).
    """
    return table_to_atoms(read_table(path, split=split))
