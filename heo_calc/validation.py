"""Checks that a structure can be handed to a potential, with errors that say how to fix it."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols
from ase.neighborlist import neighbor_list

from heo_calc.errors import InvalidStructureError, UnsupportedElementsError

#: Closest approach (Å) below which two atoms count as overlapping. The shortest
#: metal-oxygen bonds in oxides are ~1.8 Å; 0.5 Å only catches broken input.
DEFAULT_MIN_DISTANCE = 0.5


def check_structure(
    atoms: Atoms,
    *,
    supported_numbers: Collection[int] | None = None,
    model_name: str = "this model",
    min_distance: float = DEFAULT_MIN_DISTANCE,
) -> None:
    """Raise :class:`InvalidStructureError` if ``atoms`` is not a sane bulk crystal.

    Checks, in order: at least one atom; periodic in all three directions with a cell
    of positive volume (Å^3); finite positions; no two atoms closer than
    ``min_distance`` Å (minimum image); every element in ``supported_numbers``.
    """
    if len(atoms) == 0:
        raise InvalidStructureError("the structure has no atoms")
    if not atoms.pbc.all():
        raise InvalidStructureError(
            f"the structure is not periodic in all three directions (pbc={atoms.pbc.tolist()}); "
            "these potentials are for bulk crystals: set atoms.pbc = True and give it a cell"
        )
    cell = np.asarray(atoms.cell)
    if not np.isfinite(cell).all() or abs(np.linalg.det(cell)) < 1e-6:
        raise InvalidStructureError(
            f"the cell is degenerate or not finite (volume {abs(np.linalg.det(cell)) if np.isfinite(cell).all() else float('nan'):.3g} Å^3); "
            "give the structure three independent lattice vectors"
        )
    positions = atoms.positions
    bad_rows = np.flatnonzero(~np.isfinite(positions).all(axis=1))
    if bad_rows.size:
        raise InvalidStructureError(
            f"positions of atom(s) {bad_rows[:10].tolist()} are NaN or infinite; "
            "the structure is broken (a diverged relaxation?): rebuild it from its source"
        )
    first, second, distance = neighbor_list("ijd", atoms, min_distance)
    if distance.size:
        closest = int(np.argmin(distance))
        raise InvalidStructureError(
            f"atoms {first[closest]} ({atoms[first[closest]].symbol}) and {second[closest]} "
            f"({atoms[second[closest]].symbol}) are {distance[closest]:.3f} Å apart, closer than "
            f"{min_distance} Å: overlapping atoms (duplicated sites or a wrong cell); remove duplicates "
            "or fix the lattice"
        )
    if supported_numbers is not None:
        missing = set(atoms.numbers.tolist()) - set(supported_numbers)
        if missing:
            raise UnsupportedElementsError(
                [chemical_symbols[number] for number in missing],
                model_name,
                [chemical_symbols[number] for number in sorted(supported_numbers)],
            )
