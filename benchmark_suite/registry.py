"""The task registry: one :class:`~benchmark_suite.task_spec.TaskSpec` record per benchmark task.

:data:`TASKS` maps task names to their records in report order (rows, sections, headline
columns and plots follow it). :mod:`benchmark_suite.metrics`, :mod:`benchmark_suite.report`,
:mod:`benchmark_suite.plots` and :mod:`benchmark_suite.profiles` read it and name no task.

Adding a task: a module of :mod:`benchmark_suite.tasks` with its task function and its record
``SPEC`` (how its inputs are prepared and run, size options, metrics, headline columns, section,
plots, profile sizes), and its record added below (import and entry). The plugin generates its
size options and the one parametrized test (``benchmark_suite/test_tasks.py``) runs it for
every calculator; nothing else names it. ``md_stability`` was added that way.
"""

from __future__ import annotations

from typing import Final

from benchmark_suite.task_spec import TaskSpec
from benchmark_suite.tasks import accuracy, md_stability, rattle_relax, substitution

__all__ = ["TASKS", "TaskSpec", "task_spec"]

#: Every task's record, by name, in report order.
TASKS: Final[dict[str, TaskSpec]] = {
    spec.name: spec
    for spec in (
        accuracy.SPEC,
        rattle_relax.SPEC,
        substitution.SPEC,
        md_stability.SPEC,
    )
}


def task_spec(name: str) -> TaskSpec:
    """The record of task ``name``; a KeyError names the registered tasks."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"no benchmark task {name!r}; registered: {', '.join(TASKS)}") from None
