"""State of one benchmark run: options, the models (opened once, :func:`heo_calc.model.open_model`), structures, and the collected rows.

One :class:`BenchmarkSession` lives in each pytest process (the controller and every
pytest-xdist worker). Results are written as small JSON part files into one rows
directory shared by all processes (the controller creates it and hands it to the workers);
the controller merges them into the report at session finish. Without xdist the single
process plays both roles.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark_suite.profiles import Profile
from heo_base.types import Device, RelaxEngineName

if TYPE_CHECKING:
    from ase.calculators.calculator import Calculator

    from benchmark_suite.data import HEODataset
    from benchmark_suite.journal import RowJournal
    from benchmark_suite.tasks import TaskResult
    from heo_calc.model import ModelHandle

logger = logging.getLogger(__name__)


class CalculatorUnavailable(Exception):
    """A requested calculator that cannot be loaded here; its tests skip with this reason."""


@dataclass(frozen=True)
class BenchmarkOptions:
    """The parsed command-line options of the benchmark.

    ``calculators`` run (every task is parametrized over them); ``unavailable`` are the
    registered calculators that ``--calc all`` left out, with the reason. ``dataset`` is
    ``--heo-dataset`` (``None``: the packaged benchmark set).
    """

    calculators: tuple[str, ...]
    dataset: Path | None
    reference_calc: str | None
    profile: Profile
    report_dir: Path | None
    device: Device = "auto"
    sqs_method: str = "swap"
    relax_engine: RelaxEngineName = "fast"
    unavailable: tuple[tuple[str, str], ...] = ()
    resume: bool = False
    tasks: tuple[
        str, ...
    ] = ()  # the tasks that run (``--heo-tasks``; the plugin fills in every registered one)

    def dataset_description(self) -> str:
        """The dataset as the report names it (the packaged set with its licence)."""
        if self.dataset is not None:
            return str(self.dataset)
        from benchmark_suite.data import packaged_set

        packaged = packaged_set()
        return (
            f"packaged benchmark set {packaged.path.name} (LeMat-Bulk compatible_pbe, {packaged.licence_id})"
        )

    def context(self) -> dict[str, Any]:
        """What the report records about the run: options, shared settings, every task's recorded sizes."""
        return {
            "profile": self.profile.name,
            "calculators": list(self.calculators),
            "dataset": self.dataset_description(),
            "reference_calc": self.reference_calc,
            **self.profile.context(),
            "sqs_method": self.sqs_method,
            "relax_engine": self.relax_engine,
            "worst_k": self.profile.worst_k,
        }


#: The record of a run's options in its parts folder, checked by ``--heo-resume``.
RUN_FILE = "run.json"


def write_run_record(rows_dir: Path, options: BenchmarkOptions) -> None:
    """Record the options of the run whose parts ``rows_dir`` holds."""
    from benchmark_suite.files import atomic_write_text, dumps

    atomic_write_text(Path(rows_dir) / RUN_FILE, dumps(options.context()))


def check_resumable(rows_dir: Path, options: BenchmarkOptions) -> str:
    """'' when the interrupted run in ``rows_dir`` had these options and its models the same weights.

    Otherwise what differs: the options (by key; the list of calculators may change) or a
    model's identity (old and new weights), and how to go on. Loading the calculators of the old run is the price of this check.
    """
    from heo_calc.model import open_model
    from heo_calc.provenance import describe_identity, identity_key

    stored = json.loads((Path(rows_dir) / RUN_FILE).read_text(encoding="utf-8"))
    current = json.loads(json.dumps(options.context(), default=str))
    # The calculators may change (one dropped, one added): each one's weights are checked below.
    keys = (set(stored) | set(current)) - {"calculators"}
    different = sorted(k for k in keys if stored.get(k) != current.get(k))
    fix = "run without --heo-resume to start over, or give a new --heo-report folder"
    if different:
        shown = "; ".join(f"{k}: {stored.get(k)!r} then, {current.get(k)!r} now" for k in different)
        return f"the interrupted run in {rows_dir} had other options ({shown}); {fix}"
    for name, old in collect_parts(rows_dir).identities.items():
        with open_model(name, device=options.device) as model:
            new = model.identity()
        if identity_key(new) != identity_key(old):
            return (
                f"{name} has other weights than in the interrupted run: {describe_identity(old)} then, "
                f"{describe_identity(new)} now; {fix}"
            )
    return ""


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[-60:]


class BenchmarkSession:
    """Caches (calculators, dataset, generated structures) and the part-file writer of one process."""

    def __init__(self, options: BenchmarkOptions, rows_dir: Path, worker_id: str = "main") -> None:
        self.options = options
        self.rows_dir = Path(rows_dir)
        self.worker_id = worker_id
        self._models: dict[str, ModelHandle | CalculatorUnavailable] = {}
        self._dataset: HEODataset | None = None
        self._inputs: dict[str, Any] = {}
        self._counter = itertools.count()
        # Part files of a resumed run sit beside the interrupted run's: a token per process
        # (start time and pid) keeps their names apart.
        self._token = f"{int(time.time()):x}{os.getpid():x}"

    # ---- models -----------------------------------------------------------------------

    def model(self, name: str) -> ModelHandle:
        """The model registered as ``name`` (:func:`heo_calc.model.open_model`), loaded once and its identity recorded.

        Raises :class:`CalculatorUnavailable` (the reason, for the tests to skip with).
        """
        if name not in self._models:
            self._models[name] = self._load(name)
        loaded = self._models[name]
        if isinstance(loaded, CalculatorUnavailable):
            raise loaded
        return loaded

    def calculator(self, name: str) -> Calculator:
        """The ASE calculator of :meth:`model`; raises :class:`CalculatorUnavailable`."""
        return self.model(name).calculator()

    def _load(self, name: str) -> ModelHandle | CalculatorUnavailable:
        from heo_calc.errors import HEOCalcError
        from heo_calc.model import open_model

        try:
            model = open_model(name, device=self.options.device)
            model.calculator()  # loaded now: a model that cannot load skips its tests with the reason
        except HEOCalcError as error:
            reason = f"{name!r} is not available here: {error}"
        except Exception as error:  # a third-party factory may fail in any way: skip it, run the rest
            reason = f"{name!r} failed to load ({type(error).__name__}: {error})"
        else:
            self._write_part("identity", {"calculator": name, "identity": model.identity()})
            return model
        reason += " (`heo-calc list` shows every calculator and why it cannot load)"
        self.record_skip(name, reason)
        return CalculatorUnavailable(reason)

    def reference_calculator(self) -> tuple[Calculator | None, str | None]:
        """The ``--reference-calc`` calculator, or ``(None, None)`` if not given or unavailable."""
        name = self.options.reference_calc
        if not name:
            return None, None
        try:
            return self.calculator(name), name
        except CalculatorUnavailable as error:
            logger.warning("reference calculator unavailable, reference energies are NaN: %s", error)
            return None, name

    # ---- structures -------------------------------------------------------------------

    def dataset(self) -> HEODataset:
        """``--heo-dataset`` or the packaged benchmark set, read once."""
        if self._dataset is None:
            from benchmark_suite.data import load_dataset, load_packaged_dataset

            path = self.options.dataset
            self._dataset = load_dataset(path) if path is not None else load_packaged_dataset()
        return self._dataset

    def use_dataset(self, dataset: HEODataset) -> None:
        """Use ``dataset`` (already read, e.g. to check it at start-up) instead of reading it again."""
        self._dataset = dataset

    def task_inputs(self, task: str) -> Any:
        """The inputs of ``task`` (its record's ``prepare`` with this run's profile), prepared once per process.

        Raises :class:`benchmark_suite.task_spec.TaskSkip` when the data do not allow the task
        (each call: the reason is recorded by the caller).
        """
        if task not in self._inputs:
            from benchmark_suite.registry import task_spec

            self._inputs[task] = task_spec(task).inputs(self, self.options.profile)
        return self._inputs[task]

    # ---- results ----------------------------------------------------------------------

    def _write_part(self, kind: str, payload: dict[str, Any]) -> Path:
        from benchmark_suite.files import atomic_write_text, dumps

        index = next(self._counter)
        label = payload.get("calculator", payload.get("task", ""))
        path = self.rows_dir / f"{_safe(self.worker_id)}-{self._token}-{index:04d}-{kind}-{_safe(label)}.json"
        atomic_write_text(path, dumps({"kind": kind, **payload}))
        return path

    def record(self, result: TaskResult) -> None:
        """Store one task's rows (and its elapsed time, energy reference, plot data) for the report."""
        self._write_part(
            "result",
            {
                "task": result.task,
                "calculator": result.calculator,
                "rows": result.rows.to_dict(orient="records"),
                "wall_time_s": result.wall_time_s,
                "arrays": result.arrays,
                "reference_fit": asdict(result.reference_fit) if result.reference_fit else None,
            },
        )

    def journal(self, task: str, calculator: str) -> RowJournal:
        """The row journal of ``task`` for ``calculator``: finished structures of a resumed run, kept as they end."""
        from benchmark_suite.journal import RowJournal

        path = self.rows_dir / f"journal-{_safe(task)}-{_safe(calculator)}.jsonl"
        return RowJournal(path, resume=self.options.resume)

    def finished_result(self, task: str, calculator: str) -> TaskResult | None:
        """With ``--heo-resume``: the result of ``task`` for ``calculator`` that the interrupted run finished."""
        if not self.options.resume:
            return None
        return next(
            (r for r in collect_parts(self.rows_dir).records if (r.task, r.calculator) == (task, calculator)),
            None,
        )

    def record_skip(self, name: str, reason: str) -> None:
        """Store that calculator ``name`` did not run, and why."""
        self._write_part("skip", {"calculator": name, "reason": reason})

    def record_task_skip(self, task: str, reason: str) -> None:
        """Store that ``task`` did not run (for every calculator), and why."""
        self._write_part("task_skip", {"task": task, "reason": reason})


@dataclass
class Parts:
    """What the part files of a run hold: task results, skipped calculators and skipped tasks."""

    records: list[TaskResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    task_skips: dict[str, str] = field(default_factory=dict)
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.records or self.skipped or self.task_skips)


def _task_result(part: dict[str, Any]) -> TaskResult:
    import pandas as pd

    from benchmark_suite.tasks import ReferenceFit, TaskResult

    rows = [{k: (math.nan if v is None else v) for k, v in row.items()} for row in part.get("rows", [])]
    fit = part.get("reference_fit")
    return TaskResult(
        task=part["task"],
        calculator=part["calculator"],
        rows=pd.DataFrame(rows),
        wall_time_s=float(part.get("wall_time_s") or 0.0),
        arrays=part.get("arrays") or {},
        reference_fit=ReferenceFit(**fit) if fit else None,
    )


def collect_parts(rows_dir: Path) -> Parts:
    """Read every part file of a run."""
    parts = Parts()
    for path in sorted(Path(rows_dir).glob("*.json")):
        try:
            part = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            logger.warning("ignoring unreadable benchmark part file %s: %s", path, error)
            continue
        if part.get("kind") == "skip":
            parts.skipped.setdefault(part["calculator"], part["reason"])
        elif part.get("kind") == "task_skip":
            parts.task_skips.setdefault(part["task"], part["reason"])
        elif part.get("kind") == "result":
            parts.records.append(_task_result(part))
        elif part.get("kind") == "identity":
            parts.identities.setdefault(part["calculator"], part["identity"])
    return parts
