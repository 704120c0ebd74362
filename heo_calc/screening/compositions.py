"""Which cation sets a screen covers, and how many cation sites each supercell gets.

Compositions come from explicit lists (``Mg,Co,Ni,Cu,Zn``), from every k-subset of a pool,
or from a file with one cation set a line. Every composition is equimolar; its cations are
kept in order of atomic number (``Mg-Co-Ni-Cu-Zn``), which is also its label.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ase.data import atomic_numbers, chemical_symbols

from heo_calc.errors import CompositionError
from heo_calc.structures.parents import check_site_count, parent_lattice, site_step, validate_cations


@dataclass(frozen=True)
class Composition:
    """An equimolar cation set on one sublattice, cations in order of atomic number."""

    cations: tuple[str, ...]

    @classmethod
    def of(cls, cations: Sequence[str]) -> Composition:
        """Check ``cations`` (real elements, each once, no oxygen) and put them in order."""
        checked = validate_cations(cations)
        return cls(tuple(sorted(checked, key=lambda symbol: atomic_numbers[symbol])))

    @property
    def label(self) -> str:
        """``Mg-Co-Ni-Cu-Zn``: the id in files, tables and errors."""
        return "-".join(self.cations)

    def formula(self, lattice: str) -> str:
        """The mixture as written in papers: ``(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O``, ``Sr(Ti0.5Zr0.5)O3``."""
        share = f"{1 / len(self.cations):.3g}"
        mixed = "".join(f"{cation}{share}" for cation in self.cations)
        mixed = f"({mixed})" if len(self.cations) > 1 else self.cations[0]
        return parent_lattice(lattice).reference_formula(mixed)


def parse_cations(text: str) -> Composition:
    """``"Mg,Co,Ni"`` (commas and/or spaces) as a :class:`Composition`."""
    cations = [part for part in re.split(r"[,\s]+", text.strip()) if part]
    return Composition.of(cations)


def pool_compositions(pool: str, n_cations: int) -> list[Composition]:
    """Every ``n_cations``-subset of the cations in ``pool`` (``"Mg,Ca,Mn,Fe,Co,Ni,Cu,Zn"``)."""
    members = parse_cations(pool).cations
    if not 1 <= n_cations <= len(members):
        raise CompositionError(
            f"--n-cations {n_cations} does not fit the pool of {len(members)} cations "
            f"({'-'.join(members)}); choose 1 to {len(members)}"
        )
    return [Composition(subset) for subset in itertools.combinations(members, n_cations)]


def read_compositions(path: str | Path) -> list[Composition]:
    """One composition a line (``Mg,Co,Ni,Cu,Zn``); blank lines and ``#`` comments are skipped."""
    path = Path(path)
    if not path.is_file():
        raise CompositionError(f"compositions file {path} does not exist; write one cation set a line")
    compositions = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            compositions.append(parse_cations(text))
        except CompositionError as error:
            raise CompositionError(f"{path} line {number}: {error}") from error
    if not compositions:
        raise CompositionError(
            f"{path} holds no composition; write one cation set a line, e.g. Mg,Co,Ni,Cu,Zn"
        )
    return compositions


def unique(compositions: Iterable[Composition]) -> list[Composition]:
    """The compositions without repeats, in first-seen order."""
    return list(dict.fromkeys(compositions))


def choose_sites(
    lattice: str, compositions: Sequence[Composition], requested: int | None
) -> dict[Composition, int]:
    """Cation sites of each composition's supercell, so that every one is exactly equimolar.

    With ``requested``, every composition gets that many (a ``CompositionError`` lists those
    it cannot hold equally and the counts that would); without, each gets the smallest
    multiple of what it needs at or above the lattice's default size.
    """
    parent = parent_lattice(lattice)
    if requested is None:
        return {
            c: math.ceil(parent.default_sites / (step := site_step(lattice, len(c.cations)))) * step
            for c in compositions
        }
    problems = []
    for composition in compositions:
        try:
            check_site_count(lattice, composition.cations, requested)
        except CompositionError as error:
            problems.append(str(error).removeprefix("composition "))
    if problems:
        common = math.lcm(*(site_step(lattice, len(c.cations)) for c in compositions))
        raise CompositionError(
            f"--sites {requested} cannot be equimolar for {len(problems)} composition(s): {problems[0]}"
            f"{f' (and {len(problems) - 1} more)' if len(problems) > 1 else ''}. A multiple of {common} "
            "suits every composition; or leave --sites out to size each cell by its own composition"
        )
    return dict.fromkeys(compositions, requested)


def check_coverage(
    compositions: Sequence[Composition], lattice: str, covered: frozenset[int] | None, calculator: str
) -> None:
    """Raise a ``CompositionError`` naming the compositions with elements ``calculator`` does not cover."""
    if covered is None:
        return
    spectators = (*parent_lattice(lattice).spectator, "O")
    missing_spectators = [s for s in spectators if atomic_numbers[s] not in covered]
    if missing_spectators:
        raise CompositionError(
            f"calculator {calculator!r} does not cover {', '.join(missing_spectators)}, which every {lattice} "
            "cell holds; choose another calculator (`heo-calc list`)"
        )
    offending = [c for c in compositions if any(atomic_numbers[s] not in covered for s in c.cations)]
    if offending:
        missing = sorted({s for c in offending for s in c.cations if atomic_numbers[s] not in covered})
        shown = ", ".join(c.label for c in offending[:3]) + (
            f" and {len(offending) - 3} more" if len(offending) > 3 else ""
        )
        raise CompositionError(
            f"calculator {calculator!r} does not cover {', '.join(missing)}, in composition(s) {shown}; "
            f"drop {', '.join(missing)} from the cations (or those compositions) or choose a calculator that "
            f"covers them (`heo-calc list`); covered here: {', '.join(chemical_symbols[z] for z in sorted(covered))}"
        )
