"""Helpers shared by the backend factories: device choice and model-file lookup."""

from __future__ import annotations

import os
from pathlib import Path

from heo_calc.errors import ModelUnavailableError

#: Environment variable naming a directory searched first for model files.
MODEL_DIR_ENV = "HEO_CALC_MODEL_DIR"


def resolve_device(device: str) -> str:
    """Map ``"auto"`` to ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def user_model_dir() -> Path | None:
    """The directory named by ``$HEO_CALC_MODEL_DIR``, if set."""
    value = os.environ.get(MODEL_DIR_ENV)
    return Path(value).expanduser() if value else None


def require_package(
    module: str, distribution: str, calculator_name: str, *, extra: str | None = None
) -> None:
    """Raise :class:`ModelUnavailableError` with an install hint if ``module`` is missing.

    ``extra`` names the optional-dependency group of heo-relax that installs it (``chgnet``):
    the hint is then ``pip install 'heo-relax[EXTRA]'``, short enough for one row of
    ``heo-calc list``. Without it the package is a dependency of heo-relax that went missing.
    """
    import importlib.util

    if importlib.util.find_spec(module) is not None:
        return
    if extra is not None:
        raise ModelUnavailableError(
            f"calculator {calculator_name!r} needs {distribution} (not installed): "
            f"pip install 'heo-relax[{extra}]'"
        )
    raise ModelUnavailableError(
        f"calculator {calculator_name!r} needs the package {distribution!r}, a dependency of heo-relax that "
        f"is not installed; install it with `pip install '{distribution}'` (reinstalling heo-relax does too)"
    )


def float32_only(dtype: str, calculator_name: str) -> str:
    """The dtype of a backend whose models exist in float32 only: always ``"float32"``.

    ``float64`` (the registry-wide default) and ``auto`` are accepted and mean float32 for
    these models, which record it in their provenance; anything else is rejected clearly.
    """
    if dtype in ("float32", "auto", "float64"):
        return "float32"
    raise ValueError(f"calculator {calculator_name!r} supports dtype 'float32' only, got {dtype!r}")
