"""benchmark_suite.statistics: bootstrap intervals and paired comparisons on synthetic data."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from benchmark_suite import statistics as sb
from benchmark_suite.catalogue import METRICS

N_RES = 1000


def _structures(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Shared per-structure properties: ids, force components and a per-structure difficulty."""
    return {
        "id": np.array([f"s{i:03d}" for i in range(n)]),
        "n_force_components": 3 * rng.integers(8, 65, size=n),
        "difficulty": rng.lognormal(0.0, 0.5, size=n),
    }


def _force_table(structures: dict[str, np.ndarray], sigma: float, seed: int) -> dict[str, np.ndarray]:
    """Per-structure force error sums for a model with per-component error scale ``sigma`` (eV/Å)."""
    rng = np.random.default_rng(seed)
    sq, ab = [], []
    for n_comp, difficulty in zip(structures["n_force_components"], structures["difficulty"]):
        errors = rng.normal(0.0, sigma * difficulty, size=n_comp)
        sq.append(np.sum(errors**2))
        ab.append(np.sum(np.abs(errors)))
    return {
        "id": structures["id"],
        "n_force_components": structures["n_force_components"],
        "force_sq_error_sum": np.array(sq),
        "force_abs_error_sum": np.array(ab),
    }


@pytest.fixture(autouse=True)
def _no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_clearly_better_model_is_better_and_swapped_is_worse():
    structures = _structures(np.random.default_rng(1), 200)
    good = _force_table(structures, 0.05, seed=2)
    bad = _force_table(structures, 0.10, seed=3)
    c = sb.paired_comparison(
        METRICS["force_rmse"], good, bad, candidate="good", reference="bad", n_resamples=N_RES
    )
    assert c.verdict == "better"
    assert c.low <= c.difference <= c.high < 0.0
    assert c.n == 200 and c.n_failed == 0
    # about -50 meV/Å: 50 vs 100 meV/Å times the rms difficulty
    assert -80.0 < c.difference < -30.0
    swapped = sb.paired_comparison(
        METRICS["force_rmse"], bad, good, candidate="bad", reference="good", n_resamples=N_RES
    )
    assert swapped.verdict == "worse"
    assert 0.0 < swapped.low <= swapped.high
    assert swapped.difference == pytest.approx(-c.difference, rel=1e-12)
    assert sb.paired_comparison(METRICS["force_mae"], good, bad, n_resamples=N_RES).verdict == "better"


def test_identical_tables_are_indistinguishable_with_zero_difference():
    structures = _structures(np.random.default_rng(4), 50)
    table = _force_table(structures, 0.08, seed=5)
    copy = {k: np.array(v, copy=True) for k, v in table.items()}
    c = sb.paired_comparison(METRICS["force_rmse"], table, copy, n_resamples=N_RES)
    assert c.verdict == "indistinguishable"
    assert c.difference == 0.0 and c.low == 0.0 and c.high == 0.0
    assert c.n == 50


def test_same_error_distribution_is_mostly_indistinguishable():
    # 20 pairs of models with the same error scale on the same 100 structures: a 95 % interval
    # of the difference should contain 0 about 19 times in 20; require at least 17. With these
    # seeds 18 of 20 are indistinguishable (one 'better', one 'worse'): a property of the seeds.
    structures = _structures(np.random.default_rng(6), 100)
    verdicts = []
    for k in range(20):
        a = _force_table(structures, 0.08, seed=100 + 2 * k)
        b = _force_table(structures, 0.08, seed=101 + 2 * k)
        verdicts.append(sb.paired_comparison(METRICS["force_rmse"], a, b, n_resamples=N_RES, seed=k).verdict)
    assert set(verdicts) <= {"indistinguishable", "better", "worse"}
    assert verdicts.count("indistinguishable") >= 17, verdicts


def test_values_equal_direct_computation_and_lie_in_interval():
    structures = _structures(np.random.default_rng(7), 120)
    table = _force_table(structures, 0.07, seed=8)
    iv = sb.bootstrap_interval(METRICS["force_rmse"], table, n_resamples=N_RES)
    direct = np.sqrt(np.sum(table["force_sq_error_sum"]) / np.sum(table["n_force_components"])) * 1000
    assert iv.value == pytest.approx(direct, abs=1e-12, rel=0)
    assert iv.low < direct < iv.high
    assert iv.n == 120 and iv.n_failed == 0 and iv.confidence == 0.95

    e = np.random.default_rng(9).normal(0.0, 0.02, size=80)
    iv_e = sb.bootstrap_interval(METRICS["energy_mae"], {"energy_error": e}, n_resamples=N_RES)
    assert iv_e.value == pytest.approx(np.mean(np.abs(e)) * 1000, abs=1e-12, rel=0)
    assert iv_e.low < iv_e.value < iv_e.high
    # seeded: the same call gives the same interval, another seed a different one
    assert sb.bootstrap_interval(METRICS["energy_mae"], {"energy_error": e}, n_resamples=N_RES) == iv_e
    assert (
        sb.bootstrap_interval(METRICS["energy_mae"], {"energy_error": e}, n_resamples=N_RES, seed=1) != iv_e
    )


def test_coverage_of_the_mean_of_normal_data():
    metric = sb.mean_metric("x")
    rng = np.random.default_rng(10)
    true_mean = 3.0
    hits = 0
    for k in range(50):
        x = rng.normal(true_mean, 2.0, size=60)
        iv = sb.bootstrap_interval(metric, {"x": x}, n_resamples=N_RES, seed=k)
        hits += iv.low <= true_mean <= iv.high
    assert hits >= 42


def test_nan_rows_dropped_and_counted():
    rng = np.random.default_rng(11)
    e = rng.normal(0.0, 0.02, size=50)
    e_bad = e.copy()
    e_bad[[3, 17, 40]] = np.nan
    e_bad[25] = np.inf
    keep = np.isfinite(e_bad)
    iv = sb.bootstrap_interval(METRICS["energy_rmse"], {"energy_error": e_bad}, n_resamples=N_RES)
    clean = sb.bootstrap_interval(METRICS["energy_rmse"], {"energy_error": e[keep]}, n_resamples=N_RES)
    assert iv.n == 46 and iv.n_failed == 4
    assert (iv.value, iv.low, iv.high) == (clean.value, clean.low, clean.high)
    assert np.isfinite([iv.value, iv.low, iv.high]).all()

    # paired: candidate ids 0..49, reference ids 5..54 in shuffled order, one NaN on each side
    ids = np.arange(55)
    cand = {"id": ids[:50], "energy_error": rng.normal(0, 0.02, size=50)}
    ref_full = {"id": ids[5:], "energy_error": rng.normal(0, 0.02, size=50)}
    cand["energy_error"][10] = np.nan  # id 10
    ref_full["energy_error"][15] = np.nan  # id 20
    order = rng.permutation(50)
    ref_shuffled = {k: v[order] for k, v in ref_full.items()}
    c = sb.paired_comparison(METRICS["energy_mae"], cand, ref_shuffled, n_resamples=N_RES)
    assert c.n == 43  # ids 5..49 minus 10 and 20
    assert c.n_failed == 55 - 43
    paired = [i for i in range(5, 50) if i not in (10, 20)]
    cand_e = cand["energy_error"][paired]
    ref_e = ref_full["energy_error"][[i - 5 for i in paired]]
    direct = (np.mean(np.abs(cand_e)) - np.mean(np.abs(ref_e))) * 1000
    assert c.difference == pytest.approx(direct, abs=1e-9)
    # the reference's row order does not matter, only the ids
    assert sb.paired_comparison(METRICS["energy_mae"], cand, ref_full, n_resamples=N_RES) == c


def test_degenerate_inputs_without_scipy_warnings():
    metric = METRICS["energy_mae"]
    one = sb.bootstrap_interval(metric, {"energy_error": [np.nan, 0.01, np.nan]}, n_resamples=N_RES)
    assert one.value == one.low == one.high == pytest.approx(10.0)
    assert one.n == 1 and one.n_failed == 2
    const = sb.bootstrap_interval(metric, {"energy_error": np.full(30, -0.002)}, n_resamples=N_RES)
    assert const.value == const.low == const.high == pytest.approx(2.0)
    none = sb.bootstrap_interval(metric, {"energy_error": [np.nan, np.inf]}, n_resamples=N_RES)
    assert math.isnan(none.value) and math.isnan(none.low) and math.isnan(none.high)
    assert none.n == 0 and none.n_failed == 2
    c = sb.paired_comparison(
        metric, {"id": [1, 2], "energy_error": [0.1, np.nan]}, {"id": [1], "energy_error": [0.0]}
    )
    assert c.n == 1 and c.n_failed == 1 and c.verdict == "indistinguishable"
    empty = sb.paired_comparison(
        metric, {"id": [1], "energy_error": [0.1]}, {"id": [2], "energy_error": [0.0]}
    )
    assert empty.n == 0 and math.isnan(empty.difference) and empty.verdict == "indistinguishable"


def test_errors_are_clear():
    table = {"id": [1, 2, 3], "energy_error": [0.1, 0.2, 0.3]}
    with pytest.raises(ValueError, match="at least 1000"):
        sb.bootstrap_interval(METRICS["energy_mae"], table, n_resamples=999)
    with pytest.raises(ValueError, match="at least 1000"):
        sb.paired_comparison(METRICS["energy_mae"], table, table, n_resamples=500)
    with pytest.raises(ValueError, match="no id column 'structure'"):
        sb.paired_comparison(METRICS["energy_mae"], table, table, id_column="structure")
    with pytest.raises(ValueError, match="repeats ids.*2"):
        sb.paired_comparison(METRICS["energy_mae"], table, {"id": [1, 2, 2], "energy_error": [0, 0, 0]})
    with pytest.raises(ValueError, match="no column 'rmsd_A'"):
        sb.bootstrap_interval(METRICS["rmsd_median"], table)


def test_converged_fraction_higher_is_better():
    rng = np.random.default_rng(12)
    ids = np.arange(100)
    a = {"id": ids, "converged": rng.permutation(np.r_[np.ones(95), np.zeros(5)]).astype(bool)}
    b = {"id": ids, "converged": rng.permutation(np.r_[np.ones(50), np.zeros(50)])}
    c = sb.paired_comparison(
        METRICS["converged_fraction"], a, b, candidate="a", reference="b", n_resamples=N_RES
    )
    assert c.difference == pytest.approx(0.45)
    assert c.verdict == "better" and c.low > 0
    assert sb.paired_comparison(METRICS["converged_fraction"], b, a, n_resamples=N_RES).verdict == "worse"


def test_direction_none_gives_different_and_formatting():
    rng = np.random.default_rng(13)
    ids = np.arange(60)
    a = {"id": ids, "a_final_A": rng.normal(4.20, 0.01, size=60)}
    b = {"id": ids, "a_final_A": rng.normal(4.25, 0.01, size=60)}
    c = sb.paired_comparison(
        METRICS["lattice_parameter_median"], a, b, candidate="x", reference="y", n_resamples=N_RES
    )
    assert c.verdict == "different" and c.high < 0
    line = sb.verdict_line(c, digits=3)
    assert line.startswith("lattice_parameter_median: x vs y: -0.0")
    assert line.endswith("Å [" + f"{c.low:.3f}, {c.high:.3f}], different (60 structures)")
    iv = sb.Interval(value=69.31, low=64.0, high=75.12, n=10, n_failed=0, confidence=0.95)
    assert sb.format_interval(iv) == "69.3 [64.0, 75.1]"
    assert sb.format_interval(iv, digits=2) == "69.31 [64.00, 75.12]"


def test_every_standard_metric_runs_on_a_table():
    rng = np.random.default_rng(14)
    n = 40
    table = {
        "force_sq_error_sum": rng.uniform(0.1, 1.0, n),
        "force_abs_error_sum": rng.uniform(1.0, 5.0, n),
        "n_force_components": rng.integers(24, 192, n).astype(float),
        "energy_error": rng.normal(0, 0.01, n),
        "energy_error_corrected": rng.normal(0, 0.005, n),
        "rmsd_A": rng.uniform(0, 0.2, n),
        "e_above_dft_min_meV": rng.normal(5, 2, n),
        "steps": rng.integers(10, 200, n),
        "converged": rng.uniform(size=n) < 0.9,
        "a_final_A": rng.normal(4.2, 0.02, n),
    }
    assert len(METRICS) == 11
    for name, metric in METRICS.items():
        assert metric.name == name
        iv = sb.bootstrap_interval(metric, table, n_resamples=N_RES)
        assert iv.n == n and iv.low <= iv.value <= iv.high, name
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(table)
    assert sb.bootstrap_interval(METRICS["steps_median"], frame, n_resamples=N_RES) == sb.bootstrap_interval(
        METRICS["steps_median"], table, n_resamples=N_RES
    )


def test_the_old_heo_calc_path_forwards_to_the_benchmark_module_with_a_deprecation_warning():
    import importlib
    import sys

    sys.modules.pop("heo_calc.statistics_bootstrap", None)
    with pytest.warns(DeprecationWarning, match=r"moved to benchmark_suite\.statistics"):
        old = importlib.import_module("heo_calc.statistics_bootstrap")
    assert old is sb
    from heo_calc.statistics_bootstrap import Metric, bootstrap_interval

    assert (Metric, bootstrap_interval) == (sb.Metric, sb.bootstrap_interval)


def test_scripts_import_only_public_names_of_the_packages():
    """benchmarks/ uses the packages' public modules and names: no private module, no private name."""
    import ast
    from pathlib import Path

    ours = ("heo_base", "heo_calc", "dataset_builder", "benchmark_suite")
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for path in sorted((root / "benchmarks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(ours):
                names = [*node.module.split("."), *(alias.name for alias in node.names)]
            elif isinstance(node, ast.Import):
                names = [
                    part
                    for alias in node.names
                    if alias.name.startswith(ours)
                    for part in alias.name.split(".")
                ]
            else:
                continue
            offenders += [f"{path.name}:{node.lineno}" for name in names if name.startswith("_")]
    assert offenders == []
