"""Lock-step relaxation of many structures with one batched model call per optimizer step.

Each structure runs its own ASE optimizer in a worker thread. Its calculator is a proxy
that hands the structure to a shared :class:`_LockstepBatcher` and waits; once every
live worker is waiting, the batcher evaluates all of them in one call of a
:data:`BatchEvaluator` and wakes them up. The optimizers, filters and convergence tests
stay ASE's own; only the force evaluation is shared. Workers take the next structure
from a queue as soon as theirs finishes, so the batch stays full.

torch-sim, which batches whole optimizers on the GPU, does not support our pinned
backends (sevenn 0.10.4, mace-torch 0.3.16 with e3nn 0.4.4), hence this small scheduler.
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

logger = logging.getLogger(__name__)

#: (structures) -> one dict of energy (eV), forces (eV/Å, (N, 3)), stress (eV/Å^3, Voigt 6) each.
BatchEvaluator = Callable[[Sequence[Atoms]], list[dict[str, Any]]]

#: Upper bound on atoms evaluated together; bounds memory on CPU and GPU alike.
DEFAULT_MAX_BATCH_ATOMS = 1024


def sequential_evaluator(calculator: Calculator) -> BatchEvaluator:
    """Evaluate structures one by one with any ASE calculator (backends without batching)."""

    def evaluate(structures: Sequence[Atoms]) -> list[dict[str, Any]]:
        from heo_calc.calculator import evaluate_properties

        return [evaluate_properties(calculator, atoms, ("forces", "stress")) for atoms in structures]

    return evaluate


def sevennet_evaluator(calculator: Calculator) -> BatchEvaluator:
    """Evaluate structures in one SevenNet model call on a batched graph."""
    from sevenn import _keys as KEY
    from sevenn.atom_graph_data import AtomGraphData
    from sevenn.train.dataload import unlabeled_atoms_to_graph
    from torch_geometric.data import Batch

    from heo_calc.backends._dtype import default_dtype, parameter_dtype

    model = calculator.model
    device = calculator.device
    dtype = parameter_dtype(calculator)

    def evaluate(structures: Sequence[Atoms]) -> list[dict[str, Any]]:
        with default_dtype(dtype):
            return _evaluate(structures)

    def _evaluate(structures: Sequence[Atoms]) -> list[dict[str, Any]]:
        started = time.perf_counter()
        graphs = [
            AtomGraphData.from_numpy_dict(unlabeled_atoms_to_graph(a, calculator.cutoff)) for a in structures
        ]
        batch = Batch.from_data_list(graphs).to(device)
        built = time.perf_counter()
        model.set_is_batch_data(True)
        try:
            output = model(batch)
        finally:
            model.set_is_batch_data(False)
        evaluate.seconds["graphs"] += built - started
        evaluate.seconds["model"] += time.perf_counter() - built
        energies = output[KEY.PRED_TOTAL_ENERGY].detach().cpu().numpy().reshape(-1)
        forces = output[KEY.PRED_FORCE].detach().cpu().numpy()
        # sevenn's stress is (xx, yy, zz, xy, yz, zx) with the opposite sign of ASE's.
        stresses = (
            -output[KEY.PRED_STRESS].detach().cpu().numpy().reshape(len(structures), 6)[:, [0, 1, 2, 4, 5, 3]]
        )
        offsets = np.cumsum([0, *[len(a) for a in structures]])
        return [
            {
                "energy": float(energies[i]),
                "forces": forces[offsets[i] : offsets[i + 1]].astype(float),
                "stress": stresses[i].astype(float),
            }
            for i in range(len(structures))
        ]

    evaluate.seconds = {"graphs": 0.0, "model": 0.0}  # where the time goes, for the log
    return evaluate


def batch_evaluator_for(calculator: Calculator) -> tuple[BatchEvaluator, bool]:
    """The best evaluator for ``calculator`` and whether it really batches."""
    backend = getattr(calculator, "backend", calculator)  # unwrap HEOCalculator
    if (
        type(backend).__name__ == "SevenNetCalculator"
        and hasattr(backend, "model")
        and hasattr(backend.model, "set_is_batch_data")
    ):
        return sevennet_evaluator(backend), True
    return sequential_evaluator(calculator), False


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


def relax_in_lockstep(
    structures: Sequence[Atoms],
    calculator: Calculator,
    *,
    names: Sequence[str],
    trajectories: Sequence[Path | None],
    relax_one: Callable[..., Any],
    on_result: Callable[[Any], None],
    max_batch_atoms: int = DEFAULT_MAX_BATCH_ATOMS,
    **options: Any,
) -> list[Any]:
    """Relax ``structures`` with up to ``max_batch_atoms`` atoms evaluated per model call.

    ``relax_one`` is the engine's single-structure routine (called with a proxy
    calculator); results come back in input order.
    """
    from heo_calc.coverage import supported_atomic_numbers
    from heo_calc.validation import check_structure

    evaluator, batches = batch_evaluator_for(calculator)
    supported = supported_atomic_numbers(getattr(calculator, "backend", calculator))
    mean_atoms = max(1.0, float(np.mean([len(a) for a in structures])))
    n_workers = max(1, min(len(structures), int(max_batch_atoms // mean_atoms))) if batches else 1
    batcher = _LockstepBatcher(evaluator, n_workers)
    work: queue.Queue[int] = queue.Queue()
    for index in range(len(structures)):
        work.put(index)
    results: list[Any] = [None] * len(structures)
    lock = threading.Lock()
    started = time.perf_counter()

    def worker(worker_index: int) -> None:
        proxy = _BatchedProxyCalculator(batcher, worker_index)
        try:
            while True:
                try:
                    index = work.get_nowait()
                except queue.Empty:
                    return
                atoms = structures[index]
                try:
                    # Invalid input is rejected before it can poison a shared batch.
                    check_structure(atoms, supported_numbers=supported)
                    result = relax_one(
                        atoms,
                        proxy,
                        name=names[index],
                        trajectory=trajectories[index],
                        check_input=False,
                        **options,
                    )
                except Exception as error:
                    result = relax_one(
                        atoms,
                        _RaisingCalculator(error),
                        name=names[index],
                        trajectory=None,
                        check_input=False,
                        **options,
                    )
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
    split = getattr(evaluator, "seconds", None)
    logger.info(
        "relaxed %d structures in %d model calls (mean batch %.1f, %d threads) in %.1f s, of which "
        "%.1f s in batched evaluation%s; the rest is the optimizers and the threads' hand-over",
        len(structures),
        batcher.n_batches,
        np.mean(batcher.batch_sizes) if batcher.batch_sizes else 0.0,
        n_workers,
        time.perf_counter() - started,
        batcher.evaluation_seconds,
        f" ({split['graphs']:.1f} s building graphs, {split['model']:.1f} s in the model)" if split else "",
    )
    return results


class _RaisingCalculator(Calculator):
    """Stands in for a structure rejected before relaxation, so it reports as failed."""

    implemented_properties = ["energy", "forces", "stress"]  # noqa: RUF012

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def calculate(self, atoms=None, properties=None, system_changes=all_changes) -> None:
        raise self.error
