"""First-shell cation-anion bonds of a cell, found once in the ideal cell and measured in any relaxed copy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms

#: A site's first shell: anions within this factor of its nearest anion distance (ideal cell).
SHELL_TOLERANCE = 1.1


def first_shell_bonds(
    atoms: Atoms, sites: Sequence[int], *, anion: str = "O", cutoff: float = 4.0
) -> np.ndarray:
    """Bonds from each of ``sites`` to its nearest ``anion`` neighbours in an ideal (unrattled) cell.

    Returns an int array (n_bonds, 5): site index, anion index and the periodic image shift
    (3 integers), so that the same bonds can be measured after relaxation
    (:func:`bond_lengths`), however distorted.
    """
    from ase.data import atomic_numbers
    from ase.neighborlist import neighbor_list

    first, second, distance, shift = neighbor_list("ijdS", atoms, cutoff)
    is_bond = np.isin(first, np.asarray(sites)) & (atoms.numbers[second] == atomic_numbers[anion])
    first, second, distance, shift = first[is_bond], second[is_bond], distance[is_bond], shift[is_bond]
    nearest = {site: distance[first == site].min() for site in np.unique(first)}
    keep = distance <= SHELL_TOLERANCE * np.array([nearest[site] for site in first])
    return np.column_stack([first[keep], second[keep], shift[keep]]).astype(int)


def bond_lengths(atoms: Atoms, bonds: np.ndarray) -> np.ndarray:
    """Lengths (Å) of ``bonds`` (from :func:`first_shell_bonds`) in ``atoms`` (same atom order)."""
    if len(bonds) == 0:
        return np.zeros(0)
    vectors = atoms.positions[bonds[:, 1]] + bonds[:, 2:5] @ atoms.cell.array - atoms.positions[bonds[:, 0]]
    return np.linalg.norm(vectors, axis=1)
