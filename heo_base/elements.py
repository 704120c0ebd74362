"""Which elements are metals: the one definition the dataset filter and the screen share.

The HEO filter of :mod:`dataset_builder` accepts only metals besides oxygen, and the screen
(:mod:`heo_calc.screening`) accepts only metals as cations; both read :data:`METALS` here.
"""

from __future__ import annotations

from typing import Final

from ase.data import atomic_numbers, chemical_symbols


def _symbol_range(first: str, last: str) -> set[str]:
    """Symbols from ``first`` to ``last`` inclusive, by atomic number."""
    return set(chemical_symbols[atomic_numbers[first] : atomic_numbers[last] + 1])


#: The metals the HEO filter accepts as cations, as stored in the file's filter settings:
#: alkali and alkaline-earth metals, the p-block metals, and the transition metals,
#: lanthanides and actinides (``Sc-Zn`` is Sc to Zn by atomic number). The metalloids
#: (B, Si, Ge, As, Sb, Te) are not metals here.
METALS_SPEC: Final[str] = "Li Be Na Mg K Ca Rb Sr Cs Ba Al Ga In Tl Sn Pb Bi Sc-Zn Y-Cd Hf-Hg La-Lu Ac-Lr"


def symbols_of_spec(spec: str) -> frozenset[str]:
    """The symbols of a space-separated list of symbols and ``First-Last`` ranges."""
    symbols: set[str] = set()
    for item in spec.split():
        first, _, last = item.partition("-")
        symbols |= _symbol_range(first, last or first)
    return frozenset(symbols)


#: The symbols of :data:`METALS_SPEC`.
METALS: Final[frozenset[str]] = symbols_of_spec(METALS_SPEC)
