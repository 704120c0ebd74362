"""Building blocks of a task's markdown section: its metric tables and its worst structures.

The task modules' ``section`` functions (:attr:`benchmark_suite.task_spec.TaskSpec.section`)
compose these; :func:`default_section` serves a task without one. Only the
:class:`~benchmark_suite.task_spec.ReportView` protocol of the report is used, so this module
does not import the report.
"""

from __future__ import annotations

from collections.abc import Callable

from benchmark_suite.task_spec import GROUP_COLUMN, ReportView, TaskSpec
from heo_base.markdown import markdown_table
from heo_calc.status import Status

__all__ = ["default_section", "task_metric_table", "worst_lines"]


def task_metric_table(
    report: ReportView,
    task: str,
    group: str = "",
    *,
    where: tuple[str, str] | None = None,
    names: Callable[[str], bool] | None = None,
) -> str:
    """Rows: calculators; columns: n, failed and every metric of the task (group) with its interval.

    ``where`` (column, value) counts only those rows of the task (one kind of
    relaxation of a task); ``names`` keeps the metrics whose name it accepts. '' when no metric is left.
    """
    metrics = report.metrics[(report.metrics["task"] == task) & (report.metrics["group"] == group)]
    if names is not None:
        metrics = metrics.loc[[bool(names(str(name))) for name in metrics["metric"]]]
    keys = list(dict.fromkeys(metrics["key"]))
    if not keys:
        return ""
    labels = [str(metrics[metrics["key"] == k]["label"].iloc[0]) for k in keys]
    table = report.table[report.table["task"] == task]
    if group:
        table = table[table[GROUP_COLUMN] == group]
    if where is not None and where[0] in table:
        table = table[table[where[0]] == where[1]]
    rows = []
    for name in dict.fromkeys(metrics["calculator"]):
        mine = table[table["calculator"] == name]
        failed = int((mine["status"] == Status.FAILED).sum())
        rows.append([name, str(len(mine)), str(failed), *(report.cell(k, name) for k in keys)])
    return markdown_table(["calculator", "n", "failed", *labels], rows)


def worst_lines(
    report: ReportView,
    task: str,
    column: str,
    k: int,
    *,
    signed: bool,
    digits: int = 0,
    where: tuple[str, str] | None = None,
) -> list[str]:
    """Per calculator: the ``k`` structures with the largest |column| (of the ``where`` rows, if given).

    One markdown bullet per calculator, ``id (value)`` in the column's units with ``digits``
    decimals (``signed``: with its sign).
    """
    table = report.table[report.table["task"] == task]
    if where is not None and where[0] in table:
        table = table[table[where[0]] == where[1]]
    lines = []
    for name in (c for c in report.calculators if c in set(table["calculator"])):
        shown = ""
        if column in table:  # a run whose rows lack the column lists none
            rows = table[(table["calculator"] == name)].dropna(subset=[column])
            rows = rows.reindex(rows[column].abs().sort_values(ascending=False).index)[:k]
            shown = ", ".join(
                f"{i} ({v:+.{digits}f})" if signed else f"{i} ({v:.{digits}f})"
                for i, v in zip(rows["id"], rows[column])
            )
        lines.append(f"- {name}: {shown or '–'}")
    return lines


def default_section(spec: TaskSpec, report: ReportView) -> str:
    """The section of a task without its own: its title and one table of all its metrics."""
    return "\n\n".join(part for part in (f"## {spec.title}", task_metric_table(report, spec.name)) if part)
