"""The three benchmark tasks as plain functions: structures and a calculator in, tidy rows out.

The pytest modules of this package call these; they can be called from Python as well.
Relaxations go through :func:`heo_calc.relax_many`, accuracy through :mod:`heo_calc.evaluation`,
geometry through :mod:`benchmark_suite.geometry`.
Nothing here raises for a bad model: failures become rows with ``status="failed"``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from ase import Atoms
from ase.calculators.calculator import Calculator

from benchmark_suite import geometry
from heo_base.units import MEV
from heo_calc.structures.lattices import pseudo_cubic_lattice_parameter

logger = logging.getLogger(__name__)


@dataclass
class TaskResult:
    """Rows (one per structure), a flat summary of headline numbers and optional arrays for plots."""

    task: str
    calculator: str
    rows: pd.DataFrame
    summary: dict[str, Any]
    arrays: dict[str, list[float]] = field(default_factory=dict)

    @property
    def n_failed(self) -> int:
        return int((self.rows["status"] == "failed").sum()) if len(self.rows) else 0


def _validator(calculator: Calculator):
    from heo_calc.backends.capabilities import covered_atomic_numbers
    from heo_calc.validation import check_structure

    supported = covered_atomic_numbers(calculator)

    def validate(atoms: Atoms) -> None:
        check_structure(atoms, supported_numbers=supported)

    return validate


def _energy(calculator: Calculator | None, atoms: Atoms) -> tuple[float, str]:
    """Single-point energy (eV) and '' or the error; never raises."""
    if calculator is None:
        return float("nan"), ""
    from heo_calc.calculator import evaluate_properties

    try:
        energy = float(evaluate_properties(calculator, atoms, ())["energy"])
    except Exception as error:  # a bad model or structure gives NaN, not a crash
        return float("nan"), f"{type(error).__name__}: {error}"
    return (energy, "") if np.isfinite(energy) else (float("nan"), "non-finite energy")


# ---------------------------------------------------------------------------------------
# 1. accuracy
# ---------------------------------------------------------------------------------------


def run_accuracy(
    calculator: Calculator,
    calculator_name: str,
    test: Sequence[Atoms],
    fit: Sequence[Atoms] = (),
    *,
    worst_k: int = 5,
    huber_delta: float | None = 0.05,
) -> TaskResult:
    """Energy, force (and stress) errors on ``test``; energies also after a per-element reference fit.

    The numbers come from :func:`heo_calc.evaluation.evaluate_accuracy` (the same code as
    ``heo-calc evaluate``), with the reference fitted on ``fit`` (train/valid structures,
    formula-disjoint from test). A per-element fit carries its own noise (one
    parameter per element): read the raw errors for models trained on the same DFT
    reference as the data (SevenNet-0, MACE-MP-0), the fitted ones to compare models whose
    energy references differ (CHGNet's MP2020-corrected energies).

    Row columns: those of :func:`heo_calc.evaluation.evaluate_structures` plus ``task``,
    ``calculator``, ``energy_error_corrected`` (eV/atom) and the meV versions
    ``energy_error_meV``, ``energy_error_corrected_meV`` (meV/atom), ``force_rmse_meV``
    (meV/Å).
    """
    from heo_calc.evaluation import evaluate_accuracy

    started = time.perf_counter()
    table, accuracy = evaluate_accuracy(
        calculator,
        test,
        fit,
        worst_k=worst_k,
        huber_delta=huber_delta,
        keep_arrays=True,
        validate=_validator(calculator),
    )
    summary = {**accuracy.as_dict(), "wall_time_s": time.perf_counter() - started}
    arrays = {
        "energy_DFT": [],
        "energy_pred": [],
        "energy_pred_corrected": [],
        "force_DFT": [],
        "force_pred": [],
    }
    for _, row in table.iterrows():
        if row["status"] != "ok":
            continue
        arrays["energy_DFT"].append(float(row["energy_per_atom_DFT"]))
        arrays["energy_pred"].append(float(row["energy_per_atom_pred"]))
        arrays["energy_pred_corrected"].append(
            float(row["energy_per_atom_DFT"] + row["energy_error_corrected"])
        )
        if row["forces_DFT"] is not None and row["forces_pred"] is not None:
            arrays["force_DFT"].extend(np.asarray(row["forces_DFT"]).ravel().tolist())
            arrays["force_pred"].extend(np.asarray(row["forces_pred"]).ravel().tolist())
    rows = table.drop(columns=["forces_DFT", "forces_pred"])
    rows["energy_error_meV"] = rows["energy_error"] * MEV
    rows["energy_error_corrected_meV"] = rows["energy_error_corrected"] * MEV
    rows["force_rmse_meV"] = rows["force_rmse"] * MEV
    rows.insert(0, "calculator", calculator_name)
    rows.insert(0, "task", "accuracy")
    return TaskResult("accuracy", calculator_name, rows, summary, arrays)


# ---------------------------------------------------------------------------------------
# 2. rattle and relax
# ---------------------------------------------------------------------------------------


def _engine_arguments(calculator: Calculator, engine: str) -> dict[str, Any]:
    """``calculator`` and ``strategy`` keyword arguments for :func:`heo_calc.relax_many`.

    ``fast``: the engine's own choice with the loaded calculator (lock-step batches on a
    GPU, in this process on a CPU); ``sequential``: one structure after another.
    """
    if engine == "fast":
        return {"calculator": calculator, "strategy": "auto"}
    if engine == "sequential":
        return {"calculator": calculator, "strategy": "sequential"}
    raise ValueError(f"unknown relax engine {engine!r}; choose fast or sequential")


def rattle(atoms: Atoms, sigma: float, seed: int) -> Atoms:
    """A copy with Gaussian displacements of standard deviation ``sigma`` (Å) per component."""
    rattled = atoms.copy()
    rattled.positions += np.random.default_rng(seed).normal(scale=sigma, size=rattled.positions.shape)
    return rattled


def run_rattle_relax(
    calculator: Calculator,
    calculator_name: str,
    references: Sequence[Atoms],
    *,
    sigma: float = 0.05,
    seed: int = 0,
    fmax: float = 0.05,
    max_steps: int = 200,
    engine: str = "fast",
    symprec: float = 1e-2,
) -> TaskResult:
    """Rattle DFT-relaxed supercells, relax them with the model, compare with the DFT structure.

    Row columns: ``id``, ``formula``, ``n_atoms``, ``status``, ``converged``, ``steps``,
    ``rmsd_A`` (Å, same atom order, minimum image, reference cell; see
    :func:`heo_calc.geometry.rmsd_same_order`), ``rmsd_rattled_A`` (the rattle itself),
    ``sm_rmsd`` / ``sm_max_dist`` (StructureMatcher, normalised by (V/n)^(1/3)),
    ``spg_DFT`` / ``spg_relaxed`` / ``symmetry_match`` (space groups at ``symprec``),
    ``volume_change_pct`` (relaxed vs DFT cell, %), ``e_above_dft_min_meV`` (model energy
    of the relaxed structure minus the model energy of the unrattled DFT structure,
    meV/atom: negative when the model's minimum lies elsewhere), ``max_force``,
    ``max_stress_gpa`` (left at the end), ``wall_time_s`` (per structure; in batched
    relaxations the structures overlap in time, so the summary's ``wall_time_s`` is the
    task's elapsed time instead of their sum), ``error``.
    """
    from pymatgen.core import Composition

    from heo_calc.relax import relax_many

    task_started = time.perf_counter()
    started = [rattle(atoms, sigma, seed + index) for index, atoms in enumerate(references)]
    results = relax_many(
        started,
        **_engine_arguments(calculator, engine),
        fmax=fmax,
        max_steps=max_steps,
        progress=False,
    )
    rows = []
    for reference, initial, result in zip(references, started, results):
        e_dft_geometry, error_ref = _energy(calculator, reference)
        n = len(reference)
        row: dict[str, Any] = {
            "task": "rattle_relax",
            "calculator": calculator_name,
            "id": str(reference.info.get("name", "")),
            "formula": Composition(reference.get_chemical_formula()).reduced_formula,
            "n_atoms": n,
            "sigma_A": sigma,
            "status": result.status,
            "converged": bool(result.converged),
            "steps": int(result.n_steps),
            "rmsd_rattled_A": float(geometry.rmsd_same_order(initial, reference)),
            "max_force": result.max_force,
            "max_stress_gpa": result.max_stress_gpa,
            "wall_time_s": result.wall_time_s,
            "error": result.error or error_ref,
        }
        final = result.atoms
        if result.status != "failed":
            after, before, match = geometry.symmetry_match(final, reference, symprec=symprec)
            sm_rmsd, sm_max = geometry.structure_matcher_rmsd(final, reference)
            row.update(
                rmsd_A=float(geometry.rmsd_same_order(final, reference)),
                sm_rmsd=sm_rmsd,
                sm_max_dist=sm_max,
                spg_DFT=before,
                spg_relaxed=after,
                symmetry_match=match,
                volume_change_pct=geometry.volume_change_percent(final, reference),
                e_above_dft_min_meV=(result.energy - e_dft_geometry) / n * MEV,
            )
        else:
            row.update(
                rmsd_A=np.nan,
                sm_rmsd=np.nan,
                sm_max_dist=np.nan,
                spg_DFT=geometry.spacegroup_number(reference, symprec=symprec),
                spg_relaxed=0,
                symmetry_match=False,
                volume_change_pct=np.nan,
                e_above_dft_min_meV=np.nan,
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    summary = {
        "n": len(table),
        "n_failed": int((table["status"] == "failed").sum()) if len(table) else 0,
        "converged_fraction": float(table["converged"].mean()) if len(table) else float("nan"),
        "rmsd_A_median": _median(table, "rmsd_A"),
        "rmsd_A_max": _max(table, "rmsd_A"),
        "sm_rmsd_median": _median(table, "sm_rmsd"),
        "symmetry_match_fraction": float(table["symmetry_match"].mean()) if len(table) else float("nan"),
        "volume_change_pct_median": _median(table, "volume_change_pct"),
        "e_above_dft_min_meV_median": _median(table, "e_above_dft_min_meV"),
        "steps_median": _median(table, "steps"),
        "wall_time_s": time.perf_counter() - task_started,
    }
    return TaskResult("rattle_relax", calculator_name, table, summary)


def _median(table: pd.DataFrame, column: str) -> float:
    values = table[column].to_numpy(float) if column in table and len(table) else np.array([])
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def _max(table: pd.DataFrame, column: str) -> float:
    values = table[column].to_numpy(float) if column in table and len(table) else np.array([])
    values = values[np.isfinite(values)]
    return float(np.max(values)) if values.size else float("nan")


# ---------------------------------------------------------------------------------------
# 3. substitution
# ---------------------------------------------------------------------------------------


def run_substitution(
    calculator: Calculator,
    calculator_name: str,
    generated: Sequence[Any],
    *,
    fmax: float = 0.05,
    max_steps: int = 200,
    engine: str = "fast",
    reference_calculator: Calculator | None = None,
    reference_name: str | None = None,
) -> TaskResult:
    """Relax generated equimolar HEO supercells (:mod:`benchmark_suite.substitution`).

    Row columns: ``lattice``, ``formula_target``, ``arrangement``, ``seed``, ``sqs_method``,
    ``wc_objective`` (Warren-Cowley objective of the arrangement), ``n_atoms``, ``status``,
    ``converged``, ``steps``, ``a_start_A`` and ``a_final_A`` (pseudo-cubic lattice
    parameter from the volume, Å; :func:`heo_calc.pseudo_cubic_lattice_parameter`),
    ``a_exp_A`` and ``a_exp_citation`` (where recorded), ``a_error_pct`` (final vs
    experiment, %), ``volume_change_pct``, ``max_force``, ``max_stress_gpa``,
    ``cell_distortion_pct`` (change of cell shape, volume change removed:
    :func:`heo_calc.geometry.cell_distortion_percent`; does the cubic parent survive?),
    ``energy_per_atom`` (this model, eV/atom; not comparable across models),
    ``energy_ref_per_atom`` (the final structure under ``reference_calculator``, eV/atom,
    the common yardstick) and ``reference_calc``, ``wall_time_s``, ``error``.
    """
    from benchmark_suite.substitution import PARENT_LATTICES
    from heo_calc.relax import relax_many

    task_started = time.perf_counter()
    results = relax_many(
        [item.atoms for item in generated],
        **_engine_arguments(calculator, engine),
        fmax=fmax,
        max_steps=max_steps,
        progress=False,
    )
    rows = []
    for item, result in zip(generated, results):
        parent = PARENT_LATTICES[item.lattice]
        n = len(item.atoms)
        a_start = pseudo_cubic_lattice_parameter(item.atoms, item.lattice)
        row: dict[str, Any] = {
            "task": "substitution",
            "calculator": calculator_name,
            "id": str(item.atoms.info["name"]),
            "lattice": item.lattice,
            "formula_target": parent.formula,
            "formula": item.atoms.get_chemical_formula(),
            "arrangement": item.arrangement,
            "seed": item.seed,
            "sqs_method": item.sqs_method,
            "wc_objective": item.wc_objective,
            "n_atoms": n,
            "status": result.status,
            "converged": bool(result.converged),
            "steps": int(result.n_steps),
            "a_start_A": a_start,
            "a_exp_A": parent.experimental.a if parent.experimental else np.nan,
            "a_exp_citation": parent.experimental.citation if parent.experimental else "",
            "max_force": result.max_force,
            "max_stress_gpa": result.max_stress_gpa,
            "reference_calc": reference_name or "",
            "wall_time_s": result.wall_time_s,
            "error": result.error or "",
        }
        if result.status != "failed":
            a_final = pseudo_cubic_lattice_parameter(result.atoms, item.lattice)
            reference_started = time.perf_counter()
            e_ref, error_ref = _energy(reference_calculator, result.atoms)
            row.update(
                a_final_A=a_final,
                a_error_pct=100.0 * (a_final / parent.experimental.a - 1.0)
                if parent.experimental
                else np.nan,
                volume_change_pct=result.volume_change_percent,
                cell_distortion_pct=geometry.cell_distortion_percent(result.atoms, item.atoms),
                energy_per_atom=result.energy / n,
                energy_ref_per_atom=e_ref / n,
                reference_time_s=time.perf_counter() - reference_started,
            )
            if error_ref:
                row["error"] = f"reference calculator: {error_ref}"
        else:
            row.update(
                a_final_A=np.nan,
                a_error_pct=np.nan,
                volume_change_pct=np.nan,
                cell_distortion_pct=np.nan,
                energy_per_atom=np.nan,
                energy_ref_per_atom=np.nan,
                reference_time_s=0.0,
            )
        rows.append(row)
    table = pd.DataFrame(rows)
    summary: dict[str, Any] = {
        "n": len(table),
        "n_failed": int((table["status"] == "failed").sum()) if len(table) else 0,
        "converged_fraction": float(table["converged"].mean()) if len(table) else float("nan"),
        "steps_median": _median(table, "steps"),
        "cell_distortion_pct_median": _median(table, "cell_distortion_pct"),
        "wall_time_s": time.perf_counter() - task_started,
    }
    for lattice in PARENT_LATTICES:
        subset = table[table["lattice"] == lattice] if len(table) else table
        if len(subset):
            summary[f"a_final_A_{lattice}"] = _median(subset, "a_final_A")
            summary[f"energy_ref_per_atom_{lattice}"] = _median(subset, "energy_ref_per_atom")
    return TaskResult("substitution", calculator_name, table, summary)
