"""State of one benchmark run: options, cached calculators and structures, and the collected rows.

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
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark_suite.profiles import Profile

if TYPE_CHECKING:
    from ase.calculators.calculator import Calculator

    from benchmark_suite.data import HEODataset
    from benchmark_suite.substitution import SubstitutedStructure
    from benchmark_suite.tasks import TaskResult

logger = logging.getLogger(__name__)


class CalculatorUnavailable(Exception):
    """A requested calculator that cannot be loaded here; its tests skip with this reason."""


@dataclass(frozen=True)
class BenchmarkOptions:
    """The parsed command-line options of the benchmark."""

    calculators: tuple[str, ...]
    dataset: Path | None
    reference_calc: str | None
    profile: Profile
    report_dir: Path | None
    device: str = "auto"
    sqs_method: str = "swap"
    relax_engine: str = "fast"

    def context(self) -> dict[str, Any]:
        """What the report records about the run."""
        return {
            "profile": self.profile.name,
            "calculators": list(self.calculators),
            "dataset": str(self.dataset) if self.dataset else None,
            "reference_calc": self.reference_calc,
            "fmax": self.profile.fmax,
            "max_steps": self.profile.max_steps,
            "rattle_sigma": self.profile.rattle_sigma,
            "substitution_seeds": list(self.profile.substitution_seeds),
            "sqs_method": self.sqs_method,
            "relax_engine": self.relax_engine,
            "worst_k": self.profile.worst_k,
        }


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[-60:]


class BenchmarkSession:
    """Caches (calculators, dataset, generated structures) and the part-file writer of one process."""

    def __init__(self, options: BenchmarkOptions, rows_dir: Path, worker_id: str = "main") -> None:
        self.options = options
        self.rows_dir = Path(rows_dir)
        self.worker_id = worker_id
        self._calculators: dict[str, Calculator | CalculatorUnavailable] = {}
        self._dataset: HEODataset | None = None
        self._substitution: list[SubstitutedStructure] | None = None
        self._counter = itertools.count()

    # ---- calculators ------------------------------------------------------------------

    def calculator(self, name: str) -> Calculator:
        """The calculator registered as ``name``, loaded once; raises :class:`CalculatorUnavailable`."""
        if name not in self._calculators:
            self._calculators[name] = self._load(name)
        loaded = self._calculators[name]
        if isinstance(loaded, CalculatorUnavailable):
            raise loaded
        return loaded

    def _load(self, name: str) -> Calculator | CalculatorUnavailable:
        from heo_calc.errors import HEOCalcError
        from heo_calc.registry import get_calculator

        try:
            return get_calculator(name, device=self.options.device)
        except HEOCalcError as error:
            reason = f"{name!r} is not available here: {error}"
        except Exception as error:  # a third-party factory may fail in any way: skip it, run the rest
            reason = f"{name!r} failed to load ({type(error).__name__}: {error})"
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

    def dataset(self) -> HEODataset | None:
        """The ``--heo-dataset`` file, read once (``None`` when not given)."""
        if self.options.dataset is None:
            return None
        if self._dataset is None:
            from benchmark_suite.data import load_dataset

            self._dataset = load_dataset(self.options.dataset)
        return self._dataset

    def substitution_structures(self) -> list[SubstitutedStructure]:
        """Every lattice x arrangement x seed of the profile, generated once (deterministic)."""
        if self._substitution is None:
            from benchmark_suite.substitution import substituted_structure

            profile = self.options.profile
            self._substitution = [
                substituted_structure(
                    lattice,
                    n_sites,
                    arrangement=arrangement,  # type: ignore[arg-type]
                    seed=seed,
                    sqs_method=self.options.sqs_method,  # type: ignore[arg-type]
                    sqs_trials=profile.sqs_trials,
                )
                for lattice, n_sites in profile.substitution_sites.items()
                for arrangement in profile.substitution_arrangements
                for seed in profile.substitution_seeds
            ]
        return self._substitution

    # ---- results ----------------------------------------------------------------------

    def _write_part(self, kind: str, payload: dict[str, Any]) -> Path:
        from benchmark_suite.report import atomic_write_text, dumps

        index = next(self._counter)
        path = (
            self.rows_dir
            / f"{_safe(self.worker_id)}-{index:04d}-{kind}-{_safe(payload.get('calculator', ''))}.json"
        )
        atomic_write_text(path, dumps({"kind": kind, **payload}))
        return path

    def record(self, result: TaskResult) -> None:
        """Store one task's rows and summary for the report."""
        rows = result.rows.to_dict(orient="records")
        self._write_part(
            "result",
            {
                "task": result.task,
                "calculator": result.calculator,
                "rows": rows,
                "summary": result.summary,
                "arrays": result.arrays,
            },
        )

    def record_skip(self, name: str, reason: str) -> None:
        """Store that calculator ``name`` did not run, and why."""
        self._write_part("skip", {"calculator": name, "reason": reason})


def collect_parts(rows_dir: Path) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Read every part file: the result records and the skipped calculators with reasons."""
    records: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for path in sorted(Path(rows_dir).glob("*.json")):
        try:
            part = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            logger.warning("ignoring unreadable benchmark part file %s: %s", path, error)
            continue
        if part.get("kind") == "skip":
            skipped.setdefault(part["calculator"], part["reason"])
        elif part.get("kind") == "result":
            part["rows"] = [
                {k: (math.nan if v is None else v) for k, v in row.items()} for row in part.get("rows", [])
            ]
            records.append(part)
    return records, skipped


def flat_numbers(summary: dict[str, Any]) -> dict[str, float | int | str]:
    """The scalar entries of a summary, NaN as None, for pytest-benchmark's ``extra_info``."""
    flat: dict[str, Any] = {}
    for key, value in summary.items():
        if isinstance(value, bool | int | str):
            flat[key] = value
        elif isinstance(value, float):
            flat[key] = value if math.isfinite(value) else None
    return flat
