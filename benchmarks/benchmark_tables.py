"""Markdown tables for the README and docs/benchmark.md from a benchmark report's metrics.csv.

    python benchmarks/benchmark_tables.py REPORT_DIR [--keys KEY,KEY,...]

Prints (1) one row per calculator, every chosen metric as ``value [95 % interval]``, and
(2) one row per calculator after the first: the paired difference to the first with its
interval and verdict. Keys are metrics.csv's ``key`` column (a per-lattice metric carries its
lattice: ``TASK[rocksalt].METRIC``); the default keys are every registered task's
``TaskSpec.table_keys``. Figures are read, not
recomputed: the report's own intervals and verdicts (``benchmark_suite.metrics``).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from benchmark_suite.registry import TASKS
from heo_base.markdown import markdown_table

#: Every registered task's README keys (``TaskSpec.table_keys``), in report order.
DEFAULT_KEYS = tuple(key for spec in TASKS.values() for key in spec.table_keys)


def _number(text: str, digits: int) -> str:
    return f"{float(text):.{digits}f}" if text not in ("", "nan") else ""


#: Label prefix per task (``TaskSpec.short_title``).
TASK_PREFIX = {spec.name: spec.short_title for spec in TASKS.values()}


def _label(row: dict[str, str]) -> str:
    """The metric's label with its task and lattice, e.g. ``subst.: a final (Å), rocksalt``."""
    group = f", {row['group']}" if row["group"] else ""
    return f"{TASK_PREFIX.get(row['task'], row['task'] + ': ')}{row['label']}{group}"


def _read(report: Path) -> tuple[list[str], dict[tuple[str, str], dict[str, str]]]:
    with open(report / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    calculators = list(dict.fromkeys(row["calculator"] for row in rows))
    by_key = {}
    for row in rows:
        by_key[(row["key"], row["calculator"])] = row
    return calculators, by_key


def tables(report: Path, keys: list[str], *, strict: bool = True) -> str:
    """The two tables for ``keys``; a key the report lacks is an error, or (``strict=False``) left out."""
    calculators, by_key = _read(report)
    missing = [key for key in keys if not any((key, c) in by_key for c in calculators)]
    if missing and strict:
        raise SystemExit(f"not in {report / 'metrics.csv'}: {', '.join(missing)}")
    keys = [key for key in keys if key not in missing]
    labels = [_label(next(by_key[(key, c)] for c in calculators if (key, c) in by_key)) for key in keys]
    values, differences = [], []
    for calculator in calculators:
        value_row, difference_row = [calculator], [calculator]
        for key in keys:
            row = by_key.get((key, calculator))
            if row is None:
                value_row.append("")
                difference_row.append("")
                continue
            digits = int(row["digits"] or 2)
            value_row.append(
                f"{_number(row['value'], digits)} [{_number(row['low'], digits)}, {_number(row['high'], digits)}]"
            )
            if row["verdict"]:
                difference_row.append(
                    f"{float(row['difference']):+.{digits}f} [{_number(row['difference_low'], digits)}, "
                    f"{_number(row['difference_high'], digits)}] **{row['verdict']}**"
                )
            elif calculator != calculators[0]:
                difference_row.append("")  # keep the columns aligned
        values.append(value_row)
        if len(difference_row) > 1:
            differences.append(difference_row)
    first = calculators[0]
    return "\n\n".join(
        [
            markdown_table(["calculator", *labels], values),
            markdown_table([f"vs {first}", *labels], differences),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="directory written by --heo-report")
    parser.add_argument(
        "--keys",
        default=None,
        help="comma-separated metric keys (default: every registered task's README keys that the report has)",
    )
    args = parser.parse_args()
    keys = [key for key in args.keys.split(",") if key] if args.keys else list(DEFAULT_KEYS)
    print(tables(args.report, keys, strict=args.keys is not None))


if __name__ == "__main__":
    main()
