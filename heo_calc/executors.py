"""Executors a model can run on (:func:`heo_calc.model.open_model`): a Dask cluster, or local worker processes.

Both are plain :class:`concurrent.futures.Executor` objects; every worker process builds the
model once and keeps it (:func:`heo_calc.model.worker_calculator`). Dask is optional
(``pip install 'heo-relax[dask]'``); ``dask-jobqueue`` starts clusters on Slurm and other
batch systems (docs/screening.md).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from heo_calc.errors import HEOCalcError


class ClusterUnavailableError(HEOCalcError, RuntimeError):
    """A Dask scheduler that cannot be reached, or Dask not installed."""


@contextmanager
def dask_executor(address: str, *, timeout_s: float = 30.0) -> Iterator[Executor]:
    """An executor on the Dask cluster whose scheduler listens at ``address`` (``tcp://host:8786``).

    Submissions are never merged (``pure=False``). The client is closed on exit; the cluster
    and its workers (with their models) stay up for the next run.
    """
    try:
        from distributed import Client
    except ImportError as error:
        raise ClusterUnavailableError(
            f"--dask-scheduler needs Dask: pip install 'heo-relax[dask]' ({error})"
        ) from error
    try:
        client = Client(address, timeout=timeout_s)
    except (OSError, TimeoutError) as error:
        raise ClusterUnavailableError(
            f"cannot reach a Dask scheduler at {address!r} within {timeout_s:.0f} s ({error}); start one "
            "(`dask scheduler`, then `dask worker ADDRESS --nthreads 1` per core, or a dask-jobqueue "
            "cluster) and pass its address"
        ) from error
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()


@contextmanager
def local_processes(workers: int) -> Iterator[Executor]:
    """``workers`` local processes (``spawn``) kept for every ``relax_many`` call inside the block.

    The models the workers build stay loaded between calls (a screen relaxes parents, then
    mixtures). ``spawn`` re-imports the caller's main module: guard a script's top level
    with ``if __name__ == "__main__":``.
    """
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def as_executor(executor: Any) -> Executor:
    """``executor`` as a :class:`concurrent.futures.Executor`.

    A Dask ``distributed.Client`` becomes its executor (``client.get_executor(pure=False)``:
    every submission runs, none is merged with an equal one); any other object is
    returned as it is.
    """
    if not isinstance(executor, Executor) and hasattr(executor, "get_executor"):
        return executor.get_executor(pure=False)
    return executor
