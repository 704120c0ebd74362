"""Equimolar HEO supercells of any cation set on the four parent lattices, random or SQS.

Arrangements:

* ``random``: a seeded random permutation of the cations over the substituted sites.
* ``sqs``: a special quasirandom structure (:mod:`heo_calc.structures.sqs`): by default
  the seeded swap search (``sqs_method="swap"``), or sqsgenerator's search
  (``"sqsgenerator"``, optional package); the method is recorded.

The benchmark suite and the screen (``heo-calc screen``) build their cells here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from ase import Atoms

from heo_calc.errors import CompositionError
from heo_calc.structures import perturb
from heo_calc.structures.bonds import first_shell_bonds
from heo_calc.structures.parents import (
    check_site_count,
    composition_label,
    equimolar_cations,
    parent_lattice,
    parent_supercell,
    starting_lattice_parameter,
    validate_cations,
)
from heo_calc.structures.sqs import (
    neighbour_shells,
    sqsgenerator_available,
    sqsgenerator_search,
    swap_search,
    warren_cowley_objective,
)

Arrangement = Literal["random", "sqs"]
SQSMethod = Literal["swap", "sqsgenerator"]


@dataclass
class SubstitutedStructure:
    """A generated structure and how it was made.

    ``bonds`` are the first-shell cation-anion bonds of the ideal (unrattled) cell
    (:func:`heo_calc.structures.bonds.first_shell_bonds`), to measure local distortion
    after relaxation.
    """

    atoms: Atoms
    lattice: str
    cations: tuple[str, ...]
    arrangement: str
    seed: int
    n_sites: int
    wc_objective: float
    wc_objective_random: float
    sqs_method: str
    bonds: np.ndarray


def _arrange(
    atoms: Atoms,
    sites: np.ndarray,
    cations: list[str],
    arrangement: str,
    seed: int,
    sqs_method: str,
    sqs_trials: int,
) -> tuple[list[str], float, float, str]:
    """The species per site, its Warren-Cowley objective, that of the random order, and the SQS method."""
    shells, radii = neighbour_shells(atoms, sites)
    random_order = [str(s) for s in np.random.default_rng(seed).permutation(cations)]
    random_objective = warren_cowley_objective(random_order, shells)
    if arrangement == "random":
        return random_order, random_objective, random_objective, "none"
    if arrangement != "sqs":
        raise CompositionError(f"arrangement must be 'random' or 'sqs', got {arrangement!r}")
    if sqs_method == "sqsgenerator":
        if not sqsgenerator_available():
            raise ImportError("sqs_method='sqsgenerator' needs sqsgenerator: pip install 'sqsgenerator>=0.5'")
        order = sqsgenerator_search(atoms, sites, cations, radii, seed=seed, iterations=50 * sqs_trials)
    elif sqs_method == "swap":
        order, _ = swap_search(cations, shells, seed=seed, n_trials=sqs_trials)
    else:
        raise CompositionError(f"sqs_method must be 'swap' or 'sqsgenerator', got {sqs_method!r}")
    return order, warren_cowley_objective(order, shells), random_objective, sqs_method


def substituted_structure(
    lattice: str,
    cations: Sequence[str],
    n_sites: int,
    *,
    arrangement: Arrangement = "random",
    seed: int = 0,
    sqs_method: SQSMethod = "swap",
    sqs_trials: int = 2000,
    rattle: float = 0.01,
    a: float | None = None,
) -> SubstitutedStructure:
    """An equimolar supercell of ``cations`` on ``lattice`` with ``n_sites`` substituted sites.

    Args:
        lattice: a key of :data:`heo_calc.structures.parents.CUBIC_PARENT_LATTICES`.
        cations: the cations, each once; they share the sites exactly equally.
        n_sites: substituted sites (cation sites; B sites of the perovskite); a multiple of
            ``len(cations)`` and of the sites per primitive cell (6 for spinel).
        arrangement: ``random`` or ``sqs`` (see the module docstring).
        seed: seeds the permutation, the SQS search and (plus 1000) the rattle.
        sqs_method: ``swap`` (default) or ``sqsgenerator``.
        sqs_trials: swap-search trials (sqsgenerator runs 50 times as many iterations).
        rattle: Gaussian displacement (Å) of every atom, so that no arrangement stays on a
            symmetric saddle point.
        a: cubic lattice parameter (Å) of the start; default
            :func:`~heo_calc.structures.parents.starting_lattice_parameter` (ionic radii).

    Raises :class:`~heo_calc.errors.CompositionError` for an unknown lattice, a bad cation
    list or a site count that cannot be exactly equimolar. ``info`` records ``name``,
    ``lattice``, ``cations``, ``arrangement``, ``seed`` and ``wc_objective``.
    """
    parent_lattice(lattice)
    cations = validate_cations(cations)
    check_site_count(lattice, cations, n_sites)
    site_list = equimolar_cations(cations, n_sites)
    a = starting_lattice_parameter(lattice, cations) if a is None else a
    atoms, sites = parent_supercell(lattice, n_sites, a=a)
    order, objective, random_objective, method = _arrange(
        atoms, sites, site_list, arrangement, seed, sqs_method, sqs_trials
    )
    symbols = np.array(atoms.get_chemical_symbols(), dtype=object)
    symbols[sites] = order
    atoms.set_chemical_symbols(list(symbols))
    bonds = first_shell_bonds(atoms, sites)
    atoms = perturb.rattle(atoms, rattle, seed + 1000)
    atoms.info.update(
        name=f"{lattice}-{composition_label(cations)}-{arrangement}-n{len(atoms)}-s{seed}",
        lattice=lattice,
        cations=composition_label(cations),
        arrangement=arrangement,
        seed=seed,
        wc_objective=objective,
    )
    return SubstitutedStructure(
        atoms=atoms,
        lattice=lattice,
        cations=cations,
        arrangement=arrangement,
        seed=seed,
        n_sites=len(sites),
        wc_objective=objective,
        wc_objective_random=random_objective,
        sqs_method=method,
        bonds=bonds,
    )
