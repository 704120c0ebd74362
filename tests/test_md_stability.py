"""The md_stability benchmark task: a harmonic calculator stays physical with ~zero NVE drift;
a calculator made to collapse is caught, at the time the equations of motion predict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import toy_ionic
from ase import Atoms, units
from ase.calculators.calculator import all_changes
from ase.io import write
from harmonic_reference import HarmonicReference

from benchmark_suite.metrics import metric_table
from benchmark_suite.profiles import PROFILES
from benchmark_suite.registry import TASKS
from benchmark_suite.tasks.md_stability import SPEC, MDSettings, nve_drift, run_md_stability
from heo_calc.structures import rocksalt_heo_supercell

pytest_plugins = ["pytester"]

SUITE = Path(__file__).resolve().parents[1] / "benchmark_suite"
K_SITE = 5.0  # eV/Å², spring of every atom to its site (HarmonicReference)
K_PULL = 5.0  # eV/Å², zero-length spring pulling two O atoms together (the collapse)


def _cells(n: int) -> list[Atoms]:
    cells = []
    for seed in range(n):
        atoms = rocksalt_heo_supercell(repeat=1, seed=seed)
        atoms.info["name"] = f"cell-{seed}"
        cells.append(atoms)
    return cells


def _closest_oxygens(atoms: Atoms) -> tuple[int, int]:
    oxygens = [i for i, symbol in enumerate(atoms.get_chemical_symbols()) if symbol == "O"]
    distances = atoms.get_all_distances(mic=True)
    pairs = [(distances[i, j], i, j) for i in oxygens for j in oxygens if i < j]
    _, i, j = min(pairs)
    return i, j


class Collapsing(HarmonicReference):
    """HarmonicReference plus a zero-length spring (K_PULL) between two O atoms: they fall onto each other."""

    def __init__(self, references, pair: tuple[int, int]) -> None:
        super().__init__(references, k=K_SITE)
        self.pair = pair

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        i, j = self.pair
        vector = self.atoms.get_distance(i, j, mic=True, vector=True)  # r_j - r_i (minimum image)
        self.results["energy"] += 0.5 * K_PULL * float(vector @ vector)
        self.results["free_energy"] = self.results["energy"]
        forces = self.results["forces"].copy()
        forces[i] += K_PULL * vector
        forces[j] -= K_PULL * vector
        self.results["forces"] = forces


def test_a_harmonic_crystal_stays_physical_at_1200_K_and_conserves_energy_in_nve():
    cells = _cells(2)
    settings = MDSettings(timestep_fs=1.0, nvt_steps=150, nve_steps=150)
    result = run_md_stability(HarmonicReference(cells, k=K_SITE), "harmonic", cells, settings)
    rows = result.rows
    assert len(rows) == 2 and (rows["status"] == "ok").all()
    assert rows["stable"].astype(bool).all() and rows["failure"].eq("").all()
    assert rows["time_to_failure_ps"].isna().all()
    assert np.allclose(rows["survival_time_ps"], 0.3)
    assert (rows["steps_run"] == 300).all()
    # velocity Verlet on a harmonic crystal: no secular drift (tolerance 1 meV/atom/ps)
    assert (rows["abs_nve_drift_meV_per_atom_ps"] < 1.0).all(), rows["nve_drift_meV_per_atom_ps"].tolist()
    # the thermostat heats the crystal towards 1,200 K (8 atoms: large fluctuations)
    assert (rows["nvt_temperature_K"] > 600).all() and (rows["nvt_temperature_K"] < 1800).all()
    assert (rows["min_distance_ratio"] > 0.7).all() and (rows["max_force_eV_A"] < 5).all()


def test_a_collapsing_calculator_is_caught_at_the_time_the_equations_of_motion_give():
    (cell,) = _cells(1)
    i, j = _closest_oxygens(cell)
    # Nearly at rest (1 mK, almost no friction): the O-O separation s obeys
    # s'' = -(K_SITE/m)(s - s0) - (2 K_PULL/m) s, so s(t) = s_eq + (s0 - s_eq) cos(ωt).
    settings = MDSettings(
        temperature_K=1e-3, friction_per_fs=1e-6, timestep_fs=0.5, nvt_steps=200, nve_steps=100
    )
    result = run_md_stability(Collapsing([cell], (i, j)), "collapsing", [cell], settings)
    row = result.rows.iloc[0]
    s0 = cell.get_distance(i, j, mic=True)
    bond = row["equilibrium_bond_A"]
    assert bond == pytest.approx(min(cell.get_all_distances(mic=True)[np.triu_indices(len(cell), 1)]))
    mass = cell.get_masses()[i]
    omega = np.sqrt((K_SITE + 2 * K_PULL) / mass)  # 1 / ASE time unit
    s_eq = K_SITE * s0 / (K_SITE + 2 * K_PULL)
    crossing = np.arccos((settings.min_distance_fraction * bond - s_eq) / (s0 - s_eq)) / omega
    expected_ps = crossing / units.fs / 1000
    assert row["status"] == "ok" and not bool(row["stable"])
    assert "distance" in row["failure"]
    assert expected_ps <= row["time_to_failure_ps"] <= expected_ps + 2 * settings.timestep_fs / 1000
    assert row["survival_time_ps"] == row["time_to_failure_ps"] and np.isnan(row["nve_drift_meV_per_atom_ps"])
    assert row["min_distance_ratio"] < settings.min_distance_fraction


def test_non_finite_forces_fail_at_the_start_and_a_force_bound_is_a_failure_too():
    (cell,) = _cells(1)

    class NaNForces(HarmonicReference):
        def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
            super().calculate(atoms, properties, system_changes)
            self.results["forces"] = np.full((len(self.atoms), 3), np.nan)

    settings = MDSettings(nvt_steps=5, nve_steps=5)
    row = run_md_stability(NaNForces([cell]), "nan", [cell], settings).rows.iloc[0]
    assert not bool(row["stable"]) and row["time_to_failure_ps"] == 0.0 and "non-finite" in row["failure"]
    stiff = MDSettings(nvt_steps=5, nve_steps=5, max_force_eV_A=1e-6)
    row = run_md_stability(HarmonicReference([cell]), "stiff", [cell], stiff).rows.iloc[0]
    assert not bool(row["stable"]) and "force" in row["failure"]


def test_nve_drift_is_the_slope_in_meV_per_atom_per_ps():
    times = np.linspace(0.0, 0.5, 11)  # ps
    assert nve_drift(times, -5.0 + 0.002 * times) == pytest.approx(2.0)  # 2 meV/atom/ps
    assert np.isnan(nve_drift([0.0, 0.1], [1.0, 1.0]))


def test_the_task_gets_intervals_and_paired_verdicts_like_every_other_metric():
    cells = _cells(3)
    settings = MDSettings(temperature_K=300.0, nvt_steps=40, nve_steps=20, timestep_fs=1.0)
    stable = run_md_stability(HarmonicReference(cells, k=K_SITE), "harmonic", cells, settings)
    pairs = [_closest_oxygens(cell) for cell in cells]
    assert len(set(pairs)) == 1  # the same O pair in every 8-atom cell
    collapsing = run_md_stability(Collapsing(cells, pairs[0]), "collapsing", cells, settings)

    metrics, _ = metric_table(pd.concat([stable.rows, collapsing.rows]), ["harmonic", "collapsing"])
    fraction = metrics[metrics["key"] == "md_stability.stable_fraction"].set_index("calculator")
    assert fraction.loc["harmonic", "value"] == 1.0 and fraction.loc["collapsing", "value"] == 0.0
    assert fraction.loc["collapsing", "verdict"] == "worse" and fraction.loc["collapsing", "n_paired"] == 3
    survival = metrics[metrics["key"] == "md_stability.survival_time_median"].set_index("calculator")
    assert survival.loc["collapsing", "verdict"] == "worse"
    # no collapsing run reached NVE: its drift has no value, the harmonic one's does
    drift = metrics[metrics["key"] == "md_stability.nve_drift_median"].set_index("calculator")
    assert drift.loc["harmonic", "n"] == 3 and drift.loc["collapsing", "n"] == 0


def test_the_record_is_registered_with_its_sizes_options_and_a_small_quick_profile():
    assert TASKS["md_stability"] is SPEC
    quick, full = PROFILES["quick"].sizes(SPEC), PROFILES["full"].sizes(SPEC)
    calls = quick.md_n_cells * (quick.md_nvt_steps + quick.md_nve_steps)
    assert calls <= 300  # ~0.4 s per SevenNet-0 call on 2 cores: about 2 min per calculator
    assert (quick.md_temperature_K, full.md_temperature_K) == (1200.0, 1200.0)
    assert full.md_n_cells * (full.md_nvt_steps + full.md_nve_steps) == 18_000
    assert {option.flag for option in SPEC.options} == {
        "--heo-n-md",
        "--heo-md-nvt-steps",
        "--heo-md-nve-steps",
    }
    changed = PROFILES["quick"].with_overrides(sizes={"md_stability": {"md_nvt_steps": 7}})
    assert changed.sizes(SPEC).settings().nvt_steps == 7
    assert "md_nvt_steps" in PROFILES["quick"].context()


def test_the_suite_runs_the_task_from_its_record_alone(pytester, tmp_path, monkeypatch):
    """pytest benchmark_suite --heo-tasks md_stability: options, inputs, rows and report section from the record."""
    cells = _cells(2)
    for atoms in cells:
        atoms.info.update(split="test", DFT_energy=-5.0 * len(atoms))
        atoms.arrays["DFT_forces"] = np.zeros((len(atoms), 3))
    data = tmp_path / "relaxed.extxyz"
    write(data, cells, format="extxyz")
    directory = toy_ionic.register(tmp_path / "toy")
    monkeypatch.syspath_prepend(str(directory))
    monkeypatch.setenv("HEO_CALC_OFFLINE", "1")
    report = tmp_path / "report"
    result = pytester.runpytest(
        str(SUITE),
        "--calc",
        toy_ionic.NAME,
        "--heo-tasks",
        "md_stability",
        "--heo-dataset",
        str(data),
        "--heo-n-md",
        "2",
        "--heo-md-nvt-steps",
        "6",
        "--heo-md-nve-steps",
        "4",
        "--heo-report",
        str(report),
        "-p",
        "no:cacheprovider",
    )
    assert result.parseoutcomes().get("passed") == 1, result.stdout.str()[-3000:]
    rows = pd.read_csv(report / "rows.csv")
    assert set(rows["task"]) == {"md_stability"} and len(rows) == 2
    assert (rows["status"] == "ok").all() and (rows["steps_run"] <= 10).all()
    context = json.loads((report / "summary.json").read_text())["context"]
    assert (context["md_nvt_steps"], context["md_nve_steps"], context["md_n_cells"]) == (6, 4, 2)
    markdown = (report / "summary.md").read_text()
    assert "## MD stability" in markdown and "stayed physical (fraction)" in markdown
