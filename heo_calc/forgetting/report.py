"""The forgetting report in markdown: one summary row per model, then its tables against the base.

Formats the rows of :mod:`heo_calc.forgetting.comparison`; writes nothing (the command
writes ``forgetting.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from heo_base.markdown import markdown_table


def _f(value: float, digits: int) -> str:
    return "" if not np.isfinite(value) else f"{value:.{digits}f}"


def _statuses(row: Any) -> str:
    """One status when base and model agree, else ``base / model``."""
    return (
        row.status_base if row.status_base == row.status_model else f"{row.status_base} / {row.status_model}"
    )


def _mixing_range(summary: dict[str, Any]) -> str:
    """``mean [min, max]`` of the mixing-energy deltas, or empty without solid solutions."""
    if not summary.get("n_solid_solutions"):
        return ""
    mean = _f(summary["delta_mixing_mean_meV_per_atom"], 1)
    low = _f(summary["delta_mixing_min_meV_per_atom"], 1)
    high = _f(summary["delta_mixing_max_meV_per_atom"], 1)
    return f"{mean} [{low}, {high}]"


def _binary_table(binaries: pd.DataFrame, model: str, base: str) -> str:
    """The binary oxides of one model against its base."""
    header = [
        "oxide",
        "prototype",
        f"E/f.u. {base} (eV)",
        "ΔE/f.u. (meV)",
        f"a {base} (Å)",
        f"a {model} (Å)",
        "Δa (%)",
        "a exp. (Å)",
        f"B {base} (GPa)",
        f"B {model} (GPa)",
        "ΔB (%)",
        "B exp. (GPa)",
        "max |σ| base / model (GPa)",
        "status",
    ]
    rows = [
        [
            r.structure,
            r.prototype,
            _f(r.energy_per_fu_base_eV, 3),
            _f(r.delta_energy_per_fu_meV, 0),
            _f(r.a_base_A, 3),
            _f(r.a_model_A, 3),
            _f(r.delta_a_percent, 2),
            _f(r.a_exp_A, 3),
            _f(r.bulk_modulus_base_GPa, 0),
            _f(r.bulk_modulus_model_GPa, 0),
            _f(r.delta_bulk_modulus_percent, 1),
            _f(r.bulk_modulus_exp_GPa, 0),
            f"{_f(r.max_stress_base_GPa, 2)} / {_f(r.max_stress_model_GPa, 2)}",
            _statuses(r),
        ]
        for r in binaries.itertuples()
    ]
    return markdown_table(header, rows)


def _solution_table(solutions: pd.DataFrame, model: str, base: str) -> str:
    """The solid solutions of one model against its base."""
    header = [
        "solid solution",
        f"E_mix {base} (meV/atom)",
        f"E_mix {model} (meV/atom)",
        "ΔE_mix (meV/atom)",
        f"a {base} (Å)",
        f"a {model} (Å)",
        "a exp. (Å)",
        "status",
    ]
    rows = [
        [
            r.structure,
            _f(r.mixing_base_meV_per_atom, 1),
            _f(r.mixing_model_meV_per_atom, 1),
            _f(r.delta_mixing_meV_per_atom, 1),
            _f(r.a_base_A, 3),
            _f(r.a_model_A, 3),
            _f(r.a_exp_A, 3),
            _statuses(r),
        ]
        for r in solutions.itertuples()
    ]
    return markdown_table(header, rows)


def format_comparison(comparison: pd.DataFrame) -> str:
    """Markdown tables of one model against its base: binaries, then solid solutions."""
    if comparison.empty:
        return "(nothing compared)"
    model, base = comparison["model"].iloc[0], comparison["base"].iloc[0]
    lines = [f"### {model} against {base}", ""]
    binaries = comparison[comparison["kind"] == "binary"]
    if len(binaries):
        lines += [_binary_table(binaries, model, base), ""]
    solutions = comparison[comparison["kind"] == "solid solution"]
    if len(solutions):
        lines += [_solution_table(solutions, model, base), ""]
    return "\n".join(lines)


def format_summaries(summaries: dict[str, dict[str, Any]]) -> str:
    """One markdown row per model: the headline numbers of :func:`~heo_calc.forgetting.comparison.summarize_comparison`."""
    header = [
        "model vs base",
        "binaries",
        "mean ΔE/f.u. (meV)",
        "median |ΔE/f.u.| (meV)",
        "max |ΔE/f.u.| (meV, oxide)",
        "mean Δa (%)",
        "median |Δa| (%)",
        "max |Δa| (%, oxide)",
        "mean ΔE_mix (meV/atom) [range]",
        "mean |ΔE_mix| (meV/atom)",
        "median |ΔB| (%)",
        "mean |B/B_exp − 1| base / model",
    ]
    rows = []
    for label, s in summaries.items():
        nan = float("nan")
        rows.append(
            [
                label,
                s.get("n_binaries", 0),
                _f(s.get("delta_energy_per_fu_mean_meV", nan), 0),
                _f(s.get("abs_delta_energy_per_fu_median_meV", nan), 0),
                f"{_f(s.get('abs_delta_energy_per_fu_max_meV', nan), 0)} ({s.get('abs_delta_energy_worst', '')})",
                _f(s.get("delta_a_percent_mean", nan), 2),
                _f(s.get("abs_delta_a_percent_median", nan), 2),
                f"{_f(s.get('abs_delta_a_percent_max', nan), 2)} ({s.get('abs_delta_a_worst', '')})",
                _mixing_range(s),
                _f(s.get("abs_delta_mixing_mean_meV_per_atom", nan), 1),
                _f(s.get("abs_delta_bulk_modulus_percent_median", nan), 1),
                f"{_f(s.get('bulk_modulus_base_vs_exp_mean_abs', nan), 3)} / "
                f"{_f(s.get('bulk_modulus_model_vs_exp_mean_abs', nan), 3)}",
            ]
        )
    return markdown_table(header, rows)
