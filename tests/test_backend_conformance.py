"""Every registered calculator against its backend's declaration: one conformance test for all.

For each entry point of ``heo_calc.calculators`` that can load here (the others skip with
their reason, e.g. MACE-MP-0 without its weights offline) and for a tiny MACE model through
``mace:PATH``: the declaration exists and covers the test cell's elements, energy, forces and
stress have ASE's shapes and are finite, the forces and the stress are the derivatives of
the energy (central finite differences on a rattled 8-atom MgO cell), and a declared batched
evaluator returns what single calls return.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.build import bulk

from heo_calc.backends.capabilities import batch_evaluator_of, capabilities_of, covered_atomic_numbers
from heo_calc.registry import calculator_names, calculator_status, get_calculator

STEP_A = 0.01  # Å, displacement for the force check
STRAIN = 0.005  # for the stress check


def _cell():
    atoms = bulk("MgO", "rocksalt", a=4.25, cubic=True)
    atoms.positions += np.random.default_rng(7).normal(scale=0.05, size=atoms.positions.shape)
    return atoms


def _energy(calculator, atoms) -> float:
    atoms = atoms.copy()
    atoms.calc = calculator
    return float(atoms.get_potential_energy())


@pytest.fixture(scope="module", params=[*calculator_names(), "mace:tiny"])
def calculator(request, tiny_mace_file):
    name = request.param
    if name == "mace:tiny":
        return get_calculator(f"mace:{tiny_mace_file}", device="cpu")
    status = calculator_status(name)
    if not status.available:
        pytest.skip(f"{name} is not available here: {status.reason.splitlines()[0]}")
    return get_calculator(name, device="cpu")


def test_declaration_covers_the_cell(calculator):
    capabilities = capabilities_of(calculator)
    assert capabilities is not None, f"{type(calculator).__name__} carries no Capabilities"
    assert capabilities.dtype in ("float32", "float64")
    assert {8, 12} <= covered_atomic_numbers(calculator)


def test_shapes_and_finite_values(calculator):
    atoms = _cell()
    atoms.calc = calculator
    assert np.isfinite(atoms.get_potential_energy())
    assert atoms.get_forces().shape == (len(atoms), 3) and np.isfinite(atoms.get_forces()).all()
    if capabilities_of(calculator).computes_stress:
        assert atoms.get_stress().shape == (6,) and np.isfinite(atoms.get_stress()).all()


def test_forces_are_minus_the_energy_gradient(calculator):
    atoms = _cell()
    atoms.calc = calculator
    forces = atoms.get_forces()
    tolerance = 0.02 if capabilities_of(calculator).dtype == "float32" else 1e-3  # eV/Å
    for atom, axis in ((0, 0), (3, 2), (5, 1)):
        plus, minus = atoms.copy(), atoms.copy()
        plus.positions[atom, axis] += STEP_A
        minus.positions[atom, axis] -= STEP_A
        numeric = -(_energy(calculator, plus) - _energy(calculator, minus)) / (2 * STEP_A)
        assert forces[atom, axis] == pytest.approx(numeric, abs=tolerance)


def test_stress_is_the_strain_derivative_of_the_energy(calculator):
    if not capabilities_of(calculator).computes_stress:
        pytest.skip("the backend declares no stress")
    atoms = _cell()
    atoms.calc = calculator
    stress = atoms.get_stress()  # Voigt xx yy zz yz xz xy, eV/Å^3
    for voigt, (i, j) in ((0, (0, 0)), (2, (2, 2))):
        energies = []
        for sign in (1, -1):
            strained = atoms.copy()
            deformation = np.eye(3)
            deformation[i, j] += sign * STRAIN
            strained.set_cell(atoms.cell.array @ deformation.T, scale_atoms=True)
            energies.append(_energy(calculator, strained))
        numeric = (energies[0] - energies[1]) / (2 * STRAIN) / atoms.get_volume()
        assert stress[voigt] == pytest.approx(numeric, abs=2e-3)


def test_a_declared_batch_evaluator_agrees_with_single_calls(calculator):
    evaluator = batch_evaluator_of(calculator)
    if evaluator is None:
        pytest.skip("the backend evaluates one structure at a time")
    cells = [_cell(), bulk("MgO", "rocksalt", a=4.2, cubic=True).repeat((2, 1, 1))]
    batched = evaluator(cells)
    for atoms, result in zip(cells, batched):
        atoms.calc = calculator
        assert result["energy"] == pytest.approx(atoms.get_potential_energy(), abs=1e-4)
        np.testing.assert_allclose(result["forces"], atoms.get_forces(), atol=1e-4)
        np.testing.assert_allclose(result["stress"], atoms.get_stress(), atol=1e-5)
