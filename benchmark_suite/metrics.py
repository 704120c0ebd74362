"""Every number of the benchmark report, computed from the tidy rows with bootstrap intervals.

A :class:`~benchmark_suite.task_spec.TaskMetric` names a task, an optional group of its rows
(a parent lattice) and a :class:`benchmark_suite.statistics.Metric`, which
names the row columns it aggregates; each task's metrics are in its record of
:data:`benchmark_suite.registry.TASKS` (this module names no task). :func:`metric_table` evaluates every metric for every calculator with a 95 %
percentile-bootstrap interval over structures, and for every calculator after the first a
paired bootstrap comparison with the first on the same structure ids, with its verdict
(better / worse / indistinguishable; ``different`` for metrics without a better direction).
The result is one tidy table (:data:`METRIC_COLUMNS`), written as ``metrics.csv``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Final

import numpy as np
import pandas as pd

from benchmark_suite.registry import TASKS
from benchmark_suite.statistics import (
    DEFAULT_CONFIDENCE,
    DEFAULT_N_RESAMPLES,
    Comparison,
    Interval,
    bootstrap_interval,
    paired_comparison,
)
from benchmark_suite.task_spec import TaskMetric

__all__ = [
    "METRIC_COLUMNS",
    "N_RESAMPLES",
    "SEED",
    "MetricRow",
    "SkippedMetric",
    "TaskMetric",
    "metric_table",
    "point_values",
    "task_metrics",
]

#: Bootstrap settings of every interval and comparison in the report.
N_RESAMPLES: Final = DEFAULT_N_RESAMPLES
SEED: Final = 0


def task_metrics(task: str, table: pd.DataFrame) -> list[TaskMetric]:
    """The metrics of ``task`` (its registry record) that apply to ``table``; none for an unregistered task."""
    spec = TASKS.get(task)
    return spec.task_metrics(table) if spec is not None else []


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
        """The interval as :mod:`benchmark_suite.statistics` formats it (:func:`format_interval`)."""
        return Interval(self.value, self.low, self.high, self.n, self.n_failed, DEFAULT_CONFIDENCE)

    def comparison(self) -> Comparison:
        """The comparison as :mod:`benchmark_suite.statistics` formats it (:func:`verdict_line`)."""
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
    """Why ``metric`` has no finite value for any calculator, or '' when some calculator has one.

    In order: no row of the metric's kind (``where``), the metric's own reason
    (``TaskMetric.empty_reason``), every structure failed.
    """
    if metric.where is not None and not any(len(rows) for rows in per_calculator.values()):
        return f"no structure of this kind in this run ({metric.where[0]} = {metric.where[1]})"
    for rows in per_calculator.values():
        values = np.column_stack([rows[c].to_numpy(float) for c in metric.metric.columns])
        if np.isfinite(values).all(axis=1).any():
            return ""
    return metric.why_empty(per_calculator) or "no structure gave a finite value (every structure failed)"


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
    for task in TASKS:  # registry order
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
