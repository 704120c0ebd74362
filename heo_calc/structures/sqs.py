"""Special quasirandom structures (SQS): Warren-Cowley short-range order and the searches that minimise it.

An SQS is the arrangement of a fixed set of species over a sublattice whose Warren-Cowley
short-range-order parameters on the first :data:`SQS_SHELLS` neighbour shells are closest
to zero, those of an ideal random alloy. Two searches:

* :func:`swap_search` (default): a seeded greedy swap search that minimises
  :func:`warren_cowley_objective`; dependency-free and deterministic.
* :func:`sqsgenerator_search`: sqsgenerator's Monte Carlo search (optional package).

Why not an SQS package by default: icet has no wheels for Python 3.11 (source only).
sqsgenerator 0.5.6 installs from a wheel (``pip install 'sqsgenerator>=0.5'``) but measured
here on small cells it (a) was not better than the swap search on the objective we report
(e.g. rock salt 40 sites: 0.146 vs 0.108; spinel 30 sites: 0.300 vs 0.248), (b) gave
different arrangements for the same seed in different processes on a 10-site fluorite cell
(objective 0.54-0.72, sometimes worse than random), and (c) logs C++ warnings to stderr
about irregular shells on the mixed A/B spinel sublattice. Structures that must be the same
on every machine therefore use the swap search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
from ase import Atoms

#: Cation-cation neighbour shells the SQS objective covers.
SQS_SHELLS: Final = 3


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

    Default weights ``w_s = 1 / s`` (shell 1 counts most), as sqsgenerator's defaults. A
    single species has no order to measure: 0.
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
    if len(set(current.tolist())) < 2:
        return [str(s) for s in best], best_value
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

    Only the substituted sublattice is handed over (every site as one placeholder species),
    with our shell radii and weights ``1 / s``, one thread and a fixed seed. Returns the
    species per site.
    """
    import sqsgenerator
    from ase.data import chemical_symbols

    placeholder = 82  # any element; only the sublattice's geometry is handed over
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
            "species": [placeholder] * len(sublattice),
        },
        "composition": [{"sites": chemical_symbols[placeholder], **counts}],
        "shell_radii": [[0.0, *[float(r) for r in radii]]],
        "shell_weights": [{s + 1: 1.0 / (s + 1) for s in range(len(radii))}],
    }
    parsed = sqsgenerator.parse_config(config)
    if not hasattr(parsed, "json"):  # a ParseError object
        raise RuntimeError(f"sqsgenerator rejected the configuration: {getattr(parsed, 'msg', parsed)}")
    structure = sqsgenerator.optimize(parsed).best().structure()
    return [chemical_symbols[int(z)] for z in sqsgenerator.to_ase(structure).numbers]
