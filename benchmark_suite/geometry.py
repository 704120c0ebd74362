"""Geometry metrics of relaxed structures against references, for the benchmark's relaxation tasks.

They follow matbench-discovery's conventions: pymatgen ``StructureMatcher`` RMSD with
``stol=1.0, scale=False`` (normalised by ``(V/n)^(1/3)``, so dimensionless) and a symmetry
match by space-group number before and after relaxation. The matbench-discovery release
on PyPI (1.3.1) ships only stability-classification metrics and pulls wandb, plotly and
pymatviz, so the same definitions are computed here directly with pymatgen. Beside them:
the same-order RMSD in Å (rattle-and-relax, where atoms keep their order), volume change
and the change of cell shape. Lengths in Å, volumes in Å^3, changes in %.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from ase import Atoms

if TYPE_CHECKING:
    from pymatgen.core import Structure

logger = logging.getLogger(__name__)


def rmsd_same_order(
    atoms: Atoms, reference: Atoms, *, remove_translation: bool = True, per_atom: bool = False
) -> float | np.ndarray:
    """RMSD in Å between two structures with the same atoms in the same order (minimum image).

    Displacements are taken in fractional coordinates, wrapped to [-0.5, 0.5) (minimum
    image, exact for displacements under half a cell length) and converted to Å with the
    *reference* cell, so a homogeneous change of the cell (a relaxed lattice parameter)
    does not count as displacement; report the cell change separately
    (:func:`volume_change_percent`). With ``remove_translation`` the mean displacement is
    subtracted first (a rigid shift is not a structural change).

    Returns:
        RMSD in Å, or with ``per_atom`` the displacement length of every atom (Å, shape (n,)).
    """
    if len(atoms) != len(reference):
        raise ValueError(f"atom counts differ: {len(atoms)} and {len(reference)}")
    if not np.array_equal(atoms.numbers, reference.numbers):
        raise ValueError("the two structures do not hold the same elements in the same order")
    frac = np.linalg.solve(atoms.cell.array.T, atoms.positions.T).T
    frac_ref = np.linalg.solve(reference.cell.array.T, reference.positions.T).T
    delta = frac - frac_ref
    delta -= np.round(delta)
    if remove_translation:
        delta -= delta.mean(axis=0)
        delta -= np.round(delta)
    displacement = np.linalg.norm(delta @ reference.cell.array, axis=1)
    if per_atom:
        return displacement
    return float(np.sqrt(np.mean(displacement**2)))


def to_structure(atoms: Atoms | Structure) -> Structure:
    """A pymatgen Structure from ASE Atoms (labels dropped); Structures pass through."""
    from pymatgen.core import Lattice, Structure

    if isinstance(atoms, Structure):
        return atoms
    return Structure(
        Lattice(atoms.cell.array), atoms.get_chemical_symbols(), atoms.positions, coords_are_cartesian=True
    )


def structure_matcher_rmsd(
    atoms: Atoms | Structure,
    reference: Atoms | Structure,
    *,
    stol: float = 1.0,
    ltol: float = 0.2,
    angle_tol: float = 5.0,
    scale: bool = False,
    primitive_cell: bool = False,
) -> tuple[float, float]:
    """pymatgen ``StructureMatcher.get_rms_dist`` (matbench-discovery's geometry RMSD).

    The RMSD is **normalised by** ``(V/n)^(1/3)`` (V the mean cell volume, n the number of
    sites), so it is dimensionless; multiply by ``(V/n)^(1/3)`` for an approximate value
    in Å. ``stol=1.0, scale=False`` are matbench-discovery's settings (a loose site
    tolerance so that a poor relaxation still matches, no volume rescaling). We keep
    ``primitive_cell=False`` so that two supercells of the same size are compared as they
    are (reduction of a disordered supercell to a primitive cell fails anyway).

    Returns:
        ``(rmsd, max_distance)``, both normalised; ``(nan, nan)`` when no match is found.
    """
    from pymatgen.analysis.structure_matcher import StructureMatcher

    matcher = StructureMatcher(
        ltol=ltol, stol=stol, angle_tol=angle_tol, scale=scale, primitive_cell=primitive_cell
    )
    result = matcher.get_rms_dist(to_structure(atoms), to_structure(reference))
    if result is None:
        return float("nan"), float("nan")
    return float(result[0]), float(result[1])


def spacegroup_number(
    atoms: Atoms | Structure, *, symprec: float = 1e-2, angle_tolerance: float = 5.0
) -> int:
    """International space-group number (1-230) from spglib via pymatgen's SpacegroupAnalyzer.

    ``symprec`` (Å) is the distance tolerance (1e-2, matbench-discovery's default);
    ``angle_tolerance`` in degrees. Returns 0 when spglib finds no symmetry (broken input).
    A random-cation HEO supercell is usually P1 at tight tolerance; compare space groups
    before and after relaxation (:func:`symmetry_match`) rather than against the parent.
    """
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        return int(
            SpacegroupAnalyzer(
                to_structure(atoms), symprec=symprec, angle_tolerance=angle_tolerance
            ).get_space_group_number()
        )
    except Exception as error:  # spglib raises a variety of errors on broken cells
        logger.debug("spacegroup detection failed: %s", error)
        return 0


def symmetry_match(
    atoms: Atoms | Structure, reference: Atoms | Structure, *, symprec: float = 1e-2
) -> tuple[int, int, bool]:
    """Space-group numbers of ``atoms`` and ``reference`` and whether they are equal."""
    after = spacegroup_number(atoms, symprec=symprec)
    before = spacegroup_number(reference, symprec=symprec)
    return after, before, bool(after == before and after > 0)


def volume_change_percent(atoms: Atoms, reference: Atoms) -> float:
    """``100 (V / V_ref - 1)``: volume change of ``atoms`` relative to ``reference``, in %."""
    return 100.0 * (atoms.get_volume() / reference.get_volume() - 1.0)


def cell_distortion_percent(atoms: Atoms, reference: Atoms) -> float:
    """Change of cell *shape* from ``reference`` to ``atoms``, in % (0 for a pure volume change).

    With the deformation gradient ``F`` that maps the reference cell vectors onto the new
    ones (``cell = cell_ref @ F.T``), the Green-Lagrange strain is ``E = (F^T F - I) / 2``;
    this returns ``100 * max |eigenvalue of the deviatoric part E - tr(E) I / 3|``. It is
    invariant to rotations and to isotropic scaling, so a cubic cell that stays cubic gives
    0 and a tetragonal (e.g. Jahn-Teller) or sheared distortion gives the size of the
    distortion.
    """
    deformation = np.linalg.solve(reference.cell.array, atoms.cell.array).T
    strain = 0.5 * (deformation.T @ deformation - np.eye(3))
    deviatoric = strain - np.trace(strain) / 3.0 * np.eye(3)
    return float(100.0 * np.abs(np.linalg.eigvalsh(deviatoric)).max())


def conventional_lattice_changes_percent(
    atoms: Atoms, reference: Atoms, *, symprec: float = 1e-2
) -> tuple[float, float, float]:
    """``|Δa|/a, |Δb|/b, |Δc|/c`` (%) of the conventional cell of ``reference`` carried by ``atoms``.

    spglib's transformation ``P`` from the reference's cell to its conventional standard
    cell (``(a_s b_s c_s) = (a b c) P^-1``) is applied to both cells, so the same lattice
    vectors are compared even where ``atoms`` lost symmetry (a relaxation keeps the cell's
    vectors, only deforms them). NaN where spglib finds no symmetry in the reference.
    """
    import spglib

    try:
        dataset = spglib.get_symmetry_dataset(
            (reference.cell.array, reference.get_scaled_positions(), reference.numbers), symprec=symprec
        )
    except Exception as error:  # spglib raises a variety of errors on broken cells
        logger.debug("symmetry dataset failed: %s", error)
        dataset = None
    if dataset is None:
        return (float("nan"),) * 3
    to_conventional = np.linalg.inv(np.asarray(dataset.transformation_matrix, dtype=float)).T
    before = np.linalg.norm(to_conventional @ reference.cell.array, axis=1)
    after = np.linalg.norm(to_conventional @ atoms.cell.array, axis=1)
    changes = 100.0 * np.abs(after / before - 1.0)
    return float(changes[0]), float(changes[1]), float(changes[2])
