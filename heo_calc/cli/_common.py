"""What the commands share: the one-line error, checked option types and reading structure files."""

from __future__ import annotations

import argparse
from pathlib import Path


class CLIError(Exception):
    """A usage or input problem reported as one line, without traceback."""


def read_structures(paths: list[str]):
    """Every frame of every file, named after its file (``stem`` or ``stem-<frame>``) unless it has a name."""
    from heo_base.structure_files import read_structure_files

    frames = read_structure_files(paths)
    per_file = {path: sum(1 for other, _, _ in frames if other == path) for path, _, _ in frames}
    for path, index, atoms in frames:
        stem = Path(path).stem
        atoms.info.setdefault("name", stem if per_file[path] == 1 else f"{stem}-{index}")
    return [atoms for _, _, atoms in frames]


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (``--fmax``), else a one-line usage error naming the value."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number > 0")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: a whole number >= 0 (``--steps``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 0")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (``--workers``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be >= 1")
    return value
