"""The one model handle: which model, where it runs, what it covers and its identity, decided once.

:func:`open_model` is how every command and benchmark gets a model: ``heo-calc relax``, the
screen, the benchmark session and :func:`~heo_calc.relax.relax_many` all go through it.

>>> from heo_calc.model import open_model
>>> with open_model("heo-ft", device="cpu") as model:
...     results = relax_many(structures, model, RelaxOptions(fmax=0.02))
...     model.identity()["model_sha256"]

A registry name is checked at once (unknown names and missing weights fail before any
work, :func:`heo_calc.registry.require_available`). In this process the calculator is built
on first use and kept; on an executor (a Dask cluster, local worker processes) the model
travels by name, each worker process builds it once (:func:`worker_calculator`), and the
identity and covered elements are asked of a worker, where the model runs.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from ase.calculators.calculator import Calculator

from heo_base.types import Device, check_device

logger = logging.getLogger(__name__)

__all__ = ["ModelHandle", "open_model", "worker_calculator"]

_NOT_ASKED: Any = object()


@dataclass(eq=False)
class ModelHandle:
    """A model opened once: its calculator, identity and covered elements, and where it runs.

    Build one with :func:`open_model`; close it (``with``, or :meth:`close`) to stop the
    worker processes or the cluster connection it opened itself.

    Attributes:
        name: the registry name (``heo-ft``, ``mace:file.model``), or ``None`` for a
            calculator object given as it is (it can only run in this process).
        device: ``cpu`` or ``cuda`` when the model runs in this process; on an executor the
            device asked for, which each worker resolves for itself (``auto``: its own GPU if any).
        executor: the executor whose workers build and run the model, or ``None`` (this process).
        where: where it runs, in words, for logs (``this process``, ``4 local worker processes``).
    """

    name: str | None
    device: str
    executor: Executor | None = None
    where: str = "this process"
    _built: Calculator | None = field(default=None, repr=False)
    _identity: dict[str, Any] | None = field(default=None, repr=False)
    _covered: Any = field(default=_NOT_ASKED, repr=False)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    @property
    def runs_here(self) -> bool:
        """Whether the model runs in this process (no executor)."""
        return self.executor is None

    @property
    def label(self) -> str:
        """The registry name, or the calculator's class name for an object."""
        return self.name if self.name is not None else type(self._built).__name__

    def calculator(self) -> Calculator:
        """The ASE calculator in this process: built on the first call only, then kept.

        On an executor this builds a copy here (used when the executor breaks and the rest
        is finished in this process).
        """
        if self._built is None:
            from heo_calc.backends._common import resolve_device
            from heo_calc.registry import get_calculator

            assert self.name is not None  # a handle of an object was built with it
            self._built = get_calculator(self.name, device=resolve_device(self.device))
        return self._built

    def identity(self) -> dict[str, Any]:
        """The model identity (:func:`heo_calc.provenance.model_identity`), asked where the model runs; computed once."""
        if self._identity is None:
            if self.executor is None:
                from heo_calc.provenance import model_identity

                self._identity = model_identity(self.calculator(), self.name)
            else:
                self._identity = self.executor.submit(identity_in_worker, self.name, self.device).result()
        return self._identity

    def covered_numbers(self) -> frozenset[int] | None:
        """Atomic numbers the model covers (``None``: it does not say), asked where it runs."""
        if self._covered is _NOT_ASKED:
            if self.executor is None:
                from heo_calc.backends.capabilities import covered_atomic_numbers

                self._covered = covered_atomic_numbers(self.calculator())
            else:
                self._covered = self.executor.submit(covered_in_worker, self.name, self.device).result()
        return self._covered

    def batches(self) -> bool:
        """Whether the model runs here and its backend evaluates many structures in one call (builds it)."""
        if self.executor is not None:
            return False
        from heo_calc.backends.capabilities import batch_evaluator_of

        return batch_evaluator_of(self.calculator()) is not None

    def close(self) -> None:
        """Shut down what :func:`open_model` opened for this handle (worker pool, cluster client); idempotent."""
        self._stack.close()

    def __enter__(self) -> ModelHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_model(
    model: str | Calculator | ModelHandle,
    *,
    device: Device | str = "auto",
    executor: Executor | Any | None = None,
    workers: int | None = None,
    dask_scheduler: str | None = None,
) -> ModelHandle:
    """Open ``model`` where it should run; the one way commands and benchmarks get a model.

    Args:
        model: a registry name (``heo-ft``, ``sevennet-0``, ``mace:file.model``), an ASE
            calculator (runs in this process, as it is), or a handle (returned as it is).
        device: ``auto`` (a GPU if visible), ``cpu`` or ``cuda``; on an executor each worker
            resolves ``auto`` for itself (a cluster's GPU nodes are not this machine).
        executor: any :class:`concurrent.futures.Executor` or a Dask ``distributed.Client``
            (its executor is used); not closed by the handle.
        workers: start this many local worker processes (``spawn``, one torch thread each),
            kept until the handle is closed; 1 or ``None``: this process.
        dask_scheduler: connect to the Dask cluster whose scheduler listens at this address
            (``tcp://host:8786``); the client is closed with the handle.

    Raises:
        ValueError: a bad device or worker count, more than one of ``executor``, ``workers``
            and ``dask_scheduler``, or a calculator object with any of them.
        UnknownCalculatorError, ModelUnavailableError: an unknown name or missing weights,
            before anything is built or started.
        ClusterUnavailableError: the scheduler cannot be reached, or Dask is not installed.
    """
    if isinstance(model, ModelHandle):
        return model
    check_device(device)
    if workers is not None and workers < 1:
        raise ValueError(
            f"workers must be >= 1 worker process, got {workers}; leave it out to run in this process"
        )
    elsewhere = [
        option
        for option, given in (
            ("executor", executor is not None),
            ("workers", workers is not None and workers > 1),
            ("dask_scheduler", bool(dask_scheduler)),
        )
        if given
    ]
    if len(elsewhere) > 1:
        raise ValueError(f"give one of executor, workers and dask_scheduler, not {' and '.join(elsewhere)}")
    if not isinstance(model, str):
        if elsewhere:
            raise ValueError(
                "worker processes and executors need the calculator as a registry name (e.g. 'heo-ft'), "
                "so that each worker can build it; pass the name instead of a calculator object"
            )
        from heo_calc.backends.capabilities import backend_of

        runs_on = "cuda" if "cuda" in str(getattr(backend_of(model), "device", "cpu")) else "cpu"
        return ModelHandle(name=None, device=runs_on, _built=model)
    from heo_calc.registry import require_available

    require_available(model)  # an unknown name or missing weights: before any work

    def in_this_process() -> ModelHandle:
        from heo_calc.backends._common import resolve_device

        return ModelHandle(name=model, device=resolve_device(device))

    if not elsewhere:
        return in_this_process()
    from heo_calc.executors import as_executor, dask_executor, local_processes

    handle = ModelHandle(name=model, device=device)
    if dask_scheduler:
        handle.executor = handle._stack.enter_context(dask_executor(dask_scheduler))
        handle.where = f"Dask cluster at {dask_scheduler}"
    elif executor is not None:
        handle.executor = as_executor(executor)
        handle.where = f"executor {type(handle.executor).__name__}"
    else:
        try:
            handle.executor = handle._stack.enter_context(local_processes(workers))  # type: ignore[arg-type]
        except Exception as error:  # e.g. no semaphores in a sandbox: run here instead
            logger.warning("cannot start %s worker processes (%s); running in this process", workers, error)
            return in_this_process()
        handle.where = f"{workers} local worker processes"
    return handle


# ---- in worker processes ------------------------------------------------------------------

#: Models built in this (worker) process, by (registry name, device): built once, kept.
_WORKER_MODELS: dict[tuple[str, str], Calculator] = {}
_WORKER_MODELS_LOCK = threading.Lock()


def worker_calculator(calculator_name: str, device: str) -> Calculator:
    """The calculator ``calculator_name`` of this (worker) process: built on the first call only, then kept.

    A Dask worker is a long-lived process: every task it runs finds the model here. The
    lock keeps a worker with several threads from building it twice.
    """
    key = (calculator_name, device)
    with _WORKER_MODELS_LOCK:
        if key not in _WORKER_MODELS:
            import torch

            from heo_calc.registry import get_calculator

            # One thread per process: the processes themselves share the cores.
            torch.set_num_threads(1)
            _WORKER_MODELS[key] = get_calculator(calculator_name, device=device)
        return _WORKER_MODELS[key]


def identity_in_worker(calculator_name: str, device: str) -> dict[str, Any]:
    """Run on a worker: the model identity (:func:`heo_calc.provenance.model_identity`) of its cached calculator."""
    from heo_calc.provenance import model_identity

    return model_identity(worker_calculator(calculator_name, device), calculator_name)


def covered_in_worker(calculator_name: str, device: str) -> frozenset[int] | None:
    """Run on a worker: the covered atomic numbers of its (cached) calculator."""
    from heo_calc.backends.capabilities import covered_atomic_numbers

    return covered_atomic_numbers(worker_calculator(calculator_name, device))
