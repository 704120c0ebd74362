"""Seeded perturbations of a structure: the one rattle of the package, and its symmetric twin.

* :func:`rattle`: Gaussian displacements of every atom (no symmetry kept).
* :func:`symmetric_rattle`: a rattle projected onto the displacements the structure's space
  group allows, plus a small strain of the cell that the space group allows too; relaxed
  with the symmetry kept (:class:`ase.constraints.FixSymmetry`), it starts a relaxation
  away from the minimum without leaving the symmetry DFT relaxed in.

Both return copies; the input is never modified.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms


def rattle(atoms: Atoms, sigma: float, seed: int | np.random.Generator | np.random.RandomState) -> Atoms:
    """A copy with Gaussian displacements of standard deviation ``sigma`` (Å) per Cartesian component.

    ``seed``: an integer draws from ``numpy.random.default_rng(seed)``, the package's stream;
    a ``numpy.random.Generator`` is drawn from as it stands (a builder that already drew
    from its generator, e.g. a cation permutation, continues the same stream); a legacy
    ``numpy.random.RandomState`` gives exactly ASE's ``atoms.rattle(sigma, seed=...)`` with
    ``RandomState(seed)``, for structures that must stay those of earlier results.
    ``sigma = 0`` returns an unchanged copy and draws nothing.
    """
    if sigma < 0:
        raise ValueError(f"the rattle's sigma must be >= 0 Å, got {sigma}")
    if sigma == 0:
        return atoms.copy()
    rng = seed if isinstance(seed, np.random.RandomState) else np.random.default_rng(seed)
    rattled = atoms.copy()
    rattled.positions += rng.normal(scale=sigma, size=rattled.positions.shape)
    return rattled


def symmetric_rattle(atoms: Atoms, sigma: float, strain: float, seed: int, *, symprec: float = 1e-2) -> Atoms:
    """A copy rattled and strained inside the space group of ``atoms`` (found at ``symprec``, Å).

    Displacements: Gaussian of ``sigma`` (Å) per component, then symmetrized over the space
    group's operations (ASE ``FixSymmetry.adjust_positions``: the projection onto the
    symmetry-allowed displacements, so its size is at most ``sigma``-like). Cell: a
    symmetric strain tensor with components drawn uniformly from ``[-strain, strain]``
    (``0.01`` for ±1 %), symmetrized the same way (``adjust_cell``: a cubic cell gets an
    isotropic strain), applied with the atoms scaled along. Seeded: one ``seed`` gives one
    structure.
    """
    from ase.constraints import FixSymmetry

    if sigma < 0 or not 0 <= strain < 0.15:
        raise ValueError(f"need sigma >= 0 Å and 0 <= strain < 0.15, got sigma={sigma}, strain={strain}")
    rng = np.random.default_rng(seed)
    perturbed = atoms.copy()
    perturbed.set_constraint()
    symmetry = FixSymmetry(perturbed, symprec=symprec)
    positions = perturbed.positions + rng.normal(scale=sigma, size=perturbed.positions.shape)
    symmetry.adjust_positions(perturbed, positions)
    perturbed.positions = positions
    random_strain = rng.uniform(-strain, strain, size=(3, 3))
    random_strain = 0.5 * (random_strain + random_strain.T)
    cell = np.array(perturbed.cell) @ (np.eye(3) + random_strain)
    symmetry.adjust_cell(perturbed, cell)
    perturbed.set_cell(cell, scale_atoms=True)
    return perturbed
