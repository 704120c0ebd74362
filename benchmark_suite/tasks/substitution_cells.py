"""Out-of-distribution substitution structures: the benchmark's five-cation HEO on each of four parent lattices.

The lattices, the exact equimolar occupation and the SQS search live in
:mod:`heo_calc.structures` (:mod:`~heo_calc.structures.parents`,
:mod:`~heo_calc.structures.sqs`, :mod:`~heo_calc.structures.substituted`); this module
keeps what is the benchmark's own: which five cations each lattice takes, the starting
lattice parameter, the measured lattice parameter where one is published, and the
structure names its reports use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from heo_calc.structures.experimental import ROCKSALT_HEO, ExperimentalLattice, experimental_lattice
from heo_calc.structures.substituted import Arrangement, SubstitutedStructure
from heo_calc.structures.substituted import substituted_structure as build_substituted_structure

__all__ = [
    "PARENT_LATTICES",
    "BenchmarkHEO",
    "ExperimentalLattice",
    "SubstitutedStructure",
    "substituted_structure",
]


@dataclass(frozen=True)
class BenchmarkHEO:
    """The benchmark's HEO on one parent lattice.

    Attributes:
        name: the lattice (a key of :data:`heo_calc.structures.parents.CUBIC_PARENT_LATTICES`).
        space_group: Hermann-Mauguin symbol and number of the parent.
        formula: the target composition as written in the literature.
        cations: the five cations, placed in equal numbers.
        a_start: lattice parameter (Å) of the starting structure, a rough guess; the cell
            relaxes from there.
        experimental: measured lattice parameter where one is recorded with a citation,
            else ``None`` (no number without a source).
        spectator: elements on sites that are not substituted (Sr in the perovskite).
    """

    name: str
    space_group: str
    formula: str
    cations: tuple[str, ...]
    a_start: float
    experimental: ExperimentalLattice | None = None
    spectator: tuple[str, ...] = field(default_factory=tuple)


PARENT_LATTICES: Final[dict[str, BenchmarkHEO]] = {
    "rocksalt": BenchmarkHEO(
        name="rocksalt",
        space_group="Fm-3m (225)",
        formula="(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O",
        cations=("Mg", "Co", "Ni", "Cu", "Zn"),
        a_start=4.22,
        experimental=experimental_lattice(ROCKSALT_HEO),
    ),
    "spinel": BenchmarkHEO(
        name="spinel",
        space_group="Fd-3m (227)",
        formula="(Co,Cr,Fe,Mn,Ni)3O4",
        cations=("Co", "Cr", "Fe", "Mn", "Ni"),
        a_start=8.35,
        # Mallesh et al., JMMM 564, 170108 (2022) report 8.3224 Å for (Mg,Zn,Mn,Co,Ni,Fe)3O4,
        # a different composition: not used as the reference for this one.
        experimental=None,
    ),
    "fluorite": BenchmarkHEO(
        name="fluorite",
        space_group="Fm-3m (225)",
        formula="(Ce,La,Pr,Sm,Y)O2",
        cations=("Ce", "La", "Pr", "Sm", "Y"),
        a_start=5.50,
        experimental=None,
    ),
    "perovskite": BenchmarkHEO(
        name="perovskite",
        space_group="Pm-3m (221)",
        formula="Sr(Zr,Sn,Ti,Hf,Mn)O3",
        cations=("Zr", "Sn", "Ti", "Hf", "Mn"),
        a_start=4.05,
        experimental=None,
        spectator=("Sr",),
    ),
}


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
    """The benchmark's equimolar five-cation supercell of ``lattice`` with ``n_sites`` substituted sites.

    :func:`heo_calc.structures.substituted.substituted_structure` with this lattice's
    cations and starting lattice parameter; ``info`` also records ``formula_target``, and
    the name is ``{lattice}-{arrangement}-n{atoms}-s{seed}`` (as in earlier reports).
    """
    heo = PARENT_LATTICES[lattice]
    generated = build_substituted_structure(
        lattice,
        heo.cations,
        n_sites,
        arrangement=arrangement,
        seed=seed,
        sqs_method=sqs_method,
        sqs_trials=sqs_trials,
        rattle=rattle,
        a=heo.a_start,
    )
    generated.atoms.info.update(
        name=f"{lattice}-{arrangement}-n{len(generated.atoms)}-s{seed}", formula_target=heo.formula
    )
    return generated
