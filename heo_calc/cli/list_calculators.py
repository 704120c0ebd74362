"""``heo-calc list``: the registered calculators and whether each can load here."""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> None:
    """Register the command."""
    command = subparsers.add_parser("list", help="registered calculators and whether each can load here")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from heo_calc.registry import available_calculators

    rows = available_calculators()
    width = max(len(row.name) for row in rows) if rows else 4
    print(f"{'name':<{width}}  available  provider     reason")
    for row in rows:
        reason = row.reason.splitlines()[0] if row.reason else ""
        if not args.verbose and len(reason) > 100:
            reason = reason[:97] + "..."
        print(f"{row.name:<{width}}  {'yes' if row.available else 'no':<9}  {row.provider:<11}  {reason}")
    return 0
