"""The screen: parents once, then every composition's realizations, each composition stored as soon as it is done."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from ase.data import atomic_numbers

from heo_calc.errors import CompositionError
from heo_calc.mixing import vegard_lattice_parameter
from heo_calc.model import ModelHandle, open_model
from heo_calc.relax import RelaxResult, relax_many
from heo_calc.screening.analysis import (
    failed_realization,
    realization_record,
    summarize,
)
from heo_calc.screening.compositions import Composition, check_coverage, choose_sites, unique
from heo_calc.screening.outputs import write_plots, write_tables
from heo_calc.screening.records import CompositionRecord, ParentRecord, RealizationRecord
from heo_calc.screening.references import parent_failure, relax_parents
from heo_calc.screening.settings import ScreenSettings
from heo_calc.screening.store import ScreenStore
from heo_calc.structures.parents import parent_lattice
from heo_calc.structures.substituted import SubstitutedStructure, substituted_structure

logger = logging.getLogger(__name__)


@dataclass
class ScreenResult:
    """Every composition of the screen (finished earlier or now), its parents and where the files are."""

    records: list[CompositionRecord]
    parents: dict[str, ParentRecord]
    resumed: list[str]
    out_dir: Path
    engine: str
    model: dict = field(default_factory=dict)


@dataclass
class _Pending:
    composition: Composition
    parents: list[ParentRecord]
    items: list[SubstitutedStructure]
    done: list[RealizationRecord] = field(default_factory=list)


class _Collector:
    """Groups relaxation results by composition; stores each composition once all its realizations are in."""

    def __init__(
        self, settings: ScreenSettings, store: ScreenStore, on_record: Callable[[CompositionRecord], None]
    ):
        self.settings, self.store, self.on_record = settings, store, on_record
        self.by_name: dict[str, tuple[_Pending, SubstitutedStructure]] = {}
        self.finished: dict[str, CompositionRecord] = {}

    def add(self, pending: _Pending) -> None:
        for item in pending.items:
            self.by_name[str(item.atoms.info["name"])] = (pending, item)

    def fail(self, composition: Composition, n_sites: int, reason: str) -> None:
        logger.warning("%s: %s", composition.label, reason)
        rows = [
            failed_realization(
                composition, self.settings.lattice, self.settings.arrangement, seed, n_sites, reason
            )
            for seed in self.settings.seeds
        ]
        self._finish(composition, rows)

    def collect(self, result: RelaxResult) -> None:
        pending, item = self.by_name[result.name]
        pending.done.append(realization_record(item, result, pending.composition, pending.parents))
        if len(pending.done) == len(pending.items):
            self._finish(pending.composition, sorted(pending.done, key=lambda r: r.seed))

    def _finish(self, composition: Composition, rows: list[RealizationRecord]) -> None:
        record = CompositionRecord(summarize(composition, self.settings.lattice, rows), rows)
        self.store.save(record)
        self.finished[composition.label] = record
        s = record.summary
        logger.info(
            "%s: ΔE_mix %.1f meV/atom, a %.4f Å (Vegard %.4f), %d/%d converged",
            s.composition, s.mixing_energy_meV_per_atom_mean, s.a_pseudo_cubic_A_mean, s.a_vegard_A,
            s.n_converged, s.n_realizations,
        )  # fmt: skip
        self.on_record(record)


def _realizations(
    composition: Composition, n_sites: int, parents: list[ParentRecord], settings: ScreenSettings
):
    """The seeded starting cells of one composition, at Vegard's lattice parameter of its parents."""
    return [
        substituted_structure(
            settings.lattice,
            composition.cations,
            n_sites,
            arrangement=settings.arrangement,
            seed=seed,
            sqs_trials=settings.sqs_trials,
            rattle=settings.rattle,
            a=vegard_lattice_parameter([parent.a_pseudo_cubic_A for parent in parents]),
        )
        for seed in settings.seeds
    ]


def _relax_mixtures(
    todo: Sequence[Composition],
    sites: dict[Composition, int],
    parents: dict[str, ParentRecord],
    model: ModelHandle,
    collector: _Collector,
    progress: bool,
) -> None:
    settings = collector.settings
    pending = []
    for composition in todo:
        own = [parents[c] for c in composition.cations]
        reason = parent_failure(own)
        try:
            items = [] if reason else _realizations(composition, sites[composition], own, settings)
        except CompositionError as error:
            reason = f"cannot build the cell: {error}"
        if reason:
            collector.fail(composition, sites[composition], reason)
            continue
        pending.append(_Pending(composition, own, items))
        collector.add(pending[-1])
    structures = [item.atoms for entry in pending for item in entry.items]
    if structures:
        logger.info("relaxing %d cells of %d compositions on %s", len(structures), len(pending), model.where)
        relax_many(structures, model, settings.relax, on_result=collector.collect, progress=progress)


def run_screen(
    compositions: Sequence[Composition],
    settings: ScreenSettings,
    out_dir: str | Path,
    *,
    resume: bool = False,
    discard_stale: bool = False,
    executor: Executor | None = None,
    workers: int | None = None,
    dask_scheduler: str | None = None,
    progress: bool = True,
) -> ScreenResult:
    """Screen ``compositions`` on ``settings.lattice``; results and files in ``out_dir``.

    With ``resume``, compositions already finished in ``out_dir`` (same settings, same model
    identity) are neither relaxed again nor lost; finished compositions of other weights raise
    :class:`~heo_calc.screening.store.ScreenOutputError`, or with ``discard_stale`` are
    deleted and screened again (:mod:`heo_calc.screening.store`). Relaxations run in this process unless ``executor`` (any
    ``concurrent.futures`` executor or a Dask ``Client``), ``workers`` (local processes) or
    ``dask_scheduler`` (an address) says otherwise; the numbers do not depend on where.
    Raises :class:`~heo_calc.errors.CompositionError` for input that cannot be screened
    (unknown lattice, bad cations, no equimolar cell, elements the calculator does not
    cover) before any relaxation; a parent or cell that fails later gives failed rows.
    """
    out_dir = Path(out_dir)
    parent_lattice(settings.lattice)
    compositions = unique(compositions)
    if not compositions:
        raise CompositionError(
            "no composition to screen: give --cations, --pool with --n-cations, or --compositions"
        )
    sites = choose_sites(settings.lattice, compositions, settings.sites)
    store = ScreenStore(out_dir)
    store.check(settings, resume=resume)  # before the model is built: wrong options fail at once
    with open_model(
        settings.calculator,
        device=settings.device,
        executor=executor,
        workers=workers,
        dask_scheduler=dask_scheduler,
    ) as model:
        identity = model.identity()
        store.open(settings, identity, resume=resume, discard_stale=discard_stale)
        done = _resumed(store, compositions) if resume else {}
        todo = [c for c in compositions if c.label not in done]
        check_coverage(compositions, settings.lattice, model.covered_numbers(), settings.calculator)
        cations = sorted({c for comp in compositions for c in comp.cations}, key=atomic_numbers.__getitem__)
        parents = relax_parents(cations, settings, model, out_dir, progress=progress)
        finished = dict(done)

        def record_finished(record: CompositionRecord) -> None:
            finished[record.summary.composition] = record
            write_tables(out_dir, settings, parents, list(finished.values()), identity)

        _relax_mixtures(todo, sites, parents, model, _Collector(settings, store, record_finished), progress)
    records = [finished[c.label] for c in compositions]
    write_tables(out_dir, settings, parents, records, identity)
    write_plots(out_dir, settings, records)
    resumed = [c.label for c in compositions if c.label in done]
    return ScreenResult(records, parents, resumed, out_dir, model.where, identity)


def _resumed(store: ScreenStore, compositions: Sequence[Composition]) -> dict[str, CompositionRecord]:
    """The requested compositions already finished in ``store``, by label (logged)."""
    requested = {c.label for c in compositions}
    done = {label: r for label, r in store.finished().items() if label in requested}
    if done:
        logger.info(
            "resuming: %d of %d compositions already finished in %s", len(done), len(compositions), store.root
        )
    return done
