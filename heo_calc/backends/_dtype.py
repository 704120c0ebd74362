"""Keep each backend's torch default dtype to its own calls.

mace-torch sets ``torch.set_default_dtype(float64)`` for the whole process when a float64
MACE calculator is built, and reads the default dtype again in every ``calculate``;
sevenn builds its input tensors in the default dtype too. With both in one process (a
benchmark of several models, a test session) the second model then fails with "both
inputs should have same dtype". We restore the caller's default after building a
calculator, and run each calculation under the dtype of that calculator's own weights.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from ase.calculators.calculator import Calculator


@contextmanager
def default_dtype(dtype) -> Iterator[None]:
    """Temporarily set torch's default dtype (no-op for ``None``)."""
    if dtype is None:
        yield
        return
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def parameter_dtype(calculator: Calculator):
    """The torch dtype of a backend's weights, or ``None`` when it has no torch model."""
    models = getattr(calculator, "models", None)  # MACECalculator
    model = models[0] if models else getattr(calculator, "model", None)
    parameters = getattr(model, "parameters", None)
    if parameters is None:
        return None
    try:
        return next(parameters()).dtype
    except StopIteration:
        return None


def pin_default_dtype(calculator: Calculator) -> Calculator:
    """Make ``calculator.calculate`` run under the dtype of its weights; returns it."""
    dtype = parameter_dtype(calculator)
    if dtype is None or getattr(calculator, "_heo_dtype_pinned", False):
        return calculator
    calculate = calculator.calculate

    @functools.wraps(calculate)
    def calculate_in_own_dtype(*args, **kwargs):
        with default_dtype(dtype):
            return calculate(*args, **kwargs)

    calculator.calculate = calculate_in_own_dtype
    calculator._heo_dtype_pinned = True
    return calculator
