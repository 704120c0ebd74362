"""The one registry of calculators: entry points of the group ``heo_calc.calculators``.

Every command, benchmark and relaxation obtains its calculator here. A name is either an
entry point (``sevennet-0``, ``heo-ft``, a third party's name) or ``SCHEME:PATH`` for a
local model file (``mace:my.model``, ``sevennet:checkpoint.pth``).
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from ase.calculators.calculator import Calculator

from heo_calc.errors import HEOCalcError, ModelUnavailableError, UnknownCalculatorError

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP: Final = "heo_calc.calculators"

CalculatorFactory = Callable[..., Calculator]


def _path_factories() -> dict[str, CalculatorFactory]:
    from heo_calc.backends.mace import make_mace_from_file
    from heo_calc.backends.sevennet import make_sevennet_from_file

    return {"mace": make_mace_from_file, "sevennet": make_sevennet_from_file}


#: Schemes of ``SCHEME:PATH`` names, for local model files.
PATH_SCHEMES: Final = ("mace", "sevennet")


@dataclass(frozen=True)
class CalculatorStatus:
    """One row of :func:`available_calculators`."""

    name: str
    available: bool
    reason: str
    provider: str

    def as_row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "available": self.available,
            "reason": self.reason,
            "provider": self.provider,
        }


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {
        entry_point.name: entry_point
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    }


def calculator_names() -> list[str]:
    """Names of every registered calculator, sorted."""
    return sorted(_entry_points())


def load_factory(name: str) -> CalculatorFactory:
    """Return the factory registered as ``name`` (imported only now).

    Raises :class:`UnknownCalculatorError` listing the registered names.
    """
    scheme, separator, path = name.partition(":")
    if separator and scheme in PATH_SCHEMES:
        factory = _path_factories()[scheme]

        def path_factory(**kwargs: Any) -> Calculator:
            return factory(path, **kwargs)

        return path_factory
    entry_points = _entry_points()
    if name not in entry_points:
        schemes = ", ".join(f"{s}:PATH" for s in PATH_SCHEMES)
        raise UnknownCalculatorError(
            f"no calculator named {name!r}; registered: {', '.join(sorted(entry_points)) or 'none'} "
            f"(and {schemes} for local model files). Third-party packages add names through the "
            f"entry-point group {ENTRY_POINT_GROUP!r}."
        )
    try:
        return entry_points[name].load()
    except ImportError as error:
        raise ModelUnavailableError(
            f"calculator {name!r} could not be imported ({error}); install the package that provides it"
        ) from error


def get_calculator(name: str, *, device: str = "auto", dtype: str = "float64", **kwargs: Any) -> Calculator:
    """Build the ASE calculator registered as ``name``.

    Args:
        name: a registered name (see :func:`available_calculators`) or ``mace:PATH`` /
            ``sevennet:PATH``.
        device: ``"auto"`` (GPU if visible), ``"cpu"`` or ``"cuda"``.
        dtype: ``"float64"`` or ``"float32"``; models that exist only in float32 run in
            float32 and record it in ``calc.parameters["dtype"]``.
        **kwargs: passed to the backend's calculator.

    Returns:
        The backend's ASE calculator, with provenance in ``calc.parameters``
        (``heo_calc_name``, ``backend``, ``model_file``, ``dtype``, ``versions``).

    Raises:
        UnknownCalculatorError: no such name.
        ModelUnavailableError: the backend or its weights cannot be loaded here
            (:class:`~heo_calc.errors.ModelWeightsNotFoundError` for missing weights).
    """
    from heo_calc.backends._dtype import pin_default_dtype

    factory = load_factory(name)
    previous_default_dtype = _torch_default_dtype()
    try:
        calculator = factory(device=device, dtype=dtype, **kwargs)
    except HEOCalcError:
        raise
    except ImportError as error:
        raise ModelUnavailableError(
            f"calculator {name!r} needs a package that is missing: {error}"
        ) from error
    finally:
        _restore_torch_default_dtype(previous_default_dtype)
    pin_default_dtype(calculator)
    from heo_calc.provenance import stamp_provenance

    stamp_provenance(calculator, name=name, requested_dtype=dtype)
    return calculator


def _torch_default_dtype():
    import sys

    torch = sys.modules.get("torch")
    return torch.get_default_dtype() if torch is not None else None


def _restore_torch_default_dtype(dtype) -> None:
    # mace-torch sets a process-wide default dtype when it builds a calculator
    if dtype is not None:
        import torch

        torch.set_default_dtype(dtype)


def require_available(name: str) -> CalculatorFactory:
    """Return the factory of ``name`` after checking, without loading model weights, that it can load.

    Raises what :func:`load_factory` raises, and the factory's own ``check_available``
    error (e.g. :class:`~heo_calc.errors.ModelWeightsNotFoundError`) where it has one.
    """
    factory = load_factory(name)
    check = getattr(factory, "check_available", None)
    if check is not None:
        check()
    return factory


def calculator_status(name: str) -> CalculatorStatus:
    """Whether ``name`` can be loaded here, and why not, without loading model weights."""
    entry_point = _entry_points().get(name)
    provider = entry_point.dist.name if entry_point is not None and entry_point.dist else "heo-relax"
    try:
        require_available(name)
    except HEOCalcError as error:
        return CalculatorStatus(name, False, str(error), provider)
    except Exception as error:  # a third-party factory may fail in any way; report, don't crash the listing
        return CalculatorStatus(name, False, f"{type(error).__name__}: {error}", provider)
    return CalculatorStatus(name, True, "", provider)


def available_calculators() -> list[CalculatorStatus]:
    """Every registered calculator with whether it can load here and, if not, why."""
    return [calculator_status(name) for name in calculator_names()]
