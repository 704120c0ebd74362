"""Intervals and paired verdicts for models evaluated by ``heo-calc evaluate --out TABLE.csv``.

Prints, for one split, each calculator's force RMSE/MAE and raw energy RMSE/MAE with 95 %
bootstrap intervals over structures, and for each ``CANDIDATE:REFERENCE`` pair the paired
difference with its verdict (``benchmark_suite.statistics``; 2,000 resamples, seed 0).

    python benchmarks/compare_models.py eval.csv [more.csv ...] --split test \\
        --pairs heo-ft:sevennet-0 [--rename sevennet:runs/b-more.pth=heo-ft-0.3.0]
"""

from __future__ import annotations

import argparse

import pandas as pd

from benchmark_suite.statistics import (
    EVALUATION_METRICS,
    bootstrap_interval,
    format_interval,
    paired_comparison,
    verdict_line,
)

SHOWN = ("force_rmse", "force_mae", "energy_rmse", "energy_mae")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tables", nargs="+", help="CSV files written by heo-calc evaluate --out")
    parser.add_argument("--split", default="test", help="split to compare (default: test)")
    parser.add_argument("--pairs", default="", help="comma-separated CANDIDATE:REFERENCE calculator names")
    parser.add_argument(
        "--rename", action="append", default=[], metavar="OLD=NEW", help="rename a calculator"
    )
    args = parser.parse_args()
    table = pd.concat([pd.read_csv(path) for path in args.tables], ignore_index=True)
    for rename in args.rename:
        old, _, new = rename.partition("=")
        table.loc[table["calculator"] == old, "calculator"] = new
    if "split" in table:
        table = table[table["split"] == args.split]
    for name, rows in table.groupby("calculator", sort=False):
        intervals = [format_interval(bootstrap_interval(EVALUATION_METRICS[m], rows)) for m in SHOWN]
        print(f"{name} ({len(rows)} structures): " + "; ".join(f"{m} {i}" for m, i in zip(SHOWN, intervals)))
    for pair in filter(None, args.pairs.split(",")):
        candidate, _, reference = pair.partition(":")
        for metric in SHOWN:
            comparison = paired_comparison(
                EVALUATION_METRICS[metric],
                table[table["calculator"] == candidate],
                table[table["calculator"] == reference],
                candidate=candidate,
                reference=reference,
            )
            print(verdict_line(comparison))


if __name__ == "__main__":
    main()
