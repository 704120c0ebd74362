"""SevenNet calculators: SevenNet-0 and l3i5 (weights inside the sevenn wheel) and local files."""

from __future__ import annotations

import os
from pathlib import Path

from ase.calculators.calculator import Calculator

from heo_calc.backends._common import require_float32, require_package, resolve_device
from heo_calc.errors import ModelWeightsNotFoundError

#: Our names mapped to the model keywords sevenn resolves to files inside its wheel.
SEVENNET_KEYWORDS: dict[str, str] = {"sevennet-0": "7net-0", "sevennet-l3i5": "7net-l3i5"}


def import_sevenn_calculator():
    """Import ``SevenNetCalculator``, allowing exactly the ``slice`` global weights-only loading needs.

    e3nn 0.4.4 (imported by sevenn) and sevenn 0.10.4 checkpoints pickle ``slice`` objects,
    which torch >= 2.6 refuses under weights-only ``torch.load``; we allow only that builtin.
    """
    require_package("sevenn", "sevenn==0.10.4", "sevennet")
    import torch

    torch.serialization.add_safe_globals([slice])
    from sevenn.sevennet_calculator import SevenNetCalculator

    return SevenNetCalculator


def make_sevennet_from_file(
    path: str | os.PathLike, *, device: str = "auto", dtype: str = "float32", **kwargs
) -> Calculator:
    """An ASE calculator for a sevenn checkpoint file (``.pth``); energies eV, forces eV/Å."""
    checkpoint = Path(path).expanduser()
    if not checkpoint.is_file():
        raise ModelWeightsNotFoundError(
            f"SevenNet checkpoint {checkpoint} does not exist; pass an existing .pth file"
        )
    require_float32(dtype, "sevennet")
    calculator_class = import_sevenn_calculator()
    return calculator_class(str(checkpoint), device=resolve_device(device), **kwargs)


def _make_shipped(name: str):
    def factory(*, device: str = "auto", dtype: str = "float64", **kwargs) -> Calculator:
        require_float32(dtype, name)
        calculator_class = import_sevenn_calculator()
        return calculator_class(SEVENNET_KEYWORDS[name], device=resolve_device(device), **kwargs)

    def check_available() -> None:
        require_package("sevenn", "sevenn==0.10.4", name)

    factory.__doc__ = f"{name} (weights ship inside the sevenn wheel) as an ASE calculator; float32."
    factory.check_available = check_available  # type: ignore[attr-defined]
    return factory


make_sevennet_0 = _make_shipped("sevennet-0")
make_sevennet_l3i5 = _make_shipped("sevennet-l3i5")
