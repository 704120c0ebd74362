"""Report and part files: written through a temporary file and a rename, JSON with NaN as null.

Below the report, the session and the row journal, which all write files with these.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write", "atomic_write_text", "dumps"]


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(temporary)`` then rename the temporary file to ``path``: a reader never sees half a file."""
    from heo_base.atomic_write import atomic_output

    with atomic_output(path) as temporary:
        write(temporary)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


def _clean_nan(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_nan(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """JSON (indented by 2) with NaN and infinities written as null, numpy scalars and arrays as numbers and lists."""
    return json.dumps(_clean_nan(value), indent=2, default=_json_default)
