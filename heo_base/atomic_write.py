"""Atomic file output: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path`` in one rename.

    An interrupted or failing write, or a rename that fails (``path`` is a folder), leaves ``path``
    as it was and removes the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Hidden and per process: concurrent writers (xdist workers) never share a temporary file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        # A failed write, or a rename that failed (``path`` is a folder, a read-only place).
        temporary.unlink(missing_ok=True)
        raise
