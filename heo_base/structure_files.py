"""Reading structure files given by users: every frame of every file, with errors that name the file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ase import Atoms

from heo_base.errors import HEODataError


class StructureFileError(HEODataError, ValueError):
    """A structure file that ASE cannot read, or that holds no structure."""


def read_structure_files(paths: Sequence[str | os.PathLike]) -> list[tuple[str, int, Atoms]]:
    """``(file as given, frame index from 0, structure)`` for every frame of every file (any format ASE reads).

    Raises :class:`FileNotFoundError` for a missing file and :class:`StructureFileError` for a
    file ASE cannot read or one without frames, naming the file.
    """
    from ase.io import read

    frames: list[tuple[str, int, Atoms]] = []
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"input file {path} does not exist")
        try:
            read_frames = read(path, index=":")
        except Exception as error:  # ase raises many types for unreadable files
            raise StructureFileError(
                f"cannot read {path} as a structure file ({type(error).__name__}: {error})"
            ) from error
        if not read_frames:
            raise StructureFileError(f"{path} holds no structures")
        frames += [(str(path), index, atoms) for index, atoms in enumerate(read_frames)]
    return frames
