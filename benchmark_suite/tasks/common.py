"""What every task module shares: the result record, single-point energies and relaxation columns.

Nothing here raises for a bad model: failures become NaN values or rows with
``status="failed"``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_base.types import RELAX_ENGINES, RelaxEngineName
from heo_calc.model import ModelHandle
from heo_calc.relax.single import RelaxOptions
from heo_calc.status import Status

__all__ = [
    "ReferenceFit",
    "TaskResult",
    "engine_strategy",
    "relax",
    "relaxation_columns",
    "single_point_energy",
    "validator",
]


@dataclass(frozen=True)
class ReferenceFit:
    """The per-element energy reference fitted for the accuracy task (one calculator; offsets in eV)."""

    description: str
    n_fit: int
    offsets_eV: dict[str, float] = field(default_factory=dict)


@dataclass
class TaskResult:
    """One task for one calculator: rows (one per structure) and what is not per structure.

    ``wall_time_s`` is the task's elapsed time (structures of a batched relaxation overlap,
    so it is not the sum of the rows' ``wall_time_s``); ``arrays`` holds parity-plot data
    (accuracy: per-atom force components); ``reference_fit`` the accuracy task's energy reference.
    """

    task: str
    calculator: str
    rows: pd.DataFrame
    wall_time_s: float = 0.0
    arrays: dict[str, list[float]] = field(default_factory=dict)
    reference_fit: ReferenceFit | None = None

    @property
    def n_failed(self) -> int:
        return int((self.rows["status"] == Status.FAILED).sum()) if len(self.rows) else 0


def validator(calculator: Calculator) -> Callable[[Atoms], None]:
    """A check that raises for a structure with elements ``calculator`` does not cover."""
    from heo_calc.backends.capabilities import covered_atomic_numbers
    from heo_calc.validation import check_structure

    supported = covered_atomic_numbers(calculator)

    def validate(atoms: Atoms) -> None:
        check_structure(atoms, supported_numbers=supported)

    return validate


def single_point_energy(calculator: Calculator | None, atoms: Atoms) -> tuple[float, str]:
    """Single-point energy (eV) and '' or the error; never raises (no calculator: NaN, '')."""
    if calculator is None:
        return float("nan"), ""
    from heo_calc.calculator import evaluate_properties

    try:
        energy = float(evaluate_properties(calculator, atoms, ())["energy"])
    except Exception as error:  # a bad model or structure gives NaN, not a crash
        return float("nan"), f"{type(error).__name__}: {error}"
    return (energy, "") if np.isfinite(energy) else (float("nan"), "non-finite energy")


def engine_strategy(engine: RelaxEngineName | str) -> str:
    """The :func:`heo_calc.relax_many` strategy of a benchmark relax engine.

    ``fast``: the engine's own choice (lock-step batches on a GPU, in this process on a
    CPU); ``sequential``: one structure after another.
    """
    if engine not in RELAX_ENGINES:
        raise ValueError(f"unknown relax engine {engine!r}; choose {' or '.join(RELAX_ENGINES)}")
    return "auto" if engine == "fast" else "sequential"


def relax(
    model: ModelHandle | Calculator,
    structures: Sequence[Atoms],
    *,
    engine: RelaxEngineName | str,
    options: RelaxOptions,
) -> list[Any]:
    """Relax ``structures`` with ``options`` (:class:`~heo_calc.relax.RelaxOptions`); one RelaxResult each."""
    from heo_calc.relax import relax_many

    return relax_many(list(structures), model, options, strategy=engine_strategy(engine), progress=False)


def relaxation_columns(result: Any) -> dict[str, Any]:
    """Columns every relaxation row has, from a :class:`heo_calc.relax.RelaxResult`.

    ``max_force`` in eV/Å, ``max_stress_gpa`` in GPa, ``wall_time_s`` in s.
    """
    return {
        "status": str(result.status),
        "converged": bool(result.converged),
        "steps": int(result.n_steps),
        "max_force": result.max_force,
        "max_stress_gpa": result.max_stress_gpa,
        "wall_time_s": result.wall_time_s,
        "error": result.error or "",
    }
