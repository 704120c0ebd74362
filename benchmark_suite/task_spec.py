"""What the report needs to know about a benchmark task: one :class:`TaskSpec` record per task.

A task is a module of :mod:`benchmark_suite.tasks` (its function that turns structures and a
calculator into tidy rows, and its record ``SPEC``) plus the pytest module that runs it
(``benchmark_suite/test_<task>.py``); :data:`benchmark_suite.registry.TASKS` lists the
records in report order. :mod:`benchmark_suite.metrics`, :mod:`benchmark_suite.report`,
:mod:`benchmark_suite.plots` and :mod:`benchmark_suite.profiles` read the records and name no
task themselves.

This module sits below the task modules and the report (it imports neither), so that both
can use its types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from heo_calc.statistics_bootstrap import Metric
from heo_calc.status import Status

__all__ = ["GROUP_COLUMN", "Plot", "ReportView", "TaskMetric", "TaskSpec"]

#: The row column whose values group a task's rows for grouped metrics (``TaskMetric.group``).
GROUP_COLUMN = "lattice"


@dataclass(frozen=True)
class TaskMetric:
    """One reported figure: a metric of one task's rows (optionally one group of them).

    ``group`` keeps the rows whose :data:`GROUP_COLUMN` has that value (a substitution
    lattice) and is part of the key. ``label`` heads its table column; ``digits`` formats it. With ``keep_failed`` the rows
    of failed structures stay in (a failed relaxation counts as not converged); otherwise
    their values are dropped and counted as failed. ``where`` (column, value) keeps only
    the rows with that value (the rattle task's ``relaxation``) without changing the key;
    ``derive`` turns the calculator's rows into the rows the metric aggregates (pairs of
    structures), ids included. ``empty_reason`` says why no calculator has a value, for the
    report's notes: a text, or a function of the rows per calculator that returns '' when
    it does not apply (the generic reasons of :mod:`benchmark_suite.metrics` are used then).
    """

    task: str
    metric: Metric
    label: str
    digits: int = 1
    group: str = ""
    keep_failed: bool = False
    where: tuple[str, str] | None = None
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    empty_reason: str | Callable[[Mapping[str, pd.DataFrame]], str] = ""

    @property
    def key(self) -> str:
        """``task.metric`` or ``task[group].metric``: the name in verdict lines and tables."""
        group = f"[{self.group}]" if self.group else ""
        return f"{self.task}{group}.{self.metric.name}"

    def rows(self, table: pd.DataFrame, calculator: str) -> pd.DataFrame:
        """This calculator's rows of the task (and group), failed values dropped unless kept."""
        rows = table[(table["task"] == self.task) & (table["calculator"] == calculator)]
        if self.group:
            rows = rows[rows[GROUP_COLUMN] == self.group]
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

    def why_empty(self, per_calculator: Mapping[str, pd.DataFrame]) -> str:
        """This metric's own reason for having no value (``empty_reason``), or ''."""
        if callable(self.empty_reason):
            return self.empty_reason(per_calculator)
        return self.empty_reason


def _unique_ids(ids: list[str]) -> list[str]:
    """Ids with repeats made unique (``id#2``...), so that structures pair one to one."""
    seen: dict[str, int] = {}
    unique = []
    for identifier in ids:
        seen[identifier] = seen.get(identifier, 0) + 1
        unique.append(identifier if seen[identifier] == 1 else f"{identifier}#{seen[identifier]}")
    return unique


class ReportView(Protocol):
    """What a task's report section reads (:class:`benchmark_suite.report.Report` has it).

    ``table``: every row of the run; ``metrics``: every metric row (``metrics.csv``);
    ``calculators``: in report order; ``cell(key, calculator)``: ``value [low, high]``.
    """

    table: pd.DataFrame
    metrics: pd.DataFrame
    calculators: list[str]

    def cell(self, key: str, calculator: str) -> str: ...


#: ``draw(plt, records, table)``: a matplotlib figure, or None when the run has no data for
#: it. ``plt`` is :mod:`matplotlib.pyplot` (Agg), ``records`` the
#: :class:`~benchmark_suite.tasks.TaskResult` of every task and calculator, ``table`` all rows.
PlotFunction = Callable[[Any, Sequence[Any], pd.DataFrame], Any]


@dataclass(frozen=True)
class Plot:
    """One PNG of the report: its file name in the report folder and the function that draws it."""

    file: str
    draw: PlotFunction


@dataclass(frozen=True)
class TaskSpec:
    """Everything the report, the plots and the profiles know about one task.

    Attributes:
        name: the task's name, the ``task`` column of its rows and the prefix of its metric keys.
        title: heading of its report section.
        metrics: its :class:`TaskMetric` records in report order, or a function of the
            task's rows that returns them (grouped metrics: one set per substitution lattice).
            Metrics whose columns the rows lack are left out.
        headline: (metric key, header) columns of the report's headline table.
        section: ``section(report, worst_k)``: its markdown section; ``None``: the title and
            one table of its metrics.
        plots: its PNG plots.
        sizes: per profile name (``quick``, ``full``), the task's sizes and settings, a
            frozen dataclass of the task module (field names are unique across tasks:
            :class:`benchmark_suite.profiles.Profile` reads them by name).
        context: the size fields recorded in the report's context (``summary.json``) and in
            the run record that ``--heo-resume`` checks.
        count_in_headline: the headline table gets a ``<name> n (failed)`` column.
        relaxations: its rows are relaxations with a ``steps`` column (the steps plot).
        conventions: its clause of the report's closing conventions paragraph.
    """

    name: str
    title: str
    metrics: tuple[TaskMetric, ...] | Callable[[pd.DataFrame], Sequence[TaskMetric]]
    headline: tuple[tuple[str, str], ...] = ()
    section: Callable[[ReportView, int], str] | None = None
    plots: tuple[Plot, ...] = ()
    sizes: Mapping[str, Any] = field(default_factory=dict)
    context: tuple[str, ...] = ()
    count_in_headline: bool = False
    relaxations: bool = False
    conventions: str = ""

    def task_metrics(self, table: pd.DataFrame) -> list[TaskMetric]:
        """The metrics that apply to ``table`` (its columns; grouped ones: the groups in its rows of this task)."""
        if callable(self.metrics):
            rows = table[table["task"] == self.name] if "task" in table else table
            metrics = list(self.metrics(rows))
        else:
            metrics = list(self.metrics)
        return [
            m for m in metrics if m.derive is not None or all(column in table for column in m.metric.columns)
        ]
