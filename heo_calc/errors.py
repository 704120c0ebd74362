"""Exceptions of heo_calc; each message names the problem and the fix."""

from __future__ import annotations


class HEOCalcError(Exception):
    """Base class of every error heo_calc raises on purpose."""


class UnknownCalculatorError(HEOCalcError, KeyError):
    """A calculator name that no entry point of ``heo_calc.calculators`` provides."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ModelUnavailableError(HEOCalcError, RuntimeError):
    """A model whose weights or backend package cannot be loaded where it runs."""


class ModelWeightsNotFoundError(ModelUnavailableError, FileNotFoundError):
    """Model weights that are neither on disk nor downloadable (e.g. offline)."""


class InvalidStructureError(HEOCalcError, ValueError):
    """A structure a potential cannot be evaluated on (not periodic, NaN, overlapping atoms)."""


class UnsupportedElementsError(InvalidStructureError):
    """A structure holding elements the model was not trained on."""

    def __init__(self, elements: list[str], model: str, supported: list[str] | None = None) -> None:
        self.elements = sorted(elements)
        self.model = model
        hint = f"; it covers {len(supported)} elements" if supported else ""
        super().__init__(
            f"model {model!r} does not cover element(s) {', '.join(self.elements)}{hint}. "
            "Choose another calculator (`heo-calc list`) or finetune one on data with these elements."
        )


class CompositionError(HEOCalcError, ValueError):
    """A cation set or cell that cannot be built as asked (unknown element, repeated cation, not equimolar)."""


class ResumeMismatchError(HEOCalcError, ValueError):
    """``--resume`` on an output folder whose run had another base model, other data or another recipe."""
