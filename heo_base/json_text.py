"""JSON that every reader parses: NaN and infinities as ``null``, numpy scalars and arrays as numbers and lists.

Python's :func:`json.dumps` writes a bare ``NaN``, which is not JSON; every results file of
the project (benchmark reports, relaxation summaries) is written with :func:`dumps` instead.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return _clean_nan(value.tolist())
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
