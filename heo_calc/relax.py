"""The one relaxation engine: positions and cell of many structures, sequentially or in lock-step batches.

Every command and benchmark relaxes through :func:`relax_many`. Cell degrees of freedom
use ASE's :class:`~ase.filters.FrechetCellFilter`; optimizers are ASE's own (the default
L-BFGS adds only the rescaled initial Hessian, :mod:`heo_calc.optimizers`).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator
from ase.filters import FrechetCellFilter
from ase.optimize import BFGS, FIRE, LBFGS
from ase.optimize.optimize import Optimizer
from ase.units import GPa

from heo_calc.errors import HEOCalcError
from heo_calc.optimizers import ScaledLBFGS
from heo_calc.validation import check_structure

logger = logging.getLogger(__name__)

OptimizerName = Literal["lbfgs", "ase-lbfgs", "bfgs", "fire"]
#: ``lbfgs`` is ASE's L-BFGS with the textbook rescaled initial Hessian
#: (:class:`~heo_calc.optimizers.ScaledLBFGS`); ``ase-lbfgs`` is ASE's as it comes.
OPTIMIZERS: Final[dict[str, type[Optimizer]]] = {
    "lbfgs": ScaledLBFGS,
    "ase-lbfgs": LBFGS,
    "bfgs": BFGS,
    "fire": FIRE,
}
#: Chosen by measurement (README, "Relaxation speed"): fewest force calls to fmax 0.05 eV/Å.
DEFAULT_OPTIMIZER: Final = "lbfgs"
#: Initial Hessian guess of L-BFGS and BFGS: ``alpha`` (eV/Å²), the curvature the optimizer
#: assumes before it has seen any. ASE's default, 70 eV/Å², is far stiffer than HEO oxides
#: near their minima, so the first steps are short and L-BFGS spends its steps learning the
#: scale. Measured (README, "Relaxation speed"; ``benchmarks/bench_optimizers.py``) with
#: SevenNet-0 on rattled rock salt, spinel, fluorite, perovskite and LeMat-Bulk HEOs with
#: FrechetCellFilter to fmax 0.05 eV/Å: 15 eV/Å² took a median 14 steps against FIRE's 41
#: and ASE-default L-BFGS's 31, ending within 0.5 meV/atom of FIRE. 10 was as good on most
#: cells but slower on the 100-atom perovskite; 7 was worse on three of ten. The default
#: ``lbfgs`` uses it for its first step only and then rescales to the measured curvature:
#: a median 11.5 steps on the same ten cells (docs/relax-optimizer-sweep-scaled.md).
INITIAL_HESSIAN_EV_PER_A2: Final = 15.0
#: Optimizers that take the initial Hessian guess (as ASE's ``alpha``).
_QUASI_NEWTON: Final = frozenset({"lbfgs", "ase-lbfgs", "bfgs"})

Status = Literal["converged", "not_converged", "failed"]
Strategy = Literal["auto", "lockstep", "processes", "sequential"]

#: A relaxation whose volume changes by more than this factor has blown apart.
_MAX_VOLUME_RATIO: Final = 3.0


@dataclass
class RelaxResult:
    """Outcome of relaxing one structure.

    Attributes:
        atoms: the final structure (results attached as a SinglePointCalculator), or the
            input structure when the relaxation failed before its first step.
        converged: whether max force (and stress, as FrechetCellFilter scales it) < fmax.
        n_steps: optimizer steps taken.
        energy: final total energy (eV); NaN when it failed.
        initial_energy: energy of the input structure (eV); NaN when not evaluated.
        max_force: final max atomic force norm (eV/Å).
        max_stress_gpa: final max absolute stress component (GPa); NaN without cell relaxation.
        volume_change_percent: 100 (V_final / V_initial - 1).
        wall_time_s: seconds spent on this structure (in batched mode: its share of the batch).
        status: ``converged``, ``not_converged`` or ``failed``.
        error: why it failed, else ``None``.
        name: the structure's label (``atoms.info["name"]`` or its index).
    """

    atoms: Atoms
    converged: bool
    n_steps: int
    energy: float
    initial_energy: float = float("nan")
    max_force: float = float("nan")
    max_stress_gpa: float = float("nan")
    volume_change_percent: float = float("nan")
    wall_time_s: float = 0.0
    status: Status = "not_converged"
    error: str | None = None
    name: str = ""
    extra: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        if self.status == "failed":
            return f"{self.name}: FAILED after {self.n_steps} steps: {self.error}"
        return (
            f"{self.name}: {'converged' if self.converged else 'NOT converged'} in {self.n_steps} steps, "
            f"E = {self.energy:.4f} eV ({self.energy / len(self.atoms):.4f} eV/atom), "
            f"max|F| = {self.max_force:.3f} eV/Å, max|σ| = {self.max_stress_gpa:.3f} GPa, "
            f"ΔV = {self.volume_change_percent:+.2f} %, {self.wall_time_s:.1f} s"
        )


def _structure_name(atoms: Atoms, index: int) -> str:
    return str(atoms.info.get("name", atoms.info.get("immutable_id", f"structure-{index}")))


class _DivergedError(HEOCalcError, RuntimeError):
    pass


def _check_sane(atoms: Atoms, initial_volume: float, forces: np.ndarray, energy: float) -> None:
    if not np.isfinite(energy) or not np.isfinite(forces).all():
        raise _DivergedError("the model returned NaN or infinite energy/forces")
    if not np.isfinite(atoms.positions).all():
        raise _DivergedError("positions became NaN during the relaxation")
    ratio = atoms.get_volume() / initial_volume
    if not 1 / _MAX_VOLUME_RATIO < ratio < _MAX_VOLUME_RATIO:
        raise _DivergedError(f"the cell volume changed by a factor {ratio:.2f}: the structure blew apart")


def _relax_with_calculator(
    atoms: Atoms,
    calculator: Calculator,
    *,
    name: str,
    fmax: float,
    max_steps: int,
    optimizer: str,
    relax_cell: bool,
    trajectory: str | Path | None,
    check_input: bool,
    initial_hessian: float = INITIAL_HESSIAN_EV_PER_A2,
) -> RelaxResult:
    """Relax one structure with one (possibly proxy) calculator; never raises for bad structures."""
    started = time.perf_counter()
    working = atoms.copy()
    working.calc = calculator
    steps = 0
    initial_energy = float("nan")
    try:
        if check_input:
            from heo_calc.coverage import supported_atomic_numbers

            check_structure(
                working,
                supported_numbers=supported_atomic_numbers(getattr(calculator, "backend", calculator)),
            )
        initial_volume = working.get_volume()
        initial_energy = float(working.get_potential_energy())
        target = FrechetCellFilter(working) if relax_cell else working
        dynamics = OPTIMIZERS[optimizer](
            target,
            logfile=None,
            trajectory=str(trajectory) if trajectory else None,
            **({"alpha": initial_hessian} if optimizer in _QUASI_NEWTON else {}),
        )
        converged = False
        for converged in dynamics.irun(fmax=fmax, steps=max_steps):
            steps = dynamics.nsteps
            _check_sane(working, initial_volume, working.get_forces(), working.get_potential_energy())
            if converged:
                break
        energy = float(working.get_potential_energy())
        forces = working.get_forces()
        stress = working.get_stress() if relax_cell else None
    except Exception as error:  # one bad structure must not stop a batch: report it
        logger.warning("relaxation of %s failed: %s", name, error)
        return RelaxResult(
            atoms=working,
            converged=False,
            n_steps=steps,
            energy=float("nan"),
            initial_energy=initial_energy,
            wall_time_s=time.perf_counter() - started,
            status="failed",
            error=f"{type(error).__name__}: {error}",
            name=name,
        )
    final = working.copy()
    final.calc = SinglePointCalculator(final, energy=energy, forces=forces, stress=stress)
    return RelaxResult(
        atoms=final,
        converged=bool(converged),
        n_steps=steps,
        energy=energy,
        initial_energy=initial_energy,
        max_force=float(np.linalg.norm(forces, axis=1).max()),
        max_stress_gpa=float(np.abs(stress).max() / GPa) if stress is not None else float("nan"),
        volume_change_percent=100.0 * (final.get_volume() / initial_volume - 1.0),
        wall_time_s=time.perf_counter() - started,
        status="converged" if converged else "not_converged",
        name=name,
    )


def relax_many(
    structures: Sequence[Atoms],
    calculator: str | Calculator,
    *,
    fmax: float = 0.05,
    max_steps: int = 500,
    batched: bool = True,
    optimizer: OptimizerName = DEFAULT_OPTIMIZER,
    relax_cell: bool = True,
    trajectory_dir: str | Path | None = None,
    progress: bool = True,
    on_result: Callable[[RelaxResult], None] | None = None,
    strategy: Strategy = "auto",
    workers: int | None = None,
    initial_hessian: float = INITIAL_HESSIAN_EV_PER_A2,
    max_batch_atoms: int | None = None,
) -> list[RelaxResult]:
    """Relax positions (and cell) of many structures with one calculator.

    Args:
        structures: periodic structures; they are copied, never modified.
        calculator: a registry name (``"heo-ft"``, ``"sevennet-0"``, ``"mace:file.model"``)
            or an ASE calculator.
        fmax: convergence threshold on forces (eV/Å); with ``relax_cell`` the
            FrechetCellFilter applies it to the virial per atom too.
        max_steps: optimizer steps per structure.
        batched: use the fast engine (``strategy`` says how); ``False`` is the plain
            sequential ASE loop, one structure after another in this process.
        optimizer: ``"lbfgs"`` (default, fewest force calls measured: L-BFGS whose
            initial Hessian is rescaled to the measured curvature every step,
            :class:`~heo_calc.optimizers.ScaledLBFGS`), ``"ase-lbfgs"`` (ASE's L-BFGS, which
            keeps its guess), ``"bfgs"`` (all three start from
            :data:`INITIAL_HESSIAN_EV_PER_A2`) or ``"fire"`` (ASE's defaults, the seed
            project's choice).
        relax_cell: relax the cell with FrechetCellFilter (default) or positions only.
        trajectory_dir: write one ASE trajectory per structure here.
        progress: show a tqdm progress bar.
        on_result: called with each result as soon as it is final.
        strategy: how the fast engine runs. ``"lockstep"``: all structures advance
            together and are evaluated in one batched model call per step
            (:mod:`heo_calc.batching`; pays on a GPU). ``"processes"``: structures are
            spread over worker processes with one torch thread each
            (:mod:`heo_calc.parallel`; pays on a CPU; needs ``calculator`` as a registry
            name). ``"auto"``: lockstep on a GPU, processes on a CPU when the calculator
            is given by name and there are several cores and structures, else sequential.
        workers: worker processes for ``"processes"`` (default: usable CPU cores).
        initial_hessian: the curvature (eV/Å²) L-BFGS and BFGS assume before their first
            step (ASE's ``alpha``; ASE's own default is 70); the default ``lbfgs`` replaces
            it by the measured curvature from its second step on. Default
            :data:`INITIAL_HESSIAN_EV_PER_A2`, measured on HEO oxides.
        max_batch_atoms: ``"lockstep"`` only: atoms evaluated in one batched call
            (default :data:`heo_calc.batching.DEFAULT_MAX_BATCH_ATOMS`).

    Returns:
        One :class:`RelaxResult` per input structure, in input order. A structure that
        is invalid, diverges or blows apart gives ``status="failed"`` with the reason;
        the others finish.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    if fmax <= 0 or max_steps < 0:
        raise ValueError(f"fmax must be > 0 eV/Å and max_steps >= 0, got fmax={fmax}, max_steps={max_steps}")
    calculator_name = calculator if isinstance(calculator, str) else None
    if calculator_name is not None:
        from heo_calc.backends._common import resolve_device
        from heo_calc.registry import get_calculator, require_available

        require_available(calculator_name)  # unknown names and missing weights fail here, before any work
        device = resolve_device("auto")
        # Built on first need: the process path builds its models in the workers only.
        the_calculator = functools.cache(lambda: get_calculator(calculator_name, device=device))
    else:
        device = _device_of(calculator)
        the_calculator = functools.cache(lambda: calculator)

    names = [_structure_name(atoms, index) for index, atoms in enumerate(structures)]
    trajectories: list[Path | None] = [None] * len(structures)
    if trajectory_dir is not None:
        Path(trajectory_dir).mkdir(parents=True, exist_ok=True)
        trajectories = [Path(trajectory_dir) / f"{index:04d}-{name}.traj" for index, name in enumerate(names)]
    if not initial_hessian > 0:
        raise ValueError(f"initial_hessian must be > 0 eV/Å², got {initial_hessian}")
    options = {
        "fmax": fmax,
        "max_steps": max_steps,
        "optimizer": optimizer,
        "relax_cell": relax_cell,
        "initial_hessian": initial_hessian,
    }
    from tqdm.auto import tqdm

    bar = tqdm(total=len(structures), desc="relax", unit="structure", disable=not progress)

    def finished(result: RelaxResult) -> None:
        bar.update(1)
        bar.set_postfix_str(f"{result.name}: {result.status}")
        if on_result is not None:
            on_result(result)

    try:
        chosen = _choose_strategy(strategy, batched, device, calculator_name, len(structures), workers)
        logger.info("relaxing %d structures: %s", len(structures), chosen)
        if chosen == "processes":
            from heo_calc.parallel import default_worker_count, relax_in_processes

            assert calculator_name is not None
            results = relax_in_processes(
                structures,
                calculator_name,
                names=names,
                trajectories=trajectories,
                on_result=finished,
                workers=workers or default_worker_count(),
                device=device,
                **options,
            )
            for index, result in enumerate(results):
                if result is None:  # the pool broke before this one finished
                    results[index] = _relax_with_calculator(
                        structures[index],
                        the_calculator(),
                        name=names[index],
                        trajectory=trajectories[index],
                        check_input=True,
                        **options,
                    )
                    finished(results[index])
        elif chosen == "lockstep":
            from heo_calc.batching import relax_in_lockstep

            results = relax_in_lockstep(
                structures,
                the_calculator(),
                names=names,
                trajectories=trajectories,
                on_result=finished,
                relax_one=_relax_with_calculator,
                **({"max_batch_atoms": max_batch_atoms} if max_batch_atoms else {}),
                **options,
            )
        else:
            results = []
            for atoms, name, trajectory in zip(structures, names, trajectories):
                result = _relax_with_calculator(
                    atoms, the_calculator(), name=name, trajectory=trajectory, check_input=True, **options
                )
                finished(result)
                results.append(result)
    finally:
        bar.close()
    return results


def _device_of(calculator: Calculator) -> str:
    backend = getattr(calculator, "backend", calculator)
    return "cuda" if "cuda" in str(getattr(backend, "device", "cpu")) else "cpu"


def _choose_strategy(
    strategy: Strategy,
    batched: bool,
    device: str,
    calculator_name: str | None,
    n_structures: int,
    workers: int | None,
) -> Strategy:
    if not batched or n_structures < 2 or strategy == "sequential":
        return "sequential"
    if strategy == "processes" and calculator_name is None:
        raise ValueError(
            "strategy='processes' needs the calculator as a registry name, so workers can build it"
        )
    if strategy != "auto":
        return strategy
    if device == "cuda":
        return "lockstep"
    from heo_calc.parallel import default_worker_count

    if calculator_name is not None and min(workers or default_worker_count(), n_structures) > 1:
        return "processes"
    return "sequential"
