"""``heo-calc evaluate``: energy and force errors of calculators against DFT labels."""

from __future__ import annotations

import argparse
from pathlib import Path

from heo_base.atomic_write import atomic_output
from heo_base.types import DEVICES
from heo_calc.cli._common import CLIError


def add_parser(subparsers) -> None:
    """Register the command."""
    command = subparsers.add_parser(
        "evaluate",
        help="energy and force errors of calculators against DFT labels",
        description="Force RMSE/MAE (meV/Å, per Cartesian component) and energy RMSE/MAE/median "
        "(meV/atom), raw and after a per-element linear reference fitted on --fit-split.",
    )
    command.add_argument("--calc", required=True, help="comma-separated calculator names")
    command.add_argument(
        "--data", required=True, help="heo.h5 from heo-dataset, or an extxyz file with labels"
    )
    command.add_argument(
        "--split", default="test", help="split(s) of an .h5 to evaluate, comma-separated (default: test)"
    )
    command.add_argument(
        "--fit-split", default="train", help="split of an .h5 the reference is fitted on (default: train)"
    )
    command.add_argument(
        "--out",
        help="write the per-structure table as CSV; its columns model_file, model_sha256, model_dtype "
        "and model_key name the weights of each row's calculator",
    )
    command.add_argument(
        "--device", choices=DEVICES, default="auto", help="auto, cpu or cuda (default: auto)"
    )
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from heo_base.labelled_data import load_labelled_structures
    from heo_calc.evaluation import evaluate_calculator_on_splits, format_summary_table, format_worst

    data = Path(args.data)
    is_hdf5 = data.suffix in {".h5", ".hdf5"}
    split_names = [name for name in args.split.split(",") if name] if is_hdf5 else [""]
    if not split_names:
        raise CLIError("--split names no split; pass e.g. --split test or --split valid,test")
    splits = {name: load_labelled_structures(data, split=name or None) for name in split_names}
    fit = load_labelled_structures(data, split=args.fit_split) if is_hdf5 and args.fit_split else None
    summaries: dict[str, dict] = {name: {} for name in split_names}
    tables = []
    for calculator_name in args.calc.split(","):
        results = evaluate_calculator_on_splits(
            calculator_name, splits, fit_structures=fit, device=args.device
        )
        for split, (table, summary) in results.items():
            summaries[split][calculator_name] = summary
            if is_hdf5:
                table.insert(1, "split", split)
            tables.append(table)
    for split in split_names:
        print(f"{len(splits[split])} structures of {data}" + (f" (split {split})" if is_hdf5 else ""))
        print(format_summary_table(summaries[split]))
        print(format_worst(summaries[split]))
    if args.out:
        out = Path(args.out)
        with atomic_output(out) as temporary:
            pd.concat(tables).to_csv(temporary, index=False)
    return 0
