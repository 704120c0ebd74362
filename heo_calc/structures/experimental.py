"""Measured lattice parameters and bulk moduli, each with its citation: the one table of the package.

Keys are the names the studies give their structures: binary oxides by formula (``MgO``),
rock-salt solid solutions as :func:`heo_calc.structures.solid_solutions.solid_solution_name`
writes them (``(Mg,Co,Ni,Cu,Zn)O``, cations in the order of the study). The forgetting report
(``a_exp_A``), the benchmark suite (``a_exp_A``, ``a_exp_citation``) and the
default lattice parameter of :func:`heo_calc.structures.rocksalt_heo_supercell` all read it.
A material without an entry has no measured value here: no number without a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class ExperimentalLattice:
    """A measured (room-temperature) lattice parameter ``a`` (Å) and where it was published."""

    a: float
    citation: str
    note: str = ""


#: Where the binary oxides' values come from.
WYCKOFF: Final = (
    "standard room-temperature XRD values as given in the project's issue tracker "
    "(e.g. Wyckoff, Crystal Structures, vol. 1, 1963)"
)

#: The entropy-stabilised rock-salt oxide.
ROST: Final = "Rost et al., Nat. Commun. 6, 8485 (2015)"

#: The five-cation rock-salt HEO, under the name the forgetting report gives it.
ROCKSALT_HEO: Final = "(Mg,Co,Ni,Cu,Zn)O"

#: Measured lattice parameters (Å) with citations, by material.
EXPERIMENTAL_LATTICES: Final[dict[str, ExperimentalLattice]] = {
    "MgO": ExperimentalLattice(4.212, WYCKOFF),
    "NiO": ExperimentalLattice(4.177, WYCKOFF),
    "CoO": ExperimentalLattice(4.26, WYCKOFF),
    "MnO": ExperimentalLattice(4.445, WYCKOFF),
    "CaO": ExperimentalLattice(4.81, WYCKOFF),
    ROCKSALT_HEO: ExperimentalLattice(
        4.22,
        ROST,
        note="XRD of the entropy-stabilised single phase; ~4.22-4.24 Å is reported across studies",
    ),
}


@dataclass(frozen=True)
class ExperimentalBulkModulus:
    """A measured (room-temperature) bulk modulus ``b`` (GPa) and where it comes from."""

    b: float
    citation: str


#: Where the binary oxides' bulk moduli come from.
BULK_MODULI_SOURCE: Final = (
    "room-temperature values, approximate, as given in the project's issue tracker (#28); "
    "ultrasonic and static-compression studies spread by ~5 % (for MgO e.g. Zha, Mao and Hemley, "
    "PNAS 97, 13494 (2000): 160 GPa)"
)

#: Measured bulk moduli (GPa) with their source, by material: the stiffness check (K) of heo-ft 0.4.
EXPERIMENTAL_BULK_MODULI: Final[dict[str, ExperimentalBulkModulus]] = {
    "MgO": ExperimentalBulkModulus(160.0, BULK_MODULI_SOURCE),
    "CaO": ExperimentalBulkModulus(112.0, BULK_MODULI_SOURCE),
    "MnO": ExperimentalBulkModulus(149.0, BULK_MODULI_SOURCE),
    "CoO": ExperimentalBulkModulus(185.0, BULK_MODULI_SOURCE),
    "NiO": ExperimentalBulkModulus(191.0, BULK_MODULI_SOURCE),
}


def experimental_bulk_modulus(material: str) -> float:
    """The measured bulk modulus (GPa) of ``material`` where one is recorded, else NaN."""
    entry = EXPERIMENTAL_BULK_MODULI.get(material)
    return entry.b if entry is not None else float("nan")


def experimental_lattice(material: str) -> ExperimentalLattice | None:
    """The measured lattice parameter of ``material`` with its citation, or ``None`` where none is recorded."""
    return EXPERIMENTAL_LATTICES.get(material)


def experimental_lattice_parameter(material: str) -> float:
    """The measured lattice parameter (Å) of ``material`` where one is recorded, else NaN."""
    entry = experimental_lattice(material)
    return entry.a if entry is not None else float("nan")
