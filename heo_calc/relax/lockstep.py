"""Lock-step relaxation of many structures with one batched model call per optimizer step.

Each structure runs its own ASE optimizer in a worker thread. Its calculator is a proxy
that hands the structure to a shared :class:`_LockstepBatcher` and waits; once every
live worker is waiting, the batcher evaluates all of them in one call of a
:data:`BatchEvaluator` and wakes them up. The optimizers, filters and convergence tests
stay ASE's own; only the force evaluation is shared. Workers take the next structure
from a queue as soon as theirs finishes, so the batch stays full.

The batched call is the backend's own (its declared
:attr:`~heo_calc.backends.capabilities.Capabilities.batch_evaluator`); a backend without one
is evaluated structure by structure, one worker. torch-sim, which batches whole optimizers
on the GPU, does not support our pinned backends (sevenn 0.10.4, mace-torch 0.3.16 with
e3nn 0.4.4), hence this small scheduler.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes

from heo_calc.backends.capabilities import (
    SPREAD_PROPERTIES,
    BatchEvaluator,
    batch_evaluator_of,
    covered_atomic_numbers,
)
from heo_calc.relax.single import RelaxOptions, RelaxResult, relax_structure
from heo_calc.validation import check_structure

logger = logging.getLogger(__name__)

#: Upper bound on atoms evaluated together; bounds memory on CPU and GPU alike.
DEFAULT_MAX_BATCH_ATOMS = 1024


def sequential_evaluator(calculator: Calculator) -> BatchEvaluator:
    """Evaluate structures one by one with any ASE calculator (backends without batching)."""

    def evaluate(structures: Sequence[Atoms]) -> list[dict[str, Any]]:
        from heo_calc.calculator import evaluate_properties

        return [evaluate_properties(calculator, atoms, ("forces", "stress")) for atoms in structures]

    return evaluate


class _LockstepBatcher:
    """Collects one evaluation request per live worker, then evaluates them together."""

    def __init__(self, evaluator: BatchEvaluator, n_workers: int) -> None:
        self.evaluator = evaluator
        self.condition = threading.Condition()
        self.live_workers = n_workers
        self.pending: dict[int, Atoms] = {}
        self.results: dict[int, dict[str, Any] | BaseException] = {}
        self.n_batches = 0
        self.batch_sizes: list[int] = []
        self.evaluation_seconds = 0.0

    def request(self, worker: int, atoms: Atoms) -> dict[str, Any]:
        with self.condition:
            self.pending[worker] = atoms
            self._evaluate_when_full()
            while worker not in self.results:
                self.condition.wait()
            outcome = self.results.pop(worker)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def worker_finished(self) -> None:
        with self.condition:
            self.live_workers -= 1
            self._evaluate_when_full()

    def _evaluate_when_full(self) -> None:
        # Called with the lock held; every other live worker is waiting, so evaluating
        # here blocks nobody who could make progress.
        if not self.pending or len(self.pending) < self.live_workers:
            return
        workers, structures = zip(*self.pending.items())
        self.pending = {}
        self.n_batches += 1
        self.batch_sizes.append(len(structures))
        evaluation_started = time.perf_counter()
        try:
            outcomes: list[Any] = self.evaluator(list(structures))
        except Exception:
            # One bad structure must not fail the others: retry one by one to isolate it.
            outcomes = []
            for atoms in structures:
                try:
                    outcomes.extend(self.evaluator([atoms]))
                except Exception as error:
                    outcomes.append(error)
        self.evaluation_seconds += time.perf_counter() - evaluation_started
        self.results.update(zip(workers, outcomes))
        self.condition.notify_all()


class _BatchedProxyCalculator(Calculator):
    """ASE calculator of one worker: every evaluation goes through the shared batcher."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]  # noqa: RUF012

    def __init__(self, batcher: _LockstepBatcher, worker: int) -> None:
        super().__init__()
        self.batcher = batcher
        self.worker = worker

    def calculate(self, atoms=None, properties=None, system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        outcome = self.batcher.request(self.worker, self.atoms.copy())
        self.results = {
            "energy": float(outcome["energy"]),
            "free_energy": float(outcome["energy"]),
            "forces": np.array(outcome["forces"]),
            "stress": np.array(outcome["stress"]),
        }
        # a committee's spread (energy_std, forces_std) travels with the forces
        self.results.update({key: outcome[key] for key in SPREAD_PROPERTIES if key in outcome})


def relax_in_lockstep(
    structures: Sequence[Atoms],
    calculator: Calculator,
    options: RelaxOptions,
    *,
    names: Sequence[str],
    trajectories: Sequence[Path | None],
    on_result: Callable[[RelaxResult], None],
    max_batch_atoms: int = DEFAULT_MAX_BATCH_ATOMS,
) -> list[RelaxResult]:
    """Relax ``structures`` with up to ``max_batch_atoms`` atoms evaluated per model call; results in input order."""
    batched = batch_evaluator_of(calculator)
    evaluator = batched or sequential_evaluator(calculator)
    supported = covered_atomic_numbers(calculator)
    mean_atoms = max(1.0, float(np.mean([len(a) for a in structures])))
    n_workers = max(1, min(len(structures), int(max_batch_atoms // mean_atoms))) if batched else 1
    batcher = _LockstepBatcher(evaluator, n_workers)
    work: queue.Queue[int] = queue.Queue()
    for index in range(len(structures)):
        work.put(index)
    results: list[RelaxResult | None] = [None] * len(structures)
    lock = threading.Lock()
    started = time.perf_counter()

    def relax_next(proxy: _BatchedProxyCalculator, index: int) -> RelaxResult:
        atoms = structures[index]
        try:
            # Invalid input is rejected before it can poison a shared batch.
            check_structure(atoms, supported_numbers=supported)
        except Exception as error:
            proxy = _RaisingCalculator(error)
        return relax_structure(
            atoms, proxy, options, name=names[index], trajectory=trajectories[index], check_input=False
        )

    def worker(worker_index: int) -> None:
        proxy = _BatchedProxyCalculator(batcher, worker_index)
        try:
            while True:
                try:
                    index = work.get_nowait()
                except queue.Empty:
                    return
                result = relax_next(proxy, index)
                with lock:
                    results[index] = result
                    on_result(result)
        finally:
            batcher.worker_finished()

    threads = [
        threading.Thread(target=worker, args=(i,), name=f"relax-worker-{i}", daemon=True)
        for i in range(n_workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _log_batches(batcher, evaluator, n_workers, len(structures), time.perf_counter() - started)
    return results  # type: ignore[return-value]


def _log_batches(
    batcher: _LockstepBatcher, evaluator, n_workers: int, n_structures: int, elapsed: float
) -> None:
    split = getattr(evaluator, "seconds", None)
    logger.info(
        "relaxed %d structures in %d model calls (mean batch %.1f, %d threads) in %.1f s, of which "
        "%.1f s in batched evaluation%s; the rest is the optimizers and the threads' hand-over",
        n_structures,
        batcher.n_batches,
        np.mean(batcher.batch_sizes) if batcher.batch_sizes else 0.0,
        n_workers,
        elapsed,
        batcher.evaluation_seconds,
        f" ({split['graphs']:.1f} s building graphs, {split['model']:.1f} s in the model)" if split else "",
    )


class _RaisingCalculator(Calculator):
    """Stands in for a structure rejected before relaxation, so it reports as failed."""

    implemented_properties = ["energy", "forces", "stress"]  # noqa: RUF012

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def calculate(self, atoms=None, properties=None, system_changes=all_changes) -> None:
        raise self.error
