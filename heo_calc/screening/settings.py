"""What a screen was asked to do: one frozen record, stored with its results and compared on ``--resume``."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

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
        fmax: force threshold (eV/Å; with the cell filter also on the virial per atom).
        max_steps: optimizer steps per relaxation.
        optimizer: ``lbfgs``, ``ase-lbfgs``, ``bfgs`` or ``fire``.
        rattle: Gaussian displacement (Å) of every atom of every starting cell, parents included.
        sqs_trials: swap-search trials per SQS.
        device: ``auto``, ``cpu`` or ``cuda`` (on a cluster: decided by each worker).
    """

    lattice: str
    calculator: str
    realizations: int = 3
    arrangement: Arrangement = "sqs"
    seed: int = 0
    sites: int | None = None
    fmax: float = 0.05
    max_steps: int = 500
    optimizer: str = "lbfgs"
    rattle: float = 0.05
    sqs_trials: int = 2000
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.realizations < 1:
            raise ValueError(f"--realizations must be at least 1, got {self.realizations}")
        if not 0 <= self.rattle < math.inf:
            raise ValueError(f"--rattle must be a finite number >= 0 Å, got {self.rattle}")
        if not 0 < self.fmax < math.inf:
            raise ValueError(f"--fmax must be a finite number > 0 eV/Å, got {self.fmax}")
        if self.max_steps < 0:
            raise ValueError(f"--steps must be >= 0, got {self.max_steps}")

    @property
    def seeds(self) -> range:
        return range(self.seed, self.seed + self.realizations)

    def relax_options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~heo_calc.relax.relax_many` that these settings fix."""
        return {
            "fmax": self.fmax,
            "max_steps": self.max_steps,
            "optimizer": self.optimizer,
            "device": self.device,
        }

    def decisive(self) -> dict[str, Any]:
        """What must match for ``--resume`` to continue a screen (everything but the device)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "device"}
