"""Each offline backend, through HEOCalculator, on a rattled 64-atom rock-salt HEO.

Forces are checked against central finite differences of the energy (step h = 0.01 Å)
on six components, stress against ``calculate_numerical_stress`` (strain d = 1e-3).
Tolerances: float64 models (tiny MACE) 1e-4 eV/Å and 1e-6 eV/Å^3; float32 models
(SevenNet-0, heo-ft, CHGNet) 1e-2 eV/Å and 2e-4 eV/Å^3 (~0.03 GPa), set by float32 round-off
of total energies near -400 eV divided by the finite-difference step.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.calculator import Calculator

from heo_calc import HEOCalculator

COMPONENTS = [(0, 0), (0, 2), (17, 1), (33, 0), (48, 2), (63, 1)]

BACKENDS = {
    # name: (force tolerance eV/Å, stress tolerance eV/Å^3)
    "tiny-mace": (1e-4, 1e-6),
    "sevennet-0": (1e-2, 2e-4),
    "heo-ft": (1e-2, 2e-4),
    "chgnet": (1e-2, 2e-4),
}


@pytest.fixture(params=list(BACKENDS))
def backend(request, tiny_mace_file):
    name = request.param
    model = f"mace:{tiny_mace_file}" if name == "tiny-mace" else name
    return name, HEOCalculator(model, device="cpu")


def _finite_difference_force(atoms, calc: Calculator, atom: int, axis: int, step: float = 0.01) -> float:
    energies = []
    for sign in (+1, -1):
        displaced = atoms.copy()
        displaced.positions[atom, axis] += sign * step
        displaced.calc = calc
        energies.append(displaced.get_potential_energy())
    return -(energies[0] - energies[1]) / (2 * step)


def test_energy_forces_stress_are_finite_and_consistent(backend, rattled_heo_64):
    name, calc = backend
    force_tolerance, stress_tolerance = BACKENDS[name]
    atoms = rattled_heo_64.copy()
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    forces = atoms.get_forces()
    stress = atoms.get_stress()
    assert np.isfinite(energy) and forces.shape == (64, 3) and stress.shape == (6,)
    assert np.isfinite(forces).all() and np.isfinite(stress).all()
    assert atoms.get_potential_energy(force_consistent=True) == energy
    for atom, axis in COMPONENTS:
        numerical = _finite_difference_force(atoms, calc, atom, axis)
        assert forces[atom, axis] == pytest.approx(numerical, abs=force_tolerance), (atom, axis)
    numerical_stress = calc.calculate_numerical_stress(atoms, d=1e-3)
    np.testing.assert_allclose(stress, numerical_stress, atol=stress_tolerance)


def test_provenance_is_stamped(backend):
    name, calc = backend
    parameters = calc.parameters
    assert parameters["backend"].endswith("Calculator")
    assert parameters["dtype"] == ("float64" if name == "tiny-mace" else "float32")
    assert {"torch", "ase", "heo-relax"} <= set(parameters["versions"])
    if name == "tiny-mace":
        assert parameters["model_file"].endswith("tiny.model")
