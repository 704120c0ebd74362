"""Validation accuracy of candidate committees: does one more member help?

    OMP_NUM_THREADS=1 python benchmarks/committee_members.py runs/heo.h5 \\
        heo-ft,heo-ft-l3i5 heo-ft,heo-ft-l3i5,sevennet:runs/models-gpu2/d-more.pth ...

Each argument after the data file is one committee (comma-separated registry names). Prints,
per committee, the force RMSE (meV/Å, per component, pooled over the split's atoms), the energy
MAE (meV/atom) and the wall time on the chosen split (default ``valid``: members are chosen
on validation, never on test). Evaluation and its summary are heo_calc's own
(:func:`heo_calc.evaluation.evaluate_structures`, :func:`~heo_calc.evaluation.summarize_accuracy`)
on a :class:`heo_calc.committee.CommitteeCalculator`.
"""

from __future__ import annotations

import argparse
import time

from heo_base.labelled_data import load_labelled_structures
from heo_calc.committee import CommitteeCalculator
from heo_calc.evaluation import evaluate_structures, summarize_accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="heo.h5 from heo-dataset build")
    parser.add_argument("committees", nargs="+", help="comma-separated member names, one committee each")
    parser.add_argument("--split", default="valid")
    args = parser.parse_args()
    structures = load_labelled_structures(args.data, split=args.split)
    print(
        f"| committee | force RMSE (meV/Å) | energy MAE (meV/atom) | seconds ({len(structures)} structures) |"
    )
    print("| --- | --- | --- | --- |")
    for committee in args.committees:
        members = [name for name in committee.split(",") if name]
        started = time.perf_counter()
        summary = summarize_accuracy(
            evaluate_structures(CommitteeCalculator(members, device="cpu"), structures)
        )
        seconds = time.perf_counter() - started
        print(
            f"| {' + '.join(members)} | {summary.force_rmse:.1f} | {summary.energy_mae:.1f} | {seconds:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
