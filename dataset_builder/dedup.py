"""Optional removal of structures that appear in more than one source database.

LeMat-Bulk merges Materials Project, Alexandria and OQMD; the same crystal can occur in
several of them. Two structures are duplicates when they share the reduced formula, come
from different databases, and pymatgen's ``StructureMatcher`` (default tolerances) matches
them. The copy from the database first in :data:`SOURCE_PRIORITY` is kept.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any, Final

import numpy as np

from heo_base.structure_table import StructureTable

logger = logging.getLogger(__name__)

#: Which copy of a duplicate is kept: the first database in this order.
SOURCE_PRIORITY: Final[tuple[str, ...]] = ("mp", "alexandria", "oqmd", "unknown")


def cross_database_duplicates(table: StructureTable, *, matcher: Any = None) -> np.ndarray:
    """Indices of structures to drop because a copy from another database is kept.

    Args:
        table: the candidate structures.
        matcher: a pymatgen ``StructureMatcher``; default tolerances when None.

    Returns:
        Sorted int64 array of row indices of ``table`` to drop (duplicates within one
        database are not touched: they may be distinct entries or snapshots).
    """
    from pymatgen.analysis.structure_matcher import StructureMatcher
    from pymatgen.core import Lattice, Structure

    matcher = matcher or StructureMatcher()
    offsets = table.offsets
    groups: dict[str, list[int]] = defaultdict(list)
    for index, formula in enumerate(table.formula):
        groups[str(formula)].append(index)
    rank = {name: position for position, name in enumerate(SOURCE_PRIORITY)}
    to_drop: list[int] = []
    for indices in groups.values():
        if len({table.source_db[i] for i in indices}) < 2:
            continue
        ordered = sorted(indices, key=lambda i: (rank.get(str(table.source_db[i]), len(rank)), i))
        kept: list[tuple[str, Any]] = []
        for i in ordered:
            start, stop = offsets[i], offsets[i + 1]
            structure = Structure(
                Lattice(table.cell[i]),
                [int(z) for z in table.numbers[start:stop]],
                table.positions[start:stop],
                coords_are_cartesian=True,
            )
            source = str(table.source_db[i])
            if any(
                other != source and matcher.fit(structure, kept_structure) for other, kept_structure in kept
            ):
                to_drop.append(i)
            else:
                kept.append((source, structure))
    logger.info("dedup: %d structure(s) duplicated across databases", len(to_drop))
    return np.array(sorted(to_drop), dtype=np.int64)
