"""Names every package shares as types: where a model runs, which parent lattice, which relaxation engine.

One place for these ``Literal`` aliases, so that a signature in ``heo_calc`` and an option in
``benchmark_suite`` accept the same words (and a type checker says so). ``get_args`` of each
alias gives its words at run time, for ``argparse`` choices and error messages.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

#: Where a model runs: ``auto`` (a GPU when one is visible, else the CPU), ``cpu`` or ``cuda``.
Device = Literal["auto", "cpu", "cuda"]

#: The cubic parent lattices of the HEOs this package builds and screens.
LatticeType = Literal["rocksalt", "spinel", "fluorite", "perovskite"]

#: How the benchmark relaxes: ``fast`` (the relaxation engine's own choice: lock-step batches
#: on a GPU, one after another on a CPU) or ``sequential`` (the plain one-at-a-time ASE loop).
RelaxEngineName = Literal["fast", "sequential"]

DEVICES: Final[tuple[str, ...]] = get_args(Device)
LATTICES: Final[tuple[str, ...]] = get_args(LatticeType)
RELAX_ENGINES: Final[tuple[str, ...]] = get_args(RelaxEngineName)


def check_device(device: str) -> str:
    """``device`` if it is one of :data:`DEVICES`, else a ValueError naming the choices."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    return device
