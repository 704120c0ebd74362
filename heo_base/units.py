"""Unit conversions the project formats its numbers with; the units themselves are ASE's.

Structures and results carry ASE units (Å, eV, eV/Å, eV/Å^3); tables and reports show
meV/atom, meV/Å and GPa. Multiply by these constants to convert.
"""

from __future__ import annotations

from typing import Final

from ase.units import GPa

#: eV -> meV (also eV/atom -> meV/atom, eV/Å -> meV/Å).
MEV: Final = 1000.0
#: eV/Å^3 -> GPa (``1 / ase.units.GPa``, 160.2...).
EV_PER_A3_TO_GPA: Final = 1.0 / GPa
