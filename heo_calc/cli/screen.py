"""``heo-calc screen``: rank equimolar HEO compositions by mixing energy on one parent lattice."""

from __future__ import annotations

import argparse

from heo_base.types import DEVICES, LATTICES
from heo_calc.cli._common import CLIError, non_negative_int, positive_float, positive_int


def add_parser(subparsers) -> None:
    """Register the command (long because it declares every option, one call each; no logic)."""
    command = subparsers.add_parser(
        "screen",
        help="screen equimolar HEO compositions: mixing energy, lattice parameter, local distortion",
        description="Relax every composition (random or SQS arrangements, several seeds) and its "
        "single-cation parents on one lattice; write results.csv, summary.csv, results.json, "
        "ranking.md and plots to --out. Units: meV/atom, Å, eV/Å.",
    )
    command.add_argument(
        "--lattice", required=True, choices=LATTICES, help="parent lattice of every composition"
    )
    given = command.add_argument_group("compositions (any combination; repeats are dropped)")
    given.add_argument(
        "--cations", action="append", default=[], metavar="A,B,...", help="one composition (repeatable)"
    )
    given.add_argument(
        "--pool", metavar="A,B,...", help="cations to draw compositions from, with --n-cations"
    )
    given.add_argument("--n-cations", type=int, metavar="K", help="every K-subset of --pool")
    given.add_argument("--compositions", metavar="FILE", help="one composition a line (A,B,...); # comments")
    command.add_argument("--calc", default="heo-ft", help="calculator from `heo-calc list` (default: heo-ft)")
    command.add_argument(
        "--realizations",
        type=int,
        default=3,
        metavar="N",
        help="arrangements per composition, seeds SEED.. (default: 3)",
    )
    command.add_argument(
        "--arrangement",
        choices=("sqs", "random"),
        default="sqs",
        help="SQS (Warren-Cowley swap search) or random (default: sqs)",
    )
    command.add_argument("--seed", type=int, default=0, help="first seed (default: 0)")
    command.add_argument(
        "--sites",
        type=int,
        metavar="N",
        help="cation sites per supercell, the same for every composition (default: per composition, the "
        "smallest exactly equimolar cell of at least 40 sites; spinel 60, perovskite 30)",
    )
    command.add_argument(
        "--fmax", type=positive_float, default=0.05, help="force threshold in eV/Å, > 0 (default: 0.05)"
    )
    command.add_argument(
        "--steps",
        type=non_negative_int,
        default=500,
        help="max optimizer steps per relaxation (default: 500)",
    )
    command.add_argument(
        "--rattle", type=float, default=0.05, help="Gaussian rattle of every start, Å (default: 0.05)"
    )
    command.add_argument(
        "--sqs-trials", type=int, default=2000, help="swap-search trials per SQS (default: 2000)"
    )
    command.add_argument("--out", default="screen", help="output directory (default: ./screen)")
    command.add_argument(
        "--resume",
        action="store_true",
        help="continue the screen in --out: finished compositions are kept, not redone. Only with the "
        "same options and the same model: the model's identity (registry name, SHA-256 of its weights "
        "file, dtype) is recorded in --out/screen.json, and resuming with other weights under the same "
        "name (a retrained sevennet:PATH file, an upgraded heo-ft) stops with an error naming both",
    )
    command.add_argument(
        "--discard-stale",
        action="store_true",
        help="with --resume: if --out holds compositions computed with other weights, delete them (and "
        "the result tables) and screen again with the current model instead of stopping. Parents are "
        "cached per model identity, so new weights always relax their own",
    )
    where = command.add_mutually_exclusive_group()
    where.add_argument(
        "--dask-scheduler", metavar="ADDRESS", help="relax on the Dask cluster at ADDRESS (tcp://host:8786)"
    )
    where.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="relax in N local worker processes (default: this process)",
    )
    command.add_argument(
        "--device", choices=DEVICES, default="auto", help="auto, cpu or cuda (default: auto)"
    )
    command.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    command.set_defaults(handler=run)


def compositions_of(args: argparse.Namespace) -> list:
    """Every composition the options name (CompositionError for a bad one)."""
    from heo_calc.screening.compositions import parse_cations, pool_compositions, read_compositions

    if (args.pool is None) != (args.n_cations is None):
        raise CLIError("--pool and --n-cations go together: --pool Mg,Co,Ni,Cu,Zn,Fe --n-cations 5")
    compositions = [parse_cations(text) for text in args.cations]
    if args.pool is not None:
        compositions += pool_compositions(args.pool, args.n_cations)
    if args.compositions:
        compositions += read_compositions(args.compositions)
    if not compositions:
        raise CLIError(
            "no composition given: use --cations Mg,Co,Ni,Cu,Zn, --pool ... --n-cations K, or --compositions FILE"
        )
    return compositions


def run(args: argparse.Namespace) -> int:
    """Run the screen (long because it maps every option onto :class:`ScreenSettings`; no logic)."""
    from heo_calc.provenance import describe_identity
    from heo_calc.relax import RelaxOptions
    from heo_calc.screening import ScreenSettings, run_screen
    from heo_calc.status import Status

    settings = ScreenSettings(
        lattice=args.lattice,
        calculator=args.calc,
        realizations=args.realizations,
        arrangement=args.arrangement,
        seed=args.seed,
        sites=args.sites,
        relax=RelaxOptions(fmax=args.fmax, max_steps=args.steps),
        rattle=args.rattle,
        sqs_trials=args.sqs_trials,
        device=args.device,
    )
    compositions = compositions_of(args)
    if args.discard_stale and not args.resume:
        raise CLIError("--discard-stale goes with --resume: heo-calc screen --resume --discard-stale ...")
    try:
        result = run_screen(
            compositions,
            settings,
            args.out,
            resume=args.resume,
            discard_stale=args.discard_stale,
            workers=args.workers,
            dask_scheduler=args.dask_scheduler,
            progress=not args.quiet,
        )
    except KeyboardInterrupt:
        print(f"interrupted: finished compositions are kept in {args.out}; rerun with --resume to continue")
        return 130
    statuses = [record.summary.status for record in result.records]
    print(
        f"{len(statuses)} compositions on {result.engine} ({len(result.resumed)} from an earlier run): "
        f"{statuses.count(Status.OK)} ok, {statuses.count(Status.NOT_CONVERGED)} not converged, "
        f"{statuses.count(Status.FAILED)} failed; ranking in {result.out_dir / 'ranking.md'}"
    )
    print(f"model: {describe_identity(result.model)}")
    return 1 if Status.FAILED in statuses else 0
