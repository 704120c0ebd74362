"""CHGNet 0.3.0, whose weights ship inside the chgnet wheel."""

from __future__ import annotations

from ase.calculators.calculator import Calculator

from heo_calc.backends._common import require_float32, require_package, resolve_device

CHGNET_MODEL_VERSION = "0.3.0"


def make_chgnet(*, device: str = "auto", dtype: str = "float64", **kwargs) -> Calculator:
    """CHGNet 0.3.0 as an ASE calculator (float32).

    Its energies are MP2020-corrected (eV), so compare them with DFT only after a
    per-element reference fit (see :mod:`heo_calc.metrics`).
    """
    require_float32(dtype, "chgnet")
    require_package("chgnet", "chgnet==0.4.2", "chgnet")
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    model = CHGNet.load(model_name=CHGNET_MODEL_VERSION, use_device="cpu", verbose=False)
    return CHGNetCalculator(model=model, use_device=resolve_device(device), **kwargs)


def _check_available() -> None:
    require_package("chgnet", "chgnet==0.4.2", "chgnet")


make_chgnet.check_available = _check_available  # type: ignore[attr-defined]
