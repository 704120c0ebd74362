"""The one single-structure relaxation routine every strategy runs, and its result record."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.calculators.singlepoint import SinglePointCalculator
from ase.filters import FrechetCellFilter

from heo_base.units import EV_PER_A3_TO_GPA
from heo_calc.errors import HEOCalcError
from heo_calc.relax.optimizers import (
    DEFAULT_OPTIMIZER,
    INITIAL_HESSIAN_EV_PER_A2,
    OPTIMIZERS,
    QUASI_NEWTON,
    OptimizerName,
)
from heo_calc.status import Status

logger = logging.getLogger(__name__)

#: A relaxation whose volume changes by more than this factor has blown apart.
MAX_VOLUME_RATIO = 3.0


@dataclass(frozen=True)
class RelaxOptions:
    """How each structure is relaxed.

    Attributes:
        fmax: convergence threshold on forces (eV/Å); with ``relax_cell`` the
            FrechetCellFilter applies it to the virial per atom too.
        max_steps: optimizer steps per structure.
        optimizer: a key of :data:`~heo_calc.relax.optimizers.OPTIMIZERS`.
        relax_cell: relax the cell too (FrechetCellFilter) or positions only.
        initial_hessian: curvature (eV/Å²) quasi-Newton optimizers assume at first.
        keep_symmetry: keep the space group the input has at ``symprec`` (ASE's
            ``FixSymmetry`` constraint, which symmetrizes forces, stress and every step):
            the way DFT codes relax a cell inside its symmetry.
        symprec: spglib distance tolerance (Å) for ``keep_symmetry`` (matbench-discovery's 1e-2).
    """

    fmax: float = 0.05
    max_steps: int = 500
    optimizer: OptimizerName = DEFAULT_OPTIMIZER
    relax_cell: bool = True
    initial_hessian: float = INITIAL_HESSIAN_EV_PER_A2
    keep_symmetry: bool = False
    symprec: float = 1e-2

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if not 0 < self.fmax < float("inf") or self.max_steps < 0:
            raise ValueError(
                f"fmax must be > 0 eV/Å and finite, and max_steps >= 0; got fmax={self.fmax}, "
                f"max_steps={self.max_steps}"
            )
        if self.keep_symmetry and not self.symprec > 0:
            raise ValueError(f"symprec must be > 0 Å, got {self.symprec}")
        if not self.initial_hessian > 0:
            raise ValueError(f"initial_hessian must be > 0 eV/Å², got {self.initial_hessian}")

    def decisive(self) -> dict[str, Any]:
        """Every field by name: all decide the numbers (run records flatten them beside their own)."""
        return dataclasses.asdict(self)


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
        max_force_spread: largest per-atom force spread (eV/Å) of a committee calculator
            (``results["forces_std"]``) on the final structure; NaN for single models.
        wall_time_s: seconds spent on this structure (in lock-step: its time in the batch).
        status: ``ok`` (converged), ``not_converged`` or ``failed`` (:class:`~heo_calc.status.Status`).
        error: why it failed, else ``None``.
        name: the structure's label (:func:`heo_base.labels.structure_id`).
    """

    atoms: Atoms
    converged: bool
    n_steps: int
    energy: float
    initial_energy: float = float("nan")
    max_force: float = float("nan")
    max_stress_gpa: float = float("nan")
    volume_change_percent: float = float("nan")
    max_force_spread: float = float("nan")
    wall_time_s: float = 0.0
    status: Status = Status.NOT_CONVERGED
    error: str | None = None
    name: str = ""
    extra: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        if self.status == Status.FAILED:
            return f"{self.name}: FAILED after {self.n_steps} steps: {self.error}"
        spread = (
            f", committee spread {self.max_force_spread:.3f} eV/Å"
            if np.isfinite(self.max_force_spread)
            else ""
        )
        return (
            f"{self.name}: {'converged' if self.converged else 'NOT converged'} in {self.n_steps} steps, "
            f"E = {self.energy:.4f} eV ({self.energy / len(self.atoms):.4f} eV/atom), "
            f"max|F| = {self.max_force:.3f} eV/Å, max|σ| = {self.max_stress_gpa:.3f} GPa, "
            f"ΔV = {self.volume_change_percent:+.2f} %{spread}, {self.wall_time_s:.1f} s"
        )

    def as_row(self) -> dict:
        """The scalar fields, for tables and JSON (energies eV, forces eV/Å, stress GPa)."""
        return {
            "name": self.name,
            "status": str(self.status),
            "converged": self.converged,
            "n_steps": self.n_steps,
            "energy_eV": self.energy,
            "energy_per_atom_eV": self.energy / len(self.atoms),
            "max_force_eV_per_A": self.max_force,
            "max_stress_GPa": self.max_stress_gpa,
            "volume_change_percent": self.volume_change_percent,
            "max_force_spread_eV_per_A": self.max_force_spread,
            "wall_time_s": self.wall_time_s,
            "error": self.error,
        }


def blas_on_one_thread() -> contextlib.AbstractContextManager:
    """Run numpy's and scipy's BLAS on one thread inside the block (the model's own threads are untouched).

    The cell filter solves 3x3 systems (``expm``/``logm`` of the deformation) every step;
    with OpenBLAS's default of one thread per core, on a busy machine each such call waited
    ~16 ms for its sleeping threads instead of taking ~8 µs: 45 s instead of 0.7 s for a
    38-step relaxation of a 64-atom cell with a cheap pair potential (measured on a 2-core
    CPU shared with other jobs). Dask workers already start with ``OPENBLAS_NUM_THREADS=1``.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it the relaxation is only slower
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def ignore_logm_accuracy_warnings() -> None:
    """Silence scipy's "logm result may be inaccurate" RuntimeWarning for this process.

    FrechetCellFilter takes the matrix logarithm of the deformation gradient at every step;
    scipy warns whenever its error estimate exceeds 1000 machine epsilons (2e-13), which
    for a near-identity 3x3 matrix is noise: a screen printed it twice per step. A filter
    scoped with ``warnings.catch_warnings`` would not be thread-safe (the lock-step engine
    relaxes in threads), so this one narrow filter is installed for the process, once a
    relaxation starts.
    """
    warnings.filterwarnings("ignore", message="logm result may be inaccurate", category=RuntimeWarning)


class DivergedError(HEOCalcError, RuntimeError):
    """A relaxation that produced NaN or blew the cell apart."""


def _check_sane(atoms: Atoms, initial_volume: float) -> None:
    if not np.isfinite(atoms.get_potential_energy()) or not np.isfinite(atoms.get_forces()).all():
        raise DivergedError("the model returned NaN or infinite energy/forces")
    if not np.isfinite(atoms.positions).all():
        raise DivergedError("positions became NaN during the relaxation")
    ratio = atoms.get_volume() / initial_volume
    if not 1 / MAX_VOLUME_RATIO < ratio < MAX_VOLUME_RATIO:
        raise DivergedError(f"the cell volume changed by a factor {ratio:.2f}: the structure blew apart")


def _failed(
    working: Atoms, name: str, steps: int, initial_energy: float, started: float, error: BaseException
) -> RelaxResult:
    logger.warning("relaxation of %s failed: %s", name, error)
    return RelaxResult(
        atoms=working,
        converged=False,
        n_steps=steps,
        energy=float("nan"),
        initial_energy=initial_energy,
        wall_time_s=time.perf_counter() - started,
        status=Status.FAILED,
        error=f"{type(error).__name__}: {error}",
        name=name,
    )


def failed_result(atoms: Atoms, name: str, error: BaseException) -> RelaxResult:
    """The failed result of a structure whose relaxation raised ``error`` before its first step."""
    return _failed(atoms.copy(), name, 0, float("nan"), time.perf_counter(), error)


def _optimizer(working: Atoms, options: RelaxOptions, trajectory: str | Path | None):
    """The ASE optimizer of ``options`` on ``working`` (its cell filter and symmetry constraint attached)."""
    if options.keep_symmetry:
        from ase.constraints import FixSymmetry

        working.set_constraint(FixSymmetry(working, symprec=options.symprec))
    target = FrechetCellFilter(working) if options.relax_cell else working
    extra = {"alpha": options.initial_hessian} if options.optimizer in QUASI_NEWTON else {}
    return OPTIMIZERS[options.optimizer](
        target, logfile=None, trajectory=str(trajectory) if trajectory else None, **extra
    )


def relax_structure(
    atoms: Atoms,
    calculator: Calculator,
    options: RelaxOptions,
    *,
    name: str,
    trajectory: str | Path | None = None,
    check_input: bool = True,
) -> RelaxResult:
    """Relax one structure with ASE's optimizer and filter; never raises for a bad structure.

    ``atoms`` is copied. ``check_input`` validates it first
    (:func:`heo_calc.validation.check_structure` with the model's elements); an invalid
    input, a model error, NaN or a blown-up cell give ``status="failed"`` with the reason.
    """
    from heo_calc.backends.capabilities import covered_atomic_numbers
    from heo_calc.validation import check_structure

    started = time.perf_counter()
    if options.relax_cell:
        ignore_logm_accuracy_warnings()
    working = atoms.copy()
    steps, initial_energy, converged = 0, float("nan"), False
    try:
        # The structure and its elements are checked before the model sees it: attaching a
        # calculator may already evaluate it (ASE calls ``calc.set_atoms``).
        if check_input:
            check_structure(
                working,
                supported_numbers=covered_atomic_numbers(calculator),
                model_name=str(
                    (getattr(calculator, "parameters", None) or {}).get("heo_calc_name", "this model")
                ),
            )
        working.calc = calculator
        initial_volume = working.get_volume()
        initial_energy = float(working.get_potential_energy())
        dynamics = _optimizer(working, options, trajectory)
        for converged in dynamics.irun(fmax=options.fmax, steps=options.max_steps):
            steps = dynamics.nsteps
            _check_sane(working, initial_volume)
            if converged:
                break
        energy, forces = float(working.get_potential_energy()), working.get_forces()
        stress = working.get_stress() if options.relax_cell else None
        spread = (getattr(working.calc, "results", None) or {}).get("forces_std")
    except Exception as error:  # one bad structure must not stop a batch: report it
        return _failed(working, name, steps, initial_energy, started, error)
    final = working.copy()
    final.set_constraint()  # the symmetry constraint belongs to the relaxation, not the result
    final.calc = SinglePointCalculator(final, energy=energy, forces=forces, stress=stress)
    return RelaxResult(
        atoms=final,
        converged=bool(converged),
        n_steps=steps,
        energy=energy,
        initial_energy=initial_energy,
        max_force=float(np.linalg.norm(forces, axis=1).max()),
        max_stress_gpa=float(np.abs(stress).max() * EV_PER_A3_TO_GPA) if stress is not None else float("nan"),
        volume_change_percent=100.0 * (final.get_volume() / initial_volume - 1.0),
        max_force_spread=float(np.max(spread)) if spread is not None else float("nan"),
        wall_time_s=time.perf_counter() - started,
        status=Status.OK if converged else Status.NOT_CONVERGED,
        name=name,
    )
