"""heo_calc: ASE calculators for high-entropy oxides, a registry of potentials, relaxation and finetuning.

>>> from heo_calc import HEOCalculator
>>> atoms.calc = HEOCalculator()          # the shipped finetuned model, offline
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "HEOCalculator",
    "ModelHandle",
    "RelaxOptions",
    "RelaxResult",
    "available_calculators",
    "get_calculator",
    "open_model",
    "relax_many",
]

# Lazy attributes keep `import heo_calc` (and `heo-calc --help`) free of torch imports.
_LAZY = {
    "HEOCalculator": "heo_calc.calculator",
    "available_calculators": "heo_calc.registry",
    "get_calculator": "heo_calc.registry",
    "relax_many": "heo_calc.relax",
    "RelaxOptions": "heo_calc.relax",
    "RelaxResult": "heo_calc.relax",
    "open_model": "heo_calc.model",
    "ModelHandle": "heo_calc.model",
}

if TYPE_CHECKING:
    from heo_calc.calculator import HEOCalculator
    from heo_calc.model import ModelHandle, open_model
    from heo_calc.registry import available_calculators, get_calculator
    from heo_calc.relax import RelaxOptions, RelaxResult, relax_many


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'heo_calc' has no attribute {name!r}")
