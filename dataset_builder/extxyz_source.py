"""Read labelled structures from an extended-XYZ file through the HEO filter.

Labels are found (:func:`heo_base.labels.find_label`) under the first present key of :data:`~heo_base.labels.ENERGY_KEYS` (``atoms.info``,
total energy in eV), :data:`~heo_base.labels.FORCES_KEYS` (``atoms.arrays``, eV/Å) and
:data:`~heo_base.labels.STRESS_KEYS` (``atoms.info``, eV/Å^3 in ASE's sign convention, Voigt-6, 9 values or
3x3), or in the calculator ASE attaches for plain ``energy``/``forces``/``stress`` keys.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dataset_builder.elements import element_counts, reduced_formula
from dataset_builder.errors import SourceError
from dataset_builder.heo_filter import DropReason, HEOFilter
from dataset_builder.scan import ScanResult
from heo_base.labels import ENERGY_KEYS, FORCES_KEYS, find_label
from heo_base.structure_table import SOURCE_DATABASES, StructureTable, source_database

if TYPE_CHECKING:
    from ase import Atoms

logger = logging.getLogger(__name__)


def scan_extxyz(
    path: str | os.PathLike,
    *,
    heo_filter: HEOFilter,
    energy_key: str | None = None,
    forces_key: str | None = None,
    progress: bool = True,
) -> ScanResult:
    """Select the HEOs of an extended-XYZ file.

    Args:
        path: the ``.extxyz``/``.xyz`` file.
        heo_filter: the filter settings.
        energy_key: ``atoms.info`` key of the total energy (eV); None detects one of
            :data:`ENERGY_KEYS`.
        forces_key: ``atoms.arrays`` key of the forces (eV/Å, (n_atoms, 3)); None detects
            one of :data:`FORCES_KEYS`.
        progress: show a tqdm bar.

    Returns:
        The kept structures and the drop counts. ``immutable_id`` is ``info["immutable_id"]``
        or ``<file stem>-<index>``; ``functional`` is ``info["functional"]`` or ``unknown``.

    Raises:
        SourceError: the file cannot be parsed, or no structure carries the labels.
    """
    path = Path(path)
    dropped: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    n_scanned = n_candidates = 0
    first_keys: tuple[list[str], list[str]] | None = None
    try:
        for index, atoms in enumerate(_read_frames(path, progress)):
            n_scanned += 1
            if first_keys is None:
                first_keys = (sorted(atoms.info), sorted(atoms.arrays))
            reason = heo_filter.reject_reason(atoms.get_chemical_symbols(), atoms.info.get("functional"))
            if reason is not None:
                dropped[reason.value] += 1
                continue
            n_candidates += 1
            row = _labelled_row(
                atoms, index=index, stem=path.stem, energy_key=energy_key, forces_key=forces_key
            )
            if isinstance(row, DropReason):
                dropped[row.value] += 1
            else:
                rows.append(row)
    except (OSError, ValueError, IndexError, KeyError) as error:  # ase's extxyz parser raises these
        raise SourceError(f"cannot read {path} as extended XYZ: {error}") from error
    if n_scanned == 0:
        raise SourceError(f"{path} holds no structures; is it an extended-XYZ file?")
    if not rows and n_candidates:
        _raise_if_no_structure_has_labels(
            path,
            dropped,
            n_candidates=n_candidates,
            first_keys=first_keys or ([], []),
            energy_keys=(energy_key,) if energy_key else ENERGY_KEYS,
            forces_keys=(forces_key,) if forces_key else FORCES_KEYS,
        )
    logger.info("read %d structures from %s, kept %d", n_scanned, path, len(rows))
    return ScanResult(table=StructureTable.from_rows(rows), n_scanned=n_scanned, dropped=dropped)


def _read_frames(path: Path, progress: bool) -> Iterable[Atoms]:
    """The frames of an extended-XYZ file, one by one, behind a tqdm bar (``progress``)."""
    from ase.io import iread
    from tqdm.auto import tqdm

    return tqdm(
        iread(path, index=":", format="extxyz"), desc="reading", unit="structures", disable=not progress
    )


def _labelled_row(
    atoms: Atoms, *, index: int, stem: str, energy_key: str | None, forces_key: str | None
) -> dict[str, Any] | DropReason:
    """One frame that passed the composition filter as a :class:`StructureTable` row, or the
    reason it is dropped: forces (eV/Å) missing or not one vector per atom, energy (eV)
    missing, or a non-finite energy, force, position or cell (Å) value.

    ``index`` is the frame's position in the file and ``stem`` the file's stem; together they
    make the ``immutable_id`` of a frame without one.
    """
    energy = find_label(atoms, "energy", energy_key)
    forces = find_label(atoms, "forces", forces_key)
    if forces is None:
        return DropReason.MISSING_FORCES
    forces = np.asarray(forces, dtype=np.float64)
    if forces.shape != (len(atoms), 3):
        return DropReason.FORCES_SITE_MISMATCH
    if energy is None:
        return DropReason.MISSING_ENERGY
    energy = float(energy)
    cell = np.array(atoms.cell[:], dtype=np.float64)
    if not (np.isfinite(energy) and np.isfinite(forces).all() and np.isfinite(atoms.positions).all()):
        return DropReason.NON_FINITE
    if not np.isfinite(cell).all():
        return DropReason.NON_FINITE
    immutable_id = str(atoms.info.get("immutable_id", f"{stem}-{index}"))
    source = str(atoms.info.get("source", ""))
    functional = atoms.info.get("functional")
    return {
        "numbers": atoms.numbers,
        "positions": atoms.positions,
        "forces": forces,
        "cell": cell,
        "pbc": atoms.pbc,
        "energy": energy,
        "stress": _finite_stress(atoms),
        "immutable_id": immutable_id,
        "source_db": source if source in SOURCE_DATABASES else source_database(immutable_id),
        "functional": str(functional) if functional else "unknown",
        "formula": reduced_formula(element_counts(atoms.get_chemical_symbols())),
    }


def _finite_stress(atoms: Atoms) -> np.ndarray | None:
    """The frame's stress label (eV/Å^3, ASE sign; Voigt-6, 9 values or 3x3) as float64, or
    None when it is absent, of another shape, or not finite."""
    stress = find_label(atoms, "stress")
    if stress is None:
        return None
    stress = np.asarray(stress, dtype=np.float64)
    if stress.shape not in {(6,), (9,), (3, 3)} or not np.isfinite(stress).all():
        return None
    return stress


def _raise_if_no_structure_has_labels(
    path: Path,
    dropped: Counter[str],
    *,
    n_candidates: int,
    first_keys: tuple[list[str], list[str]],
    energy_keys: tuple[str, ...],
    forces_keys: tuple[str, ...],
) -> None:
    """Raise :class:`SourceError` when every candidate HEO lacked forces, or every one lacked
    an energy: then the labels are most likely under other keys, and the message names the
    keys looked for and the first frame's (``first_keys``: info keys, array keys)."""
    info_keys, array_keys = (", ".join(keys) for keys in first_keys)
    if dropped[DropReason.MISSING_FORCES.value] == n_candidates:
        raise SourceError(
            f"no structure in {path} has forces (looked for array keys {', '.join(forces_keys)}); "
            f"the first structure has arrays [{array_keys}]; pass --forces-key"
        )
    if dropped[DropReason.MISSING_ENERGY.value] == n_candidates:
        raise SourceError(
            f"no structure in {path} has an energy (looked for info keys {', '.join(energy_keys)}); "
            f"the first structure has info keys [{info_keys}]; pass --energy-key"
        )
