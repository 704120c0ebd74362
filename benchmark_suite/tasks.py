"""The three benchmark tasks as plain functions: structures and a calculator in, tidy rows out.

The pytest modules of this package call these; they can be called from Python as well.
Relaxations go through :func:`heo_calc.relax_many`, accuracy through :mod:`heo_calc.evaluation`,
geometry through :mod:`benchmark_suite.geometry`.
Nothing here raises for a bad model: failures become rows with ``status="failed"``.

The rows are the contract with the report: every number of the report is computed from
them by the metric definitions of :mod:`benchmark_suite.metrics`, which name their columns.
A :class:`TaskResult` carries the rows and what is not per structure (the task's elapsed
time, the fitted energy reference, parity-plot arrays).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from ase import Atoms
from ase.calculators.calculator import Calculator

from benchmark_suite import geometry
from benchmark_suite.journal import CHUNK, RowJournal
from heo_base.units import MEV
from heo_calc.status import Status
from heo_calc.structures.lattices import pseudo_cubic_lattice_parameter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReferenceFit:
    """The per-element energy reference fitted for the accuracy task (one calculator)."""

    description: str
    n_fit: int
    offsets_eV: dict[str, float] = field(default_factory=dict)


@dataclass
class TaskResult:
    """One task for one calculator: rows (one per structure) and what is not per structure.

    ``wall_time_s`` is the task's elapsed time (structures of a batched relaxation overlap,
    so it is not the sum of the rows' ``wall_time_s``); ``arrays`` holds parity-plot data
    (accuracy: per-atom force components); ``reference_fit`` the accuracy task's energy reference.
    """

    task: str
    calculator: str
    rows: pd.DataFrame
    wall_time_s: float = 0.0
    arrays: dict[str, list[float]] = field(default_factory=dict)
    reference_fit: ReferenceFit | None = None

    @property
    def n_failed(self) -> int:
        return int((self.rows["status"] == Status.FAILED).sum()) if len(self.rows) else 0


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


def _parity_arrays(table: pd.DataFrame) -> dict[str, list[float]]:
    """Energies per atom (DFT, predicted, predicted after the fit) and force components of the ok rows."""
    ok = table[table["status"] == Status.OK]
    arrays: dict[str, list[float]] = {
        "energy_DFT": ok["energy_per_atom_DFT"].astype(float).tolist(),
        "energy_pred": ok["energy_per_atom_pred"].astype(float).tolist(),
        "energy_pred_corrected": (ok["energy_per_atom_DFT"] + ok["energy_error_corrected"])
        .astype(float)
        .tolist(),
        "force_DFT": [],
        "force_pred": [],
    }
    for reference, predicted in zip(ok["forces_DFT"], ok["forces_pred"]):
        if reference is not None and predicted is not None:
            arrays["force_DFT"].extend(np.asarray(reference).ravel().tolist())
            arrays["force_pred"].extend(np.asarray(predicted).ravel().tolist())
    return arrays


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

    Row columns: those of :func:`heo_calc.evaluation.evaluate_structures` (forces NaN and
    ``n_force_components`` 0 where the data carry no forces) plus ``task``, ``calculator``,
    ``energy_error_corrected`` and ``energy_abs_error_corrected`` (eV/atom) and the meV
    versions ``energy_error_meV``, ``energy_error_corrected_meV`` (meV/atom),
    ``force_rmse_meV`` (meV/Å).
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
    arrays = _parity_arrays(table)
    rows = table.drop(columns=["forces_DFT", "forces_pred"])
    rows["energy_abs_error_corrected"] = rows["energy_error_corrected"].abs()
    rows["energy_error_meV"] = rows["energy_error"] * MEV
    rows["energy_error_corrected_meV"] = rows["energy_error_corrected"] * MEV
    rows["force_rmse_meV"] = rows["force_rmse"] * MEV
    rows.insert(0, "calculator", calculator_name)
    rows.insert(0, "task", "accuracy")
    fitted = ReferenceFit(accuracy.reference_fit, accuracy.n_fit, dict(accuracy.reference_offsets_eV))
    return TaskResult("accuracy", calculator_name, rows, time.perf_counter() - started, arrays, fitted)


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


def _relax(calculator: Calculator, structures: Sequence[Atoms], *, engine: str, fmax: float, max_steps: int):
    from heo_calc.relax import relax_many

    return relax_many(
        list(structures),
        **_engine_arguments(calculator, engine),
        fmax=fmax,
        max_steps=max_steps,
        progress=False,
    )


def _relaxation_columns(result) -> dict[str, Any]:
    """Columns every relaxation row has, from a :class:`heo_calc.relax.RelaxResult`."""
    return {
        "status": str(result.status),
        "converged": bool(result.converged),
        "steps": int(result.n_steps),
        "max_force": result.max_force,
        "max_stress_gpa": result.max_stress_gpa,
        "wall_time_s": result.wall_time_s,
        "error": result.error or "",
    }


#: Space groups whose DFT minima a free relaxation measures (nothing for symmetry to hold): P1, P-1.
LOW_SYMMETRY_GROUPS: Final = (1, 2)

#: The relaxations of the task, the value of the rows' ``relaxation`` column.
SYMMETRIC, SYMMETRIC_FROM_DFT = "symmetric", "symmetric_from_dft"
LOW_SYMMETRY, LOW_SYMMETRY_FROM_DFT = "low_symmetry", "low_symmetry_from_dft"
FREE = "free"


@dataclass(frozen=True)
class RattleSettings:
    """How the rattle-and-relax task perturbs and relaxes (lengths Å, strain fraction, fmax eV/Å)."""

    sigma: float = 0.05
    strain: float = 0.01
    seed: int = 0
    fmax: float = 0.05
    max_steps: int = 200
    engine: str = "fast"
    symprec: float = 1e-2
    from_dft: bool = True  # also relax from the DFT structure itself (``*_from_dft`` rows)
    symmetric_fmax: float | None = None  # of the stored cells' relaxations (None: fmax); free ones use fmax


def _geometry_columns(final: Atoms, reference: Atoms, *, symprec: float) -> dict[str, Any]:
    """Geometry of a relaxed structure against its DFT reference (same atom order)."""
    after, before, match = geometry.symmetry_match(final, reference, symprec=symprec)
    changes = geometry.conventional_lattice_changes_percent(final, reference, symprec=symprec)
    volume = geometry.volume_change_percent(final, reference)
    return {
        "rmsd_A": float(geometry.rmsd_same_order(final, reference)),
        "spg_DFT": before,
        "spg_relaxed": after,
        "symmetry_match": match,
        "volume_change_pct": volume,
        "abs_volume_change_pct": abs(volume),
        "abs_a_change_pct": changes[0],
        "abs_b_change_pct": changes[1],
        "abs_c_change_pct": changes[2],
        "abs_lattice_change_max_pct": max(changes),
    }


_GEOMETRY_KEYS: Final = (
    "rmsd_A",
    "volume_change_pct",
    "abs_volume_change_pct",
    "abs_a_change_pct",
    "abs_b_change_pct",
    "abs_c_change_pct",
    "abs_lattice_change_max_pct",
)


def _rattle_row(
    calculator: Calculator,
    reference: Atoms,
    initial: Atoms,
    result,
    *,
    relaxation: str,
    parent_id: str,
    settings: RattleSettings,
) -> dict[str, Any]:
    """One relaxation of one structure: how it started, how it ended, and its geometry against DFT."""
    from heo_base.labels import reduced_formula

    n = len(reference)
    row: dict[str, Any] = {
        "task": "rattle_relax",
        "id": f"{parent_id}:{relaxation}",
        "parent_id": parent_id,
        "relaxation": relaxation,
        "formula": reduced_formula(reference),
        "n_atoms": n,
        "sigma_A": settings.sigma,
        "rmsd_start_A": float(geometry.rmsd_same_order(initial, reference)),
        **_relaxation_columns(result),
    }
    if result.status == Status.FAILED:
        row.update(dict.fromkeys(_GEOMETRY_KEYS, np.nan), e_above_dft_min_meV=np.nan, symmetry_match=False)
        row.update(spg_DFT=geometry.spacegroup_number(reference, symprec=settings.symprec), spg_relaxed=0)
        return row
    e_dft_geometry, error = _energy(calculator, reference)
    row.update(
        _geometry_columns(result.atoms, reference, symprec=settings.symprec),
        e_above_dft_min_meV=(result.energy - e_dft_geometry) / n * MEV,
        energy_per_atom=result.energy / n,
    )
    row["error"] = row["error"] or error
    return row


def _relax_rows(
    calculator: Calculator,
    jobs: list[tuple[Atoms, Atoms, str, str]],
    *,
    keep_symmetry: bool,
    settings: RattleSettings,
    fmax: float,
    journal: RowJournal,
) -> list[dict[str, Any]]:
    """Relax ``(reference, start, relaxation, parent_id)`` jobs; one row each, in job order.

    Jobs whose row the ``journal`` holds are not relaxed again; the others go to the engine
    in chunks of :data:`benchmark_suite.journal.CHUNK`, each chunk's rows journaled when done.
    """
    from heo_calc.relax import relax_many

    keys = [f"{parent}:{relaxation}" for _, _, relaxation, parent in jobs]
    done = {key: journal.finished(key) for key in keys if journal.finished(key) is not None}
    todo = [job for job, key in zip(jobs, keys) if key not in done]
    for first in range(0, len(todo), CHUNK):
        chunk = todo[first : first + CHUNK]
        results = relax_many(
            [start for _, start, _, _ in chunk],
            **_engine_arguments(calculator, settings.engine),
            fmax=fmax,
            max_steps=settings.max_steps,
            progress=False,
            keep_symmetry=keep_symmetry,
            symprec=settings.symprec,
        )
        rows = [
            _rattle_row(
                calculator,
                reference,
                start,
                result,
                relaxation=relaxation,
                parent_id=parent,
                settings=settings,
            )
            for (reference, start, relaxation, parent), result in zip(chunk, results)
        ]
        journal.append(rows)
        done.update((row["id"], row) for row in rows)
    return [done[key] for key in keys]


def _parent_id(atoms: Atoms, index: int) -> str:
    return str(atoms.info.get("name") or atoms.info.get("immutable_id") or f"structure-{index}")


def _energy_below_symmetric(rows: list[dict[str, Any]]) -> None:
    """Free rows get E(free relaxed) − E(symmetric relaxed from DFT) per atom (meV/atom), same parent."""
    symmetric = {
        row["parent_id"]: row.get("energy_per_atom", np.nan)
        for row in rows
        if row["relaxation"] in (SYMMETRIC_FROM_DFT, LOW_SYMMETRY_FROM_DFT)
    }
    for row in rows:
        if row["relaxation"] == FREE:
            below = row.get("energy_per_atom", np.nan) - symmetric.get(row["parent_id"], np.nan)
            row["e_below_symmetric_meV"] = below * MEV


def run_rattle_relax(
    calculator: Calculator,
    calculator_name: str,
    references: Sequence[Atoms],
    free_references: Sequence[Atoms] = (),
    settings: RattleSettings | None = None,
    journal: RowJournal | None = None,
) -> TaskResult:
    """Relax DFT-relaxed structures the way DFT did, and (apart) freely; compare with the DFT structure.

    ``references`` (stored DFT-relaxed cells, no supercell): each one whose space group
    (spglib at ``settings.symprec``) is above P-1 is relaxed with that space group kept
    (ASE ``FixSymmetry``) from (a) the DFT structure itself (``relaxation`` =
    ``symmetric_from_dft``) and (b) a seeded rattle projected onto the symmetry-allowed
    displacements plus a seeded symmetric strain of the cell of up to ``settings.strain``
    (:func:`heo_calc.structures.perturb.symmetric_rattle`; ``symmetric``). P1 and P-1
    minima, where a free relaxation does measure the model, are relaxed without
    constraint from the same two starts (``low_symmetry``, ``low_symmetry_from_dft``).
    ``free_references`` (supercells of DFT-relaxed structures, ``info["parent"]`` naming
    the stored structure) are rattled (:func:`heo_calc.structures.perturb.rattle`) and
    relaxed without constraint (``free``, at ``settings.fmax``; the stored cells at
    ``settings.symmetric_fmax``): whether the model finds a lower, less
    symmetric minimum where DFT was held by symmetry; not an accuracy.

    Row columns: ``id`` (``parent:relaxation``), ``parent_id``, ``relaxation``,
    ``formula``, ``n_atoms``, ``status``, ``converged``, ``steps``, ``rmsd_A`` (Å, same
    atom order, minimum image; :func:`benchmark_suite.geometry.rmsd_same_order`),
    ``rmsd_start_A``, ``volume_change_pct`` and ``abs_volume_change_pct`` (relaxed vs DFT
    cell, %), ``abs_a_change_pct``/``abs_b_change_pct``/``abs_c_change_pct`` and their max
    ``abs_lattice_change_max_pct`` (conventional cell, %), ``spg_DFT``/``spg_relaxed``/
    ``symmetry_match``, ``e_above_dft_min_meV`` (E(model, relaxed) − E(model, DFT
    geometry), meV/atom), ``energy_per_atom`` (eV/atom), ``e_below_symmetric_meV`` (free
    rows: E(free) − E(relaxed from DFT within its symmetry), meV/atom), ``max_force``,
    ``max_stress_gpa``, ``wall_time_s``, ``error``. Rows already in ``journal`` (a resumed
    run) are reused; new ones are written to it as they finish.
    """
    from heo_calc.structures.perturb import rattle, symmetric_rattle

    settings = settings or RattleSettings()
    journal = journal if journal is not None else RowJournal()
    started = time.perf_counter()
    symmetric_jobs, low_symmetry_jobs = [], []
    for index, reference in enumerate(references):
        parent = _parent_id(reference, index)
        start = symmetric_rattle(
            reference, settings.sigma, settings.strain, settings.seed + index, symprec=settings.symprec
        )
        low = geometry.spacegroup_number(reference, symprec=settings.symprec) in LOW_SYMMETRY_GROUPS
        jobs, names = (
            (low_symmetry_jobs, (LOW_SYMMETRY, LOW_SYMMETRY_FROM_DFT))
            if low
            else (symmetric_jobs, (SYMMETRIC, SYMMETRIC_FROM_DFT))
        )
        jobs.append((reference, start, names[0], parent))
        if settings.from_dft:
            jobs.append((reference, reference, names[1], parent))
    free_jobs = [
        (atoms, rattle(atoms, settings.sigma, settings.seed + index), FREE, str(atoms.info.get("parent", "")))
        for index, atoms in enumerate(free_references)
    ]
    cell_fmax = settings.symmetric_fmax or settings.fmax
    common = {"settings": settings, "journal": journal}
    rows = _relax_rows(calculator, symmetric_jobs, keep_symmetry=True, fmax=cell_fmax, **common)
    rows += _relax_rows(calculator, low_symmetry_jobs, keep_symmetry=False, fmax=cell_fmax, **common)
    rows += _relax_rows(calculator, free_jobs, keep_symmetry=False, fmax=settings.fmax, **common)
    rows = [
        dict(row) for row in rows
    ]  # journaled rows are shared: the free rows' energy column is added here
    _energy_below_symmetric(rows)
    table = pd.DataFrame(rows)
    if len(table):
        table.insert(1, "calculator", calculator_name)
    return TaskResult("rattle_relax", calculator_name, table, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------
# 3. substitution
# ---------------------------------------------------------------------------------------


def _substitution_start(item: Any) -> dict[str, Any]:
    """Columns that describe how a generated structure was made (before relaxing)."""
    from benchmark_suite.substitution import PARENT_LATTICES

    parent = PARENT_LATTICES[item.lattice]
    return {
        "task": "substitution",
        "id": str(item.atoms.info["name"]),
        "lattice": item.lattice,
        "formula_target": parent.formula,
        "formula": item.atoms.get_chemical_formula(),
        "arrangement": item.arrangement,
        "seed": item.seed,
        "sqs_method": item.sqs_method,
        "wc_objective": item.wc_objective,
        "n_atoms": len(item.atoms),
        "a_start_A": pseudo_cubic_lattice_parameter(item.atoms, item.lattice),
        "a_exp_A": parent.experimental.a if parent.experimental else np.nan,
        "a_exp_citation": parent.experimental.citation if parent.experimental else "",
    }


def _substitution_final(
    item: Any, result, reference_calculator: Calculator | None, a_exp: float
) -> dict[str, Any]:
    """Columns of the relaxed structure (NaN when the relaxation failed)."""
    if result.status == Status.FAILED:
        return dict.fromkeys(
            (
                "a_final_A",
                "a_error_pct",
                "abs_a_error_pct",
                "volume_change_pct",
                "cell_distortion_pct",
                "energy_per_atom",
                "energy_ref_per_atom",
            ),
            np.nan,
        ) | {"reference_time_s": 0.0}
    n = len(item.atoms)
    a_final = pseudo_cubic_lattice_parameter(result.atoms, item.lattice)
    started = time.perf_counter()
    e_ref, error = _energy(reference_calculator, result.atoms)
    columns = {
        "a_final_A": a_final,
        "a_error_pct": 100.0 * (a_final / a_exp - 1.0) if np.isfinite(a_exp) else np.nan,
        "abs_a_error_pct": abs(100.0 * (a_final / a_exp - 1.0)) if np.isfinite(a_exp) else np.nan,
        "volume_change_pct": result.volume_change_percent,
        "cell_distortion_pct": geometry.cell_distortion_percent(result.atoms, item.atoms),
        "energy_per_atom": result.energy / n,
        "energy_ref_per_atom": e_ref / n,
        "reference_time_s": time.perf_counter() - started,
    }
    if error:
        columns["error"] = f"reference calculator: {error}"
    return columns


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
    journal: RowJournal | None = None,
) -> TaskResult:
    """Relax generated equimolar HEO supercells (:mod:`benchmark_suite.substitution`).

    Row columns: ``id``, ``lattice``, ``formula_target``, ``arrangement``, ``seed``, ``sqs_method``,
    ``wc_objective`` (Warren-Cowley objective of the arrangement), ``n_atoms``, ``status``,
    ``converged``, ``steps``, ``a_start_A`` and ``a_final_A`` (pseudo-cubic lattice
    parameter from the volume, Å; :func:`heo_calc.structures.lattices.pseudo_cubic_lattice_parameter`),
    ``a_exp_A`` and ``a_exp_citation`` (where recorded), ``a_error_pct`` (final vs
    experiment, %), ``volume_change_pct``, ``max_force``, ``max_stress_gpa``,
    ``cell_distortion_pct`` (change of cell shape, volume change removed:
    :func:`benchmark_suite.geometry.cell_distortion_percent`; does the cubic parent survive?),
    ``energy_per_atom`` (this model, eV/atom; not comparable across models),
    ``energy_ref_per_atom`` (the final structure under ``reference_calculator``, eV/atom,
    the common yardstick) and ``reference_calc``, ``wall_time_s``, ``error``. Rows already
    in ``journal`` are reused; new ones are written to it as each chunk finishes.
    """
    started = time.perf_counter()
    journal = journal if journal is not None else RowJournal()
    keys = [str(item.atoms.info["name"]) for item in generated]
    done = {key: journal.finished(key) for key in keys if journal.finished(key) is not None}
    todo = [item for item, key in zip(generated, keys) if key not in done]
    for first in range(0, len(todo), CHUNK):
        chunk = todo[first : first + CHUNK]
        results = _relax(
            calculator, [item.atoms for item in chunk], engine=engine, fmax=fmax, max_steps=max_steps
        )
        chunk_rows = []
        for item, result in zip(chunk, results):
            row = _substitution_start(item) | _relaxation_columns(result)
            row["reference_calc"] = reference_name or ""
            row.update(_substitution_final(item, result, reference_calculator, float(row["a_exp_A"])))
            chunk_rows.append(row)
        journal.append(chunk_rows)
        done.update((row["id"], row) for row in chunk_rows)
    rows = [done[key] for key in keys]
    table = pd.DataFrame(rows)
    table.insert(1, "calculator", calculator_name)
    return TaskResult("substitution", calculator_name, table, time.perf_counter() - started)
