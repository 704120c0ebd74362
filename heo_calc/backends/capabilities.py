"""What each backend's calculators can do, declared in one place per backend module.

Every backend module defines one :class:`Capabilities` and its factories stamp it on the
calculators they build (:func:`declare`). The engine reads it (:func:`capabilities_of`)
to check element coverage before evaluating and to pick a batched evaluator for lock-step
relaxation; one conformance test runs every registered entry point against its
declaration (``tests/test_backend_conformance.py``). A calculator without a declaration
(any third-party ASE calculator) is evaluated one structure at a time with no coverage
check: the model itself then decides what it accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from ase import Atoms
from ase.calculators.calculator import Calculator

#: (structures) -> one dict of energy (eV), forces (eV/Å, (N, 3)), stress (eV/Å^3, Voigt 6) each.
BatchEvaluator = Callable[[Sequence[Atoms]], list[dict[str, Any]]]

#: Attribute under which a calculator carries its backend's declaration.
ATTRIBUTE: Final = "heo_capabilities"

#: Uncertainty results a committee adds (:mod:`heo_calc.committee`): ``energy_std`` (eV) and
#: ``forces_std`` (eV/Å, one value per atom). Evaluations and relaxations pass them on where present.
SPREAD_PROPERTIES: Final = ("energy_std", "forces_std")


@dataclass(frozen=True)
class Capabilities:
    """A backend's declaration.

    Attributes:
        backend: short name of the backend family (``sevennet``, ``mace``, ``chgnet``, ...).
        dtype: dtype its models run in (``float32``; ``float64`` for MACE by default).
        covered_numbers: the atomic numbers a built calculator's model was trained on,
            read from the calculator (``None`` if it cannot tell).
        batch_evaluator: builds a :data:`BatchEvaluator` that evaluates many structures
            in one model call, or ``None`` when the backend cannot batch.
        computes_stress: whether it returns the stress (eV/Å^3).
    """

    backend: str
    dtype: Literal["float32", "float64"]
    covered_numbers: Callable[[Calculator], frozenset[int] | None]
    batch_evaluator: Callable[[Calculator], BatchEvaluator] | None = None
    computes_stress: bool = True


def declare(calculator: Calculator, capabilities: Capabilities) -> Calculator:
    """Stamp ``capabilities`` on ``calculator``; returns it."""
    setattr(calculator, ATTRIBUTE, capabilities)
    return calculator


def backend_of(calculator: Calculator) -> Calculator:
    """The backend calculator behind a wrapper (:class:`~heo_calc.calculator.HEOCalculator`), else itself."""
    return getattr(calculator, "backend", calculator)


def capabilities_of(calculator: Calculator) -> Capabilities | None:
    """The declaration of ``calculator`` (or of the backend a wrapper holds), if any."""
    return getattr(backend_of(calculator), ATTRIBUTE, None)


def covered_atomic_numbers(calculator: Calculator) -> frozenset[int] | None:
    """Atomic numbers ``calculator``'s model covers, or ``None`` when its backend does not say."""
    capabilities = capabilities_of(calculator)
    return capabilities.covered_numbers(backend_of(calculator)) if capabilities is not None else None


def batch_evaluator_of(calculator: Calculator) -> BatchEvaluator | None:
    """A batched evaluator for ``calculator`` when its backend declares one, else ``None``."""
    capabilities = capabilities_of(calculator)
    if capabilities is None or capabilities.batch_evaluator is None:
        return None
    return capabilities.batch_evaluator(backend_of(calculator))
