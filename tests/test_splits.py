"""Formula-grouped splits."""

from __future__ import annotations

from collections import Counter

import pytest

from heo_base.splits import assign_splits_by_formula


def test_formula_style_does_not_change_the_split():
    pymatgen_style = ["MgCoNiCuZnO5", "MgCoNiCuZnO5", "LaSrCoFeMnO6", "CeLaPrSmYO10"] * 5 + [
        f"Mg{i}CoNiCuZnO{i + 4}" for i in range(2, 40)
    ]
    alphabetical = ["CoCuMgNiO5Zn", "Co2Cu2Mg2Ni2O10Zn2", "CoFeLaMnO6Sr", "CeLaO10PrSmY"] * 5 + [
        f"CoCuMg{i}NiO{i + 4}Zn" for i in range(2, 40)
    ]
    assert assign_splits_by_formula(pymatgen_style, seed=3) == assign_splits_by_formula(alphabetical, seed=3)


def test_no_formula_crosses_splits_and_fractions_are_close():
    formulas = [f"Mg{i % 97 + 1}CoNiCuZnO{i % 97 + 5}" for i in range(2000)]
    splits = assign_splits_by_formula(formulas, fractions=(0.8, 0.1, 0.1), seed=0)
    side_of = {}
    for formula, split in zip(formulas, splits):
        assert side_of.setdefault(formula, split) == split
    counts = Counter(splits)
    assert counts["train"] == pytest.approx(1600, abs=60)
    assert counts["test"] == pytest.approx(200, abs=60)


def test_bad_fractions_are_rejected():
    with pytest.raises(ValueError, match="must sum to 1"):
        assign_splits_by_formula(["MgO"], fractions=(0.5, 0.2, 0.2))
