"""Cubic parent lattices of HEOs and the pseudo-cubic lattice parameter of their supercells."""

from __future__ import annotations

from typing import Final

from ase import Atoms

from heo_base.types import LatticeType

__all__ = ["ATOMS_PER_CUBIC_CELL", "LatticeType", "pseudo_cubic_lattice_parameter"]

#: Atoms per conventional cubic cell of each parent lattice, for pseudo-cubic lattice parameters.
ATOMS_PER_CUBIC_CELL: Final[dict[str, int]] = {
    "rocksalt": 8,  # Fm-3m AO, 4 formula units of 2 atoms
    "spinel": 56,  # Fd-3m AB2O4, 8 formula units of 7 atoms
    "fluorite": 12,  # Fm-3m AO2, 4 formula units of 3 atoms
    "perovskite": 5,  # Pm-3m ABO3, 1 formula unit of 5 atoms
}


def pseudo_cubic_lattice_parameter(
    atoms: Atoms, lattice: LatticeType | None = None, *, atoms_per_cell: int | None = None
) -> float:
    """Lattice parameter (Å) of the cubic parent cell with the same volume per atom.

    ``a = (V * atoms_per_cell / n_atoms)^(1/3)``, i.e. ``a = (Z V / N_fu)^(1/3)`` with Z the
    formula units per conventional cubic cell and N_fu those in ``atoms``. Per lattice type
    (:data:`ATOMS_PER_CUBIC_CELL`): rock salt AO (Fm-3m): Z = 4, 8 atoms per cell; spinel
    AB2O4 (Fd-3m): Z = 8, 56 atoms; fluorite AO2 (Fm-3m): Z = 4, 12 atoms; cubic perovskite
    ABO3 (Pm-3m): Z = 1, 5 atoms. This compares disordered, locally distorted supercells
    (whose cell vectors drift apart, e.g. Jahn-Teller Cu2+) through their volume, as
    experiments on the average structure do. It assumes a stoichiometric cell (no vacancies).
    """
    if atoms_per_cell is None:
        if lattice not in ATOMS_PER_CUBIC_CELL:
            raise ValueError(
                f"unknown lattice {lattice!r}; choose one of {', '.join(ATOMS_PER_CUBIC_CELL)} "
                "or pass atoms_per_cell"
            )
        atoms_per_cell = ATOMS_PER_CUBIC_CELL[lattice]
    return float((atoms.get_volume() * atoms_per_cell / len(atoms)) ** (1.0 / 3.0))
