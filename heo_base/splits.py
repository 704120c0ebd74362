"""Train/valid/test splits grouped by reduced formula.

Grouping by formula keeps every polymorph and every off-minimum snapshot of one
composition on the same side, so a test error measures transfer to unseen
compositions rather than memorised ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SPLIT_NAMES: tuple[str, str, str] = ("train", "valid", "test")
#: Default fractions of formulas in train, valid and test (``heo-dataset build``, the benchmark).
DEFAULT_SPLIT_FRACTIONS: tuple[float, float, float] = (0.8, 0.1, 0.1)


def assign_splits_by_formula(
    formulas: Sequence[str],
    *,
    fractions: tuple[float, float, float] = DEFAULT_SPLIT_FRACTIONS,
    seed: int = 0,
) -> list[str]:
    """Assign each structure to ``train``, ``valid`` or ``test`` by its formula.

    Formulas are first brought to one canonical form (pymatgen's
    ``Composition(formula).reduced_formula``), so the assignment does not depend on how a
    source writes them: LeMat-Bulk's alphabetical ``CoCuMgNiO5Zn`` and pymatgen's
    ``MgCoNiCuZnO5`` land in the same group and the same split.

    Args:
        formulas: one formula per structure (any order of elements, any multiple).
        fractions: target fractions of *structures* in train, valid and test; they
            must be non-negative and sum to 1.
        seed: seed of the shuffle of the unique formulas; the same inputs and seed
            always give the same assignment.

    Returns:
        One split name per structure, in input order. No formula is in two splits.
    """
    fractions_array = np.asarray(fractions, dtype=float)
    if fractions_array.shape != (3,) or (fractions_array < 0).any():
        raise ValueError(f"fractions must be three non-negative numbers, got {fractions!r}")
    if not np.isclose(fractions_array.sum(), 1.0):
        raise ValueError(f"fractions must sum to 1, got {fractions!r} (sum {fractions_array.sum():g})")
    if len(formulas) == 0:
        return []
    from pymatgen.core import Composition

    written, written_inverse = np.unique(np.asarray(formulas, dtype=str), return_inverse=True)
    canonical = np.array([Composition(formula).reduced_formula for formula in written], dtype=str)
    unique_formulas, canonical_inverse, counts = np.unique(
        canonical[written_inverse], return_inverse=True, return_counts=True
    )
    inverse = canonical_inverse
    order = np.random.default_rng(seed).permutation(len(unique_formulas))
    # Walk the shuffled formulas and fill each split up to its share of structures;
    # whole formula groups move together, so the fractions are met approximately.
    cumulative_targets = np.cumsum(fractions_array) * len(formulas)
    split_of_formula = np.empty(len(unique_formulas), dtype=np.int64)
    filled = 0
    for formula_index in order:
        midpoint = filled + counts[formula_index] / 2
        split_of_formula[formula_index] = min(
            int(np.searchsorted(cumulative_targets, midpoint, side="right")), 2
        )
        filled += counts[formula_index]
    return [SPLIT_NAMES[split_of_formula[i]] for i in inverse]
