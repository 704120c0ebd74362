"""PNG plots of the benchmark report (matplotlib, Agg): parity plots, rattle RMSD, relaxation steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark_suite.tasks import TaskResult

Writer = Callable[[Path, Callable[[Path], None]], None]

PARITY = (
    ("energy_DFT", "energy_pred_corrected", "energy per atom", "eV/atom", "parity_energy.png"),
    ("force_DFT", "force_pred", "force component", "eV/Å", "parity_forces.png"),
)


def _parity(plt, records: Sequence[TaskResult], x_key: str, y_key: str, label: str, unit: str):
    """One panel per calculator with parity data, or None."""
    panels = [r for r in records if r.task == "accuracy" and r.arrays.get(x_key)]
    if not panels:
        return None
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.2), squeeze=False)
    for axis, record in zip(axes[0], panels):
        x = np.asarray(record.arrays[x_key], float)
        y = np.asarray(record.arrays[y_key], float)
        axis.scatter(x, y, s=6, alpha=0.5)
        low, high = float(np.nanmin([x.min(), y.min()])), float(np.nanmax([x.max(), y.max()]))
        axis.plot([low, high], [low, high], "k--", lw=0.8)
        predicted = "predicted, after the reference fit" if x_key == "energy_DFT" else "predicted"
        axis.set(xlabel=f"DFT {label} ({unit})", ylabel=f"{predicted} ({unit})", title=record.calculator)
    figure.tight_layout()
    return figure


def _rattle_rmsd(plt, table: pd.DataFrame):
    rattle = table[table["task"] == "rattle_relax"]
    if "relaxation" in rattle:
        rattle = rattle[rattle["relaxation"] == "symmetric"]
    if not len(rattle) or not rattle["rmsd_A"].notna().any():
        return None
    names = list(dict.fromkeys(rattle["calculator"]))
    figure, axis = plt.subplots(figsize=(1.5 + 1.2 * len(names), 4))
    for i, name in enumerate(names):
        values = rattle.loc[rattle["calculator"] == name, "rmsd_A"].dropna().to_numpy(float)
        axis.scatter(np.full(len(values), i) + np.linspace(-0.1, 0.1, len(values)), values, s=12)
    axis.set_xticks(range(len(names)), names, rotation=30, ha="right")
    axis.set(ylabel="RMSD to DFT structure (Å)", title="rattle and relax, in the DFT symmetry")
    return figure


def _relax_steps(plt, table: pd.DataFrame):
    relaxed = table[table["task"].isin(["rattle_relax", "substitution"])]
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


def write_plots(
    records: Sequence[TaskResult], table: pd.DataFrame, out_dir: Path, write: Writer
) -> list[Path]:
    """Write the plots that have data; ``write(path, save)`` writes atomically. Returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = [(_parity(plt, records, *spec[:4]), spec[4]) for spec in PARITY]
    if "task" in table and len(table):
        figures += [
            (_rattle_rmsd(plt, table), "rattle_rmsd.png"),
            (_relax_steps(plt, table), "relax_steps.png"),
        ]
    written = []
    for figure, name in figures:
        if figure is None:
            continue
        path = out_dir / name
        write(path, lambda p, f=figure: f.savefig(p, format="png", dpi=110, bbox_inches="tight"))
        plt.close(figure)
        written.append(path)
    return written
