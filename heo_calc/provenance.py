"""Provenance stamped on every calculator the registry builds."""

from __future__ import annotations

import importlib.metadata
from typing import Any

from ase.calculators.calculator import Calculator

_VERSION_PACKAGES = ("heo-relax", "torch", "ase", "mace-torch", "sevenn", "chgnet")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that decide a calculator's numbers."""
    versions = {}
    for package in _VERSION_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def describe_backend(calculator: Calculator) -> dict[str, Any]:
    """Backend class, model file and dtype of a backend calculator, as far as it tells."""
    backend = f"{type(calculator).__module__}.{type(calculator).__name__}"
    from heo_calc.backends._dtype import parameter_dtype

    model_file = getattr(calculator, "model_paths", None)  # MACECalculator
    model_file = model_file[0] if isinstance(model_file, list | tuple) and model_file else model_file
    dtype = parameter_dtype(calculator)
    dtype = str(dtype).removeprefix("torch.") if dtype is not None else None
    if dtype is None:  # no torch model of its own (a committee): what its backend declares
        from heo_calc.backends.capabilities import capabilities_of

        declared = capabilities_of(calculator)
        dtype = declared.dtype if declared is not None else None
    return {"backend": backend, "model_file": str(model_file) if model_file else None, "dtype": dtype}


def stamp_provenance(calculator: Calculator, *, name: str, requested_dtype: str) -> None:
    """Record in ``calculator.parameters`` which model, file, dtype and versions produced results."""
    description = describe_backend(calculator)
    if description["model_file"] is None and name.partition(":")[1]:
        description["model_file"] = name.partition(":")[2]
    from heo_calc.backends.heo_ft import SHIPPED_MODELS, heo_ft_weights_path

    if name in SHIPPED_MODELS:
        description["model_file"] = str(heo_ft_weights_path(name))
    parameters = getattr(calculator, "parameters", None)
    if parameters is None:
        calculator.parameters = parameters = {}
    parameters.update(
        {
            "heo_calc_name": name,
            "backend": description["backend"],
            "model_file": description["model_file"],
            "dtype": description["dtype"] or requested_dtype,
            "versions": package_versions(),
        }
    )
