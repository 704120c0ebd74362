"""MACE calculators: the MACE-MP-0 foundation family and any local ``.model`` file."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ase.calculators.calculator import Calculator

from heo_calc.backends._common import MODEL_DIR_ENV, require_package, resolve_device, user_model_dir
from heo_calc.backends.capabilities import Capabilities, declare
from heo_calc.errors import ModelUnavailableError, ModelWeightsNotFoundError

logger = logging.getLogger(__name__)

#: Our calculator names mapped to the keys of ``mace.calculators.foundations_models.mace_mp_urls``.
MACE_FOUNDATIONS: dict[str, str] = {
    "mace-mp0": "medium",
    "mace-mp0-small": "small",
    "mace-mp0-large": "large",
    "mace-omat": "medium-omat-0",
}

#: Download URLs of those keys, as mace-torch 0.3.16's ``mace_mp_urls`` gives them. Kept here
#: so that listing calculators never imports mace-torch (seconds of imports, third-party
#: warnings, and a process-wide ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``); a test checks the
#: table against mace-torch's own.
MACE_FOUNDATION_URLS: dict[str, str] = {
    "small": "https://github.com/ACEsuit/mace-mp/releases/download/mace_mp_0/2023-12-10-mace-128-L0_energy_epoch-249.model",
    "medium": "https://github.com/ACEsuit/mace-mp/releases/download/mace_mp_0/2023-12-03-mace-128-L1_epoch-199.model",
    "large": "https://github.com/ACEsuit/mace-mp/releases/download/mace_mp_0/MACE_MPtrj_2022.9.model",
    "medium-omat-0": "https://github.com/ACEsuit/mace-mp/releases/download/mace_omat_0/mace-omat-0-medium.model",
}

#: Set to 1 to never attempt a download (e.g. on cluster nodes without network).
OFFLINE_ENV = "HEO_CALC_OFFLINE"


def mace_cache_dir() -> Path:
    """mace-torch's download cache, as its ``get_cache_dir`` computes it: ``$XDG_CACHE_HOME/mace`` or ``~/.cache/mace``."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mace"


def mace_foundation_file_name(name: str) -> tuple[str, str]:
    """Return (file name, download URL) of a MACE foundation model name such as ``mace-mp0``."""
    key = MACE_FOUNDATIONS.get(name, name)
    if key not in MACE_FOUNDATION_URLS:
        known = ", ".join(sorted(MACE_FOUNDATIONS))
        raise ModelUnavailableError(f"unknown MACE foundation model {name!r}; known names: {known}")
    url = MACE_FOUNDATION_URLS[key]
    return os.path.basename(url), url


def candidate_dirs() -> list[Path]:
    """Directories searched for foundation model files, in order."""
    dirs = [user_model_dir()] if user_model_dir() else []
    return [*dirs, mace_cache_dir()]


def resolve_mace_model_file(name_or_path: str | os.PathLike, *, allow_download: bool | None = None) -> Path:
    """Find the file of a MACE model given a foundation name (``mace-mp0``) or a path.

    Looks in ``$HEO_CALC_MODEL_DIR`` and mace's cache, then lets mace download it (unless
    ``$HEO_CALC_OFFLINE=1``). Raises :class:`ModelWeightsNotFoundError` naming the file,
    where it was looked for and how to supply it.
    """
    candidate = Path(name_or_path).expanduser()
    if str(name_or_path) not in MACE_FOUNDATIONS and (candidate.suffix or os.sep in str(name_or_path)):
        if not candidate.is_file():
            raise ModelWeightsNotFoundError(
                f"MACE model file {candidate} does not exist; pass an existing .model file"
            )
        return candidate
    file_name, url = mace_foundation_file_name(str(name_or_path))
    searched = candidate_dirs()
    for directory in searched:
        if (directory / file_name).is_file():
            return directory / file_name
    if allow_download is None:
        allow_download = os.environ.get(OFFLINE_ENV, "0") not in ("1", "true", "yes")
        failure = f"downloads are disabled by ${OFFLINE_ENV}"
    else:
        failure = "it has not been downloaded yet (get_calculator tries the download on first use)"
    if allow_download:
        require_package("mace", "mace-torch", "mace")
        from mace.calculators import foundations_models

        try:
            key = MACE_FOUNDATIONS.get(str(name_or_path), str(name_or_path))
            return Path(foundations_models.download_mace_mp_checkpoint(key))
        except Exception as error:  # urllib, ssl and mace raise many types when offline
            failure = f"the download failed ({type(error).__name__}: {error})"
    where = ", ".join(str(d) for d in searched)
    raise ModelWeightsNotFoundError(
        f"MACE weights {file_name!r} for {name_or_path!r} are not available: not found in {where}, and "
        f"{failure}. Download {url} on a machine with internet and put the file in ${MODEL_DIR_ENV} "
        f"(or mace's cache {searched[-1]}), or use a calculator whose weights ship with its package "
        "(`heo-calc list`)."
    )


def make_mace_from_file(
    path: str | os.PathLike, *, device: str = "auto", dtype: str = "float64", **kwargs
) -> Calculator:
    """An ASE calculator for a local MACE ``.model`` file (energies eV, forces eV/Å)."""
    model_file = resolve_mace_model_file(path)
    return _mace_calculator(model_file, device=device, dtype=dtype, **kwargs)


def _covered_numbers(calculator: Calculator) -> frozenset[int] | None:
    z_table = getattr(calculator, "z_table", None)
    return frozenset(int(z) for z in z_table.zs) if z_table is not None else None


CAPABILITIES = Capabilities(backend="mace", dtype="float64", covered_numbers=_covered_numbers)


def _mace_calculator(model_file: Path, *, device: str, dtype: str, **kwargs) -> Calculator:
    """mace-torch's calculator for a ``.model`` file.

    A MACE ``.model`` file is a whole pickled ``torch.nn.Module`` by mace-torch's design, and
    mace-torch unpickles it in full: load only model files you trust (the foundation models
    from mace-torch's release URLs, or your own finetunes).
    """
    require_package("mace", "mace-torch", "mace")
    from mace.calculators import MACECalculator

    calculator = MACECalculator(
        model_paths=str(model_file), device=resolve_device(device), default_dtype=dtype, **kwargs
    )
    return declare(calculator, CAPABILITIES)


def _make_foundation(name: str):
    def factory(*, device: str = "auto", dtype: str = "float64", **kwargs) -> Calculator:
        return _mace_calculator(resolve_mace_model_file(name), device=device, dtype=dtype, **kwargs)

    def check_available() -> None:
        require_package("mace", "mace-torch", name)
        resolve_mace_model_file(name, allow_download=False)

    factory.__doc__ = f"MACE foundation model {name!r} ({MACE_FOUNDATIONS[name]}) as an ASE calculator."
    factory.check_available = check_available  # type: ignore[attr-defined]
    return factory


make_mace_mp0_medium = _make_foundation("mace-mp0")
make_mace_mp0_small = _make_foundation("mace-mp0-small")
make_mace_mp0_large = _make_foundation("mace-mp0-large")
make_mace_omat = _make_foundation("mace-omat")
