"""Fast HEO scan of LeMat-Bulk parquet shards (local files or any fsspec filesystem).

Parquet is columnar, so each shard is read in two passes:

1. only the columns the composition test needs (``elements``, plus ``functional`` when
   filtering on it), in record batches, tested with ``pyarrow.compute``
   (:meth:`HEOFilter.composition_mask`) - no Python object per row;
2. only the row groups that hold candidates: the remaining columns (sites, positions,
   forces, cell, energy, stress, ...), of which just the candidate rows are taken and
   converted; the per-site checks (forces one vector per site, no NaN, cation entropy)
   run on those few rows only.

Row groups without a candidate never have their heavy columns decoded - or, on a remote
filesystem such as the Hugging Face hub, even downloaded.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from ase.data import atomic_numbers
from ase.units import GPa

from dataset_builder.elements import element_counts, reduced_formula
from dataset_builder.errors import MissingColumnError, SourceError
from dataset_builder.heo_filter import DropReason, HEOFilter
from dataset_builder.scan import ScanResult
from heo_base.structure_table import StructureTable, source_database

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

logger = logging.getLogger(__name__)

#: Columns a LeMat-Bulk shard must have (plus the energy and forces columns chosen).
REQUIRED_COLUMNS: Final[tuple[str, ...]] = (
    "immutable_id",
    "elements",
    "nsites",
    "species_at_sites",
    "cartesian_site_positions",
    "lattice_vectors",
)
#: Columns used when present: stress, functional, reduced formula, periodicity.
OPTIONAL_COLUMNS: Final[tuple[str, ...]] = (
    "stress_tensor",
    "functional",
    "chemical_formula_reduced",
    "dimension_types",
)

#: LeMat-Bulk copies ``stress_tensor`` unchanged from its sources' VASP outputs (Materials
#: Project task ``output.stress``, Alexandria ``stress``), i.e. in kBar with VASP's sign
#: (positive = compressive, a pressure). This is an assumption - the dataset card gives
#: no unit - documented in docs/dataset.md. The file stores ASE's convention:
#: eV/Å^3, positive = tensile, so ``stress_ase = -0.1 GPa/kBar * stress_kbar``.
KBAR_IN_EV_PER_A3: Final[float] = 0.1 * GPa


def lemat_stress_to_ase(stress_kbar: np.ndarray) -> np.ndarray:
    """LeMat-Bulk stress (3x3, kBar, VASP sign) -> ASE stress (3x3, eV/Å^3, positive = tensile)."""
    return -KBAR_IN_EV_PER_A3 * np.asarray(stress_kbar, dtype=np.float64)


def open_parquet(path: str, filesystem: Any = None) -> pq.ParquetFile:
    """Open one parquet file (local path, or a path on an fsspec ``filesystem``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if filesystem is None:
            return pq.ParquetFile(path)
        return pq.ParquetFile(filesystem.open(path, "rb"))
    except (pa.ArrowException, OSError) as error:
        raise SourceError(f"cannot read {path} as parquet: {error}") from error


def check_columns(names: Sequence[str], source: str, *, energy_key: str, forces_key: str) -> None:
    """Raise :class:`MissingColumnError` naming the first required column not in ``names``."""
    for column in (*REQUIRED_COLUMNS, energy_key, forces_key):
        if column not in names:
            raise MissingColumnError(column, source)


def _vectors(value: Any) -> np.ndarray | None:
    """A list of [x, y, z] as an (n, 3) float64 array (None -> NaN), or None if not (n, 3)."""
    if value is None:
        return None
    if len(value) == 0:
        return np.zeros((0, 3))
    if any(vector is None or len(vector) != 3 for vector in value):
        return None
    return np.array(value, dtype=np.float64)


def _matrix3(value: Any) -> np.ndarray | None:
    """A 3x3 list of lists as a float64 array (None -> NaN), or None if it is not 3x3."""
    if value is None or len(value) != 3 or any(row is None or len(row) != 3 for row in value):
        return None
    return np.array(value, dtype=np.float64)


def _convert_candidates(
    batch: pa.RecordBatch,
    *,
    heo_filter: HEOFilter,
    energy_key: str,
    forces_key: str,
    dropped: Counter[str],
) -> list[dict[str, Any]]:
    """Per-site checks and conversion of the (few) candidate rows of ``batch``; each row not
    kept is counted in ``dropped`` under its :class:`DropReason` value."""
    columns = {name: batch.column(name).to_pylist() for name in batch.schema.names}
    rows = []
    for i in range(batch.num_rows):
        record = {name: values[i] for name, values in columns.items()}
        row = _convert_record(record, heo_filter=heo_filter, energy_key=energy_key, forces_key=forces_key)
        if isinstance(row, DropReason):
            dropped[row.value] += 1
        else:
            rows.append(row)
    return rows


def _convert_record(
    record: dict[str, Any], *, heo_filter: HEOFilter, energy_key: str, forces_key: str
) -> dict[str, Any] | DropReason:
    """One LeMat-Bulk row (column name -> Python value) as a :class:`StructureTable` row, or
    the first reason it is dropped: inconsistent sites, the full HEO test, forces (eV/Å)
    missing or not one vector per site, energy (eV) missing, or a non-finite value."""
    species = record["species_at_sites"] or []
    n_sites = record["nsites"]
    positions = _vectors(record["cartesian_site_positions"])
    cell = _matrix3(record["lattice_vectors"])
    if not _sites_consistent(species, n_sites, positions, cell):
        return DropReason.INCONSISTENT_SITES
    functional = record.get("functional")
    reason = heo_filter.reject_reason(species, functional)
    if reason is not None:
        return reason
    raw_forces = record[forces_key]
    if not raw_forces:
        return DropReason.MISSING_FORCES
    forces = _vectors(raw_forces)
    if forces is None or len(forces) != n_sites:
        return DropReason.FORCES_SITE_MISMATCH
    energy = record[energy_key]
    if energy is None:
        return DropReason.MISSING_ENERGY
    if not (np.isfinite(energy) and all(np.isfinite(a).all() for a in (positions, forces, cell))):
        return DropReason.NON_FINITE
    immutable_id = str(record["immutable_id"])
    dimension_types = record.get("dimension_types")
    return {
        "numbers": [atomic_numbers[symbol] for symbol in species],
        "positions": positions,
        "forces": forces,
        "cell": cell,
        "pbc": [bool(d) for d in dimension_types] if dimension_types else [True, True, True],
        "energy": float(energy),
        "stress": _ase_stress(record.get("stress_tensor")),
        "immutable_id": immutable_id,
        "source_db": source_database(immutable_id),
        "functional": functional or "unknown",
        "formula": record.get("chemical_formula_reduced") or reduced_formula(element_counts(species)),
    }


def _sites_consistent(
    species: Sequence[str], n_sites: int | None, positions: np.ndarray | None, cell: np.ndarray | None
) -> bool:
    """True when the row has ``n_sites`` known chemical symbols and as many positions (Å), and
    a 3x3 cell (Å)."""
    return not (
        n_sites is None
        or len(species) != n_sites
        or positions is None
        or len(positions) != n_sites
        or cell is None
        or any(symbol not in atomic_numbers for symbol in species)
    )


def _ase_stress(stress_tensor: Any) -> np.ndarray | None:
    """A LeMat-Bulk ``stress_tensor`` value (3x3, kBar, VASP sign) as ASE stress (3x3, eV/Å^3,
    positive = tensile), or None when it is absent, not 3x3 or not finite."""
    stress_kbar = _matrix3(stress_tensor)
    has_stress = stress_kbar is not None and np.isfinite(stress_kbar).all()
    return lemat_stress_to_ase(stress_kbar) if has_stress else None


def _read_candidates(
    handle: pq.ParquetFile,
    candidate_rows: np.ndarray,
    *,
    heo_filter: HEOFilter,
    energy_key: str,
    forces_key: str,
    batch_size: int,
    dropped: Counter[str],
) -> list[dict[str, Any]]:
    """Read the heavy columns of the row groups that hold ``candidate_rows`` (row indices
    in the file), take the candidate rows and check/convert them."""
    import pyarrow as pa

    names = handle.schema_arrow.names
    heavy_columns = [
        column
        for column in dict.fromkeys((*REQUIRED_COLUMNS, energy_key, forces_key, *OPTIONAL_COLUMNS))
        if column in names and column != "elements"
    ]
    group_sizes = np.array(
        [handle.metadata.row_group(i).num_rows for i in range(handle.num_row_groups)], dtype=np.int64
    )
    group_starts = np.concatenate([[0], np.cumsum(group_sizes)])
    group_of_row = np.searchsorted(group_starts, candidate_rows, side="right") - 1
    groups = np.unique(group_of_row)
    # position of each candidate in the stream of the selected row groups, read in order
    stream_starts = np.concatenate([[0], np.cumsum(group_sizes[groups])])
    stream_rows = (
        candidate_rows - group_starts[group_of_row] + stream_starts[np.searchsorted(groups, group_of_row)]
    )
    # batches no larger than a row group: cheaper than re-chunking groups into big batches
    heavy_batch_size = int(max(1, min(batch_size, group_sizes[groups].max())))
    rows: list[dict[str, Any]] = []
    offset = 0
    for batch in handle.iter_batches(
        batch_size=heavy_batch_size, row_groups=groups.tolist(), columns=heavy_columns
    ):
        inside = stream_rows[(stream_rows >= offset) & (stream_rows < offset + batch.num_rows)]
        if inside.size:
            rows += _convert_candidates(
                batch.take(pa.array(inside - offset)),
                heo_filter=heo_filter,
                energy_key=energy_key,
                forces_key=forces_key,
                dropped=dropped,
            )
        offset += batch.num_rows
    return rows


def scan_lemat_parquet(
    files: Sequence[str],
    *,
    heo_filter: HEOFilter,
    filesystem: Any = None,
    energy_key: str = "energy",
    forces_key: str = "forces",
    batch_size: int = 65_536,
    progress: bool = True,
) -> ScanResult:
    """Select the HEOs of LeMat-Bulk parquet shards.

    Args:
        files: parquet paths (local, or on ``filesystem``).
        heo_filter: the filter settings.
        filesystem: an fsspec filesystem (e.g. ``HfFileSystem``) or None for local files.
        energy_key: column with the total energy in eV (``energy``; ``energy_corrected``
            holds the MP2020-compatible corrected energy).
        forces_key: column with the forces, one [fx, fy, fz] in eV/Å per site.
        batch_size: rows per record batch of the scan.
        progress: show a tqdm bar of rows scanned and kept.

    Returns:
        The kept structures and the drop counts.

    Raises:
        SourceError: a file is not parquet; MissingColumnError: a required column is missing.
    """
    from tqdm.auto import tqdm

    handles = [(str(path), open_parquet(str(path), filesystem)) for path in files]
    for path, handle in handles:
        check_columns(handle.schema_arrow.names, path, energy_key=energy_key, forces_key=forces_key)
    scan_columns = ["elements"] + (["functional"] if heo_filter.functional is not None else [])
    if heo_filter.functional is not None:
        for path, handle in handles:
            if "functional" not in handle.schema_arrow.names:
                raise MissingColumnError("functional", path)

    total_rows = sum(handle.metadata.num_rows for _, handle in handles)
    dropped: Counter[str] = Counter()
    tables: list[StructureTable] = []
    n_candidates = n_kept = 0
    with tqdm(total=total_rows, unit="rows", desc="scanning", disable=not progress) as bar:
        for path, handle in handles:
            # pass 1: composition test on the light columns of every row
            candidates = []
            offset = 0
            for batch in handle.iter_batches(batch_size=batch_size, columns=scan_columns):
                mask, batch_dropped = heo_filter.composition_mask(
                    batch.column("elements"),
                    batch.column("functional") if heo_filter.functional is not None else None,
                )
                dropped.update(batch_dropped)
                candidates.append(np.flatnonzero(mask) + offset)
                offset += batch.num_rows
                n_candidates += int(mask.sum())
                bar.set_postfix(candidates=n_candidates, kept=n_kept, refresh=False)
                bar.update(batch.num_rows)
            candidate_rows = np.concatenate(candidates) if candidates else np.zeros(0, np.int64)
            if candidate_rows.size:
                # pass 2: heavy columns of the row groups holding candidates only
                rows = _read_candidates(
                    handle,
                    candidate_rows,
                    heo_filter=heo_filter,
                    energy_key=energy_key,
                    forces_key=forces_key,
                    batch_size=batch_size,
                    dropped=dropped,
                )
                tables.append(StructureTable.from_rows(rows))
                logger.debug("%s: %d candidates, %d kept", path, candidate_rows.size, len(rows))
                n_kept += len(rows)
            bar.set_postfix(candidates=n_candidates, kept=n_kept)
    logger.info("scanned %d rows of %d file(s), kept %d", total_rows, len(handles), n_kept)
    return ScanResult(table=StructureTable.concatenate(tables), n_scanned=total_rows, dropped=dropped)
