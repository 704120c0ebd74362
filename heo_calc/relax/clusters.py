"""Moved to :mod:`heo_calc.executors` (where a model runs is the model handle's business, not the relaxation's).

Kept so that ``from heo_calc.relax.clusters import dask_executor`` still works.
"""

from heo_calc.executors import ClusterUnavailableError, dask_executor, local_processes

__all__ = ["ClusterUnavailableError", "dask_executor", "local_processes"]
