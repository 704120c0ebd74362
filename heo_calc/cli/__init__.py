"""``heo-calc``: list, relax, screen, evaluate, select, forgetting, finetune; one module per command.

Each command module has ``add_parser(subparsers)`` and ``run(args) -> int``. Heavy imports
(torch, backends) happen inside ``run`` so that ``--help`` is instant. Usage and input
problems end as one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys

from heo_calc.cli import (
    demo,
    evaluate,
    finetune,
    forgetting,
    interpolate,
    list_calculators,
    refit_energies,
    relax,
    screen,
    select,
)
from heo_calc.cli._common import CLIError

#: The command modules, in the order ``--help`` lists them.
COMMANDS = (
    list_calculators,
    relax,
    screen,
    demo,
    evaluate,
    select,
    forgetting,
    finetune,
    interpolate,
    refit_energies,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="heo-calc",
        description="ASE calculators for high-entropy oxides: list, relax, screen, evaluate, select, finetune. "
        "Units: eV, Å, eV/Å, GPa.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages and full reasons")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    from heo_base.errors import HEODataError
    from heo_calc.errors import HEOCalcError

    try:
        return args.handler(args)
    except (CLIError, HEOCalcError, HEODataError, FileNotFoundError, ValueError) as error:
        print(f"heo-calc: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
