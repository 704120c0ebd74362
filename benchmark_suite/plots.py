"""PNG plots of the benchmark report (matplotlib, Agg): every task's plots, and the relaxation steps.

Each task's plots are in its record (:attr:`benchmark_suite.task_spec.TaskSpec.plots`:
parity plots, RMSD scatter); this module draws them in
registry order and adds one plot over every task whose rows are relaxations
(``TaskSpec.relaxations``): the optimizer steps per task and calculator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark_suite.registry import TASKS
from benchmark_suite.task_spec import Plot
from benchmark_suite.tasks import TaskResult

__all__ = ["RELAX_STEPS", "write_plots"]

Writer = Callable[[Path, Callable[[Path], None]], None]


def relax_steps(plt: Any, records: Sequence[TaskResult], table: pd.DataFrame) -> Any:
    """Box plot of optimizer steps per (task, calculator) of every relaxation task, or None."""
    if "task" not in table or not len(table):
        return None
    relaxed = table[table["task"].isin([spec.name for spec in TASKS.values() if spec.relaxations])]
    if not len(relaxed):
        return None
    groups = list(dict.fromkeys(zip(relaxed["task"], relaxed["calculator"])))
    figure, axis = plt.subplots(figsize=(1.5 + 1.2 * len(groups), 4))
    data = [
        relaxed.loc[(relaxed["task"] == t) & (relaxed["calculator"] == c), "steps"].to_numpy(float)
        for t, c in groups
    ]
    axis.boxplot(data)
    axis.set_xticks(range(1, len(groups) + 1), [f"{c}\n{t}" for t, c in groups], rotation=30, ha="right")
    axis.set(ylabel="optimizer steps", title="relaxation steps")
    return figure


#: The plot over every relaxation task, after the tasks' own.
RELAX_STEPS = Plot("relax_steps.png", relax_steps)


def write_plots(
    records: Sequence[TaskResult], table: pd.DataFrame, out_dir: Path, write: Writer
) -> list[Path]:
    """Write the plots that have data; ``write(path, save)`` writes atomically. Returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plots = [plot for spec in TASKS.values() for plot in spec.plots] + [RELAX_STEPS]
    written = []
    for plot in plots:
        figure = plot.draw(plt, records, table)
        if figure is None:
            continue
        path = out_dir / plot.file
        write(path, lambda p, f=figure: f.savefig(p, format="png", dpi=110, bbox_inches="tight"))
        plt.close(figure)
        written.append(path)
    return written
