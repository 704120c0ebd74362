"""Everything the suite knows about a benchmark task: one :class:`TaskSpec` record per task.

A task is one module of :mod:`benchmark_suite.tasks`: its function that turns structures and
a calculator into tidy rows, and its record ``SPEC``, which holds the whole task: how its
inputs are prepared from a session and a profile (``prepare``), how one calculator runs on
them (``run``), its sizes per profile with their command-line overrides (``sizes``,
``options``), its metrics, report section, plots and report context.
:data:`benchmark_suite.registry.TASKS` lists the records in report order; the plugin
(:mod:`benchmark_suite.plugin`) generates the size options from them and one parametrized
test (``benchmark_suite/test_tasks.py``) runs every record against every calculator.
:mod:`benchmark_suite.metrics`, :mod:`benchmark_suite.report`, :mod:`benchmark_suite.plots`,
:mod:`benchmark_suite.profiles`, the plugin, the session and the scripts of ``benchmarks/``
read the records and name no task themselves.

This module sits below the task modules and the report (it imports neither), so that both
can use its types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import pandas as pd

from benchmark_suite.statistics import Metric
from heo_calc.status import Status

__all__ = [
    "GROUP_COLUMN",
    "Plot",
    "ReportView",
    "SessionView",
    "SizeOption",
    "TaskMetric",
    "TaskSkip",
    "TaskSpec",
]

#: A task's sizes record (a frozen dataclass of its module).
S = TypeVar("S")

#: The row column whose values group a task's rows for grouped metrics (``TaskMetric.group``).
GROUP_COLUMN = "lattice"


@dataclass(frozen=True)
class TaskMetric:
    """One reported figure: a metric of one task's rows (optionally one group of them).

    ``group`` keeps the rows whose :data:`GROUP_COLUMN` has that value (a parent
    lattice) and is part of the key. ``label`` heads its table column; ``digits`` formats it. With ``keep_failed`` the rows
    of failed structures stay in (a failed relaxation counts as not converged); otherwise
    their values are dropped and counted as failed. ``where`` (column, value) keeps only
    the rows with that value (one kind of relaxation of a task) without changing the key;
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


class TaskSkip(Exception):
    """Raised by a task's ``prepare``: the task cannot run on this session's data (the reason is reported)."""


class SessionView(Protocol):
    """What a task's ``prepare`` and ``run`` read of the benchmark session (:class:`benchmark_suite.session.BenchmarkSession`).

    ``options``: the parsed command line (``relax_engine``, ``sqs_method``, ``device``...);
    ``dataset()``: the labelled HEO data (``--heo-dataset`` or the packaged set);
    ``journal(task, calculator)``: finished rows of a resumed run;
    ``reference_calculator()``: the ``--reference-calc`` calculator and its name, or ``(None, None)``.
    """

    options: Any

    def dataset(self) -> Any: ...

    def journal(self, task: str, calculator: str) -> Any: ...

    def reference_calculator(self) -> tuple[Any, str | None]: ...


@dataclass(frozen=True)
class SizeOption:
    """One command-line override of a field of a task's sizes, generated by the plugin.

    ``flag`` (``--heo-...``) sets field ``field`` of the task's sizes record; the value is
    parsed with ``type``, must be at least ``minimum`` (when given), and is turned into the
    field's value by ``convert`` (e.g. a count of seeds into ``(0, ..., n-1)``). ``help``
    says what it sets and its unit; the plugin adds the task's name and the profiles' defaults.
    """

    field: str
    flag: str
    help: str
    type: Callable[[str], Any] = int
    metavar: str = "N"
    minimum: float | None = None
    convert: Callable[[Any], Any] | None = None

    @property
    def dest(self) -> str:
        """The option's attribute on pytest's config (one per flag)."""
        return "heo_size_" + self.flag.removeprefix("--").replace("-", "_")

    def value(self, given: Any) -> Any:
        """The field's value for the command-line value ``given``; ValueError below ``minimum``."""
        if self.minimum is not None and given < self.minimum:
            raise ValueError(f"{self.flag} must be >= {self.minimum:g}, got {given}")
        return self.convert(given) if self.convert is not None else given


@dataclass(frozen=True)
class TaskSpec(Generic[S]):
    """Everything the suite, the report, the plots and the profiles know about one task.

    Attributes:
        name: the task's name, the ``task`` column of its rows and the prefix of its metric keys.
        title: heading of its report section.
        metrics: its :class:`TaskMetric` records in report order, or a function of the
            task's rows that returns them (grouped metrics: one set per parent lattice).
            Metrics whose columns the rows lack are left out.
        headline: (metric key, header) columns of the report's headline table.
        section: ``section(report, worst_k)``: its markdown section; ``None``: the title and
            one table of its metrics.
        plots: its PNG plots.
        sizes: per profile name (``quick``, ``full``), the task's sizes and settings, a
            frozen dataclass ``S`` of the task module (:meth:`benchmark_suite.profiles.Profile.sizes`
            returns it typed).
        options: the command-line overrides of fields of ``sizes`` (the plugin adds them).
        prepare: ``prepare(session, profile)``: the task's inputs, the same for every
            calculator (prepared once per session); raises :class:`TaskSkip` when the data
            do not allow the task. ``None``: no inputs.
        run: ``run(inputs, model, session)``: the task's rows for one model, a
            :class:`heo_calc.model.ModelHandle` (``model.calculator()``, ``model.label``,
            ``model.identity()``), as a :class:`~benchmark_suite.tasks.TaskResult`.
        expected_rows: ``expected_rows(inputs)``: how many rows a run gives (checked by the test).
        context: the size fields recorded in the report's context (``summary.json``) and in
            the run record that ``--heo-resume`` checks (names unique across tasks).
        pairing: those of ``context`` that decide which structures run and how, so that runs
            whose rows are merged (``benchmarks/merge_reports.py``) must agree on them.
        table_keys: metric keys of the README's tables (``benchmarks/benchmark_tables.py``).
        short_title: the task's prefix of table labels (``rattle: ``).
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
    sizes: Mapping[str, S] = field(default_factory=dict)
    options: tuple[SizeOption, ...] = ()
    prepare: Callable[[SessionView, Any], Any] | None = None
    run: Callable[[Any, Any, str, SessionView], Any] | None = None
    expected_rows: Callable[[Any], int] | None = None
    context: tuple[str, ...] = ()
    pairing: tuple[str, ...] = ()
    table_keys: tuple[str, ...] = ()
    short_title: str = ""
    count_in_headline: bool = False
    relaxations: bool = False
    conventions: str = ""

    def inputs(self, session: SessionView, profile: Any) -> Any:
        """The task's inputs for this session and profile (``prepare``; None without one)."""
        return self.prepare(session, profile) if self.prepare is not None else None

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
