"""heo_calc.metrics: every metric against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.singlepoint import SinglePointCalculator

from heo_calc import metrics


def test_rmse_mae_median_by_hand_and_ignore_nan():
    errors = [3.0, -4.0, 0.0, float("nan")]
    # squares 9, 16, 0 -> mean 25/3
    assert metrics.rmse(errors) == pytest.approx(math.sqrt(25 / 3))
    assert metrics.mae(errors) == pytest.approx(7 / 3)
    assert metrics.median_abs_error(errors) == pytest.approx(3.0)
    assert math.isnan(metrics.rmse([float("nan")]))


def test_energy_per_atom_errors_by_hand():
    predicted = np.array([-10.0, -21.0, -7.0])
    reference = np.array([-10.4, -20.0, -7.3])
    n_atoms = np.array([2, 4, 3])
    # per-atom errors: 0.4/2 = 0.2, -1/4 = -0.25, 0.3/3 = 0.1
    errors = metrics.energy_errors_per_atom(predicted, reference, n_atoms)
    np.testing.assert_allclose(errors, [0.2, -0.25, 0.1])
    assert metrics.energy_per_atom_rmse(predicted, reference, n_atoms) == pytest.approx(
        math.sqrt((0.04 + 0.0625 + 0.01) / 3)
    )
    assert metrics.energy_per_atom_mae(predicted, reference, n_atoms) == pytest.approx(0.55 / 3)
    assert metrics.energy_per_atom_median_abs_error(predicted, reference, n_atoms) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.energy_errors_per_atom(predicted, reference[:2], n_atoms)


def test_reference_fit_removes_a_constant_per_element_offset_exactly():
    composition = np.array([[1, 1], [1, 2], [2, 1], [3, 3], [1, 4]], dtype=float)
    reference = np.array([-10.0, -15.0, -13.0, -30.0, -26.0])
    noise = np.array([0.01, -0.02, 0.0, 0.03, -0.01])  # eV total
    offsets = np.array([-0.3, 0.5])  # eV per atom of element 0, 1
    predicted = reference + composition @ offsets + noise
    corrected, fitted = metrics.reference_corrected_errors(predicted, reference, composition)
    # without noise the fit is exact; with noise the residual is the noise minus its projection
    corrected_exact, fitted_exact = metrics.reference_corrected_errors(
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
    plain = metrics.fit_elemental_offsets(composition, predicted - reference)
    robust = metrics.fit_elemental_offsets(composition, predicted - reference, huber_delta=0.05)
    assert np.abs(robust - offsets).max() < 0.2 * np.abs(plain - offsets).max()
    exact = metrics.fit_elemental_offsets(composition[1:], (predicted - reference)[1:], huber_delta=0.05)
    np.testing.assert_allclose(exact, offsets, atol=1e-10)


def test_reference_fit_on_a_separate_set_and_absent_elements_get_zero():
    fit_composition = np.array([[2, 0], [1, 0], [3, 0]], dtype=float)  # element 1 never present
    fit_reference = np.array([-2.0, -1.0, -3.0])
    fit_predicted = fit_reference + 0.5 * fit_composition[:, 0]
    composition = np.array([[1, 1]], dtype=float)
    corrected, offsets = metrics.reference_corrected_errors(
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
    matrix, elements = metrics.composition_matrix([atoms, {"O": 3.0, "Mg": 1.0}])
    assert elements == ["O", "Mg", "Zn"]  # by atomic number
    np.testing.assert_array_equal(matrix, [[2, 1, 1], [3, 1, 0]])


def test_force_rmse_per_component_and_vector_convention_by_hand():
    predicted = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    reference = np.zeros((2, 3))
    # component errors: 1, 0, 0, 0, 2, 0 -> mean square 5/6; vector |dF|^2: 1, 4 -> mean 5/2
    assert metrics.force_rmse(predicted, reference) == pytest.approx(math.sqrt(5 / 6))
    assert metrics.force_rmse(predicted, reference, convention="vector") == pytest.approx(math.sqrt(5 / 2))
    assert metrics.force_mae(predicted, reference) == pytest.approx(3 / 6)
    # isotropic error: the vector convention is sqrt(3) times the component one
    iso = np.ones((4, 3))
    assert metrics.force_rmse(iso, 0 * iso, convention="vector") == pytest.approx(
        math.sqrt(3) * metrics.force_rmse(iso, 0 * iso)
    )
    with pytest.raises(ValueError, match="shape"):
        metrics.force_rmse(predicted, reference[:1])


def test_stress_rmse_voigt_and_tensor_by_hand():
    predicted = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.6])
    reference = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert metrics.stress_rmse(predicted, reference) == pytest.approx(math.sqrt(0.36 / 6))
    tensor = np.zeros((3, 3))
    tensor[0, 1] = tensor[1, 0] = 0.6
    assert metrics.stress_rmse(tensor, np.zeros((3, 3))) == pytest.approx(math.sqrt(0.36 / 6))


def test_rmsd_same_order_by_hand_and_with_a_wrapped_atom():
    reference = bulk("MgO", "rocksalt", a=4.2, cubic=True)
    moved = reference.copy()
    moved.positions[0] += [0.3, 0.0, 0.0]  # one atom of 8 displaced by 0.3 Å
    # without translation removal: sqrt(0.09 / 8)
    assert metrics.rmsd_same_order(moved, reference, remove_translation=False) == pytest.approx(
        math.sqrt(0.09 / 8)
    )
    # atom 0 sits at the origin; moving it by -0.3 Å puts it outside the cell, wrap() brings it back
    moved_out = reference.copy()
    moved_out.positions[0] -= [0.3, 0.0, 0.0]
    wrapped = moved_out.copy()
    wrapped.wrap()
    assert wrapped.positions[0, 0] == pytest.approx(4.2 - 0.3)
    shifted_by_a_lattice_vector = moved_out.copy()
    shifted_by_a_lattice_vector.positions[0] += reference.cell[1]
    for remove in (True, False):
        expected = metrics.rmsd_same_order(moved_out, reference, remove_translation=remove)
        assert metrics.rmsd_same_order(wrapped, reference, remove_translation=remove) == pytest.approx(
            expected
        )
        assert metrics.rmsd_same_order(
            shifted_by_a_lattice_vector, reference, remove_translation=remove
        ) == pytest.approx(expected)
    assert metrics.rmsd_same_order(moved_out, reference, remove_translation=False) == pytest.approx(
        math.sqrt(0.09 / 8)
    )


def test_rmsd_ignores_a_rigid_shift_and_a_homogeneous_strain():
    reference = bulk("MgO", "rocksalt", a=4.2, cubic=True)
    shifted = reference.copy()
    shifted.positions += [0.7, -0.2, 0.1]
    assert metrics.rmsd_same_order(shifted, reference) == pytest.approx(0.0, abs=1e-12)
    strained = reference.copy()
    strained.set_cell(reference.cell * 1.03, scale_atoms=True)
    assert metrics.rmsd_same_order(strained, reference) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="same elements"):
        metrics.rmsd_same_order(reference[::-1], reference)


def test_structure_matcher_rmsd_is_zero_with_itself_and_positive_when_rattled():
    reference = bulk("MgO", "rocksalt", a=4.2, cubic=True).repeat(2)
    reference.symbols[[0, 10, 20]] = ["Co", "Ni", "Zn"]
    rmsd, max_distance = metrics.structure_matcher_rmsd(reference, reference)
    assert rmsd == pytest.approx(0.0, abs=1e-8) and max_distance == pytest.approx(0.0, abs=1e-8)
    rattled = reference.copy()
    rattled.rattle(0.05, seed=1)
    rmsd, max_distance = metrics.structure_matcher_rmsd(rattled, reference)
    assert 0 < rmsd < 0.1 and max_distance >= rmsd


def test_spacegroup_and_symmetry_match():
    rocksalt = bulk("MgO", "rocksalt", a=4.2)
    assert metrics.spacegroup_number(rocksalt) == 225
    rattled = rocksalt.repeat(2)
    rattled.rattle(0.02, seed=0)
    assert metrics.spacegroup_number(rattled) == 1
    assert metrics.spacegroup_number(rattled, symprec=0.1) == 225
    assert metrics.symmetry_match(rattled, rocksalt) == (1, 225, False)
    assert metrics.symmetry_match(rocksalt.repeat(2), rocksalt) == (225, 225, True)


def test_volume_change_and_pseudo_cubic_lattice_parameter():
    reference = bulk("MgO", "rocksalt", a=4.0, cubic=True)
    expanded = reference.copy()
    expanded.set_cell(reference.cell * 1.01, scale_atoms=True)
    assert metrics.volume_change_percent(expanded, reference) == pytest.approx(100 * (1.01**3 - 1))
    # a 2x2x2 rock-salt supercell (64 atoms, V = 8 a^3) gives back a
    assert metrics.pseudo_cubic_lattice_parameter(reference.repeat(2), "rocksalt") == pytest.approx(4.0)
    # the primitive rock-salt cell (2 atoms, V = a^3/4) too
    assert metrics.pseudo_cubic_lattice_parameter(
        bulk("MgO", "rocksalt", a=4.0), "rocksalt"
    ) == pytest.approx(4.0)
    fluorite = bulk("CeO2", "fluorite", a=5.4)  # primitive, 3 atoms
    assert metrics.pseudo_cubic_lattice_parameter(fluorite, "fluorite") == pytest.approx(5.4)
    perovskite = Atoms("SrTiO3", cell=np.eye(3) * 3.9, pbc=True, scaled_positions=np.zeros((5, 3)))
    assert metrics.pseudo_cubic_lattice_parameter(
        perovskite.repeat((2, 1, 1)), "perovskite"
    ) == pytest.approx(3.9)
    # a 14-atom primitive spinel cell has a quarter of the conventional volume a^3
    spinel_like = Atoms("Mg2Al4O8", cell=np.eye(3) * 8.0 / 4 ** (1 / 3), pbc=True)
    assert metrics.pseudo_cubic_lattice_parameter(spinel_like, "spinel") == pytest.approx(8.0)
    with pytest.raises(ValueError, match="unknown lattice"):
        metrics.pseudo_cubic_lattice_parameter(reference, "wurtzite")


def test_cell_distortion_ignores_volume_and_rotation_and_measures_shape_by_hand():
    reference = bulk("MgO", "rocksalt", a=4.0, cubic=True)
    scaled = reference.copy()
    scaled.set_cell(reference.cell * 1.05, scale_atoms=True)
    assert metrics.cell_distortion_percent(scaled, reference) == pytest.approx(0.0, abs=1e-12)
    rotated = reference.copy()
    rotated.rotate(30, "z", rotate_cell=True)
    assert metrics.cell_distortion_percent(rotated, reference) == pytest.approx(0.0, abs=1e-12)
    tetragonal = reference.copy()
    tetragonal.set_cell(np.diag([4.0, 4.0, 4.4]), scale_atoms=True)
    # F = diag(1, 1, 1.1): E = diag(0, 0, 0.105), deviatoric eigenvalues -0.035, -0.035, +0.07
    assert metrics.cell_distortion_percent(tetragonal, reference) == pytest.approx(7.0)


def test_summarize_errors_tolerates_nan_and_lists_the_worst():
    summary = metrics.summarize_errors([1.0, -5.0, float("nan"), 2.0], ["a", "b", "c", "d"], worst_k=2)
    assert summary["n"] == 3 and summary["n_failed"] == 1
    assert summary["rmse"] == pytest.approx(math.sqrt(30 / 3))
    assert summary["mae"] == pytest.approx(8 / 3)
    assert summary["median"] == pytest.approx(2.0)
    assert summary["max"] == pytest.approx(5.0)
    assert summary["worst"] == [("b", -5.0), ("d", 2.0)]


class _ConstantCalculator(Calculator):
    """Energy = -1 eV per atom, forces 0.1 eV/Å along x, zero stress; NaN for 'bad' structures."""

    implemented_properties = ["energy", "forces", "stress"]  # noqa: RUF012

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        n = len(self.atoms)
        forces = np.zeros((n, 3))
        forces[:, 0] = 0.1
        energy = float("nan") if self.atoms.info.get("bad") else -1.0 * n
        self.results = {"energy": energy, "forces": forces, "stress": np.zeros(6)}


def _labelled(n_cells: int, energy: float, *, bad: bool = False, stress: bool = False) -> Atoms:
    atoms = bulk("MgO", "rocksalt", a=4.2).repeat((n_cells, 1, 1))
    atoms.info["DFT_energy"] = energy
    atoms.arrays["DFT_forces"] = np.zeros((len(atoms), 3))
    atoms.info["name"] = f"mgo-{n_cells}-{bad}"
    if bad:
        atoms.info["bad"] = True
    if stress:
        atoms.info["REF_stress"] = np.array([0.01, 0, 0, 0, 0, 0])
    return atoms


def test_evaluate_structures_gives_a_tidy_table_and_failed_rows():
    structures = [_labelled(1, -2.5), _labelled(2, -3.0, stress=True), _labelled(1, -2.0, bad=True)]
    table = metrics.evaluate_structures(_ConstantCalculator(), structures, keep_arrays=True)
    assert list(table["id"]) == ["mgo-1-False", "mgo-2-False", "mgo-1-True"]
    assert list(table["formula"]) == ["MgO"] * 3
    assert list(table["status"]) == ["ok", "ok", "failed"]
    assert "NaN" in table.loc[2, "error"]
    # per-atom errors: (-2 + 2.5)/2 = 0.25; (-4 + 3)/4 = -0.25
    np.testing.assert_allclose(table["energy_error"][:2], [0.25, -0.25])
    assert math.isnan(table["energy_error"][2])
    # forces: 0.1 along x only -> per component RMSE sqrt(0.01/3), MAE 0.1/3
    np.testing.assert_allclose(table["force_rmse"][:2], math.sqrt(0.01 / 3))
    np.testing.assert_allclose(table["force_mae"][:2], 0.1 / 3)
    assert math.isnan(table["stress_rmse"][0])
    assert table["stress_rmse"][1] == pytest.approx(0.01 / math.sqrt(6))
    assert table["forces_pred"][0].shape == (2, 3)

    summary = metrics.accuracy_summary(table, worst_k=1)
    assert summary["energy_rmse"] == pytest.approx(250.0)
    assert summary["energy_mae"] == pytest.approx(250.0)
    assert summary["force_rmse"] == pytest.approx(1000 * math.sqrt(0.01 / 3))
    assert summary["force_mae"] == pytest.approx(100 / 3)
    assert summary["stress_rmse"] == pytest.approx(0.01 / math.sqrt(6) * metrics.EV_PER_A3_TO_GPA)
    assert summary["n"] == 3 and summary["n_failed"] == 1
    assert summary["worst_energy"][0][0] in {"mgo-1-False", "mgo-2-False"}


def test_evaluate_structures_reads_a_single_point_calculator_label_free_structure():
    atoms = bulk("MgO", "rocksalt", a=4.2)
    atoms.calc = SinglePointCalculator(atoms, energy=-1.0)
    table = metrics.evaluate_structures(_ConstantCalculator(), [atoms])
    assert table.loc[0, "status"] == "ok"
    assert math.isnan(table.loc[0, "energy_error"]) and math.isnan(table.loc[0, "force_rmse"])
    assert table.loc[0, "id"] == "structure-0"
