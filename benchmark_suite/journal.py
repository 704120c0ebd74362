"""Rows of one (task, calculator) written as each chunk of structures finishes, so a killed run resumes.

``pytest benchmark_suite ... --heo-report DIR --heo-resume`` reads them back: a structure
whose row is in the journal is not computed again, and the report of the resumed run equals
an uninterrupted one's (rows are put back in the task's own order; only wall times differ).
A journal is one JSON-lines file in ``DIR/parts``; a line cut short by a kill is ignored.
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Structures relaxed per engine call between two journal writes: what a kill can lose at most.
CHUNK = 4


class RowJournal:
    """Finished rows by id, and an append-only file they are written to (``None``: keep nothing)."""

    def __init__(self, path: Path | None = None, *, resume: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self._rows: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        if self.path is not None and resume and self.path.is_file():
            self._rows = _read(self.path)
            logger.info("resuming %d finished rows from %s", len(self._rows), self.path)
        elif self.path is not None and self.path.exists():
            self.path.unlink()

    def __len__(self) -> int:
        return len(self._rows)

    def finished(self, row_id: str) -> dict[str, Any] | None:
        """The stored row of ``row_id`` (NaN restored), or ``None``."""
        return self._rows.get(row_id)

    def complete(
        self,
        items: Sequence[T],
        keys: Sequence[str],
        compute: Callable[[list[T]], list[dict[str, Any]]],
    ) -> list[dict[str, Any]]:
        """One row per item, in item order: journaled rows reused, the others computed and journaled.

        ``keys[i]`` is the ``id`` of item i's row; ``compute(chunk)`` returns the rows of a chunk
        of at most :data:`CHUNK` items, which are appended to the journal before the next chunk.
        """
        done = {key: row for key in keys if (row := self.finished(key)) is not None}
        todo = [item for item, key in zip(items, keys) if key not in done]
        for first in range(0, len(todo), CHUNK):
            rows = compute(todo[first : first + CHUNK])
            self.append(rows)
            done.update((str(row["id"]), row) for row in rows)
        return [done[key] for key in keys]

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Store ``rows`` (each with an ``id``) and write them durably (flush + fsync)."""
        from benchmark_suite.files import dumps

        with self._lock:
            for row in rows:
                self._rows[str(row["id"])] = row
            if self.path is None:
                return
            with self.path.open("a", encoding="utf-8") as stream:
                for row in rows:
                    stream.write(dumps(row).replace("\n", " ") + "\n")
                stream.flush()
                os.fsync(stream.fileno())


def _read(path: Path) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # the last line of a killed run
            logger.warning("ignoring an unfinished line of %s", path)
            continue
        rows[str(row["id"])] = {k: (math.nan if v is None else v) for k, v in row.items()}
    return rows
