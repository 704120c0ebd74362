"""Binary oxides of single cations in one of three simple prototypes: the parents of HEOs.

Each cation gets the prototype of its most common oxidation state among the three forms
HEO work compares against (and the benchmark's parent lattices use):

* ``rocksalt`` AO (Fm-3m, 8 atoms per cubic cell): divalent cations (Mg, Ca, Mn, Co, Ni, ...).
* ``fluorite`` AO2 (Fm-3m, 12 atoms per cubic cell): tetravalent and higher (Ce, Zr, Hf, Ti,
  Sn, W, ...); for monovalent cations the *anti*-fluorite A2O (Li2O, Na2O, ...).
* ``corundum`` A2O3 (R-3c, 30 atoms per hexagonal cell): trivalent cations (Al, Cr, Fe...,
  La and the other lanthanides).

:func:`binary_oxide_supercell` repeats that cell to a near-isotropic supercell of a given
size (:func:`supercell_repeat`) and rattles it: the forgetting report's starts.

These are model-comparison references, not ground states (TiO2 is rutile, La2O3 is
hexagonal, WO3 is not a fluorite): what matters is that two models relax the same cell.
The starting cell is sized by the sum of covalent radii and then rescaled to the model's
own minimum by an isotropic energy scan (:func:`prescale_to_minimum`) before relaxing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.data import atomic_numbers, covalent_radii

from heo_calc.structures import perturb

if TYPE_CHECKING:
    from ase.calculators.calculator import Calculator

BinaryPrototype = Literal["rocksalt", "fluorite", "anti-fluorite", "corundum"]

#: The usual oxidation state of every cation in the HEO data (and a few more), which sets its prototype.
OXIDATION_STATES: Final[dict[str, int]] = {
    **dict.fromkeys(("Li", "Na", "K", "Rb", "Cs", "Ag", "Tl"), 1),
    **dict.fromkeys(("Be", "Mg", "Ca", "Sr", "Ba", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Cd", "Hg"), 2),
    **dict.fromkeys(("Pd", "Pb", "Eu"), 2),
    **dict.fromkeys(("Al", "Ga", "In", "Sc", "Y", "La", "Nd", "Sm", "Gd", "Dy", "Ho", "Er"), 3),
    **dict.fromkeys(("Tm", "Yb", "Lu", "Cr", "V", "Bi", "Rh", "Au"), 3),
    **dict.fromkeys(("Ti", "Zr", "Hf", "Ce", "Pr", "Tb", "Th", "U", "Sn", "Ru", "Ir", "Os", "Pt"), 4),
    **dict.fromkeys(("Mo", "W", "Re", "Nb", "Ta"), 4),
}

_PROTOTYPE_OF_STATE: Final[dict[int, BinaryPrototype]] = {
    1: "anti-fluorite",
    2: "rocksalt",
    3: "corundum",
    4: "fluorite",
}

#: Oxide formula units per cell built by :func:`binary_oxide_cell` (before repeating).
ATOMS_PER_FORMULA_UNIT: Final[dict[BinaryPrototype, int]] = {
    "rocksalt": 2,
    "fluorite": 3,
    "anti-fluorite": 3,
    "corundum": 5,
}

_OXYGEN_COVALENT_RADIUS: Final = float(covalent_radii[atomic_numbers["O"]])


@dataclass(frozen=True)
class BinaryOxide:
    """A cation, its prototype and the oxide's formula (``MgO``, ``CeO2``, ``Li2O``, ``Al2O3``)."""

    cation: str
    prototype: BinaryPrototype
    formula: str


def binary_oxide(cation: str) -> BinaryOxide:
    """The binary oxide that stands for ``cation``; raises ``ValueError`` for an unknown cation."""
    if cation not in OXIDATION_STATES:
        known = ", ".join(sorted(OXIDATION_STATES))
        raise ValueError(f"no binary-oxide prototype recorded for {cation!r}; known cations: {known}")
    prototype = _PROTOTYPE_OF_STATE[OXIDATION_STATES[cation]]
    formula = {
        "rocksalt": f"{cation}O",
        "fluorite": f"{cation}O2",
        "anti-fluorite": f"{cation}2O",
        "corundum": f"{cation}2O3",
    }[prototype]
    return BinaryOxide(cation, prototype, formula)


def _bond_length_guess(cation: str) -> float:
    """Cation-oxygen distance (Å) from covalent radii: a starting point, rescaled later."""
    return float(covalent_radii[atomic_numbers[cation]]) + _OXYGEN_COVALENT_RADIUS


def binary_oxide_cell(cation: str, *, bond_length: float | None = None) -> Atoms:
    """The conventional cell of ``cation``'s binary oxide (8, 12, 12 or 30 atoms).

    ``bond_length`` (Å) sets the nearest cation-oxygen distance; by default the sum of
    covalent radii, a rough start that :func:`prescale_to_minimum` corrects.
    """
    oxide = binary_oxide(cation)
    distance = _bond_length_guess(cation) if bond_length is None else bond_length
    if oxide.prototype == "rocksalt":
        atoms = bulk(f"{cation}O", "rocksalt", a=2.0 * distance, cubic=True)
    elif oxide.prototype == "fluorite":
        atoms = bulk(f"{cation}O2", "fluorite", a=4.0 * distance / np.sqrt(3.0), cubic=True)
    elif oxide.prototype == "anti-fluorite":
        atoms = bulk(f"O{cation}2", "fluorite", a=4.0 * distance / np.sqrt(3.0), cubic=True)
    else:
        from ase.spacegroup import crystal

        # Al2O3 (R-3c): a = 4.759 Å, c = 12.99 Å, Al-O 1.91 Å on average; scaled to the guess.
        scale = distance / 1.91
        atoms = crystal(
            [cation, "O"],
            basis=[(0.0, 0.0, 0.3523), (0.3064, 0.0, 0.25)],
            spacegroup=167,
            cellpar=[4.759 * scale, 4.759 * scale, 12.99 * scale, 90, 90, 120],
        )
    atoms.info["name"] = oxide.formula
    atoms.info["prototype"] = oxide.prototype
    return atoms


def prescale_to_minimum(
    atoms: Atoms, calculator: Calculator, *, scales: Sequence[float] = tuple(np.linspace(0.82, 1.18, 13))
) -> Atoms:
    """A copy of ``atoms`` isotropically scaled to the lowest energy of ``calculator`` among ``scales``.

    ``scales`` multiply every length (so the volume by ``scale**3``); the cell is then a
    good start for a cell relaxation even when the first guess was 15 % off.
    """
    from heo_calc.calculator import evaluate_properties

    energies = []
    for scale in scales:
        trial = atoms.copy()
        trial.set_cell(atoms.cell * scale, scale_atoms=True)
        energies.append(evaluate_properties(calculator, trial, ())["energy"])
    best = atoms.copy()
    best.set_cell(atoms.cell * float(scales[int(np.nanargmin(energies))]), scale_atoms=True)
    return best


def cubic_lattice_parameter(atoms: Atoms, prototype: BinaryPrototype) -> float:
    """Pseudo-cubic lattice parameter (Å) from the volume per formula unit (4 per cubic cell).

    Corundum has no cubic cell; it returns the cube root of the volume per formula unit
    times 4 there too, a size measure comparable between models only.
    """
    n_formula_units = len(atoms) / ATOMS_PER_FORMULA_UNIT[prototype]
    return float((4.0 * atoms.get_volume() / n_formula_units) ** (1.0 / 3.0))


def supercell_repeat(atoms: Atoms, min_atoms: int, max_aspect: float = 2.0) -> tuple[int, int, int]:
    """The repeat of ``atoms`` with the fewest atoms >= ``min_atoms`` whose longest side is at most
    ``max_aspect`` times its shortest (no slab-like cells); of equal ones, the most isotropic."""
    lengths = atoms.cell.lengths()

    def aspect(repeat: tuple[int, int, int]) -> float:
        sides = np.asarray(repeat) * lengths
        return float(sides.max() / sides.min())

    candidates = [
        (n1, n2, n3)
        for n1 in range(1, 7)
        for n2 in range(1, 7)
        for n3 in range(1, 7)
        if n1 * n2 * n3 * len(atoms) >= min_atoms and aspect((n1, n2, n3)) <= max_aspect
    ]
    if not candidates:
        raise ValueError(f"no repeat of this {len(atoms)}-atom cell up to 6x6x6 has aspect <= {max_aspect}")
    return min(candidates, key=lambda repeat: (int(np.prod(repeat)), aspect(repeat)))


def binary_oxide_supercell(
    cation: str,
    calculator: Calculator,
    *,
    min_atoms: int = 60,
    max_aspect: float = 2.0,
    rattle: float = 0.0,
    seed: int = 0,
) -> Atoms:
    """``cation``'s binary oxide at ``calculator``'s minimum, repeated and rattled.

    The conventional cell (:func:`binary_oxide_cell`) is rescaled to the model's own minimum
    (:func:`prescale_to_minimum`), repeated by :func:`supercell_repeat` (``min_atoms``,
    ``max_aspect``) and rattled (:func:`heo_calc.structures.perturb.rattle`, ``rattle`` Å,
    ``seed``). ``info``: ``name`` (the formula), ``prototype``, ``cations``.
    """
    oxide = binary_oxide(cation)
    cell = prescale_to_minimum(binary_oxide_cell(cation), calculator)
    atoms = perturb.rattle(cell.repeat(supercell_repeat(cell, min_atoms, max_aspect)), rattle, seed)
    atoms.info.update(name=oxide.formula, prototype=oxide.prototype, cations=cation)
    return atoms
