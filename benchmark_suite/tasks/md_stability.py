"""Task ``md_stability``: do DFT-relaxed test cells stay physical in hot molecular dynamics?

A finetuned potential can look fine on energy and force errors and still fail in dynamics
(atoms collapse onto each other, forces blow up). The check the field uses: Langevin NVT at
1,200 K from the DFT-relaxed structure, then a short NVE leg, per calculator and cell:

* **stays physical**: at every step no interatomic distance (minimum image) falls below
  ``min_distance_fraction`` times the cell's equilibrium bond (its shortest interatomic
  distance in the DFT-relaxed structure), no atom feels a force above ``max_force_eV_A``,
  the cell volume stays within ``±volume_band`` of the start, and energy and forces are
  finite. Both legs keep the cell fixed (ASE ``Langevin`` and ``VelocityVerlet``), so the
  volume band can only be left by dynamics that change the cell; it is checked so that the
  criterion holds for any driver;
* **time to the first failure** (ps), and the survival time: that time, or the whole run
  (NVT + NVE) for a run that stayed physical (censored there);
* **NVE energy drift** (meV/atom/ps): the slope of a least-squares line through the total
  energy per atom over the NVE leg, for runs that stayed physical through it.

The task function (:func:`run_md_stability`), its metrics, report section, profile sizes and
size options, and how its inputs are prepared; :data:`SPEC` is its record in
:mod:`benchmark_suite.registry`. Units: time fs (timestep) and ps (times, drift), temperature
K, distances Å, forces eV/Å, energies eV and meV/atom.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from ase import Atoms, units
from ase.calculators.calculator import Calculator

from benchmark_suite.journal import RowJournal
from benchmark_suite.sections import task_metric_table, worst_lines
from benchmark_suite.statistics import mean_metric, median_metric
from benchmark_suite.task_spec import ReportView, SessionView, SizeOption, TaskMetric, TaskSkip, TaskSpec
from benchmark_suite.tasks.common import TaskResult, validator
from heo_base.units import MEV
from heo_calc.model import ModelHandle
from heo_calc.status import Status

NAME: Final = "md_stability"

# ---------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MDSettings:
    """How each cell is run and what counts as physical.

    Attributes:
        temperature_K: Langevin thermostat temperature and initial Maxwell-Boltzmann temperature (K).
        timestep_fs: MD timestep of both legs (fs).
        nvt_steps: Langevin NVT steps.
        nve_steps: velocity-Verlet NVE steps after the NVT leg.
        friction_per_fs: Langevin friction (1/fs).
        min_distance_fraction: a distance below this fraction of the cell's equilibrium bond
            (shortest distance of the DFT-relaxed structure) is a collapse.
        max_force_eV_A: a force component norm above this (eV/Å) is unphysical.
        volume_band: the cell volume must stay within this relative band of the start (0.2: ±20 %).
        seed: velocities and Langevin noise of cell ``i`` use ``seed + i``.
    """

    temperature_K: float = 1200.0
    timestep_fs: float = 2.0
    nvt_steps: int = 500
    nve_steps: int = 250
    friction_per_fs: float = 0.01
    min_distance_fraction: float = 0.6
    max_force_eV_A: float = 20.0
    volume_band: float = 0.2
    seed: int = 0

    @property
    def duration_ps(self) -> float:
        """Simulated time of a run that stays physical (ps)."""
        return (self.nvt_steps + self.nve_steps) * self.timestep_fs / 1000.0


class _Unphysical(Exception):
    """Raised by the observer at the first unphysical step; carries the reason."""


def _min_distance(atoms: Atoms) -> float:
    """Shortest interatomic distance (Å, minimum image); inf for a single atom."""
    if len(atoms) < 2:
        return float("inf")
    distances = atoms.get_all_distances(mic=True)
    return float(distances[np.triu_indices(len(atoms), k=1)].min())


class StabilityObserver:
    """Checks one MD run at every step it is called (an ASE dynamics observer) and records its course.

    ``bond`` is the equilibrium bond (Å), ``volume0`` the start volume (Å^3). Raises
    :class:`_Unphysical` at the first step that breaks a criterion of ``settings``.
    """

    def __init__(self, atoms: Atoms, settings: MDSettings, bond: float) -> None:
        self.atoms, self.settings, self.bond = atoms, settings, bond
        self.volume0 = float(atoms.get_volume())
        self.dynamics: Any = None  # the running ASE dynamics (its ``nsteps``)
        self.offset = 0  # steps of the legs before it
        self.step = 0  # MD steps done at the last check
        self.min_distance_ratio = float("inf")
        self.max_force = 0.0
        self.total_energies: list[tuple[float, float]] = []  # (time ps, E_total eV/atom) on the NVE leg
        self.temperatures: list[float] = []  # K, NVT leg
        self.nve = False

    def follow(self, dynamics: Any, offset: int, *, nve: bool) -> None:
        """Check ``dynamics`` at every step (its start too), counting time from ``offset`` steps."""
        self.dynamics, self.offset, self.nve = dynamics, offset, nve
        dynamics.attach(self, interval=1)

    def __call__(self) -> None:
        atoms, settings = self.atoms, self.settings
        self.step = self.offset + int(getattr(self.dynamics, "nsteps", 0))
        forces = atoms.get_forces()
        energy = float(atoms.get_potential_energy())
        force = float(np.linalg.norm(forces, axis=1).max()) if len(atoms) else 0.0
        if not (np.isfinite(forces).all() and np.isfinite(energy)):
            raise _Unphysical("non-finite energy or forces")
        ratio = _min_distance(atoms) / self.bond
        self.min_distance_ratio = min(self.min_distance_ratio, ratio)
        self.max_force = max(self.max_force, force)
        if ratio < settings.min_distance_fraction:
            raise _Unphysical(
                f"distance {ratio * self.bond:.2f} Å < {settings.min_distance_fraction:g} x bond {self.bond:.2f} Å"
            )
        if force > settings.max_force_eV_A:
            raise _Unphysical(f"force {force:.1f} eV/Å > {settings.max_force_eV_A:g} eV/Å")
        change = atoms.get_volume() / self.volume0 - 1.0
        if abs(change) > settings.volume_band:
            raise _Unphysical(f"volume {100 * change:+.0f} % outside ±{100 * settings.volume_band:.0f} %")
        if self.nve:
            kinetic = float(atoms.get_kinetic_energy())
            self.total_energies.append((self.time_ps, (energy + kinetic) / len(atoms)))
        else:
            self.temperatures.append(float(atoms.get_temperature()))

    @property
    def time_ps(self) -> float:
        """Simulated time at the last check (ps)."""
        return self.step * self.settings.timestep_fs / 1000.0


def nve_drift(times_ps: Sequence[float], energies_per_atom: Sequence[float]) -> float:
    """Slope of a least-squares line through E_total per atom against time (meV/atom/ps); NaN under 3 points."""
    if len(times_ps) < 3:
        return float("nan")
    slope = np.polyfit(np.asarray(times_ps, float), np.asarray(energies_per_atom, float), 1)[0]
    return float(slope) * MEV


def _run_one(calculator: Calculator, atoms: Atoms, settings: MDSettings, seed: int) -> dict[str, Any]:
    """NVT then NVE for one cell; the row's measured columns (never raises for an unphysical run)."""
    from ase.constraints import FixCom
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
    from ase.md.verlet import VelocityVerlet

    atoms = atoms.copy()
    atoms.calc = calculator
    bond = _min_distance(atoms)
    observer = StabilityObserver(atoms, settings, bond)
    rng = np.random.default_rng(seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=settings.temperature_K, rng=rng)
    Stationary(atoms)
    atoms.set_constraint(FixCom())  # the centre of mass stays put (ASE's replacement of fixcm=True)
    timestep = settings.timestep_fs * units.fs
    failure, reason = float("nan"), ""
    try:
        # ASE calls the observer at the start of each leg too: a model may already be
        # unphysical at the DFT structure (failure time 0), and the NVE energies start there.
        nvt = Langevin(
            atoms,
            timestep,
            temperature_K=settings.temperature_K,
            friction=settings.friction_per_fs / units.fs,
            fixcm=False,
            rng=rng,
        )
        observer.follow(nvt, 0, nve=False)
        nvt.run(settings.nvt_steps)
        nve = VelocityVerlet(atoms, timestep)
        observer.follow(nve, settings.nvt_steps, nve=True)
        nve.run(settings.nve_steps)
    except _Unphysical as error:
        failure, reason = observer.time_ps, str(error)
    stable = not reason
    times, energies = zip(*observer.total_energies) if observer.total_energies else ((), ())
    drift = nve_drift(times, energies) if stable else float("nan")
    temperatures = observer.temperatures[len(observer.temperatures) // 2 :]
    return {
        "stable": stable,
        "time_to_failure_ps": failure,
        "survival_time_ps": failure if not stable else settings.duration_ps,
        "failure": reason,
        "steps_run": observer.step,
        "equilibrium_bond_A": bond,
        "min_distance_ratio": observer.min_distance_ratio,
        "max_force_eV_A": observer.max_force,
        "nvt_temperature_K": float(np.mean(temperatures)) if temperatures else float("nan"),
        "nve_drift_meV_per_atom_ps": drift,
        "abs_nve_drift_meV_per_atom_ps": abs(drift),
    }


#: The measured columns, NaN in a failed row (the calculator raised).
_MEASURED: Final = (
    "time_to_failure_ps",
    "survival_time_ps",
    "equilibrium_bond_A",
    "min_distance_ratio",
    "max_force_eV_A",
    "nvt_temperature_K",
    "nve_drift_meV_per_atom_ps",
    "abs_nve_drift_meV_per_atom_ps",
)


def _row(calculator: Calculator, atoms: Atoms, index: int, settings: MDSettings) -> dict[str, Any]:
    """One cell's row: its measured columns, or a failed row with the calculator's error."""
    from heo_base.labels import reduced_formula

    started = time.perf_counter()
    row: dict[str, Any] = {
        "task": NAME,
        "id": str(atoms.info.get("name") or f"structure-{index}"),
        "formula": reduced_formula(atoms),
        "n_atoms": len(atoms),
        "temperature_K": settings.temperature_K,
    }
    try:
        validator(calculator)(atoms)
        row.update(
            _run_one(calculator, atoms, settings, settings.seed + index), status=str(Status.OK), error=""
        )
    except Exception as error:  # a model that cannot run this cell: a failed row, not a crash
        row.update(dict.fromkeys(_MEASURED, np.nan), stable=np.nan, failure="", steps_run=0)
        row.update(status=str(Status.FAILED), error=f"{type(error).__name__}: {error}")
    row["wall_time_s"] = time.perf_counter() - started
    return row


def run_md_stability(
    calculator: Calculator,
    calculator_name: str,
    cells: Sequence[Atoms],
    settings: MDSettings | None = None,
    journal: RowJournal | None = None,
) -> TaskResult:
    """Langevin NVT at ``settings.temperature_K`` then NVE, from each DFT-relaxed cell; one row per cell.

    Row columns: ``id``, ``formula``, ``n_atoms``, ``temperature_K`` (K), ``status`` (``ok``
    for every run that went, stable or not; ``failed`` when the calculator raised),
    ``stable`` (stayed physical through both legs), ``time_to_failure_ps`` (first unphysical
    step, ps; NaN for a stable run), ``survival_time_ps`` (that, or the whole run), ``failure``
    (which criterion, with its values), ``steps_run``, ``equilibrium_bond_A`` (shortest
    distance of the start, Å), ``min_distance_ratio`` (smallest distance over the run / that
    bond), ``max_force_eV_A`` (largest force norm over the run, eV/Å), ``nvt_temperature_K``
    (mean over the second half of the NVT leg, K), ``nve_drift_meV_per_atom_ps`` and its
    absolute value (meV/atom/ps; NaN unless stable), ``wall_time_s``, ``error``. Rows already
    in ``journal`` (a resumed run) are reused; new ones are written to it as they finish.
    """
    settings = settings or MDSettings()
    journal = journal if journal is not None else RowJournal()
    started = time.perf_counter()
    indexed = list(enumerate(cells))
    keys = [str(atoms.info.get("name") or f"structure-{i}") for i, atoms in indexed]
    rows = journal.complete(
        indexed, keys, lambda chunk: [_row(calculator, atoms, i, settings) for i, atoms in chunk]
    )
    table = pd.DataFrame([dict(row) for row in rows])
    if len(table):
        table.insert(1, "calculator", calculator_name)
    return TaskResult(NAME, calculator_name, table, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------
# metrics and report
# ---------------------------------------------------------------------------------------

MD_METRICS: Final[tuple[TaskMetric, ...]] = (
    TaskMetric(
        NAME,
        mean_metric("stable", name="stable_fraction", direction="higher"),
        "stayed physical (fraction)",
        2,
    ),
    TaskMetric(
        NAME,
        median_metric("survival_time_ps", name="survival_time_median", unit="ps", direction="higher"),
        "time to first failure, median (ps; censored at the run length)",
        3,
    ),
    TaskMetric(
        NAME,
        median_metric(
            "abs_nve_drift_meV_per_atom_ps", name="nve_drift_median", unit="meV/atom/ps", direction="lower"
        ),
        "|NVE drift| median (meV/atom/ps)",
        2,
        empty_reason="no run stayed physical through its NVE leg",
    ),
    TaskMetric(
        NAME,
        median_metric("min_distance_ratio", name="min_distance_ratio_median", direction="none"),
        "shortest distance / bond, median",
        2,
    ),
)

TITLE: Final = "MD stability (Langevin NVT at 1,200 K, then NVE, from DFT-relaxed test cells)"

HEADLINE: Final[tuple[tuple[str, str], ...]] = (
    ("md_stability.stable_fraction", "MD: stayed physical"),
    ("md_stability.nve_drift_median", "MD: |NVE drift| (meV/atom/ps)"),
)


def section(report: ReportView, worst_k: int) -> str:
    """The MD section: what was run, the metric table, the earliest failures."""
    rows = report.table[report.table["task"] == NAME]
    settings = ""
    if len(rows) and "temperature_K" in rows:
        settings = f" at {float(rows['temperature_K'].iloc[0]):.0f} K"
    earliest = worst_lines(report, NAME, "survival_time_ps", worst_k, signed=True, digits=3)
    parts = [
        f"## {TITLE}",
        f"Each DFT-relaxed test cell runs Langevin NVT{settings}, then an NVE leg, with its cell fixed. "
        "A run stays physical while no distance falls below the stated fraction of the cell's shortest "
        "DFT distance, no force exceeds the bound, the volume stays in its band and the numbers are "
        "finite (`summary.json` context: `md_*`). The survival time is the time of the first failure, "
        "or the whole run; the NVE drift is the slope of the total energy per atom.",
        task_metric_table(report, NAME),
        "Shortest survival per calculator (ps; the rows' `failure` column says which criterion):",
        "\n".join(earliest),
    ]
    return "\n\n".join(part for part in parts if part)


# ---------------------------------------------------------------------------------------
# profile sizes, inputs and the record
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MDSizes:
    """How much of the MD-stability task a profile runs, and the criteria (units as in :class:`MDSettings`).

    Attributes:
        md_n_cells: DFT-relaxed test cells (max |F_DFT| < ``md_relaxed_max_force``), a seeded
            sample (``None``: every one within ``md_max_atoms``).
        md_max_atoms: only cells with at most this many atoms (the cost grows with size).
        md_nvt_steps, md_nve_steps: steps of the two legs at ``md_timestep_fs``.
    """

    md_n_cells: int | None
    md_max_atoms: int
    md_nvt_steps: int
    md_nve_steps: int
    # The physics defaults are MDSettings' own (one place); the sizes stay flat fields because
    # each one becomes a command-line option.
    md_timestep_fs: float = MDSettings.timestep_fs
    md_temperature_K: float = MDSettings.temperature_K
    md_friction_per_fs: float = MDSettings.friction_per_fs
    md_min_distance_fraction: float = MDSettings.min_distance_fraction
    md_max_force_eV_A: float = MDSettings.max_force_eV_A
    md_volume_band: float = MDSettings.volume_band
    md_relaxed_max_force: float = 0.01

    def settings(self) -> MDSettings:
        """The :class:`MDSettings` of these sizes."""
        return MDSettings(
            temperature_K=self.md_temperature_K,
            timestep_fs=self.md_timestep_fs,
            nvt_steps=self.md_nvt_steps,
            nve_steps=self.md_nve_steps,
            friction_per_fs=self.md_friction_per_fs,
            min_distance_fraction=self.md_min_distance_fraction,
            max_force_eV_A=self.md_max_force_eV_A,
            volume_band=self.md_volume_band,
        )


@dataclass(frozen=True)
class MDInputs:
    """The cells of the task and how they are run."""

    cells: list[Atoms]
    settings: MDSettings


def prepare(session: SessionView, profile: Any) -> MDInputs:
    """A seeded sample of the DFT-relaxed test cells (the rattle task's selection rule) and the settings."""
    from benchmark_suite.data import relaxed_cells

    sizes: MDSizes = profile.sizes(NAME)
    dataset = session.dataset()
    if not dataset.n_with_forces:
        raise TaskSkip(f"{dataset.path} carries no DFT forces: the task needs them to find DFT-relaxed cells")
    cells = relaxed_cells(
        dataset,
        n=sizes.md_n_cells,
        max_force_threshold=sizes.md_relaxed_max_force,
        max_atoms=sizes.md_max_atoms,
    )
    if not cells:
        raise TaskSkip(
            f"no test-split structure of {dataset.path} with max |F| < {sizes.md_relaxed_max_force} eV/Å "
            f"and <= {sizes.md_max_atoms} atoms"
        )
    return MDInputs(cells, sizes.settings())


def run(inputs: MDInputs, model: ModelHandle, session: SessionView) -> TaskResult:
    """:func:`run_md_stability` on the prepared cells, journaled for ``--heo-resume``."""
    calculator, name = model.calculator(), model.label
    return run_md_stability(calculator, name, inputs.cells, inputs.settings, session.journal(NAME, name))


OPTIONS: Final = (
    SizeOption("md_n_cells", "--heo-n-md", "DFT-relaxed test cells run, a seeded sample", minimum=1),
    SizeOption("md_nvt_steps", "--heo-md-nvt-steps", "Langevin NVT steps per cell", minimum=0),
    SizeOption("md_nve_steps", "--heo-md-nve-steps", "NVE steps after the NVT leg", minimum=0),
)

SPEC: Final = TaskSpec[MDSizes](
    name=NAME,
    title=TITLE,
    metrics=MD_METRICS,
    headline=HEADLINE,
    section=section,
    sizes={
        # quick: a smoke run, 3 cells of <= 12 atoms, 100 fs NVT + 50 fs NVE: ~225 model calls,
        # ~1.5 min per SevenNet-0-sized calculator on 2 cores. full: 24 cells of <= 20 atoms,
        # 1 ps NVT + 0.5 ps NVE: 18,000 calls, ~2-2.5 h per SevenNet-0-sized calculator
        # (docs/benchmark.md).
        "quick": MDSizes(3, 12, md_nvt_steps=50, md_nve_steps=25),
        "full": MDSizes(24, 20, md_nvt_steps=500, md_nve_steps=250),
    },
    options=OPTIONS,
    prepare=prepare,
    run=run,
    expected_rows=lambda inputs: len(inputs.cells),
    context=(
        "md_n_cells",
        "md_max_atoms",
        "md_nvt_steps",
        "md_nve_steps",
        "md_timestep_fs",
        "md_temperature_K",
        "md_min_distance_fraction",
        "md_max_force_eV_A",
        "md_volume_band",
    ),
    pairing=(
        "md_n_cells",
        "md_max_atoms",
        "md_nvt_steps",
        "md_nve_steps",
        "md_timestep_fs",
        "md_temperature_K",
    ),
    table_keys=("md_stability.stable_fraction", "md_stability.nve_drift_median"),
    short_title="MD: ",
    conventions="MD stability: survival time censored at the run length; NVE drift is the least-squares slope of "
    "the total energy per atom over the NVE leg (meV/atom/ps)",
)
