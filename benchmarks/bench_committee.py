"""Cost of one committee call against one heo-ft call, measured side by side.

One 64-atom rattled rock-salt (Mg,Co,Ni,Cu,Zn)O cell; each round evaluates energy, forces
and stress once with every calculator (in turn, so background load hits them alike), each
call on freshly displaced positions so no calculator returns a cached result. Prints the
median seconds per ``evaluate_properties`` call with the interquartile range, the fastest
call (robust to other processes on a shared machine) and the ratios to heo-ft, and writes
them as JSON::

    PYTHONPATH=. python benchmarks/bench_committee.py --rounds 10 --out runs/bench_committee.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed calls per calculator (default: 10)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="untimed calls per calculator first (default: 2)"
    )
    parser.add_argument("--out", help="write the timings as JSON here")
    args = parser.parse_args()

    import torch

    from heo_base.atomic_write import atomic_output
    from heo_calc.calculator import evaluate_properties
    from heo_calc.committee import HEO_FT_COMMITTEE_MEMBERS, CommitteeCalculator
    from heo_calc.registry import get_calculator
    from heo_calc.structures import rocksalt_heo_supercell
    from heo_calc.structures.perturb import rattle

    members = {name: get_calculator(name, device="cpu") for name in HEO_FT_COMMITTEE_MEMBERS}
    calculators = {**members, "heo-ft-committee": CommitteeCalculator(list(members.values()))}
    cell = rocksalt_heo_supercell(repeat=2, seed=0, rattle=0.05)
    rng = np.random.default_rng(0)
    seconds: dict[str, list[float]] = {name: [] for name in calculators}
    for round_index in range(args.warmup + args.rounds):
        for name, calculator in calculators.items():
            atoms = rattle(cell, 0.005, rng)  # never a cached result
            started = time.perf_counter()
            evaluate_properties(calculator, atoms, ("forces", "stress"))
            if round_index >= args.warmup:
                seconds[name].append(time.perf_counter() - started)
    reference = float(np.median(seconds["heo-ft"]))
    fastest_reference = float(np.min(seconds["heo-ft"]))
    rows = {
        name: {
            "median_s": float(np.median(values)),
            "min_s": float(np.min(values)),
            "q25_s": float(np.percentile(values, 25)),
            "q75_s": float(np.percentile(values, 75)),
            "ratio_to_heo_ft": float(np.median(values)) / reference,
            "ratio_of_minima_to_heo_ft": float(np.min(values)) / fastest_reference,
            "calls": len(values),
        }
        for name, values in seconds.items()
    }
    print(
        f"64-atom rattled rock-salt HEO, energy+forces+stress, {torch.get_num_threads()} torch threads, CPU"
    )
    print(
        "| calculator | s per call (median) | IQR (s) | fastest (s) | x heo-ft (medians) | x heo-ft (fastest) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name, row in rows.items():
        print(
            f"| {name} | {row['median_s']:.2f} | {row['q25_s']:.2f}-{row['q75_s']:.2f} | {row['min_s']:.2f} "
            f"| {row['ratio_to_heo_ft']:.2f} | {row['ratio_of_minima_to_heo_ft']:.2f} |"
        )
    if args.out:
        result = {"cell": "rocksalt_heo_supercell(repeat=2, seed=0, rattle=0.05)", "n_atoms": len(cell)}
        result.update(torch_threads=torch.get_num_threads(), rounds=args.rounds, timings=rows)
        with atomic_output(Path(args.out)) as temporary:
            temporary.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
