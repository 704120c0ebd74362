"""What every source reader returns: the kept structures and the drop counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from heo_base.structure_table import StructureTable


@dataclass
class ScanResult:
    """Outcome of reading a source through the HEO filter.

    Attributes:
        table: the structures that passed (split not yet assigned).
        n_scanned: rows (parquet) or frames (extxyz) read.
        dropped: rows not kept, per :class:`dataset_builder.heo_filter.DropReason` value.
    """

    table: StructureTable
    n_scanned: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
