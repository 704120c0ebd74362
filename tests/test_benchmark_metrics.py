"""benchmark_suite.metrics: every report figure from tidy rows, with intervals and paired verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark_suite.metrics import METRIC_COLUMNS, metric_table, point_values


def _accuracy_rows(
    calculator: str, scale: float, n: int = 40, seed: int = 0, failed: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    components = np.full(n, 30)
    errors = rng.normal(scale=scale, size=(n, 30)) * rng.lognormal(0, 0.3, size=(n, 1))
    energy = rng.normal(scale=scale / 5, size=n)
    rows = pd.DataFrame(
        {
            "task": "accuracy",
            "calculator": calculator,
            "id": [f"s{i}" for i in range(n)],
            "status": "ok",
            "energy_error": energy + 0.5,
            "energy_error_corrected": energy,
            "energy_abs_error_corrected": np.abs(energy),
            "force_sq_error_sum": (errors**2).sum(axis=1),
            "force_abs_error_sum": np.abs(errors).sum(axis=1),
            "n_force_components": components,
            "stress_rmse": np.nan,
        }
    )
    rows.loc[: failed - 1, ["status"]] = "failed"
    rows.loc[: failed - 1, ["energy_error", "energy_error_corrected", "force_sq_error_sum"]] = np.nan
    return rows


def test_every_metric_has_an_interval_and_later_calculators_a_verdict_against_the_first():
    table = pd.concat([_accuracy_rows("ref", 0.10), _accuracy_rows("good", 0.05, seed=1)])
    metrics, skipped = metric_table(table, ["ref", "good"])
    assert list(metrics.columns) == list(METRIC_COLUMNS)
    assert {s.key: s.reason for s in skipped} == {
        "accuracy.stress_rmse": "the test structures carry no DFT stress",
        "accuracy.relative_energy_mae": "no formula has two or more test structures",
    }
    assert (metrics["low"] <= metrics["value"]).all() and (metrics["value"] <= metrics["high"]).all()
    good = metrics[metrics["calculator"] == "good"].set_index("metric")
    assert good.loc["force_rmse", "verdict"] == "better" and good.loc["force_rmse", "reference"] == "ref"
    assert good.loc["force_rmse", "difference_high"] < 0 and good.loc["force_rmse", "n_paired"] == 40
    assert (metrics[metrics["calculator"] == "ref"]["verdict"] == "").all()
    assert good.loc["force_rmse", "value"] == pytest.approx(
        1000 * np.sqrt(table[table.calculator == "good"].force_sq_error_sum.sum() / (40 * 30))
    )


def test_failed_structures_are_counted_and_left_out_of_the_interval():
    table = pd.concat([_accuracy_rows("ref", 0.1), _accuracy_rows("flaky", 0.1, seed=1, failed=5)])
    metrics, _ = metric_table(table, ["ref", "flaky"])
    flaky = metrics[(metrics["calculator"] == "flaky") & (metrics["metric"] == "energy_rmse")].iloc[0]
    assert (
        flaky["n"] == 35 and flaky["n_failed"] == 5 and flaky["n_paired"] == 35 and flaky["n_unpaired"] == 5
    )
    assert np.isfinite([flaky["value"], flaky["low"], flaky["high"]]).all()


def test_metrics_without_direction_are_different_not_better_and_forces_free_data_skip_forces():
    rattle = pd.DataFrame(
        {
            "task": "rattle_relax",
            "calculator": np.repeat(["a", "b"], 20),
            "id": [f"r{i}" for i in range(20)] * 2,
            "status": "ok",
            "relaxation": "symmetric",
            "e_above_dft_min_meV": np.r_[np.zeros(20), np.full(20, -5.0) + np.linspace(0, 1, 20)],
            "converged": True,
            "steps": 10,
        }
    )
    metrics, _ = metric_table(rattle, ["a", "b"])
    row = metrics[(metrics["calculator"] == "b") & (metrics["metric"] == "e_above_dft_min_median")].iloc[0]
    assert row["verdict"] == "different"
    accuracy = _accuracy_rows("x", 0.1)
    accuracy[["force_sq_error_sum", "force_abs_error_sum"]] = np.nan
    accuracy["n_force_components"] = 0
    metrics, skipped = metric_table(accuracy, ["x"])
    assert "force_rmse" not in set(metrics["metric"]) and "energy_rmse" in set(metrics["metric"])
    reasons = {s.key: s.reason for s in skipped}
    assert "carry no DFT forces" in reasons["accuracy.force_rmse"]


def test_point_values_match_the_interval_values():
    rows = _accuracy_rows("x", 0.1, failed=3)
    metrics, _ = metric_table(rows, ["x"])
    values = point_values("accuracy", rows)
    for _, row in metrics.iterrows():
        assert values[row["key"]] == pytest.approx(row["value"])
