"""Every number of the benchmark report, computed from the tidy rows with bootstrap intervals.

A :class:`TaskMetric` names a task, an optional group of its rows (a substitution parent
lattice) and a :class:`heo_calc.statistics_bootstrap.Metric`, which names the row columns it
aggregates. :func:`metric_table` evaluates every metric for every calculator with a 95 %
percentile-bootstrap interval over structures, and for every calculator after the first a
paired bootstrap comparison with the first on the same structure ids, with its verdict
(better / worse / indistinguishable; ``different`` for metrics without a better direction).
The result is one tidy table (:data:`METRIC_COLUMNS`), written as ``metrics.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Final

import numpy as np
import pandas as pd

from benchmark_suite.catalogue import METRICS
from heo_base.units import EV_PER_A3_TO_GPA, MEV
from heo_calc.statistics_bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_N_RESAMPLES,
    Comparison,
    Interval,
    Metric,
    bootstrap_interval,
    mae_metric,
    mean_metric,
    median_metric,
    paired_comparison,
    rmse_metric,
)
from heo_calc.status import Status

TASKS: Final = ("accuracy", "rattle_relax", "substitution")
#: Bootstrap settings of every interval and comparison in the report.
N_RESAMPLES: Final = DEFAULT_N_RESAMPLES
SEED: Final = 0


@dataclass(frozen=True)
class TaskMetric:
    """One reported figure: a metric of one task's rows (optionally one group of them).

    ``label`` heads its table column; ``digits`` formats it. With ``keep_failed`` the rows
    of failed structures stay in (a failed relaxation counts as not converged); otherwise
    their values are dropped and counted as failed. ``where`` (column, value) keeps only
    the rows with that value (the rattle task's ``relaxation``) without changing the key;
    ``derive`` turns the calculator's rows into the rows the metric aggregates (pairs of
    structures), ids included.
    """

    task: str
    metric: Metric
    label: str
    digits: int = 1
    group: str = ""
    keep_failed: bool = False
    where: tuple[str, str] | None = None
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None

    @property
    def key(self) -> str:
        """``task.metric`` or ``task[group].metric``: the name in verdict lines and tables."""
        group = f"[{self.group}]" if self.group else ""
        return f"{self.task}{group}.{self.metric.name}"

    def rows(self, table: pd.DataFrame, calculator: str) -> pd.DataFrame:
        """This calculator's rows of the task (and group), failed values dropped unless kept."""
        rows = table[(table["task"] == self.task) & (table["calculator"] == calculator)]
        if self.group:
            rows = rows[rows["lattice"] == self.group]
        if self.where is not None:
            column, value = self.where
            rows = rows[rows[column] == value] if column in rows else rows.iloc[0:0]
        rows = rows.copy() if self.derive is None else self.derive(rows)
        if not self.keep_failed:
            failed = (rows["status"] == Status.FAILED).to_numpy()
            for column in self.metric.columns:
                rows[column] = np.where(failed, np.nan, rows[column].astype(float))
        rows["id"] = _unique_ids(rows["id"].astype(str).tolist())
        return rows


def _unique_ids(ids: list[str]) -> list[str]:
    """Ids with repeats made unique (``id#2``...), so that structures pair one to one."""
    seen: dict[str, int] = {}
    unique = []
    for identifier in ids:
        seen[identifier] = seen.get(identifier, 0) + 1
        unique.append(identifier if seen[identifier] == 1 else f"{identifier}#{seen[identifier]}")
    return unique


ENERGY_MEDIAN_ABS_CORRECTED: Final = median_metric(
    "energy_abs_error_corrected",
    name="energy_median_abs_corrected",
    unit="meV/atom",
    direction="lower",
    scale=MEV,
)


def relative_energy_pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """Pairs of structures of one reduced formula: the error of the model's energy difference.

    For every formula with two or more structures, every pair (i, j) gets
    ``relative_energy_error`` = (E_i − E_j)_model − (E_i − E_j)_DFT per atom (eV/atom),
    which is ``energy_error_i − energy_error_j``: a constant energy offset of the model
    cancels, as it does in a polymorph ranking. Ids ``i|j``. Pairs that share a structure
    are not independent, so the bootstrap over pairs is somewhat narrow.
    """
    columns = ["id", "status", "relative_energy_error"]
    if not {"formula", "energy_error"} <= set(rows.columns):
        return pd.DataFrame(columns=columns)
    pairs = []
    for _, group in rows.groupby("formula", sort=True):
        records = group[["id", "status", "energy_error"]].to_dict("records")
        for i, first in enumerate(records):
            for second in records[i + 1 :]:
                failed = Status.FAILED in (first["status"], second["status"])
                pairs.append(
                    {
                        "id": f"{first['id']}|{second['id']}",
                        "status": Status.FAILED if failed else Status.OK,
                        "relative_energy_error": float(first["energy_error"]) - float(second["energy_error"]),
                    }
                )
    return pd.DataFrame(pairs, columns=columns)


ACCURACY_METRICS: Final[tuple[TaskMetric, ...]] = (
    TaskMetric("accuracy", METRICS["energy_rmse_corrected"], "E RMSE ref-fit (meV/atom)"),
    TaskMetric("accuracy", METRICS["energy_mae_corrected"], "E MAE ref-fit (meV/atom)"),
    TaskMetric("accuracy", ENERGY_MEDIAN_ABS_CORRECTED, "E median abs. ref-fit (meV/atom)"),
    TaskMetric("accuracy", METRICS["energy_rmse"], "E RMSE raw (meV/atom)"),
    TaskMetric("accuracy", METRICS["energy_mae"], "E MAE raw (meV/atom)"),
    TaskMetric("accuracy", METRICS["force_rmse"], "F RMSE (meV/Å)"),
    TaskMetric("accuracy", METRICS["force_mae"], "F MAE (meV/Å)"),
    TaskMetric(
        "accuracy",
        rmse_metric("stress_rmse", "stress_rmse", unit="GPa", scale=EV_PER_A3_TO_GPA),
        "σ RMSE (GPa)",
        digits=3,
    ),
    TaskMetric(
        "accuracy",
        mae_metric("relative_energy_mae", "relative_energy_error", unit="meV/atom", scale=MEV),
        "ΔE within a formula MAE (meV/atom)",
        derive=relative_energy_pairs,
    ),
)


def _median(column: str, name: str, unit: str, direction: str) -> Metric:
    return median_metric(column, name=name, unit=unit, direction=direction)  # type: ignore[arg-type]


def _relaxation_metrics(relaxation: str, prefix: str, title: str) -> tuple[TaskMetric, ...]:
    """RMSD, |ΔV|, |Δa|, energy, convergence and steps of one relaxation of the rattle task."""
    where = ("relaxation", relaxation)
    return (
        TaskMetric(
            "rattle_relax",
            _median("rmsd_A", f"{prefix}rmsd_median", "Å", "lower"),
            f"{title}RMSD median (Å)",
            3,
            where=where,
        ),
        TaskMetric(
            "rattle_relax",
            _median("abs_volume_change_pct", f"{prefix}abs_volume_change_median", "%", "lower"),
            f"{title}|ΔV| median (%)",
            2,
            where=where,
        ),
        TaskMetric(
            "rattle_relax",
            _median("abs_lattice_change_max_pct", f"{prefix}abs_lattice_change_median", "%", "lower"),
            f"{title}max(|Δa|,|Δb|,|Δc|)/a median (%)",
            2,
            where=where,
        ),
        TaskMetric(
            "rattle_relax",
            _median("e_above_dft_min_meV", f"{prefix}e_above_dft_min_median", "meV/atom", "none"),
            f"{title}E − E(DFT geom.) median (meV/atom)",
            where=where,
        ),
        TaskMetric(
            "rattle_relax",
            mean_metric("converged", name=f"{prefix}converged_fraction", direction="higher"),
            f"{title}converged (fraction)",
            2,
            keep_failed=True,
            where=where,
        ),
        TaskMetric(
            "rattle_relax",
            _median("steps", f"{prefix}steps_median", "", "lower"),
            f"{title}steps median",
            0,
            where=where,
        ),
    )


_FREE = ("relaxation", "free")

RATTLE_METRICS: Final[tuple[TaskMetric, ...]] = (
    # Headline: relaxed inside the DFT structure's symmetry from a symmetric rattle and strain.
    *_relaxation_metrics("symmetric", "", ""),
    TaskMetric(
        "rattle_relax",
        median_metric("volume_change_pct", name="volume_change_median", unit="%"),
        "ΔV median, signed (%)",
        digits=2,
        where=("relaxation", "symmetric"),
    ),
    *_relaxation_metrics("symmetric_from_dft", "from_dft_", "from DFT: "),
    *_relaxation_metrics("low_symmetry", "low_symmetry_", "P1/P-1: "),
    # The free relaxation of rattled supercells: does the model find a lower, less symmetric
    # minimum where DFT was held by symmetry? No better direction: not an accuracy.
    TaskMetric(
        "rattle_relax",
        _median("rmsd_A", "free_rmsd_median", "Å", "none"),
        "free: RMSD median (Å)",
        3,
        where=_FREE,
    ),
    TaskMetric(
        "rattle_relax",
        mean_metric("symmetry_match", name="free_symmetry_kept_fraction", direction="none"),
        "free: same space group (fraction)",
        2,
        keep_failed=True,
        where=_FREE,
    ),
    TaskMetric(
        "rattle_relax",
        _median("e_below_symmetric_meV", "free_e_below_symmetric_median", "meV/atom", "none"),
        "free: E − E(symmetric min.) median (meV/atom)",
        where=_FREE,
    ),
    TaskMetric(
        "rattle_relax",
        _median("volume_change_pct", "free_volume_change_median", "%", "none"),
        "free: ΔV median (%)",
        2,
        where=_FREE,
    ),
    TaskMetric(
        "rattle_relax",
        mean_metric("converged", name="free_converged_fraction", direction="higher"),
        "free: converged (fraction)",
        2,
        keep_failed=True,
        where=_FREE,
    ),
)

SUBSTITUTION_METRICS: Final[tuple[TaskMetric, ...]] = (
    TaskMetric("substitution", METRICS["converged_fraction"], "converged (fraction)", 2, keep_failed=True),
    TaskMetric("substitution", METRICS["steps_median"], "steps median", digits=0),
)


def lattice_metrics(lattice: str) -> tuple[TaskMetric, ...]:
    """Metrics of one substitution parent lattice (lattice parameter, distortion, yardstick energy)."""
    return (
        TaskMetric("substitution", METRICS["lattice_parameter_median"], "a final (Å)", 3, lattice),
        TaskMetric(
            "substitution",
            _median("abs_a_error_pct", "abs_a_error_median", "%", "lower"),
            "|a − a_exp|/a_exp median (%)",
            2,
            lattice,
        ),
        TaskMetric(
            "substitution",
            median_metric("cell_distortion_pct", name="cell_distortion_median", unit="%"),
            "cell distortion median (%)",
            2,
            lattice,
        ),
        TaskMetric(
            "substitution",
            median_metric("energy_ref_per_atom", name="energy_ref_median", unit="eV/atom"),
            "E under --reference-calc median (eV/atom)",
            4,
            lattice,
        ),
    )


def task_metrics(task: str, table: pd.DataFrame) -> list[TaskMetric]:
    """The metrics of ``task`` that apply to ``table`` (its columns; substitution: its lattices)."""
    if task == "accuracy":
        metrics = list(ACCURACY_METRICS)
    elif task == "rattle_relax":
        metrics = list(RATTLE_METRICS)
    elif task == "substitution":
        rows = table[table["task"] == task]
        lattices = list(dict.fromkeys(rows["lattice"].dropna())) if "lattice" in rows else []
        metrics = [*SUBSTITUTION_METRICS, *(m for lattice in lattices for m in lattice_metrics(lattice))]
    else:
        return []
    return [m for m in metrics if m.derive is not None or all(column in table for column in m.metric.columns)]


@dataclass(frozen=True)
class MetricRow:
    """One metric of one calculator with its interval, and its comparison with the reference.

    ``value``, ``low``, ``high``: the metric on ``n`` structures and its bootstrap interval
    (display units, ``unit``); ``n_failed`` structures were dropped (failed or NaN). For every
    calculator but the reference (the first of ``--calc`` with rows for the task):
    ``difference`` = metric(this) − metric(reference) on ``n_paired`` structures paired by id,
    its interval ``difference_low``/``difference_high`` and ``verdict``.
    """

    task: str
    group: str
    metric: str
    key: str
    label: str
    calculator: str
    unit: str
    direction: str
    digits: int
    value: float
    low: float
    high: float
    n: int
    n_failed: int
    reference: str = ""
    difference: float = math.nan
    difference_low: float = math.nan
    difference_high: float = math.nan
    verdict: str = ""
    n_paired: int = 0
    n_unpaired: int = 0
    model_key: str = ""  # which weights (heo_calc.provenance.identity_key), filled by the report
    model_sha256: str = ""

    def interval(self) -> Interval:
        """The interval as :mod:`heo_calc.statistics_bootstrap` formats it (:func:`format_interval`)."""
        return Interval(self.value, self.low, self.high, self.n, self.n_failed, DEFAULT_CONFIDENCE)

    def comparison(self) -> Comparison:
        """The comparison as :mod:`heo_calc.statistics_bootstrap` formats it (:func:`verdict_line`)."""
        return Comparison(
            metric=self.key,
            candidate=self.calculator,
            reference=self.reference,
            difference=self.difference,
            low=self.difference_low,
            high=self.difference_high,
            n=self.n_paired,
            n_failed=self.n_unpaired,
            verdict=self.verdict,  # type: ignore[arg-type]
            unit=self.unit,
            confidence=DEFAULT_CONFIDENCE,
        )


METRIC_COLUMNS: Final = tuple(f.name for f in fields(MetricRow))


@dataclass(frozen=True)
class SkippedMetric:
    """A metric that no calculator could be given, and why."""

    key: str
    reason: str


def _skip_reason(metric: TaskMetric, per_calculator: dict[str, pd.DataFrame]) -> str:
    """Why ``metric`` has no finite value for any calculator, or '' when some calculator has one."""
    if metric.where is not None and not any(len(rows) for rows in per_calculator.values()):
        return f"no structure of this kind in this run ({metric.where[0]} = {metric.where[1]})"
    for rows in per_calculator.values():
        values = np.column_stack([rows[c].to_numpy(float) for c in metric.metric.columns])
        if np.isfinite(values).all(axis=1).any():
            return ""
    if "force" in metric.metric.name:
        counts = pd.concat([r["n_force_components"] for r in per_calculator.values()])
        if (counts.fillna(0) == 0).all():
            return "the test structures carry no DFT forces (n_force_components = 0 on every row)"
    if metric.metric.name == "stress_rmse":
        return "the test structures carry no DFT stress"
    if metric.metric.name == "abs_a_error_median":
        return "no experimental lattice parameter is recorded for this lattice"
    if metric.metric.name == "relative_energy_mae":
        return "no formula has two or more test structures"
    if metric.metric.name == "energy_ref_median":
        return "no --reference-calc (or it could not evaluate the structures)"
    return "no structure gave a finite value (every structure failed)"


def _metric_rows(metric: TaskMetric, per_calculator: dict[str, pd.DataFrame]) -> list[MetricRow]:
    """Interval per calculator, comparison with the first one."""
    reference = next(iter(per_calculator))
    named = replace(metric.metric, name=metric.key)
    base = {
        "task": metric.task,
        "group": metric.group,
        "metric": metric.metric.name,
        "key": metric.key,
        "label": metric.label,
        "unit": metric.metric.unit,
        "direction": metric.metric.direction,
        "digits": metric.digits,
    }
    rows = []
    for calculator, table in per_calculator.items():
        interval = bootstrap_interval(metric.metric, table, n_resamples=N_RESAMPLES, seed=SEED)
        row = MetricRow(
            **base,
            calculator=calculator,
            value=interval.value,
            low=interval.low,
            high=interval.high,
            n=interval.n,
            n_failed=interval.n_failed,
        )
        if calculator != reference:
            c = paired_comparison(
                named,
                table,
                per_calculator[reference],
                candidate=calculator,
                reference=reference,
                n_resamples=N_RESAMPLES,
                seed=SEED,
            )
            row = replace(
                row,
                reference=reference,
                difference=c.difference,
                difference_low=c.low,
                difference_high=c.high,
                verdict=c.verdict,
                n_paired=c.n,
                n_unpaired=c.n_failed,
            )
        rows.append(row)
    return rows


def metric_table(table: pd.DataFrame, calculators: Sequence[str]) -> tuple[pd.DataFrame, list[SkippedMetric]]:
    """Every metric of every task and calculator (``METRIC_COLUMNS``), and the metrics skipped with reasons.

    Calculators are taken in ``calculators`` order (then any others in row order); per
    task, the first with rows is the reference of the paired comparisons.
    """
    records: list[MetricRow] = []
    skipped: list[SkippedMetric] = []
    for task in TASKS:
        task_rows = table[table["task"] == task] if "task" in table else table.iloc[0:0]
        if not len(task_rows):
            continue
        present = list(dict.fromkeys(task_rows["calculator"]))
        order = [c for c in calculators if c in present] + [c for c in present if c not in calculators]
        for metric in task_metrics(task, task_rows):
            per_calculator = {c: metric.rows(task_rows, c) for c in order}
            reason = _skip_reason(metric, per_calculator)
            if reason:
                skipped.append(SkippedMetric(metric.key, reason))
                continue
            records.extend(_metric_rows(metric, per_calculator))
    frame = pd.DataFrame([asdict(r) for r in records], columns=list(METRIC_COLUMNS))
    return frame, skipped


def point_values(task: str, rows: pd.DataFrame) -> dict[str, float]:
    """The value of every metric of ``task`` on one calculator's rows, no intervals (cheap; for extra_info)."""
    values: dict[str, float] = {}
    for metric in task_metrics(task, rows):
        calculator = str(rows["calculator"].iloc[0]) if len(rows) else ""
        table = metric.rows(rows, calculator)
        arrays = [table[c].to_numpy(float) for c in metric.metric.columns]
        finite = np.all([np.isfinite(a) for a in arrays], axis=0) if arrays and len(table) else []
        if not np.any(finite):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(metric.metric.statistic(*(a[finite] for a in arrays), axis=-1))
        values[metric.key] = value * metric.metric.scale
    return values
