"""Bootstrap confidence intervals over structures for benchmark metrics (``benchmark_suite.statistics``).

Moved here from ``heo_calc.statistics_bootstrap`` (which forwards to this module, with a
DeprecationWarning, for one release): the benchmark and its scripts are its only users;
heo_calc's own error statistics are :mod:`heo_calc.statistics`.

Benchmark numbers (force RMSE, median RMSD, converged fraction, ...) are aggregates over a
finite set of structures; this module says how much they would move if a different set of
structures of the same kind had been drawn, and whether one calculator is really better than
another on the same structures.

* :func:`bootstrap_interval` gives a 95 % percentile-bootstrap interval for one metric of one
  calculator, resampling structures (rows of a per-structure table).
* :func:`paired_comparison` resamples structures *jointly* for two calculators evaluated on
  the same structures (same resample indices for both) and gives the interval of
  ``metric(candidate) - metric(reference)`` with a verdict.

A table is any mapping ``column -> 1-D array-like`` with one row per structure (a pandas
DataFrame works; pandas is not imported here). Rows with a NaN or infinite value in a column
the metric needs are dropped and counted as ``n_failed``. Units are those of the input
columns, multiplied by :attr:`Metric.scale` for display (``scale=1000`` turns eV into meV).

Pure numpy + scipy; nothing else from this repository is imported.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
from scipy import stats

__all__ = [
    "DEFAULT_N_RESAMPLES",
    "EVALUATION_METRICS",
    "MIN_N_RESAMPLES",
    "Comparison",
    "Interval",
    "Metric",
    "bootstrap_interval",
    "format_interval",
    "mae_metric",
    "mean_metric",
    "median_metric",
    "paired_comparison",
    "pooled_mae_metric",
    "pooled_rmse_metric",
    "rmse_metric",
    "verdict_line",
]

DEFAULT_N_RESAMPLES: Final = 2000
MIN_N_RESAMPLES: Final = 1000
DEFAULT_CONFIDENCE: Final = 0.95

Direction = Literal["lower", "higher", "none"]
Verdict = Literal["better", "worse", "indistinguishable", "different"]

# Resampled arrays are (batch, n_structures) per column; keep one batch near this many values.
_BATCH_VALUES: Final = 2_000_000


@dataclass(frozen=True)
class Metric:
    """An aggregate over structures of one or more per-structure columns.

    ``statistic(*arrays, axis=-1)`` receives one array per entry of ``columns``, each of
    shape ``(..., n_structures)``, and returns the aggregate over ``axis`` (vectorized over
    the leading axes, as :func:`scipy.stats.bootstrap` requires). Its result is in the units
    of the input columns; ``scale`` multiplies it for display (``unit`` is the display unit).
    ``direction`` says which way is better: ``"lower"``, ``"higher"`` or ``"none"``.
    """

    name: str
    columns: tuple[str, ...]
    statistic: Callable[..., np.ndarray]
    direction: Direction
    unit: str
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.direction not in ("lower", "higher", "none"):
            raise ValueError(f"direction must be 'lower', 'higher' or 'none', got {self.direction!r}")
        if not self.columns:
            raise ValueError(f"metric {self.name!r} needs at least one column")


@dataclass(frozen=True)
class Interval:
    """A metric on all valid structures with its bootstrap interval (scaled display units).

    ``n`` structures were used; ``n_failed`` were dropped because a needed value was NaN/inf.
    """

    value: float
    low: float
    high: float
    n: int
    n_failed: int
    confidence: float


@dataclass(frozen=True)
class Comparison:
    """``metric(candidate) - metric(reference)`` on paired structures (scaled display units).

    ``low``/``high`` bound the difference; ``n`` structures were paired; ``n_failed`` counts
    structures present in either table that could not be paired (missing from the other
    table, or a needed value NaN/inf in either).
    """

    metric: str
    candidate: str
    reference: str
    difference: float
    low: float
    high: float
    n: int
    n_failed: int
    verdict: Verdict
    unit: str = ""
    confidence: float = DEFAULT_CONFIDENCE


# --- vectorized statistics -------------------------------------------------------------------


def _pooled_rms(sq_sum: np.ndarray, count: np.ndarray, axis: int = -1) -> np.ndarray:
    """sqrt(sum of squared errors / sum of counts): every counted component weighs the same."""
    return np.sqrt(np.sum(sq_sum, axis=axis) / np.sum(count, axis=axis))


def _pooled_mean(value_sum: np.ndarray, count: np.ndarray, axis: int = -1) -> np.ndarray:
    """sum of values / sum of counts."""
    return np.sum(value_sum, axis=axis) / np.sum(count, axis=axis)


def _rms(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.sqrt(np.mean(np.square(x), axis=axis))


def _mean_abs(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(np.abs(x), axis=axis)


def _median(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(x, axis=axis)


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


# --- metric constructors ---------------------------------------------------------------------


def pooled_rmse_metric(
    name: str, sq_sum_column: str, count_column: str, *, unit: str, scale: float = 1.0
) -> Metric:
    """RMSE pooled over components: ``sqrt(sum(sq_sum) / sum(count))``, lower is better."""
    return Metric(name, (sq_sum_column, count_column), _pooled_rms, "lower", unit, scale)


def pooled_mae_metric(
    name: str, abs_sum_column: str, count_column: str, *, unit: str, scale: float = 1.0
) -> Metric:
    """MAE pooled over components: ``sum(abs_sum) / sum(count)``, lower is better."""
    return Metric(name, (abs_sum_column, count_column), _pooled_mean, "lower", unit, scale)


def rmse_metric(name: str, column: str, *, unit: str, scale: float = 1.0) -> Metric:
    """Root mean square of a per-structure error column, lower is better."""
    return Metric(name, (column,), _rms, "lower", unit, scale)


def mae_metric(name: str, column: str, *, unit: str, scale: float = 1.0) -> Metric:
    """Mean absolute value of a per-structure error column, lower is better."""
    return Metric(name, (column,), _mean_abs, "lower", unit, scale)


def median_metric(
    column: str, *, name: str | None = None, unit: str = "", direction: Direction = "none", scale: float = 1.0
) -> Metric:
    """Median of any per-structure column (name defaults to ``<column>_median``)."""
    return Metric(name or f"{column}_median", (column,), _median, direction, unit, scale)


def mean_metric(
    column: str, *, name: str | None = None, unit: str = "", direction: Direction = "none", scale: float = 1.0
) -> Metric:
    """Mean of any per-structure column (name defaults to ``<column>_mean``)."""
    return Metric(name or f"{column}_mean", (column,), _mean, direction, unit, scale)


#: Metrics over the per-structure table of :mod:`heo_calc.evaluation` (``heo-calc evaluate
#: --out``; its columns ``force_sq_error_sum``, ``force_abs_error_sum``,
#: ``n_force_components`` in eV²/Å², eV/Å and counts, ``energy_error`` and
#: ``energy_error_corrected`` in eV/atom), displayed in meV/Å and meV/atom. The benchmark's
#: catalogue, which adds metrics over the benchmark's own row columns, is
#: ``benchmark_suite.catalogue.METRICS``.
EVALUATION_METRICS: Final[dict[str, Metric]] = {
    m.name: m
    for m in (
        pooled_rmse_metric(
            "force_rmse", "force_sq_error_sum", "n_force_components", unit="meV/Å", scale=1000.0
        ),
        pooled_mae_metric(
            "force_mae", "force_abs_error_sum", "n_force_components", unit="meV/Å", scale=1000.0
        ),
        rmse_metric("energy_rmse", "energy_error", unit="meV/atom", scale=1000.0),
        mae_metric("energy_mae", "energy_error", unit="meV/atom", scale=1000.0),
        rmse_metric("energy_rmse_corrected", "energy_error_corrected", unit="meV/atom", scale=1000.0),
        mae_metric("energy_mae_corrected", "energy_error_corrected", unit="meV/atom", scale=1000.0),
    )
}


# --- table handling --------------------------------------------------------------------------


def _column(table: Mapping[str, Any], name: str, what: str) -> np.ndarray:
    if name not in table:
        raise ValueError(f"{what} has no column {name!r}")
    values = np.asarray(table[name], dtype=float)
    if values.ndim != 1:
        raise ValueError(f"column {name!r} of {what} must be 1-D, got shape {values.shape}")
    return values


def _columns(table: Mapping[str, Any], names: tuple[str, ...], what: str) -> list[np.ndarray]:
    arrays = [_column(table, name, what) for name in names]
    lengths = {a.size for a in arrays}
    if len(lengths) > 1:
        raise ValueError(f"columns {names} of {what} have different lengths {sorted(lengths)}")
    return arrays


def _finite_rows(arrays: list[np.ndarray]) -> np.ndarray:
    mask = np.ones(arrays[0].size, dtype=bool)
    for a in arrays:
        mask &= np.isfinite(a)
    return mask


def _ids(table: Mapping[str, Any], id_column: str, what: str) -> list[Any]:
    if id_column not in table:
        raise ValueError(f"{what} has no id column {id_column!r} to pair structures by")
    ids = np.asarray(table[id_column]).tolist()
    seen: set[Any] = set()
    repeated = []
    for i in ids:
        if i in seen:
            repeated.append(i)
        seen.add(i)
    if repeated:
        shown = ", ".join(repr(i) for i in repeated[:5])
        raise ValueError(f"{what} repeats ids in column {id_column!r}: {shown}")
    return ids


def _check_options(n_resamples: int, confidence: float) -> None:
    if n_resamples < MIN_N_RESAMPLES:
        raise ValueError(f"n_resamples must be at least {MIN_N_RESAMPLES}, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")


# --- bootstrap -------------------------------------------------------------------------------


def _percentile_bootstrap(
    samples: list[np.ndarray],
    statistic: Callable[..., np.ndarray],
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
) -> tuple[float, float]:
    """Percentile interval of ``statistic`` over rows resampled jointly across ``samples``.

    Method "percentile", not "BCa": the benchmark statistics include medians (whose jackknife
    acceleration is erratic with ties and small samples) and ratios of sums; BCa can fail
    (NaN plus DegenerateDataWarning) on such data, whereas percentile intervals only need the
    bootstrap distribution and are always defined. ``paired=True`` resamples row indices, so
    all columns (and, in a comparison, both calculators) see the same structures.
    """
    n = samples[0].size
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # A resample whose statistic is undefined (e.g. zero counts) gives NaN bounds below;
        # scipy's warning about that would only repeat it.
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            tuple(samples),
            statistic,
            n_resamples=n_resamples,
            batch=max(1, _BATCH_VALUES // n),
            vectorized=True,
            paired=True,
            axis=-1,
            confidence_level=confidence,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    distribution = np.asarray(result.bootstrap_distribution, dtype=float)
    if not np.all(np.isfinite(distribution)):
        return math.nan, math.nan
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _scaled(value: float, low: float, high: float, scale: float) -> tuple[float, float, float]:
    a, b = low * scale, high * scale
    return value * scale, min(a, b), max(a, b)


def bootstrap_interval(
    metric: Metric,
    table: Mapping[str, Any],
    *,
    n_resamples: int = DEFAULT_N_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> Interval:
    """Value of ``metric`` on ``table`` and its percentile-bootstrap interval over structures.

    Rows with a non-finite value in any column the metric needs are dropped (``n_failed``).
    With no valid row value and bounds are NaN; with one valid row, or when all valid rows
    are identical (every resample is then the same data), ``low == high == value``. Values
    are in the units of the input columns times ``metric.scale``.
    """
    _check_options(n_resamples, confidence)
    arrays = _columns(table, metric.columns, "table")
    mask = _finite_rows(arrays)
    arrays = [a[mask] for a in arrays]
    n, n_failed = int(mask.sum()), int((~mask).sum())
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, n_failed, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = float(metric.statistic(*arrays, axis=-1))
    if n == 1 or all(np.all(a == a[0]) for a in arrays):
        low = high = value
    else:
        low, high = _percentile_bootstrap(
            arrays, metric.statistic, n_resamples=n_resamples, confidence=confidence, seed=seed
        )
    return Interval(*_scaled(value, low, high, metric.scale), n, n_failed, confidence)


def _verdict(low: float, high: float, n: int, direction: Direction) -> Verdict:
    # NaN bounds or a single pair (no resampling variability) support no claim.
    if n < 2 or not (np.isfinite(low) and np.isfinite(high)) or low <= 0.0 <= high:
        return "indistinguishable"
    lower = high < 0.0  # the interval lies below 0: candidate has the smaller metric
    if direction == "none":
        return "different"
    if direction == "lower":
        return "better" if lower else "worse"
    return "worse" if lower else "better"


def _paired_columns(
    metric: Metric,
    candidate_table: Mapping[str, Any],
    reference_table: Mapping[str, Any],
    candidate_what: str,
    reference_what: str,
    id_column: str,
) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """The metric's columns of both tables on the structures they share with finite values, in
    the candidate's order, and the count of the other structures of either table (``n_failed``)."""
    cand_ids = _ids(candidate_table, id_column, candidate_what)
    ref_ids = _ids(reference_table, id_column, reference_what)
    cand = _columns(candidate_table, metric.columns, candidate_what)
    ref = _columns(reference_table, metric.columns, reference_what)
    if len(cand_ids) != cand[0].size or len(ref_ids) != ref[0].size:
        raise ValueError(f"column {id_column!r} and the metric columns have different lengths")
    ref_row = {i: k for k, i in enumerate(ref_ids)}
    cand_rows = np.array([k for k, i in enumerate(cand_ids) if i in ref_row], dtype=int)
    ref_rows = np.array([ref_row[cand_ids[k]] for k in cand_rows], dtype=int)
    cand = [a[cand_rows] for a in cand]
    ref = [a[ref_rows] for a in ref]
    mask = _finite_rows(cand + ref)
    n_failed = len(set(cand_ids) | set(ref_ids)) - int(mask.sum())
    return [a[mask] for a in cand], [a[mask] for a in ref], n_failed


def paired_comparison(
    metric: Metric,
    candidate_table: Mapping[str, Any],
    reference_table: Mapping[str, Any],
    *,
    candidate: str = "candidate",
    reference: str = "reference",
    id_column: str = "id",
    n_resamples: int = DEFAULT_N_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> Comparison:
    """Paired-bootstrap interval of ``metric(candidate) - metric(reference)`` with a verdict.

    Structures are paired by ``id_column``; only ids present in both tables with finite
    values in every needed column of both are used (the rest count in ``n_failed``). Both
    calculators are resampled with the same structure indices. The verdict is "better" or
    "worse" (following ``metric.direction``; "different" when the direction is "none") when
    the interval excludes 0, else "indistinguishable". Units: those of the input columns
    times ``metric.scale``.
    """
    _check_options(n_resamples, confidence)
    cand, ref, n_failed = _paired_columns(
        metric,
        candidate_table,
        reference_table,
        f"candidate table ({candidate})",
        f"reference table ({reference})",
        id_column,
    )
    n = cand[0].size
    k = len(metric.columns)

    def difference(*arrays: np.ndarray, axis: int = -1) -> np.ndarray:
        return metric.statistic(*arrays[:k], axis=axis) - metric.statistic(*arrays[k:], axis=axis)

    if n == 0:
        value = low = high = math.nan
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(difference(*cand, *ref, axis=-1))
        # The same data on both sides: every resample gives exactly 0 (or the same NaN).
        identical = all(np.array_equal(c, r) for c, r in zip(cand, ref))
        if n == 1 or identical or all(np.all(a == a[0]) for a in cand + ref):
            low = high = value
        else:
            low, high = _percentile_bootstrap(
                cand + ref, difference, n_resamples=n_resamples, confidence=confidence, seed=seed
            )
    value, low, high = _scaled(value, low, high, metric.scale)
    return Comparison(
        metric=metric.name,
        candidate=candidate,
        reference=reference,
        difference=value,
        low=low,
        high=high,
        n=n,
        n_failed=n_failed,
        verdict=_verdict(low, high, n, metric.direction),
        unit=metric.unit,
        confidence=confidence,
    )


# --- formatting ------------------------------------------------------------------------------


def _fmt(x: float, digits: int) -> str:
    return "nan" if not np.isfinite(x) else f"{x:.{digits}f}"


def format_interval(interval: Interval, digits: int = 1) -> str:
    """``"value [low, high]"``, e.g. ``"69.3 [64.0, 75.1]"`` (display units)."""
    return f"{_fmt(interval.value, digits)} [{_fmt(interval.low, digits)}, {_fmt(interval.high, digits)}]"


def verdict_line(comparison: Comparison, digits: int = 1) -> str:
    """One markdown-friendly line, e.g.
    ``force_rmse: heo-ft vs sevennet-0: -12.3 meV/Å [-18.0, -6.9], better (129 structures)``.
    """
    c = comparison
    unit = f" {c.unit}" if c.unit else ""
    failed = f", {c.n_failed} unpaired" if c.n_failed else ""
    return (
        f"{c.metric}: {c.candidate} vs {c.reference}: {_fmt(c.difference, digits)}{unit} "
        f"[{_fmt(c.low, digits)}, {_fmt(c.high, digits)}], {c.verdict} "
        f"({c.n} structure{'' if c.n == 1 else 's'}{failed})"
    )
