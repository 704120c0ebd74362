"""The one relaxation engine: positions and cell of many structures, with ASE's optimizers and filters.

Every command and benchmark relaxes through :func:`relax_many`. Cell degrees of freedom use
ASE's :class:`~ase.filters.FrechetCellFilter`; optimizers are ASE's own (the default L-BFGS
adds only the rescaled initial Hessian, :mod:`heo_calc.relax.optimizers`).

* :mod:`heo_calc.relax.single`: the single-structure routine and :class:`RelaxResult`.
* :mod:`heo_calc.relax.strategies`: where the structures run (sequential, lock-step,
  worker processes, any executor such as a Dask cluster's).
* :mod:`heo_calc.relax.lockstep`: the lock-step scheduler with batched model calls.
* :mod:`heo_calc.relax.engine`: :func:`relax_many` (structures, a model handle of
  :func:`heo_calc.model.open_model` or a name or calculator, one :class:`RelaxOptions`).
* :mod:`heo_calc.relax.store`: the output folder of ``heo-calc relax`` (each structure kept as
  it finishes, ``--resume``, ``--overwrite``; the folder mechanism of :mod:`heo_calc.run_folder`).
* :mod:`heo_calc.relax.cache`: :class:`~heo_calc.relax.cache.RelaxationCache`, relaxed
  structures on disk keyed by the model identity (the screen's parents, the forgetting report).
"""

from heo_calc.relax.engine import relax_many
from heo_calc.relax.optimizers import DEFAULT_OPTIMIZER, INITIAL_HESSIAN_EV_PER_A2, OPTIMIZERS, ScaledLBFGS
from heo_calc.relax.single import RelaxOptions, RelaxResult, relax_structure
from heo_calc.relax.strategies import Lockstep, OnExecutor, Sequential, WorkerProcesses

__all__ = [
    "DEFAULT_OPTIMIZER",
    "INITIAL_HESSIAN_EV_PER_A2",
    "OPTIMIZERS",
    "Lockstep",
    "OnExecutor",
    "RelaxOptions",
    "RelaxResult",
    "ScaledLBFGS",
    "Sequential",
    "WorkerProcesses",
    "relax_many",
    "relax_structure",
]
