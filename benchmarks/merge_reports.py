"""One benchmark report from the stored parts of several runs (a model added to a finished run).

    python benchmarks/merge_reports.py OUT_DIR --calc sevennet-0,sevennet:runs/x.pth \\
        --from runs/bench-full --from runs/bench-candidates [--tasks TASK,TASK]
    python benchmarks/merge_reports.py OUT_DIR --calc sevennet:runs/x.pth,sevennet-0,heo-ft \\
        --from runs/bench-x --rows results/2026-12-06-benchmark-full/rows.csv --tasks TASK,TASK

Each run's ``--heo-report DIR`` keeps its finished tasks in ``DIR/parts``. For every
calculator of ``--calc`` (in that order: the first is the reference of the paired
comparisons) and every task, the first run that holds a result for it provides the rows;
pairs are made by structure id, so the runs must share the dataset and the task settings that
decide which structures are relaxed and how (checked: the runs' recorded options must agree on
the keys of ``--same``; by default the dataset, the shared settings and every registered task's
``TaskSpec.pairing`` sizes). The report is written by the benchmark's own code
(:func:`benchmark_suite.report.build_report`, :func:`~benchmark_suite.report.write_report`);
its ``summary.json`` records which run each (task, calculator) came from.

``--rows CSV``: the ``rows.csv`` of a published report (``results/<date>-benchmark-full/``) as a
further source after the ``--from`` runs, for a run whose parts folder is gone. It carries no
record of the run's options, so nothing is checked for it: use it only with the report's own
profile and say so (its README gives the command). Parity-plot arrays and the accuracy task's
reference fit are not in it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmark_suite.plugin import PARTS_DIR
from benchmark_suite.profiles import SHARED_CONTEXT
from benchmark_suite.registry import TASKS
from benchmark_suite.report import build_report, write_report
from benchmark_suite.session import RUN_FILE, collect_parts

#: The recorded options that decide which structures run and how: the runs must agree on them.
SAME = ",".join(["dataset", *SHARED_CONTEXT, *(key for spec in TASKS.values() for key in spec.pairing)])


def _records_from_rows(path: Path) -> list:
    """One TaskResult per (task, calculator) of a published ``rows.csv`` (columns a task did not write dropped)."""
    import pandas as pd

    from benchmark_suite.tasks import TaskResult

    table = pd.read_csv(path, low_memory=False)
    return [
        TaskResult(
            task=str(task),
            calculator=str(calculator),
            rows=rows.dropna(axis=1, how="all").reset_index(drop=True),
        )
        for (task, calculator), rows in table.groupby(["task", "calculator"], sort=False)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--calc", required=True, help="comma-separated calculator names, reference first")
    parser.add_argument("--from", dest="runs", type=Path, action="append", required=True)
    parser.add_argument("--tasks", default="", help="comma-separated tasks to keep (default: all)")
    parser.add_argument("--same", default=SAME, help="option keys the runs must agree on")
    parser.add_argument(
        "--rows", type=Path, action="append", default=[], help="rows.csv of a published report"
    )
    args = parser.parse_args()
    contexts = [json.loads((run / PARTS_DIR / RUN_FILE).read_text()) for run in args.runs]
    for key in filter(None, args.same.split(",")):
        values = {json.dumps(context.get(key)) for context in contexts}
        if len(values) > 1:
            raise SystemExit(f"the runs differ in {key}: {sorted(values)}; their rows cannot be paired")
    names = [name for name in args.calc.split(",") if name]
    tasks = set(filter(None, args.tasks.split(",")))
    chosen, sources, identities = {}, {}, {}
    for run in args.runs:
        parts = collect_parts(run / PARTS_DIR)
        for name, identity in parts.identities.items():
            identities.setdefault(name, identity)
        for record in parts.records:
            key = (record.task, record.calculator)
            if record.calculator in names and (not tasks or record.task in tasks) and key not in chosen:
                chosen[key], sources[f"{record.task}/{record.calculator}"] = record, str(run)
    for table_path in args.rows:
        for record in _records_from_rows(table_path):
            key = (record.task, record.calculator)
            if record.calculator in names and (not tasks or record.task in tasks) and key not in chosen:
                chosen[key], sources[f"{record.task}/{record.calculator}"] = record, str(table_path)
    context = {**contexts[0], "calculators": names, "merged_from": sources}
    report = build_report(
        list(chosen.values()),
        calculators=names,
        skipped={},
        context=context,
        identities={name: identities[name] for name in names if name in identities},
    )
    paths = write_report(args.out, report)
    print(f"report of {len(chosen)} (task, calculator) results written to {paths['summary_md'].parent}")


if __name__ == "__main__":
    main()
