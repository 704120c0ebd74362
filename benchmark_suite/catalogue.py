"""The benchmark's metric catalogue: shared definitions over the columns of the benchmark's rows.

Every :class:`~benchmark_suite.statistics.Metric` here names row columns that the task
functions of :mod:`benchmark_suite.tasks` write. Rows of :mod:`heo_calc.evaluation` (single-point
errors against DFT) get its force and energy metrics
(:data:`benchmark_suite.statistics.EVALUATION_METRICS`). A metric that only one task
reports lives in that task's module (next to its :class:`~benchmark_suite.task_spec.TaskSpec`);
the task modules take these shared ones from here, renamed where a task reports one metric
for several kinds of rows (:func:`renamed`).

Units: the display unit of each metric (``Metric.unit``), its value being the aggregate of
the column (units in :mod:`benchmark_suite.tasks`) times ``Metric.scale``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from benchmark_suite.statistics import (
    EVALUATION_METRICS,
    Direction,
    Metric,
    mean_metric,
    median_metric,
)

__all__ = ["METRICS", "renamed"]

METRICS: Final[dict[str, Metric]] = {
    **EVALUATION_METRICS,
    **{
        m.name: m
        for m in (
            # relaxations of DFT structures: RMSD to the DFT structure (Å), E(relaxed) − E(DFT geometry) (meV/atom).
            median_metric("rmsd_A", name="rmsd_median", unit="Å", direction="lower"),
            median_metric("e_above_dft_min_meV", name="e_above_dft_min_median", unit="meV/atom"),
            # every relaxation: optimizer steps, and the fraction of relaxations that converged.
            median_metric("steps", name="steps_median", direction="lower"),
            mean_metric("converged", name="converged_fraction", direction="higher"),
            # generated supercells: pseudo-cubic lattice parameter of the relaxed cell (Å).
            median_metric("a_final_A", name="lattice_parameter_median", unit="Å"),
        )
    },
}


def renamed(name: str, new_name: str, direction: Direction | None = None) -> Metric:
    """Catalogue metric ``name`` under ``new_name`` (e.g. with a relaxation's prefix), optionally another direction."""
    metric = METRICS[name]
    return replace(metric, name=new_name, direction=direction or metric.direction)
