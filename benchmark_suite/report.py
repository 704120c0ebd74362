"""The benchmark report: tidy rows (CSV, JSON), a markdown summary and PNG plots, written atomically.

Everything is made from the collected records (one per task and calculator), never from
ad-hoc state: ``records`` is a list of dicts with ``task``, ``calculator``, ``rows`` (list of
row dicts), ``summary`` (flat numbers) and ``arrays`` (parity-plot data); ``skipped`` maps a
calculator to the reason it did not run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TASKS = ("accuracy", "rattle_relax", "substitution")


# ---------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------


def rows_table(records: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """All rows of all tasks and calculators in one tidy table (union of columns)."""
    frames = [pd.DataFrame(record["rows"]) for record in records if record.get("rows")]
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


def _summaries(records: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    by_task: dict[str, dict[str, dict[str, Any]]] = {}
    for record in records:
        by_task.setdefault(record["task"], {})[record["calculator"]] = record["summary"]
    return by_task


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return "–" if not math.isfinite(float(value)) else f"{float(value):.{digits}f}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured markdown table from strings."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _fraction(summary: dict[str, Any], key: str, n_key: str = "n") -> str:
    value = summary.get(key)
    n = summary.get(n_key)
    if value is None or n in (None, 0) or not math.isfinite(value):
        return "–"
    return f"{round(value * n)}/{n}"


def headline_table(
    records: Sequence[dict[str, Any]], calculators: Sequence[str], skipped: dict[str, str]
) -> str:
    """One row per calculator with the numbers that decide which potential to use."""
    summaries = _summaries(records)
    accuracy, rattle, substitution = (summaries.get(task, {}) for task in TASKS)
    header = [
        "calculator",
        "E RMSE / MAE / median, ref-fit (meV/atom)",
        "E RMSE raw (meV/atom)",
        "F RMSE / MAE (meV/Å)",
        "rattle: RMSD median (Å)",
        "rattle: converged",
        "rattle: E − E(DFT geom.) (meV/atom)",
        "subst.: converged",
        "subst.: steps (median)",
        "rock-salt a (Å; exp. 4.22)",
        "failed rows",
        "wall time (s)",
    ]
    rows = []
    for name in calculators:
        if name in skipped:
            reason = (
                skipped[name] if len(skipped[name]) <= 140 else skipped[name][:140] + "… (see summary.json)"
            )
            rows.append([name, f"skipped: {reason}", *["–"] * (len(header) - 2)])
            continue
        acc, rat, sub = accuracy.get(name, {}), rattle.get(name, {}), substitution.get(name, {})
        failed = sum(int(s.get("n_failed", 0)) for s in (acc, rat, sub))
        wall = sum(float(s.get("wall_time_s", 0.0)) for s in (acc, rat, sub))
        rows.append(
            [
                name,
                " / ".join(
                    _fmt(acc.get(k))
                    for k in ("energy_rmse_corrected", "energy_mae_corrected", "energy_median_corrected")
                )
                if acc
                else "–",
                _fmt(acc.get("energy_rmse")),
                f"{_fmt(acc.get('force_rmse'))} / {_fmt(acc.get('force_mae'))}" if acc else "–",
                _fmt(rat.get("rmsd_A_median"), 3),
                _fraction(rat, "converged_fraction"),
                _fmt(rat.get("e_above_dft_min_meV_median")),
                _fraction(sub, "converged_fraction"),
                _fmt(sub.get("steps_median"), 0),
                _fmt(sub.get("a_final_A_rocksalt"), 3),
                str(failed),
                _fmt(wall, 0),
            ]
        )
    return markdown_table(header, rows)


def task_tables(records: Sequence[dict[str, Any]], table: pd.DataFrame, *, worst_k: int = 5) -> str:
    """Detail sections per task: numbers per calculator, worst structures, per-lattice results."""
    summaries = _summaries(records)
    parts: list[str] = []
    accuracy = summaries.get("accuracy", {})
    if accuracy:
        rows = [
            [
                name,
                str(s.get("n")),
                str(s.get("n_failed")),
                _fmt(s.get("energy_rmse")),
                _fmt(s.get("energy_mae")),
                _fmt(s.get("energy_rmse_corrected")),
                _fmt(s.get("energy_mae_corrected")),
                _fmt(s.get("energy_median_corrected")),
                _fmt(s.get("force_rmse")),
                _fmt(s.get("force_mae")),
                _fmt(s.get("stress_rmse"), 3),
                _fmt(s.get("wall_time_s"), 0),
            ]
            for name, s in accuracy.items()
        ]
        parts.append(
            "## Accuracy on the test split\n\n"
            "Energies per atom (raw, and after the per-element linear reference fitted on train/valid "
            "structures, formula-disjoint from test); forces per Cartesian component over all atoms.\n\n"
            + markdown_table(
                [
                    "calculator",
                    "n",
                    "failed",
                    "E RMSE raw",
                    "E MAE raw",
                    "E RMSE fit",
                    "E MAE fit",
                    "E median fit",
                    "F RMSE",
                    "F MAE",
                    "σ RMSE (GPa)",
                    "wall (s)",
                ],
                rows,
            )
            + "\n\nUnits: meV/atom, meV/Å. Worst structures (|ΔE| after the reference fit, meV/atom; "
            "force RMSE, meV/Å):\n\n"
            + "\n".join(
                f"- {name}: energy "
                + (
                    ", ".join(f"{i} ({v:+.0f})" for i, v in s.get("worst_energy_corrected", [])[:worst_k])
                    or "–"
                )
                + "; forces "
                + (", ".join(f"{i} ({v:.0f})" for i, v in s.get("worst_force", [])[:worst_k]) or "–")
                for name, s in accuracy.items()
            )
        )
    rattle = summaries.get("rattle_relax", {})
    if rattle:
        rows = [
            [
                name,
                _fraction(s, "converged_fraction"),
                _fmt(s.get("rmsd_A_median"), 3),
                _fmt(s.get("rmsd_A_max"), 3),
                _fmt(s.get("sm_rmsd_median"), 3),
                _fraction(s, "symmetry_match_fraction"),
                _fmt(s.get("volume_change_pct_median"), 2),
                _fmt(s.get("e_above_dft_min_meV_median")),
                _fmt(s.get("steps_median"), 0),
                _fmt(s.get("wall_time_s"), 0),
            ]
            for name, s in rattle.items()
        ]
        parts.append(
            "## Rattle and relax (DFT-relaxed test structures)\n\n"
            + markdown_table(
                [
                    "calculator",
                    "converged",
                    "RMSD median (Å)",
                    "RMSD max (Å)",
                    "SM RMSD median (norm.)",
                    "same space group",
                    "ΔV median (%)",
                    "E − E(DFT geom.) median (meV/atom)",
                    "steps median",
                    "wall (s)",
                ],
                rows,
            )
        )
    if "task" in table and (table["task"] == "substitution").any():
        sub = table[table["task"] == "substitution"]
        rows = []
        for (name, lattice, arrangement), group in sub.groupby(
            ["calculator", "lattice", "arrangement"], sort=False, dropna=False
        ):
            a_final = group["a_final_A"].to_numpy(float)
            a_exp = group["a_exp_A"].to_numpy(float)
            finite = np.isfinite(a_final)
            rows.append(
                [
                    str(name),
                    str(lattice),
                    str(arrangement),
                    f"{int(group['converged'].sum())}/{len(group)}",
                    str(int((group["status"] == "failed").sum())),
                    _fmt(float(np.median(group["steps"])), 0),
                    _fmt(float(np.median(a_final[finite])) if finite.any() else float("nan"), 3),
                    _fmt(float(a_exp[0]), 2),
                    _fmt(
                        float(np.nanmedian(group["a_error_pct"])) if np.isfinite(a_exp[0]) else float("nan"),
                        2,
                    ),
                    _fmt(
                        float(np.nanmax(group["cell_distortion_pct"]))
                        if group["cell_distortion_pct"].notna().any()
                        else None,
                        2,
                    ),
                    _fmt(
                        float(np.nanmax(group["max_stress_gpa"]))
                        if group["max_stress_gpa"].notna().any()
                        else None,
                        2,
                    ),
                    _fmt(
                        float(np.nanmedian(group["energy_ref_per_atom"]))
                        if group["energy_ref_per_atom"].notna().any()
                        else None,
                        4,
                    ),
                    _fmt(float(group["wall_time_s"].sum()), 0),
                ]
            )
        reference = next((r for r in sub["reference_calc"] if isinstance(r, str) and r), "")
        parts.append(
            "## Substitution (equimolar five-cation supercells, out of distribution)\n\n"
            + markdown_table(
                [
                    "calculator",
                    "lattice",
                    "arrangement",
                    "converged",
                    "failed",
                    "steps",
                    "a final (Å)",
                    "a exp. (Å)",
                    "a error (%)",
                    "cell distortion max (%)",
                    "max σ left (GPa)",
                    f"E under {reference or '--reference-calc'} (eV/atom)",
                    "wall (s)",
                ],
                rows,
            )
            + "\n\nPseudo-cubic a from the volume; experimental values only where cited in "
            "benchmark_suite/substitution.py. The energy column is every final structure evaluated with "
            "the same reference calculator (lower: the model found a structure that the yardstick deems "
            "more stable); a model's own energies are not comparable across models."
        )
    return "\n\n".join(parts)


def markdown_report(
    records: Sequence[dict[str, Any]],
    table: pd.DataFrame,
    *,
    calculators: Sequence[str],
    skipped: dict[str, str],
    context: dict[str, Any],
) -> str:
    """The whole markdown summary: context, headline table, task sections and conventions."""
    lines = [
        "# HEO benchmark",
        "",
        f"profile `{context.get('profile')}`, dataset `{context.get('dataset') or 'none'}`, "
        f"reference calculator `{context.get('reference_calc') or 'none'}`, "
        f"fmax {context.get('fmax')} eV/Å, max steps {context.get('max_steps')}",
        "",
        headline_table(records, calculators, skipped),
        "",
        task_tables(records, table, worst_k=int(context.get("worst_k", 5))),
        "",
        "Conventions: force errors per Cartesian component over all atoms (mace-torch's; sevenn logs "
        "the vector norm, sqrt(3) larger); StructureMatcher RMSD (stol 1.0, scale False) is normalised "
        "by (V/n)^(1/3); RMSD in Å uses the same atom order, minimum image and the DFT cell. "
        "Errors on HEO data are heavy-tailed: read MAE and median beside RMSE. "
        "Data: LeMat-Bulk (CC-BY-4.0) where the HEO dev data are used.",
    ]
    return "\n".join(lines).rstrip() + "\n"


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


def _plot(records: Sequence[dict[str, Any]], table: pd.DataFrame, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []

    def save(figure, name: str) -> None:
        path = out_dir / name
        _atomic_write(path, lambda p: figure.savefig(p, format="png", dpi=110, bbox_inches="tight"))
        plt.close(figure)
        written.append(path)

    accuracy = [r for r in records if r["task"] == "accuracy" and r.get("arrays")]
    for key, x_key, y_key, label, unit, name in (
        (
            "energy",
            "energy_DFT",
            "energy_pred_corrected",
            "energy per atom",
            "eV/atom",
            "parity_energy.png",
        ),
        ("forces", "force_DFT", "force_pred", "force component", "eV/Å", "parity_forces.png"),
    ):
        panels = [r for r in accuracy if r["arrays"].get(x_key)]
        if not panels:
            continue
        figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.2), squeeze=False)
        for axis, record in zip(axes[0], panels):
            x = np.asarray(record["arrays"][x_key], float)
            y = np.asarray(record["arrays"][y_key], float)
            axis.scatter(x, y, s=6, alpha=0.5)
            low, high = float(np.nanmin([x.min(), y.min()])), float(np.nanmax([x.max(), y.max()]))
            axis.plot([low, high], [low, high], "k--", lw=0.8)
            predicted = "predicted, after the reference fit" if key == "energy" else "predicted"
            axis.set(
                xlabel=f"DFT {label} ({unit})", ylabel=f"{predicted} ({unit})", title=record["calculator"]
            )
        figure.tight_layout()
        save(figure, name)

    if "task" in table and len(table):
        rattle = table[table["task"] == "rattle_relax"]
        if len(rattle) and rattle["rmsd_A"].notna().any():
            names = list(dict.fromkeys(rattle["calculator"]))
            figure, axis = plt.subplots(figsize=(1.5 + 1.2 * len(names), 4))
            data = [rattle.loc[rattle["calculator"] == n, "rmsd_A"].dropna().to_numpy(float) for n in names]
            for i, values in enumerate(data):
                axis.scatter(np.full(len(values), i) + np.linspace(-0.1, 0.1, len(values)), values, s=12)
            axis.set_xticks(range(len(names)), names, rotation=30, ha="right")
            axis.set(ylabel="RMSD to DFT structure (Å)", title="rattle and relax")
            save(figure, "rattle_rmsd.png")
        relaxed = table[table["task"].isin(["rattle_relax", "substitution"])]
        if len(relaxed):
            groups = list(dict.fromkeys(zip(relaxed["task"], relaxed["calculator"])))
            figure, axis = plt.subplots(figsize=(1.5 + 1.2 * len(groups), 4))
            data = [
                relaxed.loc[(relaxed["task"] == t) & (relaxed["calculator"] == c), "steps"].to_numpy(float)
                for t, c in groups
            ]
            axis.boxplot(data)
            axis.set_xticks(
                range(1, len(groups) + 1), [f"{c}\n{t}" for t, c in groups], rotation=30, ha="right"
            )
            axis.set(ylabel="optimizer steps", title="relaxation steps")
            save(figure, "relax_steps.png")
    return written


def write_report(
    out_dir: str | Path,
    records: Sequence[dict[str, Any]],
    *,
    calculators: Sequence[str],
    skipped: dict[str, str],
    context: dict[str, Any],
) -> dict[str, Path]:
    """Write ``rows.csv``, ``rows.json``, ``summary.json``, ``summary.md`` and the PNG plots.

    Every file is written to a temporary name in ``out_dir`` and renamed, so a reader never
    sees a half-written file. Returns the paths by kind.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = rows_table(records)
    markdown = markdown_report(records, table, calculators=calculators, skipped=skipped, context=context)
    paths = {
        "rows_csv": out_dir / "rows.csv",
        "rows_json": out_dir / "rows.json",
        "summary_json": out_dir / "summary.json",
        "summary_md": out_dir / "summary.md",
    }
    _atomic_write(paths["rows_csv"], lambda p: table.to_csv(p, index=False))
    atomic_write_text(paths["rows_json"], dumps(table.to_dict(orient="records")))
    summary = {
        "context": context,
        "calculators": list(calculators),
        "skipped": skipped,
        "summaries": _summaries(records),
    }
    atomic_write_text(paths["summary_json"], dumps(summary))
    atomic_write_text(paths["summary_md"], markdown)
    for path in _plot(records, table, out_dir):
        paths[path.stem] = path
    return paths
