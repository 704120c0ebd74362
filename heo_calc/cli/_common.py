"""What the commands share: the one-line error and reading structure files."""

from __future__ import annotations

from pathlib import Path


class CLIError(Exception):
    """A usage or input problem reported as one line, without traceback."""


def read_structures(paths: list[str]):
    from ase.io import read

    structures = []
    for path in paths:
        if not Path(path).is_file():
            raise CLIError(f"input file {path} does not exist")
        try:
            frames = read(path, index=":")
        except Exception as error:  # ase raises many types for unreadable files
            raise CLIError(
                f"cannot read {path} as a structure file ({type(error).__name__}: {error})"
            ) from error
        for index, atoms in enumerate(frames):
            atoms.info.setdefault(
                "name", Path(path).stem if len(frames) == 1 else f"{Path(path).stem}-{index}"
            )
            structures.append(atoms)
    return structures
