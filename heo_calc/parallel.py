"""Relax structures in parallel worker processes, one torch thread each (the CPU fast path).

On a CPU, a batched model call costs more per structure than single calls (measured:
README, "Relaxation speed"). Independent structures in separate processes keep every core
busy whatever the structure size; for 64-atom SevenNet cells on this 2-core machine they
measured as fast as one process with two torch threads, not faster. Workers are started with
``spawn`` (forking a process that has used OpenMP can hang) and build their calculator
from its registry name once.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from ase import Atoms

logger = logging.getLogger(__name__)

_worker_calculator: Any = None


def _initialise_worker(calculator_name: str, device: str) -> None:
    global _worker_calculator
    import torch

    torch.set_num_threads(1)
    from heo_calc.registry import get_calculator

    _worker_calculator = get_calculator(calculator_name, device=device)


def _relax_in_worker(atoms: Atoms, options: dict[str, Any]) -> Any:
    from heo_calc.relax import _relax_with_calculator

    return _relax_with_calculator(atoms, _worker_calculator, check_input=True, **options)


def default_worker_count() -> int:
    """Usable CPU cores (respects CPU affinity)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def relax_in_processes(
    structures: Sequence[Atoms],
    calculator_name: str,
    *,
    names: Sequence[str],
    trajectories: Sequence[Path | None],
    on_result: Callable[[Any], None],
    workers: int,
    device: str = "cpu",
    **options: Any,
) -> list[Any]:
    """Relax ``structures`` in ``workers`` processes; results in input order.

    If the pool itself breaks (a worker killed, e.g. out of memory, or work that cannot be
    sent to a process), the structures without a result are left as ``None`` for the
    caller to finish another way; a failing *structure* is a failed result, never a
    broken pool.
    """
    results: list[Any] = [None] * len(structures)
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_initialise_worker,
            initargs=(calculator_name, device),
        ) as pool:
            futures = {
                pool.submit(
                    _relax_in_worker, atoms, {**options, "name": name, "trajectory": trajectory}
                ): index
                for index, (atoms, name, trajectory) in enumerate(zip(structures, names, trajectories))
            }
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                on_result(results[index])
    # BrokenProcessPool, PicklingError (e.g. under pytester's module reloads), OSError: a pool
    # that cannot start or breaks must not lose the batch.
    except Exception as error:
        logger.warning(
            "worker processes failed (%s: %s); %d structures left for the sequential loop",
            type(error).__name__,
            error,
            sum(result is None for result in results),
        )
    return results
