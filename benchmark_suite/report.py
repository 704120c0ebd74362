"""The benchmark report: tidy rows and metrics (CSV, JSON), a markdown summary and PNG plots.

Everything is made from the collected :class:`~benchmark_suite.tasks.TaskResult` records
(one per task and calculator): the rows are the contract, and every figure is a metric of
:mod:`benchmark_suite.metrics` over them, with a 95 % bootstrap interval over structures and,
for every calculator after the first, a paired comparison with the first. The markdown
opens with those verdicts; its headline columns, task sections (in registry order) and
conventions come from the tasks' records in :data:`benchmark_suite.registry.TASKS`, so this
module names no task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from benchmark_suite.files import atomic_write, atomic_write_text, dumps
from benchmark_suite.metrics import N_RESAMPLES, SEED, MetricRow, SkippedMetric, metric_table
from benchmark_suite.registry import TASKS
from benchmark_suite.sections import default_section
from benchmark_suite.statistics import format_interval, verdict_line
from benchmark_suite.tasks import TaskResult
from heo_base.markdown import markdown_table
from heo_calc.status import Status

__all__ = [
    "Report",
    "atomic_write_text",
    "build_report",
    "conventions",
    "dumps",
    "headline_columns",
    "headline_table",
    "markdown_report",
    "notes",
    "rows_table",
    "summary_record",
    "verdict_lines",
    "write_report",
]


def conventions() -> str:
    """The closing paragraph: how figures, intervals and verdicts are made, each task's conventions, the data."""
    clauses = "; ".join(spec.conventions for spec in TASKS.values() if spec.conventions)
    return (
        "Conventions: every figure is `value [low, high]`, the metric on all structures that did not "
        f"fail and its 95 % percentile-bootstrap interval over structures ({N_RESAMPLES} resamples, seed "
        f"{SEED}); verdicts resample the same structures for both calculators. "
        + (f"{clauses}. " if clauses else "")
        + "Errors on HEO data are heavy-tailed: read MAE and median beside RMSE. Data: LeMat-Bulk "
        "(CC-BY-4.0) where the HEO dev data or the packaged set are used."
    )


def headline_columns() -> list[tuple[str, str]]:
    """(metric key, header) of the headline table: every task's, in registry order."""
    return [column for spec in TASKS.values() for column in spec.headline]


@dataclass
class Report:
    """Everything the report files are made of."""

    records: list[TaskResult]
    table: pd.DataFrame
    metrics: pd.DataFrame
    skipped_metrics: list[SkippedMetric]
    calculators: list[str]
    skipped: dict[str, str]
    context: dict[str, Any]
    task_skips: dict[str, str] = field(default_factory=dict)
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)

    def metric(self, key: str, calculator: str) -> MetricRow | None:
        rows = self.metrics[(self.metrics["key"] == key) & (self.metrics["calculator"] == calculator)]
        return MetricRow(**rows.iloc[0].to_dict()) if len(rows) else None

    def cell(self, key: str, calculator: str) -> str:
        """``value [low, high]`` of one metric and calculator, ``–`` when absent."""
        row = self.metric(key, calculator)
        return format_interval(row.interval(), int(row.digits)) if row is not None else "–"


def rows_table(records: Sequence[TaskResult]) -> pd.DataFrame:
    """All rows of all tasks and calculators in one tidy table (union of columns)."""
    frames = [record.rows for record in records if len(record.rows)]
    if not frames:
        return pd.DataFrame(columns=["task", "calculator", "id", "status"])
    table = pd.concat(frames, ignore_index=True, sort=False)
    order = {task: i for i, task in enumerate(TASKS)}
    table["_order"] = table["task"].map(order).fillna(len(TASKS))
    return (
        table.sort_values(["_order", "calculator"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def build_report(
    records: Sequence[TaskResult],
    *,
    calculators: Sequence[str],
    skipped: dict[str, str],
    context: dict[str, Any],
    task_skips: dict[str, str] | None = None,
    identities: dict[str, dict[str, Any]] | None = None,
) -> Report:
    """Rows, metrics with intervals and comparisons, and the notes of one run.

    ``identities``: each calculator's model identity (:func:`heo_calc.provenance.model_identity`),
    written to summary.json and as ``model_key``/``model_sha256`` columns of metrics.csv.
    """
    table = rows_table(records)
    ran = [c for c in calculators if c not in skipped]
    metrics, skipped_metrics = metric_table(table, ran)
    identities = dict(identities or {})
    if len(metrics):
        from heo_calc.provenance import identity_columns

        columns = {name: identity_columns(identity) for name, identity in identities.items()}
        for column in ("model_key", "model_sha256"):
            metrics[column] = [columns.get(name, {}).get(column, "") for name in metrics["calculator"]]
    shown = list(calculators) + [
        c for c in dict.fromkeys(table.get("calculator", [])) if c not in calculators
    ]
    return Report(
        list(records),
        table,
        metrics,
        skipped_metrics,
        shown,
        dict(skipped),
        context,
        dict(task_skips or {}),
        identities,
    )


# ---------------------------------------------------------------------------------------
# markdown
# ---------------------------------------------------------------------------------------


def verdict_lines(report: Report) -> list[str]:
    """One line per metric and calculator after the first: the paired comparison and its verdict."""
    compared = report.metrics[report.metrics["verdict"].astype(str) != ""]
    lines = []
    for calculator in dict.fromkeys(compared["calculator"]):
        for _, row in compared[compared["calculator"] == calculator].iterrows():
            metric = MetricRow(**row.to_dict())
            lines.append(f"- {verdict_line(metric.comparison(), int(metric.digits))}")
    return lines


def _verdict_note(report: Report) -> str:
    references = sorted({str(r) for r in report.metrics["reference"] if r})
    if not references:
        ran = [c for c in report.calculators if c not in report.skipped]
        return f"- no paired comparisons: one calculator ran ({', '.join(ran) or 'none'})"
    return (
        f"Verdicts: each calculator against {', '.join(references)} (the first of `--calc` that ran) on the "
        "same structures: candidate − reference with its 95 % paired-bootstrap interval; better/worse "
        "follow the metric's direction, `different` for metrics without one (signed medians, lattice "
        "parameters, energies), `indistinguishable` when the interval contains 0."
    )


def _failed_count(report: Report, calculator: str, tasks: Sequence[str] | None = None) -> int:
    """Failed rows of ``calculator`` in ``tasks`` (default: every registered task)."""
    tasks = list(TASKS) if tasks is None else list(tasks)
    table = report.table
    if "task" not in table or not len(table):
        return 0
    rows = table[(table["calculator"] == calculator) & table["task"].isin(tasks)]
    return int((rows["status"] == Status.FAILED).sum())


def _wall_time(report: Report, calculator: str) -> float:
    return sum(r.wall_time_s for r in report.records if r.calculator == calculator)


def _task_count(report: Report, task: str, calculator: str) -> str:
    """``n (failed)`` rows of one task and calculator, ``–`` when it has none."""
    rows = report.table[(report.table["task"] == task) & (report.table["calculator"] == calculator)]
    return f"{len(rows)} ({_failed_count(report, calculator, [task])})" if len(rows) else "–"


def headline_table(report: Report) -> str:
    """One row per calculator with the numbers that decide which potential to use (every task's headline columns)."""
    counted = [spec.name for spec in TASKS.values() if spec.count_in_headline]
    columns = headline_columns()
    header = [
        "calculator",
        *(f"{task} n (failed)" for task in counted),
        *(h for _, h in columns),
        "failed rows",
        "wall time (s)",
    ]
    rows = []
    for name in report.calculators:
        if name in report.skipped:
            reason = report.skipped[name]
            reason = reason if len(reason) <= 140 else reason[:140] + "… (see summary.json)"
            rows.append([name, f"skipped: {reason}", *["–"] * (len(header) - 2)])
            continue
        rows.append(
            [
                name,
                *(_task_count(report, task, name) for task in counted),
                *(report.cell(key, name) for key, _ in columns),
                str(_failed_count(report, name)),
                f"{_wall_time(report, name):.0f}",
            ]
        )
    return markdown_table(header, rows)


def notes(report: Report) -> list[str]:
    """What did not run or was left out, and why; failed structures per task and calculator."""
    lines = [f"- {task} skipped: {reason}" for task, reason in report.task_skips.items()]
    lines += [f"- {s.key} skipped: {s.reason}" for s in report.skipped_metrics]
    table = report.table
    if "task" in table and len(table):
        for (task, name), rows in table.groupby(["task", "calculator"], sort=False):
            failed = rows[rows["status"] == Status.FAILED]
            if len(failed):
                first = str(failed["error"].iloc[0])[:160]
                lines.append(
                    f"- {name}, {task}: {len(failed)} of {len(rows)} structures failed (first: {first}); "
                    "its intervals are over the rest"
                )
    return lines


def _models_section(report: Report) -> str:
    """Which weights made the numbers: one line per calculator (file, SHA-256, dtype)."""
    if not report.identities:
        return ""
    from heo_calc.provenance import describe_identity

    lines = [
        f"- {describe_identity(report.identities[name])}"
        for name in report.calculators
        if name in report.identities
    ]
    return "Models (weights that made these numbers; full records in summary.json):\n\n" + "\n".join(lines)


def markdown_report(report: Report) -> str:
    """The whole markdown summary: verdict lines first, then context, headline, task sections, notes."""
    context = report.context
    verdicts = verdict_lines(report)
    worst_k = int(context.get("worst_k", 5))
    parts = [
        "# HEO benchmark",
        "\n".join(verdicts) if verdicts else _verdict_note(report),
        _verdict_note(report) if verdicts else "",
        f"profile `{context.get('profile')}`, dataset `{context.get('dataset') or 'none'}`, "
        f"reference calculator `{context.get('reference_calc') or 'none'}`, "
        f"fmax {context.get('fmax')} eV/Å, max steps {context.get('max_steps')}",
        "## Headline",
        headline_table(report),
        "\n".join(notes(report)),
        _models_section(report),
    ]
    tasks = set(report.metrics["task"])
    for spec in TASKS.values():  # registry order
        if spec.name in tasks:
            parts.append(spec.section(report, worst_k) if spec.section else default_section(spec, report))
    parts.append(conventions())
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"


# ---------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------


def summary_record(report: Report) -> dict[str, Any]:
    """What ``summary.json`` holds: options, skips, reference fits, wall times, verdicts, metrics."""
    return {
        "context": report.context,
        "calculators": report.calculators,
        "models": report.identities,
        "skipped": report.skipped,
        "task_skips": report.task_skips,
        "skipped_metrics": [asdict(s) for s in report.skipped_metrics],
        "reference_fits": {
            r.calculator: asdict(r.reference_fit) for r in report.records if r.reference_fit is not None
        },
        "wall_time_s": {f"{r.task}/{r.calculator}": r.wall_time_s for r in report.records},
        "verdicts": [line[2:] for line in verdict_lines(report)],
        "metrics": report.metrics.to_dict(orient="records"),
    }


def write_report(out_dir: str | Path, report: Report) -> dict[str, Path]:
    """Write ``rows.csv``/``.json``, ``metrics.csv``/``.json``, ``summary.json``, ``summary.md`` and plots.

    Every file is written to a temporary name in ``out_dir`` and renamed, so a reader never
    sees a half-written file. Returns the paths by kind.
    """
    from benchmark_suite.plots import write_plots

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        name.replace(".", "_"): out_dir / name
        for name in ("rows.csv", "rows.json", "metrics.csv", "metrics.json", "summary.json", "summary.md")
    }
    atomic_write(paths["rows_csv"], lambda p: report.table.to_csv(p, index=False))
    atomic_write_text(paths["rows_json"], dumps(report.table.to_dict(orient="records")))
    atomic_write(paths["metrics_csv"], lambda p: report.metrics.to_csv(p, index=False))
    atomic_write_text(paths["metrics_json"], dumps(report.metrics.to_dict(orient="records")))
    atomic_write_text(paths["summary_json"], dumps(summary_record(report)))
    atomic_write_text(paths["summary_md"], markdown_report(report))
    for path in write_plots(report.records, report.table, out_dir, atomic_write):
        paths[path.stem] = path
    return paths
