"""What the commands share: the one-line error and reading structure files."""

from __future__ import annotations

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
