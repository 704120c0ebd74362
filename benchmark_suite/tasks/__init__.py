"""The benchmark tasks, one module each: structures and a calculator in, tidy rows out.

* :mod:`~benchmark_suite.tasks.accuracy`: energy, force and stress errors on the test split;
* :mod:`~benchmark_suite.tasks.rattle_relax`: DFT-relaxed structures relaxed the way DFT did;
* :mod:`~benchmark_suite.tasks.substitution`: equimolar five-cation supercells relaxed.

Each module holds its task function, how its inputs are prepared from a session and a
profile, its size options, metrics, headline columns, report section, plots and profile
sizes, and ``SPEC``, its :class:`~benchmark_suite.task_spec.TaskSpec` record, listed in
:data:`benchmark_suite.registry.TASKS`. One parametrized test (``benchmark_suite/test_tasks.py``)
runs every record; the task functions can be called from Python as well. Relaxations go through :func:`heo_calc.relax_many`, accuracy through
:mod:`heo_calc.evaluation`, geometry through :mod:`benchmark_suite.geometry`. Nothing here
raises for a bad model: failures become rows with ``status="failed"``.

The rows are the contract with the report: every number of the report is computed from
them by the metric definitions of the task modules, which name their columns. A
:class:`TaskResult` carries the rows and what is not per structure (the task's elapsed
time, the fitted energy reference, parity-plot arrays).
"""

from benchmark_suite.tasks.accuracy import run_accuracy
from benchmark_suite.tasks.common import ReferenceFit, TaskResult
from benchmark_suite.tasks.rattle_relax import (
    FREE,
    LOW_SYMMETRY,
    LOW_SYMMETRY_FROM_DFT,
    LOW_SYMMETRY_GROUPS,
    SYMMETRIC,
    SYMMETRIC_FROM_DFT,
    RattleSettings,
    rattle_settings,
    run_rattle_relax,
)
from benchmark_suite.tasks.substitution import run_substitution

__all__ = [
    "FREE",
    "LOW_SYMMETRY",
    "LOW_SYMMETRY_FROM_DFT",
    "LOW_SYMMETRY_GROUPS",
    "SYMMETRIC",
    "SYMMETRIC_FROM_DFT",
    "RattleSettings",
    "ReferenceFit",
    "TaskResult",
    "rattle_settings",
    "run_accuracy",
    "run_rattle_relax",
    "run_substitution",
]
