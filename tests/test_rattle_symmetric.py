"""The rattle-and-relax task relaxes DFT-relaxed structures the way DFT did: inside their symmetry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress
from ase.io import read
from harmonic_reference import HarmonicReference

from benchmark_suite import geometry
from benchmark_suite.data import packaged_set, supercell_at_least
from benchmark_suite.metrics import metric_table
from benchmark_suite.report import build_report, write_report
from benchmark_suite.tasks import RattleSettings, run_rattle_relax
from benchmark_suite.tasks.accuracy import relative_energy_pairs
from heo_calc.relax import RelaxOptions
from heo_calc.structures.perturb import symmetric_rattle

SETTINGS = RattleSettings(
    sigma=0.05, strain=0.01, seed=0, relax=RelaxOptions(fmax=1e-3, max_steps=400), engine="sequential"
)


@pytest.fixture(scope="module")
def relaxed_cells():
    """Six small DFT-relaxed test structures of the packaged set, one of them P1 or P-1."""
    relaxed = [
        atoms
        for atoms in read(packaged_set().path, index=":")
        if atoms.info.get("split") == "test" and np.abs(atoms.arrays["REF_forces"]).max() < 0.01
    ]
    for index, atoms in enumerate(relaxed):
        atoms.info["name"] = str(atoms.info.get("immutable_id", f"test-{index}"))
    small = [atoms for atoms in relaxed if len(atoms) <= 20]
    groups = [geometry.spacegroup_number(atoms) for atoms in small]
    high = [atoms for atoms, group in zip(small, groups) if group > 2][:5]
    low = [atoms for atoms, group in zip(small, groups) if group <= 2][:1]
    assert len(high) == 5 and len(low) == 1
    return high + low


@pytest.fixture(scope="module")
def supercells(relaxed_cells):
    cells = []
    for atoms in relaxed_cells[:2]:
        supercell = supercell_at_least(atoms, 16)
        supercell.info["parent"] = atoms.info["name"]
        supercell.info["name"] = f"{atoms.info['name']}-x{supercell.info['repeat']}"
        cells.append(supercell)
    return cells


@pytest.fixture(scope="module")
def results(relaxed_cells, supercells):
    everything = [*relaxed_cells, *supercells]
    exact = HarmonicReference(everything)
    biased = HarmonicReference(everything, volume_bias=1.02)
    return (
        run_rattle_relax(exact, "exact", relaxed_cells, supercells, SETTINGS),
        run_rattle_relax(biased, "biased", relaxed_cells, supercells, SETTINGS),
    )


def test_the_harmonic_reference_has_exact_forces_and_stress(relaxed_cells):
    calculator = HarmonicReference(relaxed_cells, volume_bias=1.02)
    atoms = relaxed_cells[0].copy()
    atoms.rattle(0.03, seed=1)
    atoms.set_cell(atoms.cell * 1.01, scale_atoms=True)
    atoms.calc = calculator
    numeric_forces = calculate_numerical_forces(atoms, eps=1e-5)
    numeric_stress = calculate_numerical_stress(atoms, eps=1e-6)
    assert np.allclose(atoms.get_forces(), numeric_forces, atol=1e-7)
    assert np.allclose(atoms.get_stress(), numeric_stress, atol=1e-8)


def test_the_symmetric_rattle_keeps_the_space_group_and_moves_the_structure(relaxed_cells):
    for index, atoms in enumerate(relaxed_cells):
        start = symmetric_rattle(atoms, 0.05, 0.01, index)
        assert geometry.spacegroup_number(start) == geometry.spacegroup_number(atoms)
        assert abs(geometry.volume_change_percent(start, atoms)) > 1e-3
        assert start.get_volume() == pytest.approx(atoms.get_volume(), rel=0.031)
    again = symmetric_rattle(relaxed_cells[0], 0.05, 0.01, 0)
    assert np.allclose(again.positions, symmetric_rattle(relaxed_cells[0], 0.05, 0.01, 0).positions)


def test_a_model_whose_minimum_is_dft_relaxes_back_onto_it(results, relaxed_cells, supercells):
    rows = results[0].rows
    assert len(rows) == 2 * len(relaxed_cells) + len(supercells)
    assert set(rows["relaxation"]) == {
        "symmetric",
        "symmetric_from_dft",
        "low_symmetry",
        "low_symmetry_from_dft",
        "free",
    }
    assert (rows["status"] == "ok").all()
    assert rows["rmsd_A"].max() < 2e-3
    assert rows["abs_volume_change_pct"].max() < 0.02
    assert rows["abs_lattice_change_max_pct"].max() < 0.02
    symmetric = rows[rows["relaxation"].str.startswith("symmetric")]
    assert symmetric["symmetry_match"].all()
    assert (rows[rows["relaxation"] == "symmetric"]["rmsd_start_A"] > 0).any()


def test_a_two_percent_volume_bias_shows_as_two_percent_and_is_worse(results):
    exact, biased = results
    symmetric = biased.rows[biased.rows["relaxation"] == "symmetric"]
    assert np.allclose(symmetric["abs_volume_change_pct"], 2.0, atol=0.02)
    assert np.allclose(symmetric["abs_lattice_change_max_pct"], 100 * (1.02 ** (1 / 3) - 1), atol=0.02)
    assert symmetric["symmetry_match"].all()
    metrics, _ = metric_table(pd.concat([exact.rows, biased.rows], ignore_index=True), ["exact", "biased"])
    row = metrics[
        (metrics["key"] == "rattle_relax.abs_volume_change_median") & (metrics["calculator"] == "biased")
    ]
    assert row["verdict"].item() == "worse"
    assert row["difference"].item() == pytest.approx(2.0, abs=0.05)
    free = metrics[(metrics["key"] == "rattle_relax.free_rmsd_median") & (metrics["calculator"] == "biased")]
    assert free["direction"].item() == "none"


def test_free_relaxation_metrics_have_their_own_names_in_the_report_files(results, tmp_path):
    report = build_report(list(results), calculators=["exact", "biased"], skipped={}, context={})
    paths = write_report(tmp_path, report)
    keys = set(pd.read_csv(paths["metrics_csv"])["key"])
    for key in (
        "rattle_relax.rmsd_median",
        "rattle_relax.abs_volume_change_median",
        "rattle_relax.from_dft_rmsd_median",
        "rattle_relax.low_symmetry_rmsd_median",
        "rattle_relax.free_rmsd_median",
        "rattle_relax.free_symmetry_kept_fraction",
        "rattle_relax.free_e_below_symmetric_median",
    ):
        assert key in keys, key
    summary = paths["summary_md"].read_text()
    assert "Free relaxation of rattled supercells (not an accuracy)" in summary
    assert "free: RMSD median (Å)" in summary
    assert "Low-symmetry DFT minima (P1, P-1)" in summary


def test_relative_energies_within_a_formula_pair_every_two_structures():
    rows = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "formula": ["X", "X", "X", "Y"],
            "status": ["ok"] * 4,
            "energy_error": [0.010, 0.004, -0.002, 0.5],
        }
    )
    pairs = relative_energy_pairs(rows)
    assert list(pairs["id"]) == ["a|b", "a|c", "b|c"]  # Y has one structure: no pair
    assert np.allclose(pairs["relative_energy_error"], [0.006, 0.012, 0.006])
