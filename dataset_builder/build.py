"""``heo-dataset build``: source -> HEO filter -> (dedup) -> grouped splits -> HDF5."""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np

from dataset_builder.errors import EmptyDatasetError, FilterConfigError
from dataset_builder.heo_filter import DropReason, HEOFilter
from heo_base.splits import DEFAULT_SPLIT_FRACTIONS, SPLIT_NAMES, assign_splits_by_formula
from heo_base.structure_table import StructureTable

logger = logging.getLogger(__name__)

LICENCE_NOTE: Final[str] = (
    "Derived from LeMat-Bulk (https://huggingface.co/datasets/LeMaterial/LeMat-Bulk), licensed CC-BY-4.0; "
    "credit LeMaterial and its sources (Materials Project, Alexandria, OQMD) when using this data."
)
STRESS_NOTE: Final[str] = (
    "structures/stress is in eV/Angstrom^3 with ASE's sign (positive = tensile); LeMat-Bulk stress_tensor "
    "is assumed to be in kBar with VASP's sign and converted as -0.1 GPa/kBar * value"
)


def package_version() -> str:
    """Installed version of heo-relax, or ``unknown`` when run from a source tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("heo-relax")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class BuildSummary:
    """What a build did: rows read, kept, dropped per reason, structures per split."""

    out: Path
    n_scanned: int
    n_kept: int
    dropped: dict[str, int]
    split_counts: dict[str, int]


def format_dropped(dropped: dict[str, int]) -> str:
    """``"no_oxygen 10, missing_forces 2"``, largest first (``"none"`` if empty)."""
    items = sorted(((k, v) for k, v in dropped.items() if v), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{k} {v}" for k, v in items) or "none"


def build_dataset(
    source: str,
    out: str | os.PathLike,
    *,
    heo_filter: HEOFilter | None = None,
    split_fractions: tuple[float, float, float] = DEFAULT_SPLIT_FRACTIONS,
    seed: int = 0,
    dedup: bool = False,
    energy_key: str | None = None,
    forces_key: str | None = None,
    progress: bool = True,
) -> BuildSummary:
    """Build the HEO HDF5 dataset.

    Args:
        source: ``hf``, a LeMat-Bulk parquet file/directory/glob, or an extxyz file.
        out: the ``.h5`` file to write (atomically).
        heo_filter: filter settings (default :class:`HEOFilter()`).
        split_fractions: train/valid/test fractions of structures; grouped by reduced formula.
        seed: seed of the split shuffle.
        dedup: drop structures that a StructureMatcher matches across source databases.
        energy_key, forces_key: energy (eV) / forces (eV/Å) column or extxyz key.
        progress: show progress bars.

    Raises:
        DatasetError: unreadable source, missing column, no structure kept, bad settings.
    """
    from dataset_builder.sources import scan_source
    from heo_base.dataset_file import write

    heo_filter = heo_filter or HEOFilter()
    _check_split_fractions(split_fractions, seed)  # before a long scan
    result = scan_source(
        source, heo_filter=heo_filter, energy_key=energy_key, forces_key=forces_key, progress=progress
    )
    table = result.table
    dropped: Counter[str] = Counter(result.dropped)
    if dedup and len(table):
        table = _drop_cross_database_duplicates(table, dropped)
    if len(table) == 0:
        raise EmptyDatasetError(
            f"no structure passed the HEO filter: read {result.n_scanned} rows from {source}, dropped "
            f"{format_dropped(dropped)}; nothing written"
        )
    table.split = np.array(
        assign_splits_by_formula(list(table.formula), fractions=split_fractions, seed=seed), dtype=object
    )
    split_counts = {name: int(np.sum(table.split == name)) for name in SPLIT_NAMES}
    dropped_all = {reason.value: int(dropped.get(reason.value, 0)) for reason in DropReason}
    attributes = _file_attributes(
        source,
        heo_filter=heo_filter,
        dedup=dedup,
        split_fractions=split_fractions,
        seed=seed,
        energy_key=energy_key,
        forces_key=forces_key,
        n_scanned=result.n_scanned,
        dropped_all=dropped_all,
    )
    path = write(out, table, attributes=attributes)
    logger.info(
        "kept %d of %d rows (train %d, valid %d, test %d); dropped %s",
        len(table),
        result.n_scanned,
        *split_counts.values(),
        format_dropped(dropped),
    )
    return BuildSummary(
        out=path,
        n_scanned=result.n_scanned,
        n_kept=len(table),
        dropped=dropped_all,
        split_counts=split_counts,
    )


def _check_split_fractions(split_fractions: tuple[float, float, float], seed: int) -> None:
    """Raise :class:`FilterConfigError` when ``split_fractions`` (train, valid, test; fractions
    of structures, dimensionless) are not accepted by the split assignment."""
    try:
        assign_splits_by_formula([], fractions=split_fractions, seed=seed)
    except ValueError as error:
        raise FilterConfigError(f"--split-fractions: {error}") from error


def _drop_cross_database_duplicates(table: StructureTable, dropped: Counter[str]) -> StructureTable:
    """``table`` without the structures duplicated across source databases (see
    :mod:`dataset_builder.dedup`); their number is added to ``dropped``."""
    from dataset_builder.dedup import cross_database_duplicates

    duplicates = cross_database_duplicates(table)
    dropped[DropReason.DUPLICATE.value] += len(duplicates)
    return table.take(np.setdiff1d(np.arange(len(table)), duplicates))


def _file_attributes(
    source: str,
    *,
    heo_filter: HEOFilter,
    dedup: bool,
    split_fractions: tuple[float, float, float],
    seed: int,
    energy_key: str | None,
    forces_key: str | None,
    n_scanned: int,
    dropped_all: dict[str, int],
) -> dict[str, Any]:
    """The root attributes of the HDF5 file: provenance, settings, licence, units and the
    drop counts (``dropped_all``: rows per :class:`DropReason` value, every reason present)."""
    from dataset_builder.sources import describe_source

    return {
        "source": describe_source(source),
        "filter": heo_filter.to_dict(),
        "dedup": bool(dedup),
        "split_fractions": list(split_fractions),
        "split_seed": int(seed),
        "split_grouping": "reduced formula (heo_base.splits.assign_splits_by_formula)",
        "energy_key": energy_key or "default (parquet: energy; extxyz: detected)",
        "forces_key": forces_key or "default (parquet: forces; extxyz: detected)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "package": "heo-relax",
        "package_version": package_version(),
        "licence": LICENCE_NOTE,
        "stress_convention": STRESS_NOTE,
        "n_scanned": int(n_scanned),
        "n_dropped": int(sum(dropped_all.values())),
        "dropped": dropped_all,
        **{f"dropped_{reason}": count for reason, count in dropped_all.items()},
    }
