"""The metals the HEO filter accepts as cations, and composition helpers.

Compositions are counts of sites per element; cation fractions are taken over every
site that is not oxygen, so they sum to 1 and are dimensionless.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from ase.data import chemical_symbols

# The metal definition lives in heo_base (the screen uses it too); re-exported here.
from heo_base.elements import METALS, METALS_SPEC

__all__ = ["KNOWN_ELEMENTS", "METALS", "METALS_SPEC", "OXYGEN"]

OXYGEN: Final[str] = "O"


#: Every symbol ASE knows (H to Og), for validating user input.
KNOWN_ELEMENTS: Final[frozenset[str]] = frozenset(chemical_symbols[1:])


def element_counts(symbols: Iterable[str]) -> dict[str, int]:
    """Number of sites per element, e.g. ``["Mg", "O", "O"] -> {"Mg": 1, "O": 2}``."""
    return dict(Counter(symbols))


def cation_fractions(counts: Mapping[str, int], *, anion: str = OXYGEN) -> dict[str, float]:
    """Site fractions of every element except ``anion``; they sum to 1 (empty if none)."""
    cations = {element: n for element, n in counts.items() if element != anion and n > 0}
    total = sum(cations.values())
    return {element: n / total for element, n in cations.items()} if total else {}


def ideal_mixing_entropy(fractions: Iterable[float]) -> float:
    """Ideal configurational entropy ``-sum x ln x`` in units of R (dimensionless).

    Five equimolar cations give ln 5 = 1.609 R; HEOs are usually defined by >= 1.5 R.
    """
    return float(-sum(x * math.log(x) for x in fractions if x > 0))


def max_equimolar_deviation(fractions: Sequence[float]) -> float:
    """Largest ``|x_i - 1/n|`` over the ``n`` cation fractions (0 for an equimolar mix)."""
    if not fractions:
        return math.inf
    target = 1.0 / len(fractions)
    return float(max(abs(x - target) for x in fractions))


def reduced_formula(counts: Mapping[str, int]) -> str:
    """LeMat-Bulk style reduced formula: elements in alphabetical order, counts divided by
    their greatest common divisor, ones omitted (``{"Mg": 2, "O": 2} -> "MgO"``)."""
    present = {element: int(n) for element, n in counts.items() if n > 0}
    if not present:
        return ""
    divisor = math.gcd(*present.values())
    return "".join(
        f"{element}{n // divisor if n // divisor != 1 else ''}" for element, n in sorted(present.items())
    )
