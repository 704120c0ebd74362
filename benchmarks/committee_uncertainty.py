"""Does the committee's spread rank structures by their true error? Numbers from an evaluation table.

Reads the per-structure table of ``heo-calc evaluate --calc heo-ft-committee ... --out``
(committee rows carry ``force_spread_max``, ``force_spread_mean`` in eV/Å and
``energy_std`` in eV) and, per split, writes:

* Spearman rank correlation between per-structure max (and mean) force spread and the
  structure's force RMSE against DFT (per component), with a 95 % percentile-bootstrap
  interval over structures; the same for energy std against |energy error|;
* the pooled force RMSE (meV/Å, per component) of the top decile of structures by max
  spread against the rest, their ratio, and the top decile's share of the squared force error;
* how many of the structures with the largest true force RMSE (worst decile) the top
  decile by spread contains.

::

    PYTHONPATH=. python benchmarks/committee_uncertainty.py runs/eval_committee.csv --out runs/committee_uncertainty.json
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats


def spearman_with_interval(x: np.ndarray, y: np.ndarray, *, resamples: int = 2000, seed: int = 0) -> dict:
    """Spearman's rho of x and y and its 95 % percentile-bootstrap interval over rows."""
    rho = float(stats.spearmanr(x, y).statistic)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(resamples):
        index = rng.integers(0, len(x), len(x))
        draws.append(stats.spearmanr(x[index], y[index]).statistic)
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return {"rho": rho, "low": float(low), "high": float(high), "n": len(x)}


def pooled_force_rmse(rows: pd.DataFrame) -> float:
    """meV/Å, per component over every atom of ``rows``."""
    return 1000.0 * math.sqrt(rows["force_sq_error_sum"].sum() / rows["n_force_components"].sum())


def uncertainty_numbers(rows: pd.DataFrame, *, decile: float = 0.1, resamples: int = 2000) -> dict:
    """The module's numbers for one split of one committee's table."""
    rows = rows[(rows["status"] == "ok") & np.isfinite(rows["force_spread_max"])].copy()
    n_top = max(1, round(decile * len(rows)))
    by_spread = rows.sort_values("force_spread_max", ascending=False)
    top, rest = by_spread.iloc[:n_top], by_spread.iloc[n_top:]
    worst = set(rows.sort_values("force_rmse", ascending=False)["id"].iloc[:n_top])
    return {
        "n": len(rows),
        "spearman_max_spread_vs_force_rmse": spearman_with_interval(
            rows["force_spread_max"].to_numpy(), rows["force_rmse"].to_numpy(), resamples=resamples
        ),
        "spearman_mean_spread_vs_force_rmse": spearman_with_interval(
            rows["force_spread_mean"].to_numpy(), rows["force_rmse"].to_numpy(), resamples=resamples
        ),
        "spearman_energy_std_vs_abs_energy_error": spearman_with_interval(
            rows["energy_std"].to_numpy(), rows["energy_error"].abs().to_numpy(), resamples=resamples
        ),
        "n_top_decile": n_top,
        "force_rmse_top_decile_meV_per_A": pooled_force_rmse(top),
        "force_rmse_rest_meV_per_A": pooled_force_rmse(rest),
        "force_rmse_all_meV_per_A": pooled_force_rmse(rows),
        "top_decile_share_of_squared_force_error": float(
            top["force_sq_error_sum"].sum() / rows["force_sq_error_sum"].sum()
        ),
        "worst_decile_by_true_error_found_in_top_decile": len(worst & set(top["id"])),
        "top_decile": [
            {
                "id": r.id,
                "formula": r.formula,
                "force_spread_max_meV_per_A": 1000.0 * r.force_spread_max,
                "force_rmse_meV_per_A": 1000.0 * r.force_rmse,
            }
            for r in top.itertuples()
        ],
    }


def _rho(entry: dict) -> str:
    return f"{entry['rho']:.2f} [{entry['low']:.2f}, {entry['high']:.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table", help="CSV from heo-calc evaluate --out with a committee's rows")
    parser.add_argument("--committee", default="heo-ft-committee", help="its calculator name in the table")
    parser.add_argument("--splits", default="test,valid")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--out", help="write the numbers as JSON")
    args = parser.parse_args()

    from heo_base.atomic_write import atomic_output

    table = pd.read_csv(args.table)
    table = table[table["calculator"] == args.committee]
    if "force_spread_max" not in table:
        raise SystemExit(
            f"{args.table} has no spread columns: evaluate a committee (heo-calc evaluate --calc ...)"
        )
    result = {}
    for split in args.splits.split(","):
        numbers = uncertainty_numbers(table[table["split"] == split], resamples=args.resamples)
        result[split] = numbers
        print(f"## {split} split ({numbers['n']} structures)")
        print(
            f"- Spearman(max force spread, force RMSE): {_rho(numbers['spearman_max_spread_vs_force_rmse'])}"
        )
        print(
            f"- Spearman(mean force spread, force RMSE): {_rho(numbers['spearman_mean_spread_vs_force_rmse'])}"
        )
        print(
            f"- Spearman(energy std, |energy error|): {_rho(numbers['spearman_energy_std_vs_abs_energy_error'])}"
        )
        print(
            f"- force RMSE of the top decile by max spread ({numbers['n_top_decile']} structures): "
            f"{numbers['force_rmse_top_decile_meV_per_A']:.1f} meV/Å against "
            f"{numbers['force_rmse_rest_meV_per_A']:.1f} for the rest "
            f"(all: {numbers['force_rmse_all_meV_per_A']:.1f}); the top decile holds "
            f"{100 * numbers['top_decile_share_of_squared_force_error']:.0f} % of the squared force error and "
            f"{numbers['worst_decile_by_true_error_found_in_top_decile']} of the {numbers['n_top_decile']} "
            "structures with the largest true force RMSE"
        )
        print()
    if args.out:
        with atomic_output(Path(args.out)) as temporary:
            temporary.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
