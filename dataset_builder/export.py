"""``heo-dataset export``: one split of the HDF5 file as extended XYZ for ``mace_run_train``."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from dataset_builder.errors import EmptyDatasetError
from heo_base.atomic_write import atomic_output
from heo_base.dataset_file import read

logger = logging.getLogger(__name__)


def export_extxyz(h5_path: str | os.PathLike, out: str | os.PathLike, *, split: str | None = None) -> int:
    """Write the structures of ``h5_path`` (one split, or all) to ``out`` as extended XYZ.

    Labels use mace-torch's default keys: ``REF_energy`` (eV, info), ``REF_forces``
    (eV/Å, per-atom array) and ``REF_stress`` (Voigt-6 eV/Å^3, info, only when known);
    ``immutable_id``, ``source``, ``split``, ``functional`` and ``formula`` are kept in
    the info line. The file is written to a temporary name and renamed (atomic).

    Returns:
        The number of structures written.
    """
    from ase.io import write as ase_write

    structures = read(h5_path, split=split)
    if not structures:
        raise EmptyDatasetError(f"{h5_path} holds no structure in split {split!r}; nothing written")
    out = Path(out)
    with atomic_output(out) as temporary:
        ase_write(temporary, structures, format="extxyz")
    logger.info("exported %d structures (split %s) to %s", len(structures), split or "all", out)
    return len(structures)
