"""``heo-calc interpolate``: mix two SevenNet checkpoints of one architecture in weight space."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers) -> None:
    """Register the command."""
    command = subparsers.add_parser(
        "interpolate",
        help="write θ_base + α (θ_finetuned − θ_base) of two SevenNet checkpoints as a new model",
        description="Interpolate two SevenNet checkpoints of one architecture and species list in weight "
        "space: α = 0 gives BASE, α = 1 FINETUNED. The output loads as sevennet:OUT.pth and names both "
        "parents and α.",
    )
    command.add_argument("base", help="sevennet-0, sevennet-l3i5, heo-ft, heo-ft-l3i5 or a .pth file")
    command.add_argument("finetuned", help="a model finetuned from BASE: registry name or .pth file")
    command.add_argument(
        "--alpha", type=float, required=True, help="weight of FINETUNED (0-1; 0.5 = half way)"
    )
    command.add_argument("--out", required=True, help="output .pth (written atomically)")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from heo_calc.finetune.interpolate import interpolate_checkpoints

    out = interpolate_checkpoints(args.base, args.finetuned, args.alpha, Path(args.out))
    print(f"interpolated model (alpha {args.alpha:g}) written to {out}; load it as sevennet:{out}")
    return 0
