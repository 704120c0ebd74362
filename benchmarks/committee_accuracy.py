"""Accuracy of a committee against each of its members, with 95 % bootstrap intervals (paired by structure).

Reads per-structure tables written by ``heo-calc evaluate --out`` (one or several CSVs;
the ``calculator`` column names the model) and prints, per split, every calculator's
metrics with percentile-bootstrap intervals over structures and the paired comparison
committee - member for each member (:mod:`benchmark_suite.statistics`). Calculators can be
relabelled: ``--label heo-ft=sevennet:/path/b-more.pth`` reads the rows of
``sevennet:/path/b-more.pth`` as ``heo-ft``. Writes the numbers as JSON with ``--out``::

    PYTHONPATH=. python benchmarks/committee_accuracy.py runs/eval_committee.csv \\
        runs/eval_gpu2.csv runs/eval_candidates.csv \\
        --committee heo-ft-committee --members heo-ft,heo-ft-l3i5 \\
        --label heo-ft=sevennet:runs/models-gpu2/b-more.pth --out runs/committee_accuracy.json
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

METRIC_NAMES = ("force_rmse", "force_mae", "energy_rmse", "energy_mae", "energy_mae_corrected")


def load_tables(paths: list[str], labels: dict[str, str]) -> pd.DataFrame:
    """The rows of every table, ``calculator`` relabelled by ``labels`` ({label: name in the table})."""
    table = pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)
    rename = {name: label for label, name in labels.items()}
    # a relabelled name replaces any rows already under that label (e.g. an older heo-ft)
    table = table[~(table["calculator"].isin(rename.values()) & ~table["calculator"].isin(rename))]
    table["calculator"] = table["calculator"].replace(rename)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="+", help="CSV files from heo-calc evaluate --out")
    parser.add_argument("--committee", default="heo-ft-committee")
    parser.add_argument("--members", default="heo-ft,heo-ft-l3i5", help="comma-separated")
    parser.add_argument("--label", action="append", default=[], metavar="LABEL=NAME")
    parser.add_argument("--splits", default="test,valid")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--out", help="write the numbers as JSON")
    args = parser.parse_args()

    from benchmark_suite.statistics import (
        EVALUATION_METRICS,
        bootstrap_interval,
        format_interval,
        paired_comparison,
        verdict_line,
    )
    from heo_base.atomic_write import atomic_output

    labels = dict(item.split("=", 1) for item in args.label)
    table = load_tables(args.tables, labels)
    members = args.members.split(",")
    result: dict = {}
    for split in args.splits.split(","):
        rows = table[table["split"] == split]
        print(f"## {split} split")
        print("| calculator | " + " | ".join(METRIC_NAMES) + " | n |")
        print("| --- " * (len(METRIC_NAMES) + 2) + "|")
        result[split] = {"intervals": {}, "comparisons": []}
        for name in [args.committee, *members]:
            own = rows[rows["calculator"] == name]
            intervals = {
                m: bootstrap_interval(EVALUATION_METRICS[m], own, n_resamples=args.resamples)
                for m in METRIC_NAMES
            }
            result[split]["intervals"][name] = {m: asdict(i) for m, i in intervals.items()}
            cells = " | ".join(format_interval(intervals[m]) for m in METRIC_NAMES)
            print(f"| {name} | {cells} | {len(own)} |")
        print()
        for member in members:
            for metric in METRIC_NAMES:
                comparison = paired_comparison(
                    EVALUATION_METRICS[metric],
                    rows[rows["calculator"] == args.committee],
                    rows[rows["calculator"] == member],
                    candidate=args.committee,
                    reference=member,
                    n_resamples=args.resamples,
                )
                result[split]["comparisons"].append(asdict(comparison))
                print("- " + verdict_line(comparison))
        print()
    if args.out:
        with atomic_output(Path(args.out)) as temporary:
            temporary.write_text(json.dumps(result, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
