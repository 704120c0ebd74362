"""CHGNet 0.3.0, whose weights ship inside the chgnet wheel.

chgnet is optional (``pip install 'heo-relax[chgnet]'``): without it the ``chgnet`` entry point
still imports, ``heo-calc list`` shows it unavailable with that hint, and building it raises
:class:`~heo_calc.errors.ModelUnavailableError` with the same hint.
"""

from __future__ import annotations

from pathlib import Path

from ase.calculators.calculator import Calculator

from heo_calc.backends._common import float32_only, require_package, resolve_device
from heo_calc.backends.capabilities import Capabilities, declare

CHGNET_MODEL_VERSION = "0.3.0"
#: The optional-dependency group of heo-relax that installs chgnet.
CHGNET_EXTRA = "chgnet"
#: CHGNet's element embedding spans Z = 1..94.
_CHGNET_MAX_Z = 94

CAPABILITIES = Capabilities(
    backend="chgnet",
    dtype="float32",
    covered_numbers=lambda calculator: frozenset(range(1, _CHGNET_MAX_Z + 1)),
)


def chgnet_weights_path(version: str = CHGNET_MODEL_VERSION) -> Path | None:
    """The weights file of CHGNet ``version`` inside the installed chgnet package, or ``None`` if absent.

    Found without importing chgnet (its import costs seconds): ``chgnet/pretrained/<version>/*.pth.tar``.
    """
    import importlib.util

    spec = importlib.util.find_spec("chgnet")
    if spec is None or not spec.submodule_search_locations:
        return None
    directory = Path(next(iter(spec.submodule_search_locations))) / "pretrained" / version
    files = sorted(directory.glob("*.pth.tar"))
    return files[0] if files else None


def make_chgnet(*, device: str = "auto", dtype: str = "float64", **kwargs) -> Calculator:
    """CHGNet 0.3.0 as an ASE calculator (float32).

    Its energies are MP2020-corrected (eV), so compare them with DFT only after a
    per-element reference fit (see :mod:`heo_calc.evaluation`).
    """
    float32_only(dtype, "chgnet")
    require_package("chgnet", "chgnet", "chgnet", extra=CHGNET_EXTRA)
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    model = CHGNet.load(model_name=CHGNET_MODEL_VERSION, use_device="cpu", verbose=False)
    return declare(CHGNetCalculator(model=model, use_device=resolve_device(device), **kwargs), CAPABILITIES)


def _check_available() -> None:
    require_package("chgnet", "chgnet", "chgnet", extra=CHGNET_EXTRA)


make_chgnet.check_available = _check_available  # type: ignore[attr-defined]
