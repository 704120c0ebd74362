"""Report and part files: written through a temporary file and a rename, JSON with NaN as null (:mod:`heo_base.json_text`).

Below the report, the session and the row journal, which all write files with these.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from heo_base.json_text import dumps

__all__ = ["atomic_write", "atomic_write_text", "dumps"]


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(temporary)`` then rename the temporary file to ``path``: a reader never sees half a file."""
    from heo_base.atomic_write import atomic_output

    with atomic_output(path) as temporary:
        write(temporary)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
