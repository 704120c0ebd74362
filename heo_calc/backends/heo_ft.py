"""``heo-ft`` and ``heo-ft-l3i5``: SevenNet models finetuned on HEO DFT data; their weights ship inside this package.

``heo-ft`` (the default of :class:`~heo_calc.calculator.HEOCalculator`) is SevenNet-0
finetuned; ``heo-ft-l3i5`` is the larger SevenNet-l3i5 finetuned on the same split: more
accurate on held-out HEOs, about 2.6x slower per call (``heo_calc/models/MODEL_CARD.md``).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ase.calculators.calculator import Calculator

from heo_calc.errors import ModelWeightsNotFoundError

#: Shipped finetuned models: registry name -> (weights file, metadata file) in heo_calc/models.
SHIPPED_MODELS: dict[str, tuple[str, str]] = {
    "heo-ft": ("heo-ft.pth", "heo-ft.json"),
    "heo-ft-l3i5": ("heo-ft-l3i5.pth", "heo-ft-l3i5.json"),
}


def _model_file(name: str, index: int) -> Path:
    if name not in SHIPPED_MODELS:
        raise KeyError(f"no shipped model {name!r}; shipped: {', '.join(SHIPPED_MODELS)}")
    return Path(str(resources.files("heo_calc.models").joinpath(SHIPPED_MODELS[name][index])))


def heo_ft_weights_path(name: str = "heo-ft") -> Path:
    """Path of a shipped finetuned checkpoint (``heo_calc/models/<name>.pth``)."""
    return _model_file(name, 0)


def heo_ft_metadata(name: str = "heo-ft") -> dict[str, Any]:
    """The model card's machine-readable part: base model, data, split, metrics."""
    path = _model_file(name, 1)
    return json.loads(path.read_text()) if path.is_file() else {}


def _shipped_factory(name: str):
    def check_available() -> None:
        if not heo_ft_weights_path(name).is_file():
            raise ModelWeightsNotFoundError(
                f"the finetuned model {name!r} is not in this installation ({heo_ft_weights_path(name)} is "
                "missing). Reinstall heo-relax from a release that ships it, or use 'sevennet-0' meanwhile."
            )

    def factory(*, device: str = "auto", dtype: str = "float64", **kwargs) -> Calculator:
        from heo_calc.backends.sevennet import make_sevennet_from_file

        check_available()
        return make_sevennet_from_file(heo_ft_weights_path(name), device=device, dtype=dtype, **kwargs)

    factory.__doc__ = f"The shipped finetuned model {name!r} as an ASE calculator (float32; eV, eV/Å)."
    factory.check_available = check_available  # type: ignore[attr-defined]
    return factory


make_heo_ft = _shipped_factory("heo-ft")
make_heo_ft_l3i5 = _shipped_factory("heo-ft-l3i5")
