"""The benchmark report: tidy rows and metrics (CSV, JSON), a markdown summary and PNG plots.

Everything is made from the collected :class:`~benchmark_suite.tasks.TaskResult` records
(one per task and calculator): the rows are the contract, and every figure is a metric of
:mod:`benchmark_suite.metrics` over them, with a 95 % bootstrap interval over structures and,
for every calculator after the first, a paired comparison with the first. The markdown
opens with those verdicts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmark_suite.metrics import N_RESAMPLES, SEED, TASKS, MetricRow, SkippedMetric, metric_table
from benchmark_suite.tasks import TaskResult
from heo_base.markdown import markdown_table
from heo_calc.statistics_bootstrap import format_interval, verdict_line
from heo_calc.status import Status

#: Headline columns: (metric key, header).
HEADLINE: tuple[tuple[str, str], ...] = (
    ("accuracy.energy_rmse_corrected", "E RMSE ref-fit (meV/atom)"),
    ("accuracy.energy_mae_corrected", "E MAE ref-fit (meV/atom)"),
    ("accuracy.energy_rmse", "E RMSE raw (meV/atom)"),
    ("accuracy.force_rmse", "F RMSE (meV/Å)"),
    ("accuracy.force_mae", "F MAE (meV/Å)"),
    ("accuracy.relative_energy_mae", "ΔE within formula MAE (meV/atom)"),
    ("rattle_relax.rmsd_median", "in symmetry: RMSD median (Å)"),
    ("rattle_relax.abs_volume_change_median", "in symmetry: |ΔV| median (%)"),
    ("rattle_relax.converged_fraction", "in symmetry: converged"),
    ("substitution.converged_fraction", "subst.: converged"),
    ("substitution.steps_median", "subst.: steps median"),
    ("substitution[rocksalt].lattice_parameter_median", "rock-salt a median (Å; exp. 4.22)"),
)

TASK_TITLES: dict[str, str] = {
    "accuracy": "Accuracy on the test split",
    "rattle_relax": "Rattle and relax (DFT-relaxed test structures, relaxed the way DFT did)",
    "substitution": "Substitution (equimolar five-cation supercells, out of distribution)",
}

CONVENTIONS = (
    "Conventions: every figure is `value [low, high]`, the metric on all structures that did not "
    f"fail and its 95 % percentile-bootstrap interval over structures ({N_RESAMPLES} resamples, seed "
    f"{SEED}); verdicts resample the same structures for both calculators. Force errors per Cartesian "
    "component over all atoms (mace-torch's; sevenn logs the vector norm, sqrt(3) larger); "
    "StructureMatcher RMSD (stol 1.0, scale False) is normalised by (V/n)^(1/3); RMSD in Å uses the same "
    "atom order, minimum image and the DFT cell. Errors on HEO data are heavy-tailed: read MAE and median "
    "beside RMSE. Data: LeMat-Bulk (CC-BY-4.0) where the HEO dev data or the packaged set are used."
)


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


def _failed_count(report: Report, calculator: str, tasks: Sequence[str] = TASKS) -> int:
    table = report.table
    if "task" not in table or not len(table):
        return 0
    rows = table[(table["calculator"] == calculator) & table["task"].isin(tasks)]
    return int((rows["status"] == Status.FAILED).sum())


def _wall_time(report: Report, calculator: str) -> float:
    return sum(r.wall_time_s for r in report.records if r.calculator == calculator)


def headline_table(report: Report) -> str:
    """One row per calculator with the numbers that decide which potential to use."""
    header = ["calculator", "accuracy n (failed)", *(h for _, h in HEADLINE), "failed rows", "wall time (s)"]
    rows = []
    for name in report.calculators:
        if name in report.skipped:
            reason = report.skipped[name]
            reason = reason if len(reason) <= 140 else reason[:140] + "… (see summary.json)"
            rows.append([name, f"skipped: {reason}", *["–"] * (len(header) - 2)])
            continue
        accuracy = report.table[(report.table["task"] == "accuracy") & (report.table["calculator"] == name)]
        n_accuracy = (
            f"{len(accuracy)} ({_failed_count(report, name, ['accuracy'])})" if len(accuracy) else "–"
        )
        rows.append(
            [
                name,
                n_accuracy,
                *(report.cell(key, name) for key, _ in HEADLINE),
                str(_failed_count(report, name)),
                f"{_wall_time(report, name):.0f}",
            ]
        )
    return markdown_table(header, rows)


def _task_metric_table(
    report: Report, task: str, group: str = "", relaxation: str = "", prefix: str | None = None
) -> str:
    """Rows: calculators; columns: n, failed and every metric of the task (group) with its interval.

    ``relaxation`` keeps the rattle task's rows of one relaxation, ``prefix`` the metrics
    whose name starts with it ('' : those of no other relaxation's prefix).
    """
    metrics = report.metrics[(report.metrics["task"] == task) & (report.metrics["group"] == group)]
    if prefix is not None:
        names = metrics["metric"].astype(str)
        chosen = names.str.startswith(prefix) if prefix else ~names.str.startswith(_RATTLE_PREFIXES)
        metrics = metrics[chosen]
    keys = list(dict.fromkeys(metrics["key"]))
    if not keys:
        return ""
    labels = [str(metrics[metrics["key"] == k]["label"].iloc[0]) for k in keys]
    table = report.table[report.table["task"] == task]
    if group:
        table = table[table["lattice"] == group]
    if relaxation and "relaxation" in table:
        table = table[table["relaxation"] == relaxation]
    rows = []
    for name in dict.fromkeys(metrics["calculator"]):
        mine = table[table["calculator"] == name]
        failed = int((mine["status"] == Status.FAILED).sum())
        rows.append([name, str(len(mine)), str(failed), *(report.cell(k, name) for k in keys)])
    return markdown_table(["calculator", "n", "failed", *labels], rows)


#: Metric-name prefixes of the rattle task's relaxations other than the headline (symmetric) one.
_RATTLE_PREFIXES = ("from_dft_", "low_symmetry_", "free_")


def _worst(
    report: Report, task: str, column: str, k: int, signed: bool, digits: int = 0, relaxation: str = ""
) -> list[str]:
    """Per calculator: the ``k`` structures with the largest |column| (of one relaxation, if given)."""
    table = report.table[report.table["task"] == task]
    if relaxation and "relaxation" in table:
        table = table[table["relaxation"] == relaxation]
    lines = []
    for name in (c for c in report.calculators if c in set(table["calculator"])):
        rows = table[(table["calculator"] == name)].dropna(subset=[column]) if column in table else table[:0]
        rows = rows.reindex(rows[column].abs().sort_values(ascending=False).index)[:k] if len(rows) else rows
        shown = ", ".join(
            f"{i} ({v:+.{digits}f})" if signed else f"{i} ({v:.{digits}f})"
            for i, v in zip(rows["id"], rows[column])
        )
        lines.append(f"- {name}: {shown or '–'}")
    return lines


def accuracy_section(report: Report, worst_k: int) -> str:
    return "\n\n".join(
        [
            f"## {TASK_TITLES['accuracy']}",
            "Energies per atom (raw, and after the per-element linear reference fitted on train/valid "
            "structures, formula-disjoint from test); forces per Cartesian component over all atoms.",
            _task_metric_table(report, "accuracy"),
            "Worst structures by |ΔE| after the reference fit (meV/atom):",
            "\n".join(_worst(report, "accuracy", "energy_error_corrected_meV", worst_k, signed=True)),
            "Worst structures by force RMSE (meV/Å):",
            "\n".join(_worst(report, "accuracy", "force_rmse_meV", worst_k, signed=False)),
        ]
    )


def rattle_section(report: Report, worst_k: int) -> str:
    parts = [
        f"## {TASK_TITLES['rattle_relax']}",
        "Stored DFT-relaxed cells relaxed with the space group of the DFT structure kept (ASE "
        "`FixSymmetry`), as DFT relaxed them, from a seeded rattle projected onto the symmetry-allowed "
        "displacements plus a seeded symmetric strain of the cell. Distances to DFT (RMSD, |ΔV|, "
        "|Δa|/a of the conventional cell) measure the model: lower is better.",
        _task_metric_table(report, "rattle_relax", relaxation="symmetric", prefix=""),
        "Largest RMSD to the DFT structure (Å), in symmetry:",
        "\n".join(
            _worst(report, "rattle_relax", "rmsd_A", worst_k, signed=False, digits=3, relaxation="symmetric")
        ),
        "### From the DFT structure itself (in symmetry)",
        _task_metric_table(report, "rattle_relax", relaxation="symmetric_from_dft", prefix="from_dft_"),
        "### Low-symmetry DFT minima (P1, P-1), relaxed freely",
        "Nothing holds these by symmetry, so a free relaxation measures the model here.",
        _task_metric_table(report, "rattle_relax", relaxation="low_symmetry", prefix="low_symmetry_")
        or "No P1 or P-1 DFT minimum among the structures of this run.",
        "### Free relaxation of rattled supercells (not an accuracy)",
        "Rattled supercells relaxed without any constraint answer another question: does the model find "
        "a lower, less symmetric minimum where DFT was held by symmetry? Most DFT-relaxed cells are "
        "high-symmetry and their forces vanish by symmetry, so leaving them says nothing about how close "
        "a model is to DFT; these metrics carry no better direction.",
        _task_metric_table(report, "rattle_relax", relaxation="free", prefix="free_"),
    ]
    return "\n\n".join(part for part in parts if part)


def substitution_section(report: Report) -> str:
    table = report.table[report.table["task"] == "substitution"]
    parts = [f"## {TASK_TITLES['substitution']}", _task_metric_table(report, "substitution")]
    for lattice in dict.fromkeys(table["lattice"].dropna()):
        rows = table[table["lattice"] == lattice]
        a_exp = float(rows["a_exp_A"].iloc[0]) if "a_exp_A" in rows else math.nan
        experiment = (
            f"; experiment {a_exp:.2f} Å ({rows['a_exp_citation'].iloc[0]})" if np.isfinite(a_exp) else ""
        )
        parts.append(f"### {lattice}: {rows['formula_target'].iloc[0]}{experiment}")
        parts.append(_task_metric_table(report, "substitution", lattice))
    reference = next((r for r in table.get("reference_calc", []) if isinstance(r, str) and r), "")
    parts.append(
        "Pseudo-cubic a from the volume; experimental values only where cited in "
        "benchmark_suite/substitution.py. The energy column is every final structure evaluated with "
        f"the same reference calculator ({reference or 'none given'}; lower: the model found a structure "
        "that the yardstick deems more stable); a model's own energies are not comparable across models."
    )
    return "\n\n".join(parts)


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
    if "accuracy" in tasks:
        parts.append(accuracy_section(report, worst_k))
    if "rattle_relax" in tasks:
        parts.append(rattle_section(report, worst_k))
    if "substitution" in tasks:
        parts.append(substitution_section(report))
    parts.append(CONVENTIONS)
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"


# ---------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    from heo_base.atomic_write import atomic_output

    with atomic_output(path) as temporary:
        write(temporary)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    _atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


def _clean_nan(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_nan(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """JSON with NaN written as null."""
    return json.dumps(_clean_nan(value), indent=2, default=_json_default)


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
    _atomic_write(paths["rows_csv"], lambda p: report.table.to_csv(p, index=False))
    atomic_write_text(paths["rows_json"], dumps(report.table.to_dict(orient="records")))
    _atomic_write(paths["metrics_csv"], lambda p: report.metrics.to_csv(p, index=False))
    atomic_write_text(paths["metrics_json"], dumps(report.metrics.to_dict(orient="records")))
    atomic_write_text(paths["summary_json"], dumps(summary_record(report)))
    atomic_write_text(paths["summary_md"], markdown_report(report))
    for path in write_plots(report.records, report.table, out_dir, _atomic_write):
        paths[path.stem] = path
    return paths
