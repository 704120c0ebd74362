"""Geometry metrics of the benchmark (benchmark_suite.geometry) and the pseudo-cubic lattice parameter."""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from benchmark_suite import geometry
from heo_calc.structures.lattices import pseudo_cubic_lattice_parameter


def test_rmsd_same_order_by_hand_and_with_a_wrapped_atom():
    reference = bulk("MgO", "rocksalt", a=4.2, cubic=True)
    moved = reference.copy()
    moved.positions[0] += [0.3, 0.0, 0.0]  # one atom of 8 displaced by 0.3 Å
    # without translation removal: sqrt(0.09 / 8)
    assert geometry.rmsd_same_order(moved, reference, remove_translation=False) == pytest.approx(
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
        expected = geometry.rmsd_same_order(moved_out, reference, remove_translation=remove)
        assert geometry.rmsd_same_order(wrapped, reference, remove_translation=remove) == pytest.approx(
            expected
        )
        assert geometry.rmsd_same_order(
            shifted_by_a_lattice_vector, reference, remove_translation=remove
        ) == pytest.approx(expected)
    assert geometry.rmsd_same_order(moved_out, reference, remove_translation=False) == pytest.approx(
        math.sqrt(0.09 / 8)
    )


def test_rmsd_ignores_a_rigid_shift_and_a_homogeneous_strain():
    reference = bulk("MgO", "rocksalt", a=4.2, cubic=True)
    shifted = reference.copy()
    shifted.positions += [0.7, -0.2, 0.1]
    assert geometry.rmsd_same_order(shifted, reference) == pytest.approx(0.0, abs=1e-12)
    strained = reference.copy()
    strained.set_cell(reference.cell * 1.03, scale_atoms=True)
    assert geometry.rmsd_same_order(strained, reference) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="same elements"):
        geometry.rmsd_same_order(reference[::-1], reference)


def test_structure_matcher_rmsd_is_zero_with_itself_and_positive_when_rattled():
    reference = bulk("MgO", "rocksalt", a=4.2, cubic=True).repeat(2)
    reference.symbols[[0, 10, 20]] = ["Co", "Ni", "Zn"]
    rmsd, max_distance = geometry.structure_matcher_rmsd(reference, reference)
    assert rmsd == pytest.approx(0.0, abs=1e-8) and max_distance == pytest.approx(0.0, abs=1e-8)
    rattled = reference.copy()
    rattled.rattle(0.05, seed=1)
    rmsd, max_distance = geometry.structure_matcher_rmsd(rattled, reference)
    assert 0 < rmsd < 0.1 and max_distance >= rmsd


def test_spacegroup_and_symmetry_match():
    rocksalt = bulk("MgO", "rocksalt", a=4.2)
    assert geometry.spacegroup_number(rocksalt) == 225
    rattled = rocksalt.repeat(2)
    rattled.rattle(0.02, seed=0)
    assert geometry.spacegroup_number(rattled) == 1
    assert geometry.spacegroup_number(rattled, symprec=0.1) == 225
    assert geometry.symmetry_match(rattled, rocksalt) == (1, 225, False)
    assert geometry.symmetry_match(rocksalt.repeat(2), rocksalt) == (225, 225, True)


def test_volume_change_and_pseudo_cubic_lattice_parameter():
    reference = bulk("MgO", "rocksalt", a=4.0, cubic=True)
    expanded = reference.copy()
    expanded.set_cell(reference.cell * 1.01, scale_atoms=True)
    assert geometry.volume_change_percent(expanded, reference) == pytest.approx(100 * (1.01**3 - 1))
    # a 2x2x2 rock-salt supercell (64 atoms, V = 8 a^3) gives back a
    assert pseudo_cubic_lattice_parameter(reference.repeat(2), "rocksalt") == pytest.approx(4.0)
    # the primitive rock-salt cell (2 atoms, V = a^3/4) too
    assert pseudo_cubic_lattice_parameter(bulk("MgO", "rocksalt", a=4.0), "rocksalt") == pytest.approx(4.0)
    fluorite = bulk("CeO2", "fluorite", a=5.4)  # primitive, 3 atoms
    assert pseudo_cubic_lattice_parameter(fluorite, "fluorite") == pytest.approx(5.4)
    perovskite = Atoms("SrTiO3", cell=np.eye(3) * 3.9, pbc=True, scaled_positions=np.zeros((5, 3)))
    assert pseudo_cubic_lattice_parameter(perovskite.repeat((2, 1, 1)), "perovskite") == pytest.approx(3.9)
    # a 14-atom primitive spinel cell has a quarter of the conventional volume a^3
    spinel_like = Atoms("Mg2Al4O8", cell=np.eye(3) * 8.0 / 4 ** (1 / 3), pbc=True)
    assert pseudo_cubic_lattice_parameter(spinel_like, "spinel") == pytest.approx(8.0)
    with pytest.raises(ValueError, match="unknown lattice"):
        pseudo_cubic_lattice_parameter(reference, "wurtzite")


def test_cell_distortion_ignores_volume_and_rotation_and_measures_shape_by_hand():
    reference = bulk("MgO", "rocksalt", a=4.0, cubic=True)
    scaled = reference.copy()
    scaled.set_cell(reference.cell * 1.05, scale_atoms=True)
    assert geometry.cell_distortion_percent(scaled, reference) == pytest.approx(0.0, abs=1e-12)
    rotated = reference.copy()
    rotated.rotate(30, "z", rotate_cell=True)
    assert geometry.cell_distortion_percent(rotated, reference) == pytest.approx(0.0, abs=1e-12)
    tetragonal = reference.copy()
    tetragonal.set_cell(np.diag([4.0, 4.0, 4.4]), scale_atoms=True)
    # F = diag(1, 1, 1.1): E = diag(0, 0, 0.105), deviatoric eigenvalues -0.035, -0.035, +0.07
    assert geometry.cell_distortion_percent(tetragonal, reference) == pytest.approx(7.0)
