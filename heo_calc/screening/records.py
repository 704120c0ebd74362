"""Typed records that travel between the screen's modules and into its files.

Units are in the field names: eV, meV per atom, Å, eV/Å, GPa. Missing numbers are NaN in
memory and ``null`` in JSON.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

from heo_calc.status import Status

R = TypeVar("R")


@dataclass(frozen=True)
class ParentRecord:
    """A relaxed single-cation parent (``MgO`` in rock salt, ``Co3O4`` in spinel, ...).

    ``energy_per_site_eV`` is the energy per substituted site, i.e. per formula unit of the
    parent (its cation with the anions and spectators that go with it).
    """

    lattice: str
    cation: str
    formula: str
    calculator: str
    n_atoms: int
    n_sites: int
    status: Status
    converged: bool
    n_steps: int
    energy_eV: float
    energy_per_site_eV: float
    a_pseudo_cubic_A: float
    max_force_spread_eV_per_A: float
    error: str = ""

    @property
    def usable(self) -> bool:
        return self.status != Status.FAILED and math.isfinite(self.energy_per_site_eV)


@dataclass(frozen=True)
class RealizationRecord:
    """One relaxed arrangement (one seed) of one composition."""

    composition: str
    lattice: str
    arrangement: str
    seed: int
    n_sites: int
    n_atoms: int
    status: Status
    converged: bool
    n_steps: int
    energy_eV: float
    energy_per_atom_eV: float
    mixing_energy_meV_per_atom: float
    a_pseudo_cubic_A: float
    a_vegard_A: float
    bond_length_std_A: float
    max_force_spread_eV_per_A: float
    max_stress_GPa: float
    wc_objective: float
    error: str = ""


@dataclass(frozen=True)
class CompositionSummary:
    """A composition over its realizations: means and sample standard deviations (NaN for one).

    Only realizations that did not fail enter the means. ``status``: ``ok`` when every
    realization converged, ``failed`` when none gave a result, ``not_converged`` otherwise.
    """

    composition: str
    formula: str
    lattice: str
    n_cations: int
    status: Status
    n_realizations: int
    n_converged: int
    n_failed: int
    mixing_energy_meV_per_atom_mean: float
    mixing_energy_meV_per_atom_std: float
    energy_per_atom_eV_mean: float
    energy_per_atom_eV_std: float
    a_pseudo_cubic_A_mean: float
    a_pseudo_cubic_A_std: float
    a_vegard_A: float
    a_vegard_deviation_percent: float
    bond_length_std_A_mean: float
    bond_length_std_A_std: float
    n_steps_mean: float
    max_force_spread_eV_per_A_mean: float
    error: str = ""


@dataclass(frozen=True)
class CompositionRecord:
    """What the screen stores per finished composition: the summary and every realization."""

    summary: CompositionSummary
    realizations: list[RealizationRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"summary": as_dict(self.summary), "realizations": [as_dict(r) for r in self.realizations]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompositionRecord:
        return cls(
            from_dict(CompositionSummary, data["summary"]),
            [from_dict(RealizationRecord, r) for r in data["realizations"]],
        )


def as_dict(record: Any) -> dict[str, Any]:
    """A flat record as JSON-ready values: Status as its word, NaN as ``None``."""
    row = {}
    for item in dataclasses.fields(record):
        value = getattr(record, item.name)
        if isinstance(value, Status):
            value = str(value)
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        row[item.name] = value
    return row


def as_row(record: Any) -> dict[str, Any]:
    """A flat record for tables: Status as its word, NaN kept."""
    return {name: str(v) if isinstance(v, Status) else v for name, v in dataclasses.asdict(record).items()}


def from_dict(cls: type[R], data: dict[str, Any]) -> R:
    """The inverse of :func:`as_dict` (``None`` back to NaN for number fields)."""
    values = {}
    for item in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = data.get(item.name)
        if item.type == "Status":
            value = Status(value)
        elif item.type == "float":
            value = float("nan") if value is None else float(value)
        values[item.name] = value
    return cls(**values)
