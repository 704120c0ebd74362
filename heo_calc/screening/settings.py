"""What a screen was asked to do: one frozen record, stored with its results and compared on ``--resume``."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from heo_base.types import Device, LatticeType
from heo_calc.relax.single import RelaxOptions
from heo_calc.structures.substituted import Arrangement


@dataclass(frozen=True)
class ScreenSettings:
    """The settings that decide a screen's numbers (the cluster it ran on does not).

    Attributes:
        lattice: ``rocksalt``, ``spinel``, ``fluorite`` or ``perovskite``.
        calculator: a registry name (``heo-ft``, ``sevennet-0``, ``mace:file.model``).
        realizations: arrangements per composition, seeds ``seed`` ... ``seed + realizations - 1``.
        arrangement: ``sqs`` (swap search on Warren-Cowley parameters) or ``random``.
        seed: first seed.
        sites: cation sites per supercell for every composition, or ``None`` (per composition:
            the smallest exactly equimolar cell at or above the lattice's default size).
        relax: how every cell (parents included) is relaxed: ``fmax`` (eV/Å; with the cell
            filter also on the virial per atom), ``max_steps``, ``optimizer``...
        rattle: Gaussian displacement (Å) of every atom of every starting cell, parents included.
        sqs_trials: swap-search trials per SQS.
        device: ``auto``, ``cpu`` or ``cuda`` (on a cluster: decided by each worker).
    """

    #: Records written before the settings held a :class:`RelaxOptions` lack some of its
    #: fields; those screens used the defaults (:meth:`heo_calc.run_folder.RunFolder.check`).
    implied_by_older_records: ClassVar[dict[str, Any]] = RelaxOptions().decisive()

    lattice: LatticeType
    calculator: str
    realizations: int = 3
    arrangement: Arrangement = "sqs"
    seed: int = 0
    sites: int | None = None
    relax: RelaxOptions = RelaxOptions()
    rattle: float = 0.05
    sqs_trials: int = 2000
    device: Device = "auto"

    def __post_init__(self) -> None:
        if self.realizations < 1:
            raise ValueError(f"--realizations must be at least 1, got {self.realizations}")
        if not 0 <= self.rattle < math.inf:
            raise ValueError(f"--rattle must be a finite number >= 0 Å, got {self.rattle}")

    @property
    def seeds(self) -> range:
        return range(self.seed, self.seed + self.realizations)

    def decisive(self) -> dict[str, Any]:
        """What must match for ``--resume`` to continue a screen: everything but the device, the relaxation options flattened."""
        recorded = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("device", "relax")
        }
        return {**recorded, **self.relax.decisive()}
