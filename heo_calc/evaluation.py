"""Accuracy of registered calculators on labelled HEO structures (the model card's numbers).

Built on :mod:`heo_calc.metrics` (the one metrics module): per-structure tables, then
headline numbers. Energies are compared raw and after a per-element linear reference
fitted on a separate set (by default the dataset's train split), so a model trained on
differently referenced energies is compared fairly without fitting away its test error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_calc import metrics

logger = logging.getLogger(__name__)

#: eV/atom; see :func:`heo_calc.metrics.fit_elemental_offsets`.
REFERENCE_FIT_HUBER_DELTA = 0.05


def evaluate_accuracy(
    calculator: Calculator,
    test: Sequence[Atoms],
    fit: Sequence[Atoms] = (),
    *,
    worst_k: int = 5,
    huber_delta: float | None = REFERENCE_FIT_HUBER_DELTA,
    keep_arrays: bool = False,
    validate: Callable[[Atoms], None] | None = None,
    fit_table: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Energy, force (and stress) errors of ``calculator`` on ``test``, energies also after a reference fit.

    The per-element linear reference (:func:`heo_calc.metrics.reference_corrected_errors`)
    is fitted on ``fit`` (structures formula-disjoint from ``test``, evaluated with the same
    model); with an empty ``fit`` it is fitted on ``test`` itself (in-sample, said in the
    summary's ``reference_fit``). The fit is robust (Huber loss on per-atom residuals,
    ``huber_delta`` eV/atom; ``None`` for plain least squares), because a few structures of
    HEO data carry 0.2-0.7 eV/atom errors. ``fit_table``: the same calculator's
    :func:`heo_calc.metrics.evaluate_structures` table of ``fit``, when already computed
    (several test sets, one fit set).

    Returns the per-structure table (:func:`heo_calc.metrics.evaluate_structures` plus
    ``energy_error_corrected``, eV/atom) and :func:`heo_calc.metrics.accuracy_summary`
    (meV/atom, meV/Å per component) with ``reference_fit``, ``reference_offsets_eV`` and
    ``n_fit`` added.
    """
    table = metrics.evaluate_structures(calculator, test, keep_arrays=keep_arrays, validate=validate)
    if fit_table is None and len(fit):
        fit_table = metrics.evaluate_structures(calculator, fit, validate=validate)
    composition, elements = metrics.composition_matrix(list(test) + list(fit))
    test_composition = composition[: len(test)]
    fit_kwargs: dict[str, Any] = {}
    fit_kind = "in-sample (test structures)"
    if fit_table is not None and np.isfinite(fit_table["energy_pred"]).sum() >= 1:
        fit_kwargs = {
            "fit_composition": composition[len(test) :],
            "fit_predicted": fit_table["energy_pred"],
            "fit_reference": fit_table["energy_DFT"],
        }
        fit_kind = f"{int(np.isfinite(fit_table['energy_pred']).sum())} structures formula-disjoint from test"
    fit_kind += f", Huber delta {huber_delta} eV/atom" if huber_delta is not None else ", least squares"
    corrected, offsets = metrics.reference_corrected_errors(
        table["energy_pred"], table["energy_DFT"], test_composition, huber_delta=huber_delta, **fit_kwargs
    )
    table["energy_error_corrected"] = corrected
    summary = metrics.accuracy_summary(table, worst_k=worst_k)
    summary["reference_fit"] = fit_kind
    summary["reference_offsets_eV"] = {e: float(o) for e, o in zip(elements, offsets)}
    summary["n_fit"] = len(fit)
    return table, summary


def evaluate_calculator(
    name: str,
    structures: Sequence[Atoms],
    *,
    fit_structures: Sequence[Atoms] | None = None,
    device: str = "cpu",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """:func:`evaluate_accuracy` of the registry calculator ``name``, with a ``calculator`` column."""
    return evaluate_calculator_on_splits(
        name, {"": structures}, fit_structures=fit_structures, device=device
    )[""]


def evaluate_calculator_on_splits(
    name: str,
    splits: Mapping[str, Sequence[Atoms]],
    *,
    fit_structures: Sequence[Atoms] | None = None,
    device: str = "cpu",
) -> dict[str, tuple[pd.DataFrame, dict[str, Any]]]:
    """:func:`evaluate_calculator` on several sets (e.g. valid and test), the reference fit evaluated once.

    Returns, per key of ``splits``, the per-structure table and the summary.
    """
    from heo_calc.registry import get_calculator

    calculator = get_calculator(name, device=device)
    fit = fit_structures or ()
    fit_table = metrics.evaluate_structures(calculator, fit) if len(fit) else None
    results = {}
    for split, structures in splits.items():
        table, summary = evaluate_accuracy(calculator, structures, fit, fit_table=fit_table)
        table.insert(0, "calculator", name)
        results[split] = (table, summary)
    return results


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
