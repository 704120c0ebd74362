"""Cubic parent lattices of HEOs and their supercells with an exactly equimolar substituted sublattice.

Each :class:`ParentLattice` is a cubic oxide whose substituted sublattice (every cation site;
the B site of the perovskite, whose A site keeps a spectator Sr) takes any set of cations in
exactly equal numbers. Supercells are built from the primitive cell with the most cubic
shape (ASE's ``find_optimal_cell_shape``) for a given number of substituted sites, which
must be a multiple of the number of cations and of the sites per primitive cell.

The same lattices give the parent references of a screen (:mod:`heo_calc.screening`): the
lattice filled with one cation (rock salt AO, fluorite AO2, spinel A3O4, perovskite SrBO3),
isostructural and of the same stoichiometry as every mixture on it.

Not enforced: charge neutrality. Cations of mixed and variable valence share one sublattice
and the anion sublattice stays full (a fluorite with La3+ would need oxygen vacancies in
reality): the cells test mixing on a fixed lattice, not the thermodynamic ground state.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers, covalent_radii

from heo_base.elements import METALS
from heo_calc.errors import CompositionError
from heo_calc.structures import perturb
from heo_calc.structures.lattices import LatticeType

#: Tag of the substituted sites in the cells built here (every other atom has tag 0).
SUBSTITUTED_TAG: Final = 1
#: Placeholder element on the substituted sites of an unfilled parent cell.
PLACEHOLDER: Final = "Pb"


@dataclass(frozen=True)
class ParentLattice:
    """A cubic parent oxide.

    Attributes:
        name: ``rocksalt``, ``spinel``, ``fluorite`` or ``perovskite`` (also the key of
            :data:`heo_calc.structures.lattices.ATOMS_PER_CUBIC_CELL`).
        space_group: Hermann-Mauguin symbol and number.
        substituted: which sites take the cations.
        spectator: elements on sites that are not substituted (Sr on the perovskite A site).
        reference: the single-cation parent of a mixture, as a formula with ``A`` the cation.
        reference_sites: substituted sites of a parent reference's cell: the smallest
            near-cubic cell of at least 64 atoms, so that a rattled start can break the
            symmetry (Jahn-Teller Cu2+ in rock salt needs it).
        default_sites: target size of a mixture's cell (cation sites); a screen takes the
            smallest multiple of what exact equimolarity needs at or above it.
    """

    name: LatticeType
    space_group: str
    substituted: str
    spectator: tuple[str, ...]
    reference: str
    reference_sites: int
    default_sites: int

    def reference_formula(self, cation: str) -> str:
        """The single-cation parent's formula, e.g. ``MgO``, ``CeO2``, ``Co3O4``, ``SrTiO3``."""
        return self.reference.replace("A", cation)


#: The four cubic parent lattices by name: space group, substituted sites, single-cation reference, cell sizes.
CUBIC_PARENT_LATTICES: Final[dict[str, ParentLattice]] = {
    "rocksalt": ParentLattice(
        "rocksalt", "Fm-3m (225)", "every cation site (4a)", (), "AO", reference_sites=32, default_sites=40
    ),
    "spinel": ParentLattice(
        "spinel",
        "Fd-3m (227)",
        "every cation site, tetrahedral 8a and octahedral 16d alike",
        (),
        "A3O4",
        reference_sites=36,
        default_sites=60,
    ),
    "fluorite": ParentLattice(
        "fluorite", "Fm-3m (225)", "every cation site (4a)", (), "AO2", reference_sites=24, default_sites=40
    ),
    "perovskite": ParentLattice(
        "perovskite",
        "Pm-3m (221)",
        "the B site (1b); Sr on the A site",
        ("Sr",),
        "SrAO3",
        reference_sites=16,
        default_sites=30,
    ),
}


def parent_lattice(name: str) -> ParentLattice:
    """The :class:`ParentLattice` called ``name``; a clear ``CompositionError`` otherwise."""
    if name not in CUBIC_PARENT_LATTICES:
        raise CompositionError(f"unknown lattice {name!r}; choose one of {', '.join(CUBIC_PARENT_LATTICES)}")
    return CUBIC_PARENT_LATTICES[name]


def primitive_parent(name: str, a: float) -> Atoms:
    """Primitive cell of a parent lattice (lattice parameter ``a``, Å), :data:`PLACEHOLDER` on tagged substituted sites.

    Rock salt: 2 atoms (1 cation); spinel (origin choice 2, oxygen u = 0.2625): 14 atoms
    (2 tetrahedral + 4 octahedral cation sites, all substituted); fluorite: 3 atoms
    (1 cation); cubic perovskite SrBO3: 5 atoms (the B site substituted, Sr kept).
    """
    from ase.build import bulk
    from ase.spacegroup import crystal

    parent_lattice(name)
    if name == "rocksalt":
        atoms = bulk(f"{PLACEHOLDER}O", "rocksalt", a=a)
    elif name == "fluorite":
        atoms = bulk(f"{PLACEHOLDER}O2", "fluorite", a=a)
    elif name == "perovskite":
        atoms = Atoms(
            f"Sr{PLACEHOLDER}O3",
            cell=np.eye(3) * a,
            pbc=True,
            scaled_positions=[(0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)],
        )
    else:
        atoms = crystal(
            [PLACEHOLDER, PLACEHOLDER, "O"],
            basis=[(1 / 8, 1 / 8, 1 / 8), (1 / 2, 1 / 2, 1 / 2), (0.2625, 0.2625, 0.2625)],
            spacegroup=227,
            setting=2,
            cellpar=[a, a, a, 90, 90, 90],
            primitive_cell=True,
        )
    spectators = set(CUBIC_PARENT_LATTICES[name].spectator) | {"O"}
    atoms.set_tags([0 if s in spectators else SUBSTITUTED_TAG for s in atoms.get_chemical_symbols()])
    return atoms


def sites_per_primitive(name: str) -> int:
    """Substituted sites per primitive cell (6 for spinel, 1 otherwise)."""
    return int(np.sum(primitive_parent(name, 4.0).get_tags() == SUBSTITUTED_TAG))


#: Lattice parameters (Å) the cell-shape search runs at. The shape does not depend on the
#: scale, but ties between equally cubic shapes break by floating-point noise; these values
#: (the benchmark's starting parameters) keep every benchmark cell as it was.
_SHAPE_SEARCH_A: Final[dict[str, float]] = {
    "rocksalt": 4.22,
    "spinel": 8.35,
    "fluorite": 5.50,
    "perovskite": 4.05,
}


@lru_cache(maxsize=64)
def _supercell_matrix(name: str, n_primitive: int) -> tuple[tuple[int, ...], ...]:
    from ase.build import find_optimal_cell_shape

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        matrix = find_optimal_cell_shape(
            primitive_parent(name, _SHAPE_SEARCH_A[name]).cell, n_primitive, "sc"
        )
    return tuple(tuple(int(x) for x in row) for row in matrix)


def parent_supercell(name: str, n_sites: int, *, a: float) -> tuple[Atoms, np.ndarray]:
    """The most cubic supercell of ``name`` with ``n_sites`` substituted sites.

    Returns the supercell (placeholder on the substituted sites, which carry tag
    :data:`SUBSTITUTED_TAG`) and the indices of those sites. ``n_sites`` must be a positive
    multiple of the sites per primitive cell (1, or 6 for spinel).
    """
    from ase.build import make_supercell

    per_primitive = sites_per_primitive(name)
    if n_sites <= 0 or n_sites % per_primitive:
        raise CompositionError(
            f"{name}: {n_sites} substituted sites is not a positive multiple of {per_primitive} "
            f"(sites per primitive cell); choose a multiple of {per_primitive}"
        )
    matrix = np.array(_supercell_matrix(name, n_sites // per_primitive))
    supercell = make_supercell(primitive_parent(name, a), matrix)
    return supercell, np.flatnonzero(supercell.get_tags() == SUBSTITUTED_TAG)


def composition_label(cations: Sequence[str]) -> str:
    """``Mg-Co-Ni``: how errors and file names spell a cation set."""
    return "-".join(cations)


def validate_cations(cations: Sequence[str]) -> tuple[str, ...]:
    """``cations`` as a tuple after checking each is a real element, a metal (:data:`heo_base.elements.METALS`) and given once.

    Raises :class:`~heo_calc.errors.CompositionError` naming the composition and the fix.
    """
    label = composition_label(cations)
    if not cations:
        raise CompositionError("empty composition: give at least one cation, e.g. Mg,Co,Ni,Cu,Zn")
    unknown = [c for c in cations if c not in atomic_numbers or c == "X"]
    if unknown:
        raise CompositionError(
            f"composition {label}: {', '.join(unknown)} is not an element symbol; "
            "write symbols with one capital letter (Mg, Co, ...)"
        )
    if "O" in cations:
        raise CompositionError(f"composition {label}: O is the anion; list only the cations")
    not_metals = [c for c in cations if c not in METALS]
    if not_metals:
        raise CompositionError(
            f"composition {label}: {', '.join(not_metals)} is not a metal (the dataset's definition: "
            "heo_base.elements.METALS; metalloids B, Si, Ge, As, Sb, Te are not metals); cations of an "
            "oxide are metals: drop it"
        )
    repeated = sorted({c for c in cations if list(cations).count(c) > 1})
    if repeated:
        raise CompositionError(
            f"composition {label}: {', '.join(repeated)} is listed more than once; list each cation "
            "once (equimolar occupation gives every cation the same share)"
        )
    return tuple(cations)


def site_step(lattice: str, n_cations: int) -> int:
    """Smallest number of substituted sites that holds ``n_cations`` cations in equal numbers."""
    return math.lcm(n_cations, sites_per_primitive(lattice))


def check_site_count(lattice: str, cations: Sequence[str], n_sites: int) -> None:
    """Raise a ``CompositionError`` naming the valid counts unless ``n_sites`` holds ``cations`` exactly equally on ``lattice``."""
    step = site_step(lattice, len(cations))
    if n_sites > 0 and n_sites % step == 0:
        return
    per_primitive = sites_per_primitive(lattice)
    below, above = (n_sites // step) * step, (n_sites // step + 1) * step
    options = " or ".join(str(n) for n in (below, above) if n > 0)
    cells = f" in whole primitive cells of {per_primitive} sites" if per_primitive > 1 else ""
    raise CompositionError(
        f"composition {composition_label(cations)} on {lattice}: {n_sites} sites cannot hold "
        f"{len(cations)} cations in equal numbers{cells}; use {options} sites (a multiple of {step})"
    )


def equimolar_cations(cations: Sequence[str], n_sites: int) -> list[str]:
    """``n_sites / len(cations)`` copies of each cation, in order; a clear error if that is not exact."""
    if n_sites <= 0 or n_sites % len(cations):
        raise CompositionError(
            f"composition {composition_label(cations)}: {n_sites} sites cannot hold {len(cations)} cations "
            f"in equal numbers; use a multiple of {len(cations)}"
        )
    return [c for c in cations for _ in range(n_sites // len(cations))]


def _ionic_radius(symbol: str, oxidation_state: float) -> float:
    """Shannon crystal radius (Å) from pymatgen, or its average over states, or the covalent radius."""
    from pymatgen.core import Element, Species

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        states = sorted({math.floor(oxidation_state), math.ceil(oxidation_state)})
        radii = [Species(symbol, state).ionic_radius for state in states]
        if all(r is not None for r in radii):
            return float(np.mean(radii))
        average = Element(symbol).average_ionic_radius
    return float(average) if average else float(covalent_radii[atomic_numbers[symbol]])


#: Formal oxidation state of a substituted cation on each lattice (spinel: 8/3, the A3O4 mean).
_OXIDATION_STATE: Final[dict[str, float]] = {"rocksalt": 2, "spinel": 8 / 3, "fluorite": 4, "perovskite": 4}


def starting_lattice_parameter(lattice: str, cations: Sequence[str]) -> float:
    """A starting guess (Å) of ``lattice``'s parameter for an equimolar mixture of ``cations``.

    Vegard's law over the cations, each from ionic radii (pymatgen's Shannon crystal radii
    of the lattice's formal oxidation state): every substituted site's nearest oxygen sits at
    ``r_cation + r_O``. Good to a few per cent; relaxations correct it.
    """
    unit = primitive_parent(lattice, 1.0)
    r_oxygen = _ionic_radius("O", -2)
    sites = np.flatnonzero(unit.get_tags() == SUBSTITUTED_TAG)
    oxygens = np.flatnonzero(unit.numbers == 8)
    distances = unit.get_all_distances(mic=True)
    nearest = distances[np.ix_(sites, oxygens)].min(axis=1)  # site-oxygen distance per unit a
    guesses = [
        np.mean((_ionic_radius(cation, _OXIDATION_STATE[lattice]) + r_oxygen) / nearest) for cation in cations
    ]
    return float(np.mean(guesses))


def single_cation_reference(lattice: str, cation: str, *, rattle: float, seed: int = 0) -> Atoms:
    """The parent reference of ``cation`` on ``lattice``: its rattled cell of ``reference_sites`` sites.

    The cell starts at :func:`starting_lattice_parameter` and every atom is displaced by
    Gaussian noise of ``rattle`` Å (``seed``), so that the relaxation can leave the cubic
    symmetry where the model prefers (e.g. Jahn-Teller Cu2+).
    """
    parent = parent_lattice(lattice)
    validate_cations([cation])
    atoms, sites = parent_supercell(
        lattice, parent.reference_sites, a=starting_lattice_parameter(lattice, [cation])
    )
    symbols = np.array(atoms.get_chemical_symbols(), dtype=object)
    symbols[sites] = cation
    atoms.set_chemical_symbols(list(symbols))
    atoms = perturb.rattle(atoms, rattle, seed)
    atoms.info.update(name=f"{lattice}-{parent.reference_formula(cation)}-n{len(atoms)}", lattice=lattice)
    return atoms
