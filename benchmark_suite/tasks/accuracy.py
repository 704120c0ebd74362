"""Task ``accuracy``: energy, force (and stress) errors on the dataset's test split.

The task function (:func:`run_accuracy`), its metrics, headline columns, report section,
parity plots and profile sizes; :data:`SPEC` is its record in :mod:`benchmark_suite.registry`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd
from ase import Atoms
from ase.calculators.calculator import Calculator

from benchmark_suite.catalogue import METRICS
from benchmark_suite.sections import task_metric_table, worst_lines
from benchmark_suite.statistics import mae_metric, median_metric, rmse_metric
from benchmark_suite.task_spec import (
    Plot,
    ReportView,
    SessionView,
    SizeOption,
    TaskMetric,
    TaskSkip,
    TaskSpec,
)
from benchmark_suite.tasks.common import ReferenceFit, TaskResult, validator
from heo_base.units import EV_PER_A3_TO_GPA, MEV
from heo_calc.model import ModelHandle
from heo_calc.status import Status

NAME: Final = "accuracy"

# ---------------------------------------------------------------------------------------
# the task
# ---------------------------------------------------------------------------------------


def _parity_arrays(table: pd.DataFrame) -> dict[str, list[float]]:
    """Energies per atom (DFT, predicted, predicted after the fit; eV/atom) and force components (eV/Å) of the ok rows."""
    ok = table[table["status"] == Status.OK]
    arrays: dict[str, list[float]] = {
        "energy_DFT": ok["energy_per_atom_DFT"].astype(float).tolist(),
        "energy_pred": ok["energy_per_atom_pred"].astype(float).tolist(),
        "energy_pred_corrected": (ok["energy_per_atom_DFT"] + ok["energy_error_corrected"])
        .astype(float)
        .tolist(),
        "force_DFT": [],
        "force_pred": [],
    }
    for reference, predicted in zip(ok["forces_DFT"], ok["forces_pred"]):
        if reference is not None and predicted is not None:
            arrays["force_DFT"].extend(np.asarray(reference).ravel().tolist())
            arrays["force_pred"].extend(np.asarray(predicted).ravel().tolist())
    return arrays


def run_accuracy(
    calculator: Calculator,
    calculator_name: str,
    test: Sequence[Atoms],
    fit: Sequence[Atoms] = (),
    *,
    worst_k: int = 5,
    huber_delta: float | None = 0.05,
) -> TaskResult:
    """Energy, force (and stress) errors on ``test``; energies also after a per-element reference fit.

    The numbers come from :func:`heo_calc.evaluation.evaluate_accuracy` (the same code as
    ``heo-calc evaluate``), with the reference fitted on ``fit`` (train/valid structures,
    formula-disjoint from test). A per-element fit carries its own noise (one
    parameter per element): read the raw errors for models trained on the same DFT
    reference as the data (SevenNet-0, MACE-MP-0), the fitted ones to compare models whose
    energy references differ (CHGNet's MP2020-corrected energies).

    Row columns: those of :func:`heo_calc.evaluation.evaluate_structures` (forces NaN and
    ``n_force_components`` 0 where the data carry no forces) plus ``task``, ``calculator``,
    ``energy_error_corrected`` and ``energy_abs_error_corrected`` (eV/atom) and the meV
    versions ``energy_error_meV``, ``energy_error_corrected_meV`` (meV/atom),
    ``force_rmse_meV`` (meV/Å).
    """
    from heo_calc.evaluation import evaluate_accuracy

    started = time.perf_counter()
    table, accuracy = evaluate_accuracy(
        calculator,
        test,
        fit,
        worst_k=worst_k,
        huber_delta=huber_delta,
        keep_arrays=True,
        validate=validator(calculator),
    )
    arrays = _parity_arrays(table)
    rows = table.drop(columns=["forces_DFT", "forces_pred"])
    rows["energy_abs_error_corrected"] = rows["energy_error_corrected"].abs()
    rows["energy_error_meV"] = rows["energy_error"] * MEV
    rows["energy_error_corrected_meV"] = rows["energy_error_corrected"] * MEV
    rows["force_rmse_meV"] = rows["force_rmse"] * MEV
    rows.insert(0, "calculator", calculator_name)
    rows.insert(0, "task", NAME)
    fitted = ReferenceFit(accuracy.reference_fit, accuracy.n_fit, dict(accuracy.reference_offsets_eV))
    return TaskResult(NAME, calculator_name, rows, time.perf_counter() - started, arrays, fitted)


# ---------------------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------------------


def relative_energy_pairs(rows: pd.DataFrame) -> pd.DataFrame:
    """Pairs of structures of one reduced formula: the error of the model's energy difference.

    For every formula with two or more structures, every pair (i, j) gets
    ``relative_energy_error`` = (E_i − E_j)_model − (E_i − E_j)_DFT per atom (eV/atom),
    which is ``energy_error_i − energy_error_j``: a constant energy offset of the model
    cancels, as it does in a polymorph ranking. Ids ``i|j``. Pairs that share a structure
    are not independent, so the bootstrap over pairs is somewhat narrow.
    """
    columns = ["id", "status", "relative_energy_error"]
    if not {"formula", "energy_error"} <= set(rows.columns):
        return pd.DataFrame(columns=columns)
    pairs = []
    for _, group in rows.groupby("formula", sort=True):
        records = group[["id", "status", "energy_error"]].to_dict("records")
        for i, first in enumerate(records):
            for second in records[i + 1 :]:
                failed = Status.FAILED in (first["status"], second["status"])
                pairs.append(
                    {
                        "id": f"{first['id']}|{second['id']}",
                        "status": Status.FAILED if failed else Status.OK,
                        "relative_energy_error": float(first["energy_error"]) - float(second["energy_error"]),
                    }
                )
    return pd.DataFrame(pairs, columns=columns)


def _no_dft_forces(per_calculator: Mapping[str, pd.DataFrame]) -> str:
    """Why a force metric is empty when no row counts a DFT force component, else ''."""
    counts = pd.concat([rows["n_force_components"] for rows in per_calculator.values()])
    if (counts.fillna(0) == 0).all():
        return "the test structures carry no DFT forces (n_force_components = 0 on every row)"
    return ""


ENERGY_MEDIAN_ABS_CORRECTED: Final = median_metric(
    "energy_abs_error_corrected",
    name="energy_median_abs_corrected",
    unit="meV/atom",
    direction="lower",
    scale=MEV,
)

ACCURACY_METRICS: Final[tuple[TaskMetric, ...]] = (
    TaskMetric(NAME, METRICS["energy_rmse_corrected"], "E RMSE ref-fit (meV/atom)"),
    TaskMetric(NAME, METRICS["energy_mae_corrected"], "E MAE ref-fit (meV/atom)"),
    TaskMetric(NAME, ENERGY_MEDIAN_ABS_CORRECTED, "E median abs. ref-fit (meV/atom)"),
    TaskMetric(NAME, METRICS["energy_rmse"], "E RMSE raw (meV/atom)"),
    TaskMetric(NAME, METRICS["energy_mae"], "E MAE raw (meV/atom)"),
    TaskMetric(NAME, METRICS["force_rmse"], "F RMSE (meV/Å)", empty_reason=_no_dft_forces),
    TaskMetric(NAME, METRICS["force_mae"], "F MAE (meV/Å)", empty_reason=_no_dft_forces),
    TaskMetric(
        NAME,
        rmse_metric("stress_rmse", "stress_rmse", unit="GPa", scale=EV_PER_A3_TO_GPA),
        "σ RMSE (GPa)",
        digits=3,
        empty_reason="the test structures carry no DFT stress",
    ),
    TaskMetric(
        NAME,
        mae_metric("relative_energy_mae", "relative_energy_error", unit="meV/atom", scale=MEV),
        "ΔE within a formula MAE (meV/atom)",
        derive=relative_energy_pairs,
        empty_reason="no formula has two or more test structures",
    ),
)

# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------

TITLE: Final = "Accuracy on the test split"

HEADLINE: Final[tuple[tuple[str, str], ...]] = (
    ("accuracy.energy_rmse_corrected", "E RMSE ref-fit (meV/atom)"),
    ("accuracy.energy_mae_corrected", "E MAE ref-fit (meV/atom)"),
    ("accuracy.energy_rmse", "E RMSE raw (meV/atom)"),
    ("accuracy.force_rmse", "F RMSE (meV/Å)"),
    ("accuracy.force_mae", "F MAE (meV/Å)"),
    ("accuracy.relative_energy_mae", "ΔE within formula MAE (meV/atom)"),
)


def section(report: ReportView, worst_k: int) -> str:
    """The accuracy section: the metric table and the ``worst_k`` worst structures by energy and force."""
    return "\n\n".join(
        [
            f"## {TITLE}",
            "Energies per atom (raw, and after the per-element linear reference fitted on train/valid "
            "structures, formula-disjoint from test); forces per Cartesian component over all atoms.",
            task_metric_table(report, NAME),
            "Worst structures by |ΔE| after the reference fit (meV/atom):",
            "\n".join(worst_lines(report, NAME, "energy_error_corrected_meV", worst_k, signed=True)),
            "Worst structures by force RMSE (meV/Å):",
            "\n".join(worst_lines(report, NAME, "force_rmse_meV", worst_k, signed=False)),
        ]
    )


def _parity(plt: Any, records: Sequence[TaskResult], x_key: str, y_key: str, label: str, unit: str) -> Any:
    """One panel per calculator with parity data (``records[...].arrays``), or None."""
    panels = [r for r in records if r.task == NAME and r.arrays.get(x_key)]
    if not panels:
        return None
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.2), squeeze=False)
    for axis, record in zip(axes[0], panels):
        x = np.asarray(record.arrays[x_key], float)
        y = np.asarray(record.arrays[y_key], float)
        axis.scatter(x, y, s=6, alpha=0.5)
        low, high = float(np.nanmin([x.min(), y.min()])), float(np.nanmax([x.max(), y.max()]))
        axis.plot([low, high], [low, high], "k--", lw=0.8)
        predicted = "predicted, after the reference fit" if x_key == "energy_DFT" else "predicted"
        axis.set(xlabel=f"DFT {label} ({unit})", ylabel=f"{predicted} ({unit})", title=record.calculator)
    figure.tight_layout()
    return figure


def parity_energy(plt: Any, records: Sequence[TaskResult], table: pd.DataFrame) -> Any:
    """Predicted (after the reference fit) against DFT energy per atom (eV/atom), one panel per calculator."""
    return _parity(plt, records, "energy_DFT", "energy_pred_corrected", "energy per atom", "eV/atom")


def parity_forces(plt: Any, records: Sequence[TaskResult], table: pd.DataFrame) -> Any:
    """Predicted against DFT force components (eV/Å), one panel per calculator."""
    return _parity(plt, records, "force_DFT", "force_pred", "force component", "eV/Å")


# ---------------------------------------------------------------------------------------
# profile sizes and the record
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccuracySizes:
    """How much of the accuracy task a profile runs.

    Attributes:
        accuracy_n_test: test-split structures evaluated, a seeded random sample (``None``: all).
        accuracy_n_fit: train- and valid-split structures (formula-disjoint from test)
            evaluated to fit the per-element energy reference, chosen to cover every element
            (:func:`benchmark_suite.data.element_coverage_sample`; ``None``: all; 0: fit on the
            test structures themselves, in-sample). The fit has one parameter per element
            (~60 in the dev data), so it needs of the order of a hundred structures:
            measured with CHGNet on 16 test structures (plain least squares), 16 fit
            structures left 144 meV/atom RMSE, 128 left 44 and 160 left 38.
        accuracy_fit_max_atoms: only fit structures with at most this many atoms (cheap to
            evaluate; ``None``: any size).
    """

    accuracy_n_test: int | None
    accuracy_n_fit: int | None
    accuracy_fit_max_atoms: int | None = None


@dataclass(frozen=True)
class AccuracyInputs:
    """The structures of the accuracy task: ``test`` evaluated, ``fit`` for the energy reference; ``worst_k`` listed."""

    test: list[Atoms]
    fit: list[Atoms]
    worst_k: int = 5


def prepare(session: SessionView, profile: Any) -> AccuracyInputs:
    """A seeded sample of the test split and an element-covering sample of train/valid (profile sizes)."""
    from benchmark_suite.data import element_coverage_sample, sample

    sizes = profile.sizes(NAME)
    dataset = session.dataset()
    test = sample(dataset.split("test"), sizes.accuracy_n_test)
    if not test:
        raise TaskSkip(f"{dataset.path} has no test-split structures")
    pool = [
        atoms
        for atoms in dataset.split("train") + dataset.split("valid")
        if sizes.accuracy_fit_max_atoms is None or len(atoms) <= sizes.accuracy_fit_max_atoms
    ]
    fit = element_coverage_sample(pool, sizes.accuracy_n_fit) if sizes.accuracy_n_fit != 0 else []
    return AccuracyInputs(test, fit, profile.worst_k)


def run(inputs: AccuracyInputs, model: ModelHandle, session: SessionView) -> TaskResult:
    """:func:`run_accuracy` on the prepared structures."""
    calculator, name = model.calculator(), model.label
    return run_accuracy(calculator, name, inputs.test, inputs.fit, worst_k=inputs.worst_k)


OPTIONS: Final = (
    SizeOption(
        "accuracy_n_test",
        "--heo-n-accuracy",
        "test structures evaluated, a seeded sample",
        minimum=1,
    ),
    SizeOption(
        "accuracy_n_fit",
        "--heo-n-fit",
        "train/valid structures for the per-element energy-reference fit, chosen to cover every element "
        "(0 fits on the test structures, in-sample)",
        minimum=0,
    ),
)

SPEC: Final = TaskSpec[AccuracySizes](
    name=NAME,
    title=TITLE,
    metrics=ACCURACY_METRICS,
    headline=HEADLINE,
    section=section,
    plots=(Plot("parity_energy.png", parity_energy), Plot("parity_forces.png", parity_forces)),
    # quick: 64 test structures; the whole test split and fit pool in the full benchmark.
    sizes={"quick": AccuracySizes(64, 192), "full": AccuracySizes(None, None)},
    options=OPTIONS,
    prepare=prepare,
    run=run,
    expected_rows=lambda inputs: len(inputs.test),
    context=("accuracy_n_test", "accuracy_n_fit"),
    pairing=("accuracy_n_test", "accuracy_n_fit"),
    table_keys=(
        "accuracy.force_rmse",
        "accuracy.energy_mae",
        "accuracy.energy_mae_corrected",
        "accuracy.relative_energy_mae",
    ),
    count_in_headline=True,
    conventions="Force errors per Cartesian component over all atoms (mace-torch's; sevenn logs the vector "
    "norm, sqrt(3) larger)",
)
