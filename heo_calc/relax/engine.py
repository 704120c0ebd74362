""":func:`relax_many`: the one relaxation entry point of every command and benchmark."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path

from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_base.labels import safe_file_stem, structure_id
from heo_calc.relax.optimizers import DEFAULT_OPTIMIZER, INITIAL_HESSIAN_EV_PER_A2, OptimizerName
from heo_calc.relax.single import RelaxOptions, RelaxResult, blas_on_one_thread
from heo_calc.relax.strategies import Jobs, Model, Strategy, choose_strategy

logger = logging.getLogger(__name__)


def _model(
    calculator: str | Calculator, device: str, strategy: str | Strategy, workers: int | None, executor
) -> Model:
    """The :class:`Model` of a call: names are checked at once, built only where they run."""
    from heo_calc.backends._common import resolve_device
    from heo_calc.backends.capabilities import backend_of

    if not isinstance(calculator, str):
        device = "cuda" if "cuda" in str(getattr(backend_of(calculator), "device", "cpu")) else "cpu"
        return Model(name=None, device=device, built=calculator)
    from heo_calc.registry import require_available

    require_available(calculator)  # unknown names and missing weights fail here, before any work
    if executor is not None:
        # "auto" is resolved by each worker: a cluster's GPU nodes are not this machine.
        return Model(name=calculator, device=device)
    model = Model(name=calculator, device=resolve_device(device))
    runs_here = executor is None and not workers and strategy in ("auto", "sequential", "lockstep")
    if runs_here and model.device == "cuda":
        model.calculator()  # auto needs to know whether the backend batches
    return model


def _trajectories(names: list[str], trajectory_dir: str | Path | None) -> list[Path | None]:
    if trajectory_dir is None:
        return [None] * len(names)
    Path(trajectory_dir).mkdir(parents=True, exist_ok=True)
    return [
        Path(trajectory_dir) / f"{index:04d}-{safe_file_stem(name)}.traj" for index, name in enumerate(names)
    ]


def relax_many(
    structures: Sequence[Atoms] | Atoms,
    calculator: str | Calculator,
    *,
    fmax: float = 0.05,
    max_steps: int = 500,
    optimizer: OptimizerName = DEFAULT_OPTIMIZER,
    relax_cell: bool = True,
    trajectory_dir: str | Path | None = None,
    progress: bool = True,
    on_result: Callable[[RelaxResult], None] | None = None,
    strategy: str | Strategy = "auto",
    workers: int | None = None,
    executor: Executor | None = None,
    initial_hessian: float = INITIAL_HESSIAN_EV_PER_A2,
    max_batch_atoms: int | None = None,
    device: str = "auto",
    keep_symmetry: bool = False,
    symprec: float = 1e-2,
) -> list[RelaxResult]:
    """Relax positions (and cell) of many structures with one calculator.

    Args:
        structures: periodic structures (or one ``Atoms``: a list of one result); they are
            copied, never modified.
        calculator: a registry name (``"heo-ft"``, ``"sevennet-0"``, ``"mace:file.model"``)
            or an ASE calculator. Worker processes and executors need a name.
        fmax: convergence threshold on forces (eV/Å); with ``relax_cell`` the
            FrechetCellFilter applies it to the virial per atom too.
        max_steps: optimizer steps per structure.
        optimizer: ``"lbfgs"`` (default, fewest force calls measured: L-BFGS whose
            initial Hessian is rescaled to the measured curvature every step,
            :class:`~heo_calc.relax.optimizers.ScaledLBFGS`), ``"ase-lbfgs"`` (ASE's
            L-BFGS, which keeps its guess), ``"bfgs"`` (all three start from
            ``initial_hessian``) or ``"fire"`` (ASE's defaults).
        relax_cell: relax the cell with FrechetCellFilter (default) or positions only.
        trajectory_dir: write one ASE trajectory per structure here.
        progress: show a tqdm progress bar.
        on_result: called with each result as soon as it is final.
        strategy: where the structures are relaxed (:mod:`heo_calc.relax.strategies`):
            ``"auto"`` (default): on ``executor`` if given, in ``workers`` processes if
            given, else in this process: lock-step batched on a GPU for a backend that
            batches, one after another otherwise. Or ``"sequential"``, ``"lockstep"``,
            ``"processes"``, or a strategy object.
        workers: local worker processes (one torch thread each); none unless asked for.
        executor: any :class:`concurrent.futures.Executor`, or a Dask
            ``distributed.Client`` (its executor is used: ``client.get_executor(pure=False)``);
            each worker process builds the model once and keeps it for later calls.
        initial_hessian: the curvature (eV/Å²) L-BFGS and BFGS assume before their first
            step (ASE's ``alpha``; ASE's own default is 70); default measured on HEO oxides.
        max_batch_atoms: lock-step only: atoms evaluated in one batched call.
        device: where a calculator given by name runs (``auto``: a GPU if visible; with an
            executor, each worker decides for itself).
        keep_symmetry: keep each structure's space group (found at ``symprec``, Å) during
            the relaxation (ASE ``FixSymmetry``), as DFT relaxes inside its symmetry.

    Returns:
        One :class:`~heo_calc.relax.single.RelaxResult` per input structure, in input
        order. A structure that is invalid, diverges or blows apart gives
        ``status="failed"`` with the reason; the others finish.
    """
    from heo_calc.backends.capabilities import batch_evaluator_of

    if isinstance(structures, Atoms):
        structures = [structures]
    if workers is not None and workers < 1:
        raise ValueError(
            f"workers must be >= 1 worker process, got {workers}; leave it out to relax in this process"
        )
    options = RelaxOptions(
        fmax=fmax,
        max_steps=max_steps,
        optimizer=optimizer,
        relax_cell=relax_cell,
        initial_hessian=initial_hessian,
        keep_symmetry=keep_symmetry,
        symprec=symprec,
    )
    model = _model(calculator, device, strategy, workers, executor)
    names = [structure_id(atoms, index) for index, atoms in enumerate(structures)]
    jobs = Jobs(structures, names, _trajectories(names, trajectory_dir), options)
    chosen = choose_strategy(
        strategy,
        device=model.device,
        batches=model.built is not None and batch_evaluator_of(model.built) is not None,
        workers=workers,
        executor=executor,
        max_batch_atoms=max_batch_atoms,
    )
    logger.info("relaxing %d structures: %s", len(structures), chosen)
    from tqdm.auto import tqdm

    with (
        blas_on_one_thread(),
        tqdm(total=len(structures), desc="relax", unit="structure", disable=not progress) as bar,
    ):

        def finished(result: RelaxResult) -> None:
            bar.update(1)
            bar.set_postfix_str(f"{result.name}: {result.status}")
            if on_result is not None:
                on_result(result)

        return chosen.run(jobs, model, finished)
