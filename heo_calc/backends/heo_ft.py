"""``heo-ft``: SevenNet-0 finetuned on HEO DFT data; its weights ship inside this package."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator

from heo_calc.errors import ModelWeightsNotFoundError

HEO_FT_WEIGHTS_NAME = "heo-ft.pth"
HEO_FT_METADATA_NAME = "heo-ft.json"


def heo_ft_weights_path() -> Path:
    """Path of the shipped ``heo-ft`` checkpoint (``heo_calc/models/heo-ft.pth``)."""
    return Path(str(resources.files("heo_calc.models").joinpath(HEO_FT_WEIGHTS_NAME)))


def heo_ft_metadata() -> dict[str, Any]:
    """The model card's machine-readable part: base model, data, split, metrics."""
    path = Path(str(resources.files("heo_calc.models").joinpath(HEO_FT_METADATA_NAME)))
    return json.loads(path.read_text()) if path.is_file() else {}


def _check_available() -> None:
    if not heo_ft_weights_path().is_file():
        raise ModelWeightsNotFoundError(
            f"the finetuned model 'heo-ft' is not in this installation ({heo_ft_weights_path()} is missing). "
            "Reinstall heo-relax from a release that ships it, or use 'sevennet-0' meanwhile."
        )


def make_heo_ft(*, device: str = "auto", dtype: str = "float64", **kwargs) -> Calculator:
    """The shipped finetuned HEO model as an ASE calculator (float32; eV, eV/Å)."""
    from heo_calc.backends.sevennet import make_sevennet_from_file

    _check_available()
    return make_sevennet_from_file(heo_ft_weights_path(), device=device, dtype=dtype, **kwargs)


make_heo_ft.check_available = _check_available  # type: ignore[attr-defined]
