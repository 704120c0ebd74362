"""Pure error statistics (heo_calc.statistics) against hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase import Atoms

from heo_calc import statistics


def test_rmse_mae_median_by_hand_and_ignore_nan():
    errors = [3.0, -4.0, 0.0, float("nan")]
    # squares 9, 16, 0 -> mean 25/3
    assert statistics.rmse(errors) == pytest.approx(math.sqrt(25 / 3))
    assert statistics.mae(errors) == pytest.approx(7 / 3)
    assert statistics.median_abs_error(errors) == pytest.approx(3.0)
    assert math.isnan(statistics.rmse([float("nan")]))


def test_energy_per_atom_errors_by_hand():
    predicted = np.array([-10.0, -21.0, -7.0])
    reference = np.array([-10.4, -20.0, -7.3])
    n_atoms = np.array([2, 4, 3])
    # per-atom errors: 0.4/2 = 0.2, -1/4 = -0.25, 0.3/3 = 0.1
    errors = statistics.energy_errors_per_atom(predicted, reference, n_atoms)
    np.testing.assert_allclose(errors, [0.2, -0.25, 0.1])
    assert statistics.rmse(errors) == pytest.approx(math.sqrt((0.04 + 0.0625 + 0.01) / 3))
    assert statistics.mae(errors) == pytest.approx(0.55 / 3)
    assert statistics.median_abs_error(errors) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="shapes differ"):
        statistics.energy_errors_per_atom(predicted, reference[:2], n_atoms)


def test_reference_fit_removes_a_constant_per_element_offset_exactly():
    composition = np.array([[1, 1], [1, 2], [2, 1], [3, 3], [1, 4]], dtype=float)
    reference = np.array([-10.0, -15.0, -13.0, -30.0, -26.0])
    noise = np.array([0.01, -0.02, 0.0, 0.03, -0.01])  # eV total
    offsets = np.array([-0.3, 0.5])  # eV per atom of element 0, 1
    predicted = reference + composition @ offsets + noise
    corrected, fitted = statistics.reference_corrected_errors(predicted, reference, composition)
    # without noise the fit is exact; with noise the residual is the noise minus its projection
    corrected_exact, fitted_exact = statistics.reference_corrected_errors(
        reference + composition @ offsets, reference, composition
    )
    np.testing.assert_allclose(fitted_exact, offsets, atol=1e-12)
    np.testing.assert_allclose(corrected_exact, 0.0, atol=1e-12)
    assert np.abs(corrected).max() < 0.02 and np.abs(fitted - offsets).max() < 0.02


def test_robust_reference_fit_resists_one_outlier():
    rng = np.random.default_rng(0)
    composition = rng.integers(1, 5, size=(30, 3)).astype(float)
    offsets = np.array([-0.6, 0.2, 0.05])
    reference = -5.0 * composition.sum(axis=1)
    predicted = reference + composition @ offsets
    predicted[0] += 0.7 * composition[0].sum()  # one structure 0.7 eV/atom off (another DFT setting)
    plain = statistics.fit_elemental_offsets(composition, predicted - reference)
    robust = statistics.fit_elemental_offsets(composition, predicted - reference, huber_delta=0.05)
    assert np.abs(robust - offsets).max() < 0.2 * np.abs(plain - offsets).max()
    exact = statistics.fit_elemental_offsets(composition[1:], (predicted - reference)[1:], huber_delta=0.05)
    np.testing.assert_allclose(exact, offsets, atol=1e-10)


def test_reference_fit_on_a_separate_set_and_absent_elements_get_zero():
    fit_composition = np.array([[2, 0], [1, 0], [3, 0]], dtype=float)  # element 1 never present
    fit_reference = np.array([-2.0, -1.0, -3.0])
    fit_predicted = fit_reference + 0.5 * fit_composition[:, 0]
    composition = np.array([[1, 1]], dtype=float)
    corrected, offsets = statistics.reference_corrected_errors(
        np.array([-4.0 + 0.5 + 0.2]),
        np.array([-4.0]),
        composition,
        fit_composition=fit_composition,
        fit_predicted=fit_predicted,
        fit_reference=fit_reference,
    )
    np.testing.assert_allclose(offsets, [0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(corrected, [0.2 / 2])


def test_composition_matrix_counts_atoms_per_element():
    atoms = Atoms("MgO2Zn", positions=np.zeros((4, 3)))
    matrix, elements = statistics.composition_matrix([atoms, {"O": 3.0, "Mg": 1.0}])
    assert elements == ["O", "Mg", "Zn"]  # by atomic number
    np.testing.assert_array_equal(matrix, [[2, 1, 1], [3, 1, 0]])


def test_force_rmse_per_component_and_vector_convention_by_hand():
    predicted = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    reference = np.zeros((2, 3))
    # component errors: 1, 0, 0, 0, 2, 0 -> mean square 5/6; vector |dF|^2: 1, 4 -> mean 5/2
    assert statistics.force_rmse(predicted, reference) == pytest.approx(math.sqrt(5 / 6))
    assert statistics.force_rmse(predicted, reference, convention="vector") == pytest.approx(math.sqrt(5 / 2))
    assert statistics.force_mae(predicted, reference) == pytest.approx(3 / 6)
    # isotropic error: the vector convention is sqrt(3) times the component one
    iso = np.ones((4, 3))
    assert statistics.force_rmse(iso, 0 * iso, convention="vector") == pytest.approx(
        math.sqrt(3) * statistics.force_rmse(iso, 0 * iso)
    )
    with pytest.raises(ValueError, match="shape"):
        statistics.force_rmse(predicted, reference[:1])


def test_stress_rmse_voigt_and_tensor_by_hand():
    predicted = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.6])
    reference = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert statistics.stress_rmse(predicted, reference) == pytest.approx(math.sqrt(0.36 / 6))
    tensor = np.zeros((3, 3))
    tensor[0, 1] = tensor[1, 0] = 0.6
    assert statistics.stress_rmse(tensor, np.zeros((3, 3))) == pytest.approx(math.sqrt(0.36 / 6))


def test_summarize_errors_tolerates_nan_and_lists_the_worst():
    summary = statistics.summarize_errors([1.0, -5.0, float("nan"), 2.0], ["a", "b", "c", "d"], worst_k=2)
    assert summary["n"] == 3 and summary["n_failed"] == 1
    assert summary["rmse"] == pytest.approx(math.sqrt(30 / 3))
    assert summary["mae"] == pytest.approx(8 / 3)
    assert summary["median"] == pytest.approx(2.0)
    assert summary["max"] == pytest.approx(5.0)
    assert summary["worst"] == [("b", -5.0), ("d", 2.0)]


def test_force_error_sums_aggregate_exactly_to_the_pooled_rmse_and_mae():
    rng = np.random.default_rng(1)
    reference = [rng.normal(size=(n, 3)) for n in (2, 5, 9)]
    predicted = [r + rng.normal(scale=0.1, size=r.shape) for r in reference]
    sums = np.array([statistics.force_error_sums(p, r) for p, r in zip(predicted, reference)])
    rmse, mae = statistics.aggregate_force_errors(sums[:, 0], sums[:, 1], sums[:, 2])
    pooled = np.concatenate(predicted) - np.concatenate(reference)
    assert rmse == pytest.approx(np.sqrt(np.mean(pooled**2)))
    assert mae == pytest.approx(np.mean(np.abs(pooled)))
    assert statistics.force_rmse(np.concatenate(predicted), np.concatenate(reference)) == pytest.approx(rmse)
    assert all(math.isnan(v) for v in statistics.aggregate_force_errors([np.nan], [1.0], [3]))
