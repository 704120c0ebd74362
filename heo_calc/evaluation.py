"""Accuracy of calculators on labelled HEO structures: the one evaluation routine.

Each structure is evaluated once through :func:`heo_calc.calculator.evaluate_properties`
(the single-structure evaluation every command shares); its errors come from
:mod:`heo_calc.statistics`. The result is a tidy table, one row per structure, and an
:class:`AccuracySummary` of headline numbers. Energies are compared raw and after a
per-element linear reference fitted on a separate set (by default the dataset's train
split), so a model trained on differently referenced energies is compared fairly without
fitting away its test error. ``heo-calc evaluate``, the model card and the benchmark's
accuracy task all go through :func:`evaluate_accuracy`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_base.labels import energy_label, find_label, forces_label, reduced_formula, structure_id
from heo_base.markdown import markdown_table
from heo_base.units import EV_PER_A3_TO_GPA, MEV
from heo_calc import statistics
from heo_calc.status import Status

logger = logging.getLogger(__name__)

#: eV/atom; see :func:`heo_calc.statistics.fit_elemental_offsets`.
REFERENCE_FIT_HUBER_DELTA: Final = 0.05

#: Columns of :func:`evaluate_structures`, in order.
COLUMNS: Final[tuple[str, ...]] = (
    "id",
    "formula",
    "n_atoms",
    "energy_DFT",
    "energy_pred",
    "energy_per_atom_DFT",
    "energy_per_atom_pred",
    "energy_error",
    "force_rmse",
    "force_mae",
    "force_sq_error_sum",
    "force_abs_error_sum",
    "n_force_components",
    "max_force_DFT",
    "stress_rmse",
    "status",
    "error",
    "wall_time_s",
)

#: Columns added when the calculator reports a committee spread (:mod:`heo_calc.committee`):
#: ``energy_std`` (eV), the largest and the mean per-atom ``forces_std`` (eV/Å).
SPREAD_COLUMNS: Final[tuple[str, ...]] = ("energy_std", "force_spread_max", "force_spread_mean")


def _row_errors(atoms: Atoms, predicted: dict[str, Any] | None) -> dict[str, Any]:
    """Error columns of one structure from its labels and predictions (NaN where either is missing)."""
    n = len(atoms)
    reference_energy = energy_label(atoms)
    reference_forces = forces_label(atoms)
    reference_stress = find_label(atoms, "stress")
    energy_dft = reference_energy if reference_energy is not None else float("nan")
    energy_pred = predicted["energy"] if predicted else float("nan")
    row: dict[str, Any] = {
        "energy_DFT": energy_dft,
        "energy_pred": energy_pred,
        "energy_per_atom_DFT": energy_dft / n,
        "energy_per_atom_pred": energy_pred / n,
        "energy_error": float(statistics.energy_errors_per_atom([energy_pred], [energy_dft], [n])[0]),
        "max_force_DFT": float(np.linalg.norm(reference_forces, axis=1).max())
        if reference_forces is not None
        else float("nan"),
        "force_rmse": float("nan"),
        "force_mae": float("nan"),
        "force_sq_error_sum": float("nan"),
        "force_abs_error_sum": float("nan"),
        "n_force_components": 0,
        "stress_rmse": float("nan"),
    }
    if predicted and reference_forces is not None:
        squared, absolute, count = statistics.force_error_sums(predicted["forces"], reference_forces)
        row.update(
            force_rmse=statistics.force_rmse(predicted["forces"], reference_forces),
            force_mae=statistics.force_mae(predicted["forces"], reference_forces),
            force_sq_error_sum=squared,
            force_abs_error_sum=absolute,
            n_force_components=count,
        )
    if predicted and reference_stress is not None and "stress" in predicted:
        row["stress_rmse"] = statistics.stress_rmse(predicted["stress"], reference_stress)
    return row


def evaluate_structure(
    calculator: Calculator,
    atoms: Atoms,
    index: int = 0,
    *,
    validate: Callable[[Atoms], None] | None = None,
    keep_arrays: bool = False,
) -> dict[str, Any]:
    """One row of :func:`evaluate_structures`; a failing evaluation gives ``status="failed"``, never raises."""
    from heo_calc.calculator import evaluate_properties

    wanted = ("forces", "stress") if find_label(atoms, "stress") is not None else ("forces",)
    started = time.perf_counter()
    predicted: dict[str, Any] | None = None
    status, error = Status.OK, ""
    try:
        if validate is not None:
            validate(atoms)
        predicted = evaluate_properties(calculator, atoms, wanted)
        if not np.isfinite(predicted["energy"]) or not np.isfinite(predicted["forces"]).all():
            raise FloatingPointError("the model returned NaN or infinite energy/forces")
    except Exception as failure:  # one bad structure or model must not stop the table
        identifier = structure_id(atoms, index)
        logger.warning("evaluation of %s failed: %s", identifier, failure)
        predicted, status, error = None, Status.FAILED, f"{type(failure).__name__}: {failure}"
    row = {"id": structure_id(atoms, index), "formula": reduced_formula(atoms), "n_atoms": len(atoms)}
    row.update(_row_errors(atoms, predicted))
    row.update(status=str(status), error=error, wall_time_s=time.perf_counter() - started)
    if predicted and "forces_std" in predicted:
        row.update(
            energy_std=predicted.get("energy_std", float("nan")),
            force_spread_max=float(np.max(predicted["forces_std"])),
            force_spread_mean=float(np.mean(predicted["forces_std"])),
        )
    if keep_arrays:
        row["forces_DFT"] = forces_label(atoms)
        row["forces_pred"] = predicted["forces"] if predicted else None
    return row


def evaluate_structures(
    calculator: Calculator,
    structures: Sequence[Atoms],
    *,
    keep_arrays: bool = False,
    validate: Callable[[Atoms], None] | None = None,
) -> pd.DataFrame:
    """Evaluate ``calculator`` on labelled structures: one row per structure.

    Labels are found by :func:`heo_base.labels.find_label` (total energy in eV, forces in
    eV/Å (n, 3), stress in eV/Å^3). A structure whose evaluation raises or returns
    non-finite values becomes a row with ``status="failed"``, the ``error`` and NaN
    predictions; the others go on. ``validate`` (e.g. a wrapper of
    :func:`heo_calc.validation.check_structure` with the model's elements) is called on
    each structure first; what it raises fails that row.

    Columns (:data:`COLUMNS`): ``id``, ``formula`` (reduced, pymatgen), ``n_atoms``,
    ``energy_DFT`` and ``energy_pred`` (eV), ``energy_per_atom_DFT``/``_pred`` (eV/atom),
    ``energy_error`` (eV/atom, pred - DFT), ``force_rmse`` and ``force_mae`` (eV/Å, per
    component over this structure's atoms), ``force_sq_error_sum`` and
    ``force_abs_error_sum`` ((eV/Å)², eV/Å, over components, for exact aggregation),
    ``n_force_components``, ``max_force_DFT`` (eV/Å), ``stress_rmse`` (eV/Å^3, NaN
    without a stress label), ``status`` (``ok``/``failed``), ``error``, ``wall_time_s``;
    with ``keep_arrays`` also ``forces_DFT``/``forces_pred`` ((n, 3) arrays, for parity plots);
    for a committee (a calculator reporting ``forces_std``) also :data:`SPREAD_COLUMNS`.
    """
    rows = [
        evaluate_structure(calculator, atoms, index, validate=validate, keep_arrays=keep_arrays)
        for index, atoms in enumerate(structures)
    ]
    columns = list(COLUMNS) + (["forces_DFT", "forces_pred"] if keep_arrays else [])
    if any("force_spread_max" in row for row in rows):
        columns += SPREAD_COLUMNS
    return pd.DataFrame(rows, columns=columns)


@dataclass(frozen=True)
class AccuracySummary:
    """Headline accuracy of one calculator on one set, in meV units.

    Energies in meV/atom over structures (raw and, where fitted, after the per-element
    reference: ``*_corrected``), forces in meV/Å per Cartesian component over all atoms of
    all structures, stress RMSE in GPa over structures (NaN without labels). ``worst_*``:
    ``(id, value)`` pairs, largest first (energy error in meV/atom, per-structure force
    RMSE in meV/Å).
    """

    n: int
    n_failed: int
    energy_rmse: float
    energy_mae: float
    energy_median: float
    force_rmse: float
    force_mae: float
    stress_rmse: float
    worst_energy: list[tuple[str, float]]
    worst_force: list[tuple[str, float]]
    energy_rmse_corrected: float = float("nan")
    energy_mae_corrected: float = float("nan")
    energy_median_corrected: float = float("nan")
    worst_energy_corrected: list[tuple[str, float]] = field(default_factory=list)
    reference_fit: str = ""
    reference_offsets_eV: dict[str, float] = field(default_factory=dict)
    n_fit: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize_accuracy(table: pd.DataFrame, *, worst_k: int = 5, **fit: Any) -> AccuracySummary:
    """:class:`AccuracySummary` of an :func:`evaluate_structures` table (with ``energy_error_corrected`` if fitted)."""
    ids = table["id"].astype(str).tolist()
    energy = statistics.summarize_errors(table["energy_error"].to_numpy(float) * MEV, ids, worst_k=worst_k)
    force_rmse, force_mae = statistics.aggregate_force_errors(
        table["force_sq_error_sum"], table["force_abs_error_sum"], table["n_force_components"]
    )
    per_structure_force = table["force_rmse"].to_numpy(float) * MEV
    corrected: dict[str, Any] = {}
    if "energy_error_corrected" in table:
        errors = table["energy_error_corrected"].to_numpy(float) * MEV
        summary = statistics.summarize_errors(errors, ids, worst_k=worst_k)
        corrected = {
            "energy_rmse_corrected": summary["rmse"],
            "energy_mae_corrected": summary["mae"],
            "energy_median_corrected": summary["median"],
            "worst_energy_corrected": summary["worst"],
        }
    return AccuracySummary(
        n=len(table),
        n_failed=int((table["status"] != Status.OK).sum()),
        energy_rmse=energy["rmse"],
        energy_mae=energy["mae"],
        energy_median=energy["median"],
        force_rmse=force_rmse * MEV,
        force_mae=force_mae * MEV,
        stress_rmse=statistics.rmse(table["stress_rmse"].to_numpy(float)) * EV_PER_A3_TO_GPA,
        worst_energy=energy["worst"],
        worst_force=statistics.summarize_errors(per_structure_force, ids, worst_k=worst_k)["worst"],
        **corrected,
        **fit,
    )


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
) -> tuple[pd.DataFrame, AccuracySummary]:
    """Energy, force (and stress) errors of ``calculator`` on ``test``, energies also after a reference fit.

    The per-element linear reference (:func:`heo_calc.statistics.reference_corrected_errors`)
    is fitted on ``fit`` (structures formula-disjoint from ``test``, evaluated with the same
    model); with an empty ``fit`` it is fitted on ``test`` itself (in-sample, said in the
    summary's ``reference_fit``). The fit is robust (Huber loss on per-atom residuals,
    ``huber_delta`` eV/atom; ``None`` for plain least squares), because a few structures of
    HEO data carry 0.2-0.7 eV/atom errors. ``fit_table``: the same calculator's
    :func:`evaluate_structures` table of ``fit``, when already computed (several test sets,
    one fit set).

    Returns the per-structure table (plus ``energy_error_corrected``, eV/atom) and its
    :class:`AccuracySummary`.
    """
    table = evaluate_structures(calculator, test, keep_arrays=keep_arrays, validate=validate)
    if fit_table is None and len(fit):
        fit_table = evaluate_structures(calculator, fit, validate=validate)
    composition, elements = statistics.composition_matrix(list(test) + list(fit))
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
    corrected, offsets = statistics.reference_corrected_errors(
        table["energy_pred"],
        table["energy_DFT"],
        composition[: len(test)],
        huber_delta=huber_delta,
        **fit_kwargs,
    )
    table["energy_error_corrected"] = corrected
    summary = summarize_accuracy(
        table,
        worst_k=worst_k,
        reference_fit=fit_kind,
        reference_offsets_eV={e: float(o) for e, o in zip(elements, offsets)},
        n_fit=len(fit),
    )
    return table, summary


def evaluate_calculator(
    name: str,
    structures: Sequence[Atoms],
    *,
    fit_structures: Sequence[Atoms] | None = None,
    device: str = "cpu",
) -> tuple[pd.DataFrame, AccuracySummary]:
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
) -> dict[str, tuple[pd.DataFrame, AccuracySummary]]:
    """:func:`evaluate_calculator` on several sets (e.g. valid and test), the reference fit evaluated once.

    Returns, per key of ``splits``, the per-structure table and the summary. Each table
    starts with the ``calculator`` column and the model identity's columns
    (:func:`heo_calc.provenance.identity_columns`: ``model_file``, ``model_sha256``,
    ``model_dtype``, ``model_key``), so that every row names the weights that made it.
    """
    from heo_calc.provenance import identity_columns, model_identity
    from heo_calc.registry import get_calculator

    calculator = get_calculator(name, device=device)
    columns = identity_columns(model_identity(calculator, name))
    del columns["model_name"]  # the calculator column
    fit = fit_structures or ()
    fit_table = evaluate_structures(calculator, fit) if len(fit) else None
    results = {}
    for split, structures in splits.items():
        table, summary = evaluate_accuracy(calculator, structures, fit, fit_table=fit_table)
        for position, (column, value) in enumerate({"calculator": name, **columns}.items()):
            table.insert(position, column, value)
        results[split] = (table, summary)
    return results


def format_summary_table(summaries: Mapping[str, AccuracySummary]) -> str:
    """A markdown table of accuracy summaries, one row per calculator."""
    header = [
        "calculator",
        "force RMSE (meV/Å)",
        "force MAE (meV/Å)",
        "energy RMSE raw (meV/atom)",
        "energy MAE raw",
        "energy median raw",
        "energy RMSE ref-fit",
        "energy MAE ref-fit",
        "n (failed)",
    ]
    rows = [
        [
            name,
            *(
                f"{value:.1f}"
                for value in (
                    s.force_rmse,
                    s.force_mae,
                    s.energy_rmse,
                    s.energy_mae,
                    s.energy_median,
                    s.energy_rmse_corrected,
                    s.energy_mae_corrected,
                )
            ),
            f"{s.n} ({s.n_failed})",
        ]
        for name, s in summaries.items()
    ]
    return markdown_table(header, rows)


def format_worst(summaries: Mapping[str, AccuracySummary]) -> str:
    """The worst structures by energy and by force error, per calculator, as markdown."""
    lines = []
    for name, s in summaries.items():
        energy = ", ".join(f"{i} ({v:+.0f})" for i, v in s.worst_energy)
        force = ", ".join(f"{i} ({v:.0f})" for i, v in s.worst_force)
        lines.append(f"- {name}: worst energy (meV/atom): {energy}; worst force RMSE (meV/Å): {force}")
    return "\n".join(lines)
