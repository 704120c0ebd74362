"""Task ``rattle_relax``: relax DFT-relaxed test structures the way DFT did, and apart freely.

The task function (:func:`run_rattle_relax`), its metrics (one set per kind of relaxation,
selected with ``TaskMetric.where``), headline columns, report section, RMSD plot and
profile sizes; :data:`SPEC` is its record in :mod:`benchmark_suite.registry`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import numpy as np
import pandas as pd
from ase import Atoms
from ase.calculators.calculator import Calculator

from benchmark_suite import geometry
from benchmark_suite.catalogue import renamed
from benchmark_suite.journal import RowJournal
from benchmark_suite.sections import task_metric_table, worst_lines
from benchmark_suite.statistics import Direction, Metric, mean_metric, median_metric
from benchmark_suite.task_spec import (
    Plot,
    ReportView,
    SessionView,
    SizeOption,
    TaskMetric,
    TaskSkip,
    TaskSpec,
)
from benchmark_suite.tasks.common import TaskResult, relax, relaxation_columns, single_point_energy
from heo_base.types import RelaxEngineName
from heo_base.units import MEV
from heo_calc.model import ModelHandle
from heo_calc.relax.single import RelaxOptions
from heo_calc.status import Status

NAME: Final = "rattle_relax"

# ---------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------


#: Space groups whose DFT minima a free relaxation measures (nothing for symmetry to hold): P1, P-1.
LOW_SYMMETRY_GROUPS: Final = (1, 2)

#: The relaxations of the task, the value of the rows' ``relaxation`` column.
SYMMETRIC, SYMMETRIC_FROM_DFT = "symmetric", "symmetric_from_dft"
LOW_SYMMETRY, LOW_SYMMETRY_FROM_DFT = "low_symmetry", "low_symmetry_from_dft"
FREE = "free"

#: One relaxation: (DFT reference, start, relaxation, parent id).
Job = tuple[Atoms, Atoms, str, str]


@dataclass(frozen=True)
class RattleSettings:
    """How the rattle-and-relax task perturbs and relaxes.

    Attributes:
        sigma: standard deviation of the Gaussian rattle (Å).
        strain: largest component of the symmetric strain of the symmetric start (0.01: ±1 %).
        seed: seed of the first structure (the others: ``seed + index``).
        relax: how every structure is relaxed (:class:`~heo_calc.relax.RelaxOptions`): ``fmax``
            (eV/Å) of the free supercells, ``max_steps``, and ``symprec`` (Å), the tolerance of
            the kept space groups and of the space-group numbers reported.
        engine: ``fast`` or ``sequential`` (:func:`benchmark_suite.tasks.common.engine_strategy`).
        from_dft: also relax from the DFT structure itself (``*_from_dft`` rows).
        symmetric_fmax: ``fmax`` (eV/Å) of the stored cells' relaxations (``None``: ``relax.fmax``).
    """

    sigma: float = 0.05
    strain: float = 0.01
    seed: int = 0
    relax: RelaxOptions = RelaxOptions(fmax=0.05, max_steps=200)
    engine: RelaxEngineName = "fast"
    from_dft: bool = True
    symmetric_fmax: float | None = None


def _geometry_columns(final: Atoms, reference: Atoms, *, symprec: float) -> dict[str, Any]:
    """Geometry of a relaxed structure against its DFT reference (same atom order)."""
    after, before, match = geometry.symmetry_match(final, reference, symprec=symprec)
    changes = geometry.conventional_lattice_changes_percent(final, reference, symprec=symprec)
    volume = geometry.volume_change_percent(final, reference)
    return {
        "rmsd_A": float(geometry.rmsd_same_order(final, reference)),
        "spg_DFT": before,
        "spg_relaxed": after,
        "symmetry_match": match,
        "volume_change_pct": volume,
        "abs_volume_change_pct": abs(volume),
        "abs_a_change_pct": changes[0],
        "abs_b_change_pct": changes[1],
        "abs_c_change_pct": changes[2],
        "abs_lattice_change_max_pct": max(changes),
    }


_GEOMETRY_KEYS: Final = (
    "rmsd_A",
    "volume_change_pct",
    "abs_volume_change_pct",
    "abs_a_change_pct",
    "abs_b_change_pct",
    "abs_c_change_pct",
    "abs_lattice_change_max_pct",
)


def _rattle_row(
    calculator: Calculator,
    reference: Atoms,
    initial: Atoms,
    result: Any,
    *,
    relaxation: str,
    parent_id: str,
    settings: RattleSettings,
) -> dict[str, Any]:
    """One relaxation of one structure: how it started, how it ended, and its geometry against DFT."""
    from heo_base.labels import reduced_formula

    n = len(reference)
    row: dict[str, Any] = {
        "task": NAME,
        "id": f"{parent_id}:{relaxation}",
        "parent_id": parent_id,
        "relaxation": relaxation,
        "formula": reduced_formula(reference),
        "n_atoms": n,
        "sigma_A": settings.sigma,
        "rmsd_start_A": float(geometry.rmsd_same_order(initial, reference)),
        **relaxation_columns(result),
    }
    if result.status == Status.FAILED:
        row.update(dict.fromkeys(_GEOMETRY_KEYS, np.nan), e_above_dft_min_meV=np.nan, symmetry_match=False)
        row.update(
            spg_DFT=geometry.spacegroup_number(reference, symprec=settings.relax.symprec), spg_relaxed=0
        )
        return row
    e_dft_geometry, error = single_point_energy(calculator, reference)
    row.update(
        _geometry_columns(result.atoms, reference, symprec=settings.relax.symprec),
        e_above_dft_min_meV=(result.energy - e_dft_geometry) / n * MEV,
        energy_per_atom=result.energy / n,
    )
    row["error"] = row["error"] or error
    return row


def _relax_rows(
    calculator: Calculator,
    jobs: list[Job],
    *,
    keep_symmetry: bool,
    settings: RattleSettings,
    fmax: float,
    journal: RowJournal,
) -> list[dict[str, Any]]:
    """Relax ``(reference, start, relaxation, parent_id)`` jobs; one row each, in job order.

    Jobs whose row the ``journal`` holds are not relaxed again; the others go to the engine
    in chunks of :data:`benchmark_suite.journal.CHUNK`, each chunk's rows journaled when done.
    """

    def relax_chunk(chunk: list[Job]) -> list[dict[str, Any]]:
        results = relax(
            calculator,
            [start for _, start, _, _ in chunk],
            engine=settings.engine,
            options=replace(settings.relax, fmax=fmax, keep_symmetry=keep_symmetry),
        )
        return [
            _rattle_row(
                calculator,
                reference,
                start,
                result,
                relaxation=relaxation,
                parent_id=parent,
                settings=settings,
            )
            for (reference, start, relaxation, parent), result in zip(chunk, results)
        ]

    keys = [f"{parent}:{relaxation}" for _, _, relaxation, parent in jobs]
    return journal.complete(jobs, keys, relax_chunk)


def _parent_id(atoms: Atoms, index: int) -> str:
    return str(atoms.info.get("name") or atoms.info.get("immutable_id") or f"structure-{index}")


def _energy_below_symmetric(rows: list[dict[str, Any]]) -> None:
    """Free rows get E(free relaxed) − E(symmetric relaxed from DFT) per atom (meV/atom), same parent."""
    symmetric = {
        row["parent_id"]: row.get("energy_per_atom", np.nan)
        for row in rows
        if row["relaxation"] in (SYMMETRIC_FROM_DFT, LOW_SYMMETRY_FROM_DFT)
    }
    for row in rows:
        if row["relaxation"] == FREE:
            below = row.get("energy_per_atom", np.nan) - symmetric.get(row["parent_id"], np.nan)
            row["e_below_symmetric_meV"] = below * MEV


def _jobs(
    references: Sequence[Atoms], free_references: Sequence[Atoms], settings: RattleSettings
) -> tuple[list[Job], list[Job], list[Job]]:
    """The relaxations in symmetry, of P1/P-1 minima and of free supercells, with their seeded starts."""
    from heo_calc.structures.perturb import rattle, symmetric_rattle

    symmetric_jobs: list[Job] = []
    low_symmetry_jobs: list[Job] = []
    for index, reference in enumerate(references):
        parent = _parent_id(reference, index)
        start = symmetric_rattle(
            reference, settings.sigma, settings.strain, settings.seed + index, symprec=settings.relax.symprec
        )
        low = geometry.spacegroup_number(reference, symprec=settings.relax.symprec) in LOW_SYMMETRY_GROUPS
        jobs, names = (
            (low_symmetry_jobs, (LOW_SYMMETRY, LOW_SYMMETRY_FROM_DFT))
            if low
            else (symmetric_jobs, (SYMMETRIC, SYMMETRIC_FROM_DFT))
        )
        jobs.append((reference, start, names[0], parent))
        if settings.from_dft:
            jobs.append((reference, reference, names[1], parent))
    free_jobs = [
        (atoms, rattle(atoms, settings.sigma, settings.seed + index), FREE, str(atoms.info.get("parent", "")))
        for index, atoms in enumerate(free_references)
    ]
    return symmetric_jobs, low_symmetry_jobs, free_jobs


def run_rattle_relax(
    calculator: Calculator,
    calculator_name: str,
    references: Sequence[Atoms],
    free_references: Sequence[Atoms] = (),
    settings: RattleSettings | None = None,
    journal: RowJournal | None = None,
) -> TaskResult:
    """Relax DFT-relaxed structures the way DFT did, and (apart) freely; compare with the DFT structure.

    ``references`` (stored DFT-relaxed cells, no supercell): each one whose space group
    (spglib at ``settings.relax.symprec``) is above P-1 is relaxed with that space group kept
    (ASE ``FixSymmetry``) from (a) the DFT structure itself (``relaxation`` =
    ``symmetric_from_dft``) and (b) a seeded rattle projected onto the symmetry-allowed
    displacements plus a seeded symmetric strain of the cell of up to ``settings.strain``
    (:func:`heo_calc.structures.perturb.symmetric_rattle`; ``symmetric``). P1 and P-1
    minima, where a free relaxation does measure the model, are relaxed without
    constraint from the same two starts (``low_symmetry``, ``low_symmetry_from_dft``).
    ``free_references`` (supercells of DFT-relaxed structures, ``info["parent"]`` naming
    the stored structure) are rattled (:func:`heo_calc.structures.perturb.rattle`) and
    relaxed without constraint (``free``, at ``settings.relax.fmax``; the stored cells at
    ``settings.symmetric_fmax``): whether the model finds a lower, less
    symmetric minimum where DFT was held by symmetry; not an accuracy.

    Row columns: ``id`` (``parent:relaxation``), ``parent_id``, ``relaxation``,
    ``formula``, ``n_atoms``, ``status``, ``converged``, ``steps``, ``rmsd_A`` (Å, same
    atom order, minimum image; :func:`benchmark_suite.geometry.rmsd_same_order`),
    ``rmsd_start_A``, ``volume_change_pct`` and ``abs_volume_change_pct`` (relaxed vs DFT
    cell, %), ``abs_a_change_pct``/``abs_b_change_pct``/``abs_c_change_pct`` and their max
    ``abs_lattice_change_max_pct`` (conventional cell, %), ``spg_DFT``/``spg_relaxed``/
    ``symmetry_match``, ``e_above_dft_min_meV`` (E(model, relaxed) − E(model, DFT
    geometry), meV/atom), ``energy_per_atom`` (eV/atom), ``e_below_symmetric_meV`` (free
    rows: E(free) − E(relaxed from DFT within its symmetry), meV/atom), ``max_force``,
    ``max_stress_gpa``, ``wall_time_s``, ``error``. Rows already in ``journal`` (a resumed
    run) are reused; new ones are written to it as they finish.
    """
    settings = settings or RattleSettings()
    journal = journal if journal is not None else RowJournal()
    started = time.perf_counter()
    symmetric_jobs, low_symmetry_jobs, free_jobs = _jobs(references, free_references, settings)
    cell_fmax = settings.symmetric_fmax or settings.relax.fmax
    common = {"settings": settings, "journal": journal}
    rows = _relax_rows(calculator, symmetric_jobs, keep_symmetry=True, fmax=cell_fmax, **common)
    rows += _relax_rows(calculator, low_symmetry_jobs, keep_symmetry=False, fmax=cell_fmax, **common)
    rows += _relax_rows(calculator, free_jobs, keep_symmetry=False, fmax=settings.relax.fmax, **common)
    # Journaled rows are shared: the free rows' energy column is added to copies.
    rows = [dict(row) for row in rows]
    _energy_below_symmetric(rows)
    table = pd.DataFrame(rows)
    if len(table):
        table.insert(1, "calculator", calculator_name)
    return TaskResult(NAME, calculator_name, table, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------------------


def _median(column: str, name: str, unit: str, direction: Direction) -> Metric:
    """Median of a row column, named ``name`` (display unit ``unit``)."""
    return median_metric(column, name=name, unit=unit, direction=direction)


def _relaxation_metrics(relaxation: str, prefix: str, title: str) -> tuple[TaskMetric, ...]:
    """RMSD (Å), |ΔV| and |Δa| (%), energy (meV/atom), convergence and steps of one relaxation."""
    where = ("relaxation", relaxation)
    return (
        TaskMetric(
            NAME, renamed("rmsd_median", f"{prefix}rmsd_median"), f"{title}RMSD median (Å)", 3, where=where
        ),
        TaskMetric(
            NAME,
            _median("abs_volume_change_pct", f"{prefix}abs_volume_change_median", "%", "lower"),
            f"{title}|ΔV| median (%)",
            2,
            where=where,
        ),
        TaskMetric(
            NAME,
            _median("abs_lattice_change_max_pct", f"{prefix}abs_lattice_change_median", "%", "lower"),
            f"{title}max(|Δa|,|Δb|,|Δc|)/a median (%)",
            2,
            where=where,
        ),
        TaskMetric(
            NAME,
            renamed("e_above_dft_min_median", f"{prefix}e_above_dft_min_median"),
            f"{title}E − E(DFT geom.) median (meV/atom)",
            where=where,
        ),
        TaskMetric(
            NAME,
            renamed("converged_fraction", f"{prefix}converged_fraction"),
            f"{title}converged (fraction)",
            2,
            keep_failed=True,
            where=where,
        ),
        TaskMetric(
            NAME, renamed("steps_median", f"{prefix}steps_median"), f"{title}steps median", 0, where=where
        ),
    )


_FREE: Final = ("relaxation", FREE)

#: The free relaxation of rattled supercells: does the model find a lower, less symmetric
#: minimum where DFT was held by symmetry? No better direction: not an accuracy.
FREE_METRICS: Final[tuple[TaskMetric, ...]] = (
    TaskMetric(
        NAME, renamed("rmsd_median", "free_rmsd_median", "none"), "free: RMSD median (Å)", 3, where=_FREE
    ),
    TaskMetric(
        NAME,
        mean_metric("symmetry_match", name="free_symmetry_kept_fraction", direction="none"),
        "free: same space group (fraction)",
        2,
        keep_failed=True,
        where=_FREE,
    ),
    TaskMetric(
        NAME,
        _median("e_below_symmetric_meV", "free_e_below_symmetric_median", "meV/atom", "none"),
        "free: E − E(symmetric min.) median (meV/atom)",
        where=_FREE,
    ),
    TaskMetric(
        NAME,
        _median("volume_change_pct", "free_volume_change_median", "%", "none"),
        "free: ΔV median (%)",
        2,
        where=_FREE,
    ),
    TaskMetric(
        NAME,
        renamed("converged_fraction", "free_converged_fraction"),
        "free: converged (fraction)",
        2,
        keep_failed=True,
        where=_FREE,
    ),
)

RATTLE_METRICS: Final[tuple[TaskMetric, ...]] = (
    # Headline: relaxed inside the DFT structure's symmetry from a symmetric rattle and strain.
    *_relaxation_metrics(SYMMETRIC, "", ""),
    TaskMetric(
        NAME,
        median_metric("volume_change_pct", name="volume_change_median", unit="%"),
        "ΔV median, signed (%)",
        digits=2,
        where=("relaxation", SYMMETRIC),
    ),
    *_relaxation_metrics(SYMMETRIC_FROM_DFT, "from_dft_", "from DFT: "),
    *_relaxation_metrics(LOW_SYMMETRY, "low_symmetry_", "P1/P-1: "),
    *FREE_METRICS,
)

# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------

TITLE: Final = "Rattle and relax (DFT-relaxed test structures, relaxed the way DFT did)"

HEADLINE: Final[tuple[tuple[str, str], ...]] = (
    ("rattle_relax.rmsd_median", "in symmetry: RMSD median (Å)"),
    ("rattle_relax.abs_volume_change_median", "in symmetry: |ΔV| median (%)"),
    ("rattle_relax.converged_fraction", "in symmetry: converged"),
)

#: Metric-name prefixes of the relaxations other than the headline (symmetric) one.
_OTHER_PREFIXES: Final = ("from_dft_", "low_symmetry_", "free_")


def _table(report: ReportView, relaxation: str, prefix: str) -> str:
    """The metric table of one relaxation: the metrics named with ``prefix`` ('': the headline ones)."""
    if prefix:
        return task_metric_table(
            report, NAME, where=("relaxation", relaxation), names=lambda name: name.startswith(prefix)
        )
    return task_metric_table(
        report,
        NAME,
        where=("relaxation", relaxation),
        names=lambda name: not name.startswith(_OTHER_PREFIXES),
    )


def section(report: ReportView, worst_k: int) -> str:
    """The rattle section: in symmetry (headline), from the DFT structure, P1/P-1 minima, free supercells."""
    worst = worst_lines(
        report, NAME, "rmsd_A", worst_k, signed=False, digits=3, where=("relaxation", SYMMETRIC)
    )
    parts = [
        f"## {TITLE}",
        "Stored DFT-relaxed cells relaxed with the space group of the DFT structure kept (ASE "
        "`FixSymmetry`), as DFT relaxed them, from a seeded rattle projected onto the symmetry-allowed "
        "displacements plus a seeded symmetric strain of the cell. Distances to DFT (RMSD, |ΔV|, "
        "|Δa|/a of the conventional cell) measure the model: lower is better.",
        _table(report, SYMMETRIC, ""),
        "Largest RMSD to the DFT structure (Å), in symmetry:",
        "\n".join(worst),
        "### From the DFT structure itself (in symmetry)",
        _table(report, SYMMETRIC_FROM_DFT, "from_dft_"),
        "### Low-symmetry DFT minima (P1, P-1), relaxed freely",
        "Nothing holds these by symmetry, so a free relaxation measures the model here.",
        _table(report, LOW_SYMMETRY, "low_symmetry_")
        or "No P1 or P-1 DFT minimum among the structures of this run.",
        "### Free relaxation of rattled supercells (not an accuracy)",
        "Rattled supercells relaxed without any constraint answer another question: does the model find "
        "a lower, less symmetric minimum where DFT was held by symmetry? Most DFT-relaxed cells are "
        "high-symmetry and their forces vanish by symmetry, so leaving them says nothing about how close "
        "a model is to DFT; these metrics carry no better direction.",
        _table(report, FREE, "free_"),
    ]
    return "\n\n".join(part for part in parts if part)


def rmsd_plot(plt: Any, records: Sequence[TaskResult], table: pd.DataFrame) -> Any:
    """RMSD to the DFT structure (Å) of every relaxation in symmetry, one column per calculator, or None."""
    if "task" not in table or not len(table):
        return None
    rattle = table[table["task"] == NAME]
    if "relaxation" in rattle:
        rattle = rattle[rattle["relaxation"] == SYMMETRIC]
    if not len(rattle) or not rattle["rmsd_A"].notna().any():
        return None
    names = list(dict.fromkeys(rattle["calculator"]))
    figure, axis = plt.subplots(figsize=(1.5 + 1.2 * len(names), 4))
    for i, name in enumerate(names):
        values = rattle.loc[rattle["calculator"] == name, "rmsd_A"].dropna().to_numpy(float)
        axis.scatter(np.full(len(values), i) + np.linspace(-0.1, 0.1, len(values)), values, s=12)
    axis.set_xticks(range(len(names)), names, rotation=30, ha="right")
    axis.set(ylabel="RMSD to DFT structure (Å)", title="rattle and relax, in the DFT symmetry")
    return figure


# ---------------------------------------------------------------------------------------
# profile sizes and the record
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RattleSizes:
    """How much of the rattle-and-relax task a profile runs, and how it perturbs.

    Attributes:
        symmetric_n_structures: DFT-relaxed test structures relaxed the way DFT did (stored
            cells, space group kept; rattle-and-relax's headline), a seeded random sample
            (``None``: every one within ``symmetric_max_atoms``).
        symmetric_max_atoms: only stored cells with at most this many atoms (``None``: any).
        rattle_n_structures: how many of those (the first within ``rattle_max_atoms``) are
            also relaxed *freely* as rattled supercells (``rattle_relax.free_*``; ``None``: every one).
        rattle_min_atoms: each is repeated into a supercell of at least this many atoms.
        rattle_max_atoms: only structures with at most this many atoms (before repeating)
            are picked, to bound the cost.
        symmetric_fmax: convergence threshold (eV/Å) of the stored cells' relaxations. Tighter
            than the profile's ``fmax``: FrechetCellFilter applies it to the virial per atom,
            so on a 10-atom, 100 Å^3 cell 0.05 eV/Å leaves up to 0.8 GPa of stress (~0.4 % of
            volume), the size of the differences measured; 0.005 leaves 0.08 GPa. In symmetry
            these cells have few degrees of freedom and converge in a few steps.
        relaxed_max_force: a dataset structure counts as DFT-relaxed when max |F_DFT| is
            below this (eV/Å).
        rattle_sigma: standard deviation of the Gaussian rattle (Å).
        rattle_strain: largest component of the seeded symmetric strain of the symmetric
            start (0.01: ±1 %).
    """

    symmetric_n_structures: int | None
    symmetric_max_atoms: int | None
    rattle_n_structures: int | None
    rattle_min_atoms: int
    rattle_max_atoms: int
    symmetric_fmax: float = 0.005
    relaxed_max_force: float = 0.01
    rattle_sigma: float = 0.05
    rattle_strain: float = 0.01


@dataclass(frozen=True)
class RattleInputs:
    """The structures of the task: stored DFT-relaxed ``cells``, free ``supercells``, and how they are relaxed."""

    cells: list[Atoms]
    supercells: list[Atoms]
    settings: RattleSettings


def rattle_settings(
    profile: Any, *, engine: RelaxEngineName = "fast", from_dft: bool = True, fmax: float | None = None
) -> RattleSettings:
    """The task's settings in ``profile`` (its sizes and the profile's relaxation options).

    ``fmax`` (eV/Å), when given, replaces both thresholds (the profile's and its ``symmetric_fmax``);
    ``engine``: ``fast`` or ``sequential``; ``from_dft``: also relax from the DFT structure itself.
    """
    sizes: RattleSizes = profile.sizes(NAME)
    return RattleSettings(
        sigma=sizes.rattle_sigma,
        strain=sizes.rattle_strain,
        relax=profile.relax if fmax is None else replace(profile.relax, fmax=fmax),
        symmetric_fmax=fmax if fmax is not None else sizes.symmetric_fmax,
        engine=engine,
        from_dft=from_dft,
    )


def prepare(session: SessionView, profile: Any) -> RattleInputs:
    """DFT-relaxed test cells (max |F_DFT| below the profile's bound) and supercells of them, with the settings."""
    from benchmark_suite.data import free_relaxation_supercells, relaxed_cells

    sizes: RattleSizes = profile.sizes(NAME)
    dataset = session.dataset()
    if not dataset.n_with_forces:
        raise TaskSkip(
            f"{dataset.path} carries no DFT forces: the task needs them to find the DFT-relaxed structures"
        )
    cells = relaxed_cells(
        dataset,
        n=sizes.symmetric_n_structures,
        max_force_threshold=sizes.relaxed_max_force,
        max_atoms=sizes.symmetric_max_atoms,
    )
    supercells = free_relaxation_supercells(
        cells, n=sizes.rattle_n_structures, min_atoms=sizes.rattle_min_atoms, max_atoms=sizes.rattle_max_atoms
    )
    if not cells and not supercells:
        raise TaskSkip(
            f"no test-split structure of {dataset.path} with max |F| < {sizes.relaxed_max_force} eV/Å "
            f"and <= {sizes.symmetric_max_atoms or sizes.rattle_max_atoms} atoms"
        )
    return RattleInputs(cells, supercells, rattle_settings(profile, engine=session.options.relax_engine))


def run(inputs: RattleInputs, model: ModelHandle, session: SessionView) -> TaskResult:
    """:func:`run_rattle_relax` on the prepared structures, journaled for ``--heo-resume``."""
    calculator, name = model.calculator(), model.label
    return run_rattle_relax(
        calculator, name, inputs.cells, inputs.supercells, inputs.settings, session.journal(NAME, name)
    )


OPTIONS: Final = (
    SizeOption(
        "rattle_n_structures",
        "--heo-n-rattle",
        "free relaxation: DFT-relaxed test structures as rattled supercells, a seeded sample",
        minimum=1,
    ),
    SizeOption(
        "symmetric_n_structures",
        "--heo-n-symmetric",
        "in symmetry (the headline): DFT-relaxed stored test cells, a seeded sample",
        minimum=1,
    ),
    SizeOption(
        "rattle_sigma",
        "--heo-rattle-sigma",
        "standard deviation of the rattle in Å",
        type=float,
        metavar="Å",
        minimum=0.0,
    ),
)

SPEC: Final = TaskSpec[RattleSizes](
    name=NAME,
    title=TITLE,
    metrics=RATTLE_METRICS,
    headline=HEADLINE,
    section=section,
    plots=(Plot("rattle_rmsd.png", rmsd_plot),),
    sizes={
        # quick: 16 stored cells of <= 20 atoms in symmetry, 8 of them freely as >= 16-atom
        # supercells. full: every DFT-relaxed test structure in its symmetry (56 in the
        # packaged set, stored cells of 9-80 atoms), those of <= 20 atoms (42) also freely
        # as >= 20-atom rattled supercells.
        "quick": RattleSizes(16, 20, 8, rattle_min_atoms=16, rattle_max_atoms=24),
        "full": RattleSizes(None, None, None, rattle_min_atoms=20, rattle_max_atoms=20),
    },
    options=OPTIONS,
    prepare=prepare,
    run=run,
    expected_rows=lambda inputs: (
        (2 if inputs.settings.from_dft else 1) * len(inputs.cells) + len(inputs.supercells)
    ),
    pairing=("rattle_sigma", "rattle_strain", "symmetric_n_structures", "symmetric_max_atoms"),
    table_keys=("rattle_relax.rmsd_median", "rattle_relax.abs_volume_change_median"),
    short_title="rattle: ",
    context=(
        "rattle_sigma",
        "rattle_n_structures",
        "symmetric_n_structures",
        "symmetric_max_atoms",
        "rattle_strain",
    ),
    relaxations=True,
    conventions="StructureMatcher RMSD (stol 1.0, scale False) is normalised by (V/n)^(1/3); RMSD in Å uses the "
    "same atom order, minimum image and the DFT cell",
)
