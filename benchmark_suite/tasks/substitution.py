"""Task ``substitution``: relax equimolar five-cation supercells of four parent lattices.

The task function (:func:`run_substitution`), its metrics (overall, and one set per parent
lattice), headline columns, report section and profile sizes; :data:`SPEC` is its record in
:mod:`benchmark_suite.registry`. The structures come from :mod:`benchmark_suite.tasks.substitution_cells`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from ase.calculators.calculator import Calculator

from benchmark_suite import geometry
from benchmark_suite.catalogue import METRICS
from benchmark_suite.journal import RowJournal
from benchmark_suite.sections import task_metric_table
from benchmark_suite.statistics import median_metric
from benchmark_suite.task_spec import ReportView, SessionView, SizeOption, TaskMetric, TaskSpec
from benchmark_suite.tasks.common import TaskResult, relax, relaxation_columns, single_point_energy
from heo_base.types import RelaxEngineName
from heo_calc.model import ModelHandle
from heo_calc.relax.single import RelaxOptions
from heo_calc.status import Status
from heo_calc.structures.lattices import pseudo_cubic_lattice_parameter

NAME: Final = "substitution"

# ---------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------


def _substitution_start(item: Any) -> dict[str, Any]:
    """Columns that describe how a generated structure was made (before relaxing)."""
    from benchmark_suite.tasks.substitution_cells import PARENT_LATTICES

    parent = PARENT_LATTICES[item.lattice]
    return {
        "task": NAME,
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
    item: Any, result: Any, reference_calculator: Calculator | None, a_exp: float
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
    e_ref, error = single_point_energy(reference_calculator, result.atoms)
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
    options: RelaxOptions | None = None,
    engine: RelaxEngineName = "fast",
    reference_calculator: Calculator | None = None,
    reference_name: str | None = None,
    journal: RowJournal | None = None,
) -> TaskResult:
    """Relax generated equimolar HEO supercells (:mod:`benchmark_suite.tasks.substitution_cells`) with ``options``.

    ``options``: :class:`~heo_calc.relax.RelaxOptions` (default fmax 0.05 eV/Å, 200 steps,
    the quick profile's).

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
    options = options if options is not None else RelaxOptions(fmax=0.05, max_steps=200)

    def relax_chunk(chunk: list[Any]) -> list[dict[str, Any]]:
        results = relax(calculator, [item.atoms for item in chunk], engine=engine, options=options)
        rows = []
        for item, result in zip(chunk, results):
            row = _substitution_start(item) | relaxation_columns(result)
            row["reference_calc"] = reference_name or ""
            row.update(_substitution_final(item, result, reference_calculator, float(row["a_exp_A"])))
            rows.append(row)
        return rows

    rows = journal.complete(generated, [str(item.atoms.info["name"]) for item in generated], relax_chunk)
    table = pd.DataFrame(rows)
    table.insert(1, "calculator", calculator_name)
    return TaskResult(NAME, calculator_name, table, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------------------

SUBSTITUTION_METRICS: Final[tuple[TaskMetric, ...]] = (
    TaskMetric(NAME, METRICS["converged_fraction"], "converged (fraction)", 2, keep_failed=True),
    TaskMetric(NAME, METRICS["steps_median"], "steps median", digits=0),
)


def lattice_metrics(lattice: str) -> tuple[TaskMetric, ...]:
    """Metrics of one parent lattice: lattice parameter (Å), its error and the distortion (%), yardstick energy (eV/atom)."""
    return (
        TaskMetric(NAME, METRICS["lattice_parameter_median"], "a final (Å)", 3, lattice),
        TaskMetric(
            NAME,
            median_metric("abs_a_error_pct", name="abs_a_error_median", unit="%", direction="lower"),
            "|a − a_exp|/a_exp median (%)",
            2,
            lattice,
            empty_reason="no experimental lattice parameter is recorded for this lattice",
        ),
        TaskMetric(
            NAME,
            median_metric("cell_distortion_pct", name="cell_distortion_median", unit="%"),
            "cell distortion median (%)",
            2,
            lattice,
        ),
        TaskMetric(
            NAME,
            median_metric("energy_ref_per_atom", name="energy_ref_median", unit="eV/atom"),
            "E under --reference-calc median (eV/atom)",
            4,
            lattice,
            empty_reason="no --reference-calc (or it could not evaluate the structures)",
        ),
    )


def substitution_metrics(rows: pd.DataFrame) -> list[TaskMetric]:
    """The overall metrics, then those of every lattice in ``rows`` (the task's rows), in row order."""
    lattices = list(dict.fromkeys(rows["lattice"].dropna())) if "lattice" in rows else []
    return [*SUBSTITUTION_METRICS, *(m for lattice in lattices for m in lattice_metrics(lattice))]


# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------

TITLE: Final = "Substitution (equimolar five-cation supercells, out of distribution)"

HEADLINE: Final[tuple[tuple[str, str], ...]] = (
    ("substitution.converged_fraction", "subst.: converged"),
    ("substitution.steps_median", "subst.: steps median"),
    ("substitution[rocksalt].lattice_parameter_median", "rock-salt a median (Å; exp. 4.22)"),
)


def section(report: ReportView, worst_k: int) -> str:
    """The substitution section: overall metrics, then one table per parent lattice (``worst_k`` unused)."""
    table = report.table[report.table["task"] == NAME]
    parts = [f"## {TITLE}", task_metric_table(report, NAME)]
    for lattice in dict.fromkeys(table["lattice"].dropna()):
        rows = table[table["lattice"] == lattice]
        a_exp = float(rows["a_exp_A"].iloc[0]) if "a_exp_A" in rows else math.nan
        experiment = (
            f"; experiment {a_exp:.2f} Å ({rows['a_exp_citation'].iloc[0]})" if np.isfinite(a_exp) else ""
        )
        parts.append(f"### {lattice}: {rows['formula_target'].iloc[0]}{experiment}")
        parts.append(task_metric_table(report, NAME, lattice))
    reference = next((r for r in table.get("reference_calc", []) if isinstance(r, str) and r), "")
    parts.append(
        "Pseudo-cubic a from the volume; experimental values only where cited in "
        "benchmark_suite/tasks/substitution_cells.py. The energy column is every final structure evaluated with "
        f"the same reference calculator ({reference or 'none given'}; lower: the model found a structure "
        "that the yardstick deems more stable); a model's own energies are not comparable across models."
    )
    return "\n\n".join(parts)


# ---------------------------------------------------------------------------------------
# profile sizes and the record
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubstitutionSizes:
    """Which substituted supercells a profile relaxes.

    Attributes:
        substitution_sites: substituted (cation; B for perovskite) sites per parent lattice,
            multiples of 5 so that equimolar is exact.
        substitution_arrangements: ``random`` and/or ``sqs``.
        substitution_seeds: one structure per lattice, arrangement and seed.
        sqs_trials: swap-search trials per SQS.
    """

    substitution_sites: dict[str, int] = field(default_factory=dict)
    substitution_arrangements: tuple[str, ...] = ("random", "sqs")
    substitution_seeds: tuple[int, ...] = (0,)
    sqs_trials: int = 2000


def prepare(session: SessionView, profile: Any) -> list[Any]:
    """Every lattice x arrangement x seed of the profile (:func:`benchmark_suite.tasks.substitution_cells.substituted_structure`, deterministic)."""
    from benchmark_suite.tasks.substitution_cells import substituted_structure

    sizes: SubstitutionSizes = profile.sizes(NAME)
    return [
        substituted_structure(
            lattice,
            n_sites,
            arrangement=arrangement,  # type: ignore[arg-type]
            seed=seed,
            sqs_method=session.options.sqs_method,  # type: ignore[arg-type]
            sqs_trials=sizes.sqs_trials,
        )
        for lattice, n_sites in sizes.substitution_sites.items()
        for arrangement in sizes.substitution_arrangements
        for seed in sizes.substitution_seeds
    ]


def run(inputs: list[Any], model: ModelHandle, session: SessionView) -> TaskResult:
    """:func:`run_substitution` at the profile's fmax and steps, with the ``--reference-calc`` yardstick."""
    calculator, name = model.calculator(), model.label
    profile = session.options.profile
    reference_calculator, reference_name = session.reference_calculator()
    return run_substitution(
        calculator,
        name,
        inputs,
        options=profile.relax,
        engine=session.options.relax_engine,
        reference_calculator=reference_calculator,
        reference_name=reference_name,
        journal=session.journal(NAME, name),
    )


OPTIONS: Final = (
    SizeOption(
        "substitution_seeds",
        "--heo-seeds",
        "seeds 0..N-1 per lattice and arrangement",
        minimum=1,
        convert=lambda n: tuple(range(n)),
    ),
)

SPEC: Final = TaskSpec[SubstitutionSizes](
    name=NAME,
    title=TITLE,
    metrics=substitution_metrics,
    headline=HEADLINE,
    section=section,
    sizes={
        # quick: small cells, one seed and only the SQS arrangement. full: random and SQS
        # cells with two seeds.
        "quick": SubstitutionSizes(
            {"rocksalt": 20, "spinel": 30, "fluorite": 10, "perovskite": 10}, ("sqs",), (0,), sqs_trials=1000
        ),
        "full": SubstitutionSizes(
            {"rocksalt": 20, "spinel": 30, "fluorite": 20, "perovskite": 10},
            ("random", "sqs"),
            (0, 1),
            sqs_trials=5000,
        ),
    },
    options=OPTIONS,
    prepare=prepare,
    run=run,
    expected_rows=len,
    context=("substitution_seeds",),
    table_keys=("substitution[rocksalt].abs_a_error_median",),
    short_title="subst.: ",
    relaxations=True,
)
