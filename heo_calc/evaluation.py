"""Accuracy of registered calculators on labelled HEO structures (the model card's numbers).

Built on :mod:`heo_calc.metrics` (the one metrics module): per-structure tables, then
headline numbers. Energies are compared raw and after a per-element linear reference
fitted on a separate set (by default the dataset's train split), so a model trained on
differently referenced energies is compared fairly without fitting away its test error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from ase import Atoms

from heo_calc import metrics

logger = logging.getLogger(__name__)

#: eV/atom; see :func:`heo_calc.metrics.fit_elemental_offsets`.
REFERENCE_FIT_HUBER_DELTA = 0.05


def evaluate_calculator(
    name: str,
    structures: Sequence[Atoms],
    *,
    fit_structures: Sequence[Atoms] | None = None,
    device: str = "cpu",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Evaluate registry calculator ``name`` on ``structures`` (labels: REF_/DFT_ keys).

    Returns the per-structure table (:func:`heo_calc.metrics.evaluate_structures` plus
    ``energy_error_corrected``, eV/atom) and :func:`heo_calc.metrics.accuracy_summary`
    (meV/atom, meV/Å per component). The per-element reference is fitted on
    ``fit_structures`` (evaluated too) or, without them, on ``structures`` themselves.
    """
    from heo_calc.registry import get_calculator

    calculator = get_calculator(name, device=device)
    table = metrics.evaluate_structures(calculator, structures)
    composition, elements = metrics.composition_matrix(structures)
    fit_kwargs: dict[str, Any] = {}
    if fit_structures:
        fit_table = metrics.evaluate_structures(calculator, fit_structures)
        fit_composition, _ = metrics.composition_matrix(fit_structures, elements)
        fit_kwargs = {
            "fit_composition": fit_composition,
            "fit_predicted": fit_table["energy_pred"].to_numpy(float),
            "fit_reference": fit_table["energy_DFT"].to_numpy(float),
        }
    # Huber (0.05 eV/atom), as the benchmark suite: the few structures with 0.2-0.7 eV/atom
    # errors (inconsistent DFT settings) must not set every element's reference.
    corrected, _ = metrics.reference_corrected_errors(
        table["energy_pred"].to_numpy(float),
        table["energy_DFT"].to_numpy(float),
        composition,
        huber_delta=REFERENCE_FIT_HUBER_DELTA,
        **fit_kwargs,
    )
    table["energy_error_corrected"] = corrected
    table.insert(0, "calculator", name)
    return table, metrics.accuracy_summary(table)


def format_summary_table(summaries: dict[str, dict[str, Any]]) -> str:
    """A markdown table of accuracy summaries, one row per calculator."""
    lines = [
        "| calculator | force RMSE (meV/Å) | force MAE (meV/Å) | energy RMSE raw (meV/atom) | energy MAE raw | "
        "energy median raw | energy RMSE ref-fit | energy MAE ref-fit | n (failed) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in summaries.items():
        lines.append(
            f"| {name} | {s['force_rmse']:.1f} | {s['force_mae']:.1f} | {s['energy_rmse']:.1f} | "
            f"{s['energy_mae']:.1f} | {s['energy_median']:.1f} | {s.get('energy_rmse_corrected', np.nan):.1f} | "
            f"{s.get('energy_mae_corrected', np.nan):.1f} | {s['n']} ({s['n_failed']}) |"
        )
    return "\n".join(lines)


def format_worst(summaries: dict[str, dict[str, Any]]) -> str:
    """The worst structures by energy and by force error, per calculator, as markdown."""
    lines = []
    for name, s in summaries.items():
        energy = ", ".join(f"{i} ({v:+.0f})" for i, v in s["worst_energy"])
        force = ", ".join(f"{i} ({v:.0f})" for i, v in s["worst_force"])
        lines.append(f"- {name}: worst energy (meV/atom): {energy}; worst force RMSE (meV/Å): {force}")
    return "\n".join(lines)
