"""How :func:`~heo_calc.relax.relax_many` spreads the work: small strategy objects, one job each.

Every strategy runs the same single-structure routine
(:func:`heo_calc.relax.single.relax_structure`); they differ only in where and how many at
a time:

* :class:`Sequential`: one structure after another in this process (the default on a CPU).
* :class:`Lockstep`: every structure advances together, one batched model call per step
  (:mod:`heo_calc.relax.lockstep`; the default on a GPU for a backend that batches).
* :class:`OnExecutor`: structures submitted to the executor of the model handle
  (:func:`heo_calc.model.open_model` with ``executor``, ``workers`` or ``dask_scheduler``).
  Each worker process builds the model from its registry name once and keeps it
  (:func:`relax_in_worker`).
* :class:`WorkerProcesses`: :class:`OnExecutor` on a pool of local processes it starts
  and closes itself (``strategy="processes"`` on a model that runs here).

Worker processes are used only when asked for: they re-import the caller's main module
(``spawn``), so a plain script must guard its top level with
``if __name__ == "__main__":`` to use them.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import BrokenExecutor, CancelledError, Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ase import Atoms

from heo_calc.executors import as_executor
from heo_calc.model import ModelHandle, worker_calculator
from heo_calc.relax.single import (
    RelaxOptions,
    RelaxResult,
    blas_on_one_thread,
    failed_result,
    relax_structure,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Jobs:
    """The structures of one :func:`~heo_calc.relax.relax_many` call and what goes with each."""

    structures: Sequence[Atoms]
    names: Sequence[str]
    trajectories: Sequence[Path | None]
    options: RelaxOptions


class Strategy(Protocol):
    """Relaxes every job and calls ``on_result`` with each result as soon as it is final."""

    def run(
        self, jobs: Jobs, model: ModelHandle, on_result: Callable[[RelaxResult], None]
    ) -> list[RelaxResult]: ...


class Sequential:
    """One structure after another in this process."""

    def __str__(self) -> str:
        return "sequential"

    def run(
        self, jobs: Jobs, model: ModelHandle, on_result: Callable[[RelaxResult], None]
    ) -> list[RelaxResult]:
        results = []
        for atoms, name, trajectory in zip(jobs.structures, jobs.names, jobs.trajectories):
            result = relax_structure(
                atoms, model.calculator(), jobs.options, name=name, trajectory=trajectory
            )
            on_result(result)
            results.append(result)
        return results


@dataclass
class Lockstep:
    """All structures advance together; ``max_batch_atoms`` atoms per batched model call."""

    max_batch_atoms: int | None = None

    def __str__(self) -> str:
        return "lockstep"

    def run(
        self, jobs: Jobs, model: ModelHandle, on_result: Callable[[RelaxResult], None]
    ) -> list[RelaxResult]:
        from heo_calc.relax.lockstep import DEFAULT_MAX_BATCH_ATOMS, relax_in_lockstep

        return relax_in_lockstep(
            jobs.structures,
            model.calculator(),
            jobs.options,
            names=jobs.names,
            trajectories=jobs.trajectories,
            on_result=on_result,
            max_batch_atoms=self.max_batch_atoms or DEFAULT_MAX_BATCH_ATOMS,
        )


def relax_in_worker(
    atoms: Atoms, calculator_name: str, device: str, options: RelaxOptions, name: str, trajectory: Path | None
) -> RelaxResult:
    """Relax one structure in a worker process, building the model on the worker's first call only.

    Whatever goes wrong with the structure is its failed result (:func:`relax_structure`
    never raises for one). What still leaves the worker is either the executor's failure
    (:func:`is_executor_error`: :class:`OnExecutor` finishes the rest in this process) or
    the worker's model failing (to build, say), which becomes that structure's failed result.
    """
    calculator = worker_calculator(calculator_name, device)
    with blas_on_one_thread():
        return relax_structure(atoms, calculator, options, name=name, trajectory=trajectory)


@dataclass
class OnExecutor:
    """Submit each structure to ``executor`` (any :class:`concurrent.futures.Executor`, or a Dask ``Client``).

    Needs the calculator as a registry name (workers build it, once per worker process:
    :func:`worker_calculator`). If the executor breaks (a worker killed, work that cannot
    be pickled, a lost Dask worker), the structures without a result are finished in this
    process, one by one; a failing *structure* is a failed result, never a broken pool
    (:func:`is_executor_error` tells the two apart).
    An error raised by ``on_result`` is the caller's and is raised as it is.
    """

    executor: Executor

    def __post_init__(self) -> None:
        self.executor = as_executor(self.executor)

    def __str__(self) -> str:
        return f"executor {type(self.executor).__name__}"

    def run(
        self, jobs: Jobs, model: ModelHandle, on_result: Callable[[RelaxResult], None]
    ) -> list[RelaxResult]:
        if model.name is None:
            raise ValueError(
                "worker processes and executors need the calculator as a registry name (e.g. 'heo-ft'), "
                "so that each worker can build it; pass the name instead of a calculator object"
            )
        results: list[RelaxResult | None] = [None] * len(jobs.structures)
        try:
            futures = {
                self.executor.submit(
                    relax_in_worker, atoms, model.name, model.device, jobs.options, name, trajectory
                ): index
                for index, (atoms, name, trajectory) in enumerate(
                    zip(jobs.structures, jobs.names, jobs.trajectories)
                )
            }
        # No processes here, work that cannot be pickled, a closed client: relax here instead.
        except Exception as error:
            self._finish_here(jobs, model, results, error, on_result)
            return results  # type: ignore[return-value]
        try:
            for index, result in _completed(futures, jobs):
                results[index] = result
                on_result(result)
        # BrokenProcessPool, a lost Dask worker: a broken executor must not lose the batch.
        except _ExecutorFailed as failure:
            self._finish_here(jobs, model, results, failure.__cause__, on_result)
        return results  # type: ignore[return-value]

    @staticmethod
    def _finish_here(
        jobs: Jobs, model: ModelHandle, results: list, error: BaseException | None, on_result
    ) -> None:
        missing = [index for index, result in enumerate(results) if result is None]
        logger.warning(
            "the executor failed (%s: %s); %d structures left for this process",
            type(error).__name__,
            error,
            len(missing),
        )
        for index in missing:
            results[index] = relax_structure(
                jobs.structures[index],
                model.calculator(),
                jobs.options,
                name=jobs.names[index],
                trajectory=jobs.trajectories[index],
            )
            on_result(results[index])


class _ExecutorFailed(Exception):
    """A future that raised because the executor (or its worker process) failed."""


#: Errors of an executor rather than of a structure: a killed worker process, a cancelled or
#: unpicklable submission, a lost connection. Dask's are matched by name (Dask is optional).
_EXECUTOR_ERRORS: tuple[type[BaseException], ...] = (
    BrokenExecutor,
    CancelledError,
    pickle.PicklingError,
    EOFError,
    OSError,
)
_EXECUTOR_ERROR_NAMES = frozenset(
    {"KilledWorker", "CommClosedError", "CancelledError", "FutureCancelledError"}
)


def is_executor_error(error: BaseException) -> bool:
    """Whether ``error``, raised by a future of :func:`relax_in_worker`, means the executor broke.

    :func:`~heo_calc.relax.single.relax_structure` turns everything that goes wrong with a
    structure into its failed result; what still leaves a future is either the executor's
    failure (this returns ``True``) or an error of the worker's model for that structure.
    """
    return (
        isinstance(error, _EXECUTOR_ERRORS)
        or type(error).__name__ in _EXECUTOR_ERROR_NAMES
        or "pickle" in str(error).lower()  # "cannot pickle '_thread.lock' object" is a TypeError
    )


def _completed(futures: dict, jobs: Jobs) -> Iterator[tuple[int, RelaxResult]]:
    """``(index, result)`` as the futures finish.

    An error of the executor (:func:`is_executor_error`) becomes :class:`_ExecutorFailed`;
    any other error is that structure's failed result, so one structure never breaks a batch.
    """
    for future in as_completed(futures):
        index = futures[future]
        try:
            result = future.result()
        except Exception as error:
            if is_executor_error(error):
                raise _ExecutorFailed() from error
            result = failed_result(jobs.structures[index], jobs.names[index], error)
        yield index, result


def usable_cores() -> int:
    """CPU cores this process may use (respects CPU affinity)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class WorkerProcesses:
    """``workers`` local processes (``spawn``, one torch thread each), started for the call and closed after.

    ``spawn`` rather than ``fork``: forking a process that has used OpenMP can hang.
    """

    workers: int

    def __str__(self) -> str:
        return f"{self.workers} worker processes"

    def run(
        self, jobs: Jobs, model: ModelHandle, on_result: Callable[[RelaxResult], None]
    ) -> list[RelaxResult]:
        try:
            pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        except Exception as error:  # e.g. no semaphores in a sandbox: relax here instead
            logger.warning("cannot start worker processes (%s); relaxing in this process", error)
            return Sequential().run(jobs, model, on_result)
        with pool:
            return OnExecutor(pool).run(jobs, model, on_result)


def choose_strategy(
    strategy: str | Strategy, model: ModelHandle, *, max_batch_atoms: int | None = None
) -> Any:
    """The strategy object for a :func:`~heo_calc.relax.relax_many` call on ``model``.

    ``"auto"``: the model's executor if it has one, else lock-step on a GPU for a backend
    that batches, else sequential in this process. Names: ``"sequential"``, ``"lockstep"``,
    ``"processes"`` (the model's executor, or one process per usable core for this call).
    A :class:`Strategy` object is used as it is.
    """
    if not isinstance(strategy, str):
        return strategy
    if strategy == "auto":
        if model.executor is not None:
            return OnExecutor(model.executor)
        return Lockstep(max_batch_atoms) if model.device == "cuda" and model.batches() else Sequential()
    if strategy == "sequential":
        return Sequential()
    if strategy == "lockstep":
        return Lockstep(max_batch_atoms)
    if strategy == "processes":
        return OnExecutor(model.executor) if model.executor is not None else WorkerProcesses(usable_cores())
    raise ValueError(f"unknown strategy {strategy!r}; choose auto, sequential, lockstep or processes")
