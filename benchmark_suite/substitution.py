"""Out-of-distribution substitution structures: equimolar HEO supercells of four parent lattices.

Each :class:`ParentLattice` is a cubic oxide (rock salt, spinel, fluorite, perovskite) whose
cation sublattice is filled with five cations in exactly equal numbers. Supercells are
built from the primitive cell with the most cubic shape (ASE's ``find_optimal_cell_shape``)
whose number of substituted sites is a multiple of 5, so that equimolar is exact.

Arrangements:

* ``random``: a seeded random permutation of the cation list.
* ``sqs``: a special quasirandom structure, the arrangement whose Warren-Cowley
  short-range-order parameters on the first :data:`SQS_SHELLS` cation-cation shells are
  closest to zero (those of an ideal random alloy). By default :func:`swap_search`, a
  seeded greedy swap search that minimises :func:`warren_cowley_objective`; the method is
  recorded in every row (``sqs_method``).

  Why not an SQS package by default: icet has no wheels for Python 3.11 (source only).
  sqsgenerator 0.5.6 installs from a wheel (``pip install heo-relax[bench]``) and can be
  chosen with ``sqs_method="sqsgenerator"`` (``--heo-sqs sqsgenerator``), but measured here
  on these small cells it (a) was not better than the swap search on the objective we
  report (e.g. rock salt 40 sites: 0.146 vs 0.108; spinel 30 sites: 0.300 vs 0.248), (b)
  gave different arrangements for the same seed in different processes on the 10-site
  fluorite cell (objective 0.54-0.72, sometimes worse than random), and (c) logs C++
  warnings to stderr about irregular shells on the mixed A/B spinel sublattice. A
  benchmark needs the same structures on every machine, so the default is the
  dependency-free, deterministic swap search.

Not enforced: charge neutrality. The cations carry mixed and variable valences (e.g. Mn,
Co, Fe, Cr in the spinel; Ce4+ beside La3+, Sm3+, Y3+ in the fluorite, which needs oxygen
vacancies in reality); the anion sublattice stays full. The structures test how a model
relaxes an unseen, plausible arrangement, not the thermodynamic ground state.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, Literal

import numpy as np
from ase import Atoms

logger = logging.getLogger(__name__)

Arrangement = Literal["random", "sqs"]
#: Cation-cation neighbour shells the SQS objective covers.
SQS_SHELLS: Final = 3


@dataclass(frozen=True)
class ExperimentalLattice:
    """A measured lattice parameter (Å) and where it was published."""

    a: float
    citation: str
    note: str = ""


@dataclass(frozen=True)
class ParentLattice:
    """A cubic parent oxide and the five cations that share its substituted sublattice.

    Attributes:
        name: ``rocksalt``, ``spinel``, ``fluorite`` or ``perovskite`` (also the key of
            :data:`heo_calc.structures.lattices.ATOMS_PER_CUBIC_CELL`).
        space_group: Hermann-Mauguin symbol and number of the parent.
        formula: the target composition as written in the literature.
        cations: the five cations, placed in equal numbers.
        a_start: lattice parameter (Å) of the starting structure, a rough guess; the cell
            relaxes from there.
        experimental: measured lattice parameter where one is recorded with a citation,
            else ``None`` (no number without a source).
    """

    name: str
    space_group: str
    formula: str
    cations: tuple[str, ...]
    a_start: float
    experimental: ExperimentalLattice | None = None
    spectator: tuple[str, ...] = field(default_factory=tuple)


PARENT_LATTICES: Final[dict[str, ParentLattice]] = {
    "rocksalt": ParentLattice(
        name="rocksalt",
        space_group="Fm-3m (225)",
        formula="(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O",
        cations=("Mg", "Co", "Ni", "Cu", "Zn"),
        a_start=4.22,
        experimental=ExperimentalLattice(
            a=4.22,
            citation="Rost et al., Nat. Commun. 6, 8485 (2015)",
            note="XRD of the entropy-stabilised single phase; ~4.22-4.24 Å is reported across studies",
        ),
    ),
    "spinel": ParentLattice(
        name="spinel",
        space_group="Fd-3m (227)",
        formula="(Co,Cr,Fe,Mn,Ni)3O4",
        cations=("Co", "Cr", "Fe", "Mn", "Ni"),
        a_start=8.35,
        # Mallesh et al., JMMM 564, 170108 (2022) report 8.3224 Å for (Mg,Zn,Mn,Co,Ni,Fe)3O4,
        # a different composition: not used as the reference for this one.
        experimental=None,
    ),
    "fluorite": ParentLattice(
        name="fluorite",
        space_group="Fm-3m (225)",
        formula="(Ce,La,Pr,Sm,Y)O2",
        cations=("Ce", "La", "Pr", "Sm", "Y"),
        a_start=5.50,
        experimental=None,
    ),
    "perovskite": ParentLattice(
        name="perovskite",
        space_group="Pm-3m (221)",
        formula="Sr(Zr,Sn,Ti,Hf,Mn)O3",
        cations=("Zr", "Sn", "Ti", "Hf", "Mn"),
        a_start=4.05,
        experimental=None,
        spectator=("Sr",),
    ),
}

#: Placeholder element of the substituted sites in the parent cells (not in any composition).
_PLACEHOLDER: Final = "Pb"


def primitive_parent(name: str, a: float | None = None) -> Atoms:
    """Primitive cell of a parent lattice with :data:`_PLACEHOLDER` on the substituted sites.

    Rock salt: 2 atoms (1 cation); spinel (origin choice 2, oxygen u = 0.2625): 14 atoms
    (2 tetrahedral A + 4 octahedral B cation sites, all substituted); fluorite: 3 atoms
    (1 cation); cubic perovskite SrBO3: 5 atoms (1 B site substituted, Sr kept).
    """
    from ase.build import bulk
    from ase.spacegroup import crystal

    parent = PARENT_LATTICES[name]
    a = parent.a_start if a is None else a
    if name == "rocksalt":
        atoms = bulk(f"{_PLACEHOLDER}O", "rocksalt", a=a)
    elif name == "fluorite":
        atoms = bulk(f"{_PLACEHOLDER}O2", "fluorite", a=a)
    elif name == "perovskite":
        atoms = Atoms(
            f"Sr{_PLACEHOLDER}O3",
            cell=np.eye(3) * a,
            pbc=True,
            scaled_positions=[(0, 0, 0), (0.5, 0.5, 0.5), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)],
        )
    elif name == "spinel":
        atoms = crystal(
            [_PLACEHOLDER, _PLACEHOLDER, "O"],
            basis=[(1 / 8, 1 / 8, 1 / 8), (1 / 2, 1 / 2, 1 / 2), (0.2625, 0.2625, 0.2625)],
            spacegroup=227,
            setting=2,
            cellpar=[a, a, a, 90, 90, 90],
            primitive_cell=True,
        )
    else:
        raise ValueError(f"unknown parent lattice {name!r}; choose one of {', '.join(PARENT_LATTICES)}")
    return atoms


@lru_cache(maxsize=32)
def _supercell_matrix(name: str, n_primitive: int) -> tuple[tuple[int, ...], ...]:
    from ase.build import find_optimal_cell_shape

    matrix = find_optimal_cell_shape(primitive_parent(name).cell, n_primitive, "sc")
    return tuple(tuple(int(x) for x in row) for row in matrix)


def parent_supercell(name: str, n_sites: int) -> tuple[Atoms, np.ndarray]:
    """The most cubic supercell of ``name`` with ``n_sites`` substituted sites.

    Returns the supercell (placeholder on substituted sites) and the indices of those
    sites. ``n_sites`` must be a multiple of 5 and of the sites per primitive cell (1, or 6
    for spinel).
    """
    from ase.build import make_supercell

    primitive = primitive_parent(name)
    per_primitive = int(np.sum(np.array(primitive.get_chemical_symbols()) == _PLACEHOLDER))
    if n_sites % 5 or n_sites % per_primitive:
        raise ValueError(
            f"{name}: {n_sites} substituted sites is not a multiple of 5 and of {per_primitive} "
            "(sites per primitive cell); equimolar five-cation occupation would not be exact"
        )
    supercell = make_supercell(primitive, np.array(_supercell_matrix(name, n_sites // per_primitive)))
    sites = np.flatnonzero(np.array(supercell.get_chemical_symbols()) == _PLACEHOLDER)
    return supercell, sites


def equimolar_cations(cations: Sequence[str], n_sites: int) -> list[str]:
    """``n_sites / len(cations)`` copies of each cation, in order; raises if not exact."""
    if n_sites % len(cations):
        raise ValueError(f"{n_sites} sites cannot hold {len(cations)} cations in equal numbers")
    return [c for c in cations for _ in range(n_sites // len(cations))]


# ---------------------------------------------------------------------------------------
# Warren-Cowley short-range order
# ---------------------------------------------------------------------------------------


def neighbour_shells(
    atoms: Atoms, sites: Sequence[int], *, n_shells: int = SQS_SHELLS, tolerance: float = 0.05
) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[float]]:
    """Pairs of sublattice sites in each of the first ``n_shells`` distance shells.

    Distances are taken in the ideal (unrelaxed) cell with periodic images; a pair
    appears once per bond and per direction (i -> j and j -> i), periodic self-images
    included. Returns ``([(i, j), ...] per shell, [shell radius in Å, ...])`` where
    ``i``, ``j`` index into ``sites``.
    """
    from ase.neighborlist import neighbor_list

    sublattice = atoms[list(sites)]
    cutoff = 1.0
    while True:
        i, j, d = neighbor_list("ijd", sublattice, cutoff)
        radii: list[float] = []
        for distance in np.sort(d):
            if not radii or distance - radii[-1] > tolerance:
                radii.append(float(distance))
        if len(radii) > n_shells or cutoff > 4 * max(sublattice.cell.lengths()):
            break
        cutoff *= 1.5
    radii = radii[:n_shells]
    shells = [(i[np.abs(d - r) <= tolerance], j[np.abs(d - r) <= tolerance]) for r in radii]
    return shells, radii


def warren_cowley_parameters(
    species: Sequence[str] | np.ndarray, shells: list[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, list[str]]:
    """Warren-Cowley parameters ``alpha[s, a, b] = 1 - p_s(b | a) / c_b`` on a sublattice.

    ``p_s(b | a)`` is the fraction of shell-``s`` neighbours of ``a`` sites that hold ``b``,
    ``c_b`` the concentration of ``b``; 0 for an ideal random alloy, negative for
    preferred ``a``-``b`` neighbours. Returns the array (n_shells, K, K) and the K species
    (sorted).
    """
    species = np.asarray(species)
    kinds, types = np.unique(species, return_inverse=True)
    concentration = np.bincount(types, minlength=len(kinds)) / len(types)
    alpha = np.zeros((len(shells), len(kinds), len(kinds)))
    for s, (i, j) in enumerate(shells):
        counts = np.zeros((len(kinds), len(kinds)))
        np.add.at(counts, (types[i], types[j]), 1.0)
        totals = counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha[s] = 1.0 - (counts / totals) / concentration[None, :]
    return np.nan_to_num(alpha), [str(k) for k in kinds]


def warren_cowley_objective(
    species: Sequence[str] | np.ndarray,
    shells: list[tuple[np.ndarray, np.ndarray]],
    weights: Sequence[float] | None = None,
) -> float:
    """``sum_s w_s mean_ab |alpha_s(a, b)|``: 0 for ideal randomness, larger for more order.

    Default weights ``w_s = 1 / s`` (shell 1 counts most), as sqsgenerator's defaults.
    """
    alpha, _ = warren_cowley_parameters(species, shells)
    weights = np.asarray(weights if weights is not None else 1.0 / np.arange(1, len(shells) + 1))
    return float(np.sum(weights * np.abs(alpha).mean(axis=(1, 2))))


def swap_search(
    species: Sequence[str],
    shells: list[tuple[np.ndarray, np.ndarray]],
    *,
    seed: int = 0,
    n_trials: int = 2000,
) -> tuple[list[str], float]:
    """Greedy swap search for an SQS: minimise :func:`warren_cowley_objective`.

    Starts from a seeded random permutation of ``species``; each trial swaps two sites of
    different species and keeps the swap unless the objective rises (sideways moves are
    kept, so plateaus are crossed). Composition is conserved exactly. Returns the best
    arrangement and its objective.
    """
    rng = np.random.default_rng(seed)
    current = np.array(rng.permutation(np.asarray(species)))
    value = warren_cowley_objective(current, shells)
    best, best_value = current.copy(), value
    for _ in range(n_trials):
        a, b = rng.integers(len(current), size=2)
        if current[a] == current[b]:
            continue
        current[a], current[b] = current[b], current[a]
        trial = warren_cowley_objective(current, shells)
        if trial <= value:
            value = trial
            if value < best_value:
                best, best_value = current.copy(), value
        else:
            current[a], current[b] = current[b], current[a]
    return [str(s) for s in best], best_value


def sqsgenerator_available() -> bool:
    """Whether sqsgenerator (>= 0.5) is importable here."""
    try:
        import sqsgenerator

        return hasattr(sqsgenerator, "optimize") and hasattr(sqsgenerator, "parse_config")
    except ImportError:
        return False


def sqsgenerator_search(
    atoms: Atoms,
    sites: Sequence[int],
    cations: Sequence[str],
    radii: Sequence[float],
    *,
    seed: int = 0,
    iterations: int = 100_000,
) -> list[str]:
    """SQS arrangement of ``cations`` over ``sites`` from sqsgenerator's Monte Carlo search.

    Only the substituted sublattice is handed over, with our shell radii and weights
    ``1 / s``, one thread and a fixed seed (deterministic). Returns the species per site.
    """
    import sqsgenerator

    sublattice = atoms[list(sites)]
    counts = {c: int(n) for c, n in zip(*np.unique(np.asarray(cations), return_counts=True))}
    config = {
        "iterations": int(iterations),
        "sublattice_mode": "split",
        "seed": [int(seed)],
        "thread_config": [1],
        "structure": {
            "lattice": sublattice.cell.array.tolist(),
            "coords": sublattice.get_scaled_positions().tolist(),
            "species": [82] * len(sublattice),
        },
        "composition": [{"sites": _PLACEHOLDER, **counts}],
        "shell_radii": [[0.0, *[float(r) for r in radii]]],
        "shell_weights": [{s + 1: 1.0 / (s + 1) for s in range(len(radii))}],
    }
    parsed = sqsgenerator.parse_config(config)
    if not hasattr(parsed, "json"):  # a ParseError object
        raise RuntimeError(f"sqsgenerator rejected the configuration: {getattr(parsed, 'msg', parsed)}")
    result = sqsgenerator.optimize(parsed).best()
    from ase.data import chemical_symbols

    structure = result.structure()
    numbers = [int(z) for z in sqsgenerator.to_ase(structure).numbers]
    return [chemical_symbols[z] for z in numbers]


@dataclass
class SubstitutedStructure:
    """A generated structure and how it was made."""

    atoms: Atoms
    lattice: str
    arrangement: str
    seed: int
    n_sites: int
    wc_objective: float
    wc_objective_random: float
    sqs_method: str


def substituted_structure(
    lattice: str,
    n_sites: int,
    *,
    arrangement: Arrangement = "random",
    seed: int = 0,
    sqs_method: Literal["swap", "sqsgenerator"] = "swap",
    sqs_trials: int = 2000,
    rattle: float = 0.01,
) -> SubstitutedStructure:
    """An equimolar five-cation supercell of ``lattice`` with ``n_sites`` substituted sites.

    Args:
        lattice: a key of :data:`PARENT_LATTICES`.
        n_sites: cation (B-site for perovskite) sites; a multiple of 5 (and of 6 for spinel).
        arrangement: ``random`` or ``sqs`` (see the module docstring).
        seed: seeds the permutation, the SQS search and the rattle.
        sqs_method: ``swap`` (default, :func:`swap_search`) or ``sqsgenerator``
            (needs the package; see the module docstring).
        sqs_trials: swap-search trials (sqsgenerator runs 50 times as many iterations).
        rattle: Gaussian displacement (Å) of every atom, so that no arrangement stays on a
            symmetric saddle point.

    The structure's ``info`` records ``name``, ``lattice``, ``arrangement``, ``seed``,
    ``formula_target`` and the Warren-Cowley objective.
    """
    parent = PARENT_LATTICES[lattice]
    atoms, sites = parent_supercell(lattice, n_sites)
    cations = equimolar_cations(parent.cations, len(sites))
    shells, radii = neighbour_shells(atoms, sites)
    random_order = list(np.random.default_rng(seed).permutation(cations))
    random_objective = warren_cowley_objective(random_order, shells)
    method = "none"
    if arrangement == "random":
        order, objective = random_order, random_objective
    elif arrangement == "sqs":
        if sqs_method == "sqsgenerator":
            if not sqsgenerator_available():
                raise ImportError(
                    "sqs_method='sqsgenerator' needs sqsgenerator: pip install 'sqsgenerator>=0.5'"
                )
            order = sqsgenerator_search(atoms, sites, cations, radii, seed=seed, iterations=50 * sqs_trials)
            method = "sqsgenerator"
        elif sqs_method == "swap":
            order, _ = swap_search(cations, shells, seed=seed, n_trials=sqs_trials)
            method = "swap"
        else:
            raise ValueError(f"sqs_method must be 'swap' or 'sqsgenerator', got {sqs_method!r}")
        objective = warren_cowley_objective(order, shells)
    else:
        raise ValueError(f"arrangement must be 'random' or 'sqs', got {arrangement!r}")
    symbols = np.array(atoms.get_chemical_symbols(), dtype=object)
    symbols[sites] = order
    atoms.set_chemical_symbols(list(symbols))
    if rattle > 0:
        atoms.positions += np.random.default_rng(seed + 1000).normal(scale=rattle, size=atoms.positions.shape)
    atoms.info.update(
        name=f"{lattice}-{arrangement}-n{len(atoms)}-s{seed}",
        lattice=lattice,
        arrangement=arrangement,
        seed=seed,
        formula_target=parent.formula,
        wc_objective=objective,
    )
    return SubstitutedStructure(
        atoms=atoms,
        lattice=lattice,
        arrangement=arrangement,
        seed=seed,
        n_sites=len(sites),
        wc_objective=objective,
        wc_objective_random=random_objective,
        sqs_method=method,
    )
