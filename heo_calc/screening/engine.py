"""Where a screen relaxes: in this process (default), in local worker processes, or on a Dask cluster.

In this process the calculator is built once and handed to every
:func:`~heo_calc.relax.relax_many` call as an object; on an executor it travels as its
registry name and each worker process builds it once and keeps it for the parents and every
mixture (:func:`heo_calc.relax.strategies.worker_calculator`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from ase.calculators.calculator import Calculator


@dataclass
class Engine:
    """The calculator (object here, name on executors) and the executor, if any."""

    name: str
    calculator: str | Calculator
    executor: Executor | None
    where: str
    _identity: dict[str, Any] | None = field(default=None, repr=False)

    def identity(self, device: str) -> dict[str, Any]:
        """The model identity (:func:`heo_calc.provenance.model_identity`), asked where the model runs; computed once."""
        if self._identity is None:
            if self.executor is None:
                from heo_calc.provenance import model_identity

                self._identity = model_identity(self.calculator, self.name)  # type: ignore[arg-type]
            else:
                from heo_calc.relax.strategies import identity_in_worker

                self._identity = self.executor.submit(identity_in_worker, self.name, device).result()
        return self._identity

    def covered_numbers(self, device: str) -> frozenset[int] | None:
        """Atomic numbers the calculator covers (``None``: it does not say), asked where it runs."""
        from heo_calc.backends.capabilities import covered_atomic_numbers

        if self.executor is None:
            return covered_atomic_numbers(self.calculator)  # type: ignore[arg-type]
        return self.executor.submit(covered_in_worker, self.name, device).result()


def covered_in_worker(calculator_name: str, device: str) -> frozenset[int] | None:
    """Run on a worker: the covered atomic numbers of its (cached) calculator."""
    from heo_calc.backends.capabilities import covered_atomic_numbers
    from heo_calc.relax.strategies import worker_calculator

    return covered_atomic_numbers(worker_calculator(calculator_name, device))


@contextlib.contextmanager
def open_engine(
    calculator: str,
    *,
    device: str = "auto",
    executor: Executor | None = None,
    workers: int | None = None,
    dask_scheduler: str | None = None,
) -> Iterator[Engine]:
    """The engine for these options, closed (pool shut down, client closed) on exit.

    ``dask_scheduler`` (an address) connects to a Dask cluster; ``workers`` > 1 starts that
    many local processes; ``executor`` is used as given (any ``concurrent.futures``
    executor or a Dask ``Client``); none of them: the calculator is built here.
    """
    from heo_calc.registry import require_available
    from heo_calc.relax.clusters import dask_executor, local_processes
    from heo_calc.relax.strategies import as_executor

    require_available(calculator)  # an unknown name or missing weights: before any work
    if dask_scheduler:
        with dask_executor(dask_scheduler) as cluster:
            yield Engine(calculator, calculator, cluster, f"Dask cluster at {dask_scheduler}")
    elif executor is not None:
        yield Engine(calculator, calculator, as_executor(executor), f"executor {type(executor).__name__}")
    elif workers is not None and workers > 1:
        with local_processes(workers) as pool:
            yield Engine(calculator, calculator, pool, f"{workers} local worker processes")
    else:
        from heo_calc.registry import get_calculator

        yield Engine(calculator, get_calculator(calculator, device=device), None, "this process")
