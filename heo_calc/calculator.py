"""``HEOCalculator``: an ASE calculator that delegates to any model in the registry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from heo_calc.backends.capabilities import SPREAD_PROPERTIES, covered_atomic_numbers
from heo_calc.registry import get_calculator
from heo_calc.validation import DEFAULT_MIN_DISTANCE, check_structure

DEFAULT_MODEL = "heo-ft"


class HEOCalculator(Calculator):
    """ASE calculator for high-entropy oxides, backed by a registered potential.

    ``atoms.calc = HEOCalculator()`` uses the finetuned ``heo-ft`` model that ships with
    the package; ``HEOCalculator("sevennet-0")`` or ``HEOCalculator("mace:my.model")``
    any other registered model.

    Properties, in ASE units: ``energy`` and ``free_energy`` (eV), ``forces`` (eV/Å,
    shape (N, 3)), ``stress`` (eV/Å^3, Voigt order xx yy zz yz xz xy, shape (6,)).

    Every structure is checked before evaluation (periodic, finite positions, no atoms
    closer than ``min_distance`` Å, every element covered by the model); a failing check
    raises :class:`~heo_calc.errors.InvalidStructureError` with the fix.

    ``calc.parameters`` records the model name, backend class, model file, dtype and
    package versions, so results can be traced to the model that produced them.
    """

    implemented_properties: ClassVar[list[str]] = ["energy", "free_energy", "forces", "stress"]

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "auto",
        dtype: str = "float64",
        min_distance: float = DEFAULT_MIN_DISTANCE,
        **backend_kwargs: Any,
    ) -> None:
        super().__init__()
        self.backend = get_calculator(model, device=device, dtype=dtype, **backend_kwargs)
        self.model_name = model
        self.min_distance = min_distance
        self.supported_numbers = covered_atomic_numbers(self.backend)
        self.parameters.update(dict(self.backend.parameters))
        self.parameters.update({"model": model, "device": device})

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: list[str] | None = None,
        system_changes: list[str] = all_changes,
    ) -> None:
        super().calculate(atoms, properties or ["energy"], system_changes)
        check_structure(
            self.atoms,
            supported_numbers=self.supported_numbers,
            model_name=self.model_name,
            min_distance=self.min_distance,
        )
        wanted = {"energy", *(properties or [])} - {"free_energy"}
        results = evaluate_properties(self.backend, self.atoms, wanted)
        self.results = {**results, "free_energy": results["energy"]}


def evaluate_properties(calculator: Calculator, atoms: Atoms, properties: Iterable[str]) -> dict[str, Any]:
    """Energy (eV), and forces (eV/Å, (N, 3)) and stress (eV/Å^3, Voigt 6) if asked, from any calculator.

    Goes through a copy of ``atoms`` so the backend's own caching applies; works with
    backends that predate ``Calculator.get_properties``. A committee's spread
    (:data:`~heo_calc.backends.capabilities.SPREAD_PROPERTIES`: ``energy_std`` in eV,
    ``forces_std`` in eV/Å per atom) is passed on when the calculator reports it.
    """
    evaluated = atoms.copy()
    evaluated.calc = calculator
    properties = set(properties)
    results: dict[str, Any] = {"energy": float(evaluated.get_potential_energy())}
    if "forces" in properties:
        results["forces"] = np.array(evaluated.get_forces())
    if "stress" in properties:
        results["stress"] = np.array(evaluated.get_stress())
    reported = getattr(calculator, "results", None) or {}
    for key in SPREAD_PROPERTIES:
        if key in reported:
            results[key] = np.array(reported[key]) if key == "forces_std" else float(reported[key])
    return results
