"""``heo-calc refit-energies``: bake a per-element energy reference into a SevenNet model."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    """Register the command."""
    command = subparsers.add_parser(
        "refit-energies",
        help="bake a per-element energy reference fitted on training data into a SevenNet model",
        description="Fit per-element offsets (eV per atom of each element, Huber loss as in `evaluate`'s "
        "reference fit) of MODEL's energies against DFT on --data, subtract them from the model's "
        "per-species energy shift and write the result to --out. Forces do not change.",
    )
    command.add_argument("model", help="SevenNet checkpoint (.pth), e.g. OUT/finetuned.pth of `finetune`")
    command.add_argument("--data", required=True, help="labelled structures: heo.h5 or extxyz (eV, eV/Å)")
    command.add_argument("--split", default="train", help="split of an .h5 to fit on (default: train)")
    command.add_argument("--out", required=True, help="output .pth (may equal MODEL; written atomically)")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from heo_base.labelled_data import load_labelled_structures
    from heo_calc.finetune.energy_reference import refit_energy_reference

    structures = load_labelled_structures(args.data, split=args.split)  # split: .h5 only
    offsets = refit_energy_reference(Path(args.model), structures, Path(args.out))
    shown = ", ".join(f"{element} {offset * 1000:+.1f}" for element, offset in offsets.items())
    print(f"per-element offsets removed (meV/atom, fitted on {len(structures)} structures): {shown}")
    print(f"model with the refitted energy reference written to {args.out}")
    return 0
