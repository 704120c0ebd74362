"""``heo-calc relax``: relax structures from files with the one relaxation engine."""

from __future__ import annotations

import argparse
from pathlib import Path

from heo_base.atomic_write import atomic_output
from heo_calc.cli._common import CLIError, read_structures


def add_parser(subparsers) -> None:
    """Register the command."""
    command = subparsers.add_parser(
        "relax",
        help="relax positions and cell of structures (FrechetCellFilter)",
        description="Relax every structure in FILE... (any ASE-readable format, all frames) and write "
        "the final structures (extxyz) and summary.json to --out.",
    )
    command.add_argument(
        "files", nargs="+", metavar="FILE", help="structure files (extxyz, cif, POSCAR, ...)"
    )
    command.add_argument(
        "--calc", default="heo-ft", help="calculator name from `heo-calc list` (default: heo-ft)"
    )
    command.add_argument("--fmax", type=float, default=0.05, help="force threshold in eV/Å (default: 0.05)")
    command.add_argument(
        "--steps", type=int, default=500, help="max optimizer steps per structure (default: 500)"
    )
    command.add_argument(
        "--optimizer",
        # Spelled out, not read from heo_calc.relax.OPTIMIZERS: importing the engine (ASE's
        # optimizers) would cost --help half a second. A test keeps the two lists equal.
        choices=["lbfgs", "ase-lbfgs", "bfgs", "fire"],
        default="lbfgs",
        help="lbfgs: L-BFGS with a rescaled initial Hessian (default, fewest force calls); "
        "ase-lbfgs: ASE's L-BFGS as it comes; bfgs; fire: ASE's FIRE",
    )
    command.add_argument("--out", default="relaxed", help="output directory (default: ./relaxed)")
    command.add_argument("--trajectory", action="store_true", help="write one ASE .traj per structure")
    command.add_argument("--fixed-cell", action="store_true", help="relax positions only")
    command.add_argument(
        "--sequential",
        action="store_true",
        help="one structure after another, never batched (default: batched on a GPU)",
    )
    command.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="relax in N local worker processes, one torch thread each (default: none, in this process)",
    )
    command.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="relax on the Dask cluster whose scheduler listens at ADDRESS (tcp://host:8786); each "
        "worker builds the model once (default: none, in this process)",
    )
    command.add_argument(
        "--device", default="auto", help="auto, cpu or cuda (default: auto; on a cluster, per worker)"
    )
    command.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import contextlib
    import json

    from ase.io import write

    from heo_calc.relax import relax_many
    from heo_calc.relax.clusters import dask_executor

    if args.dask_scheduler and (args.workers or args.sequential):
        raise CLIError("--dask-scheduler runs on the cluster's workers; drop --workers and --sequential")
    structures = read_structures(args.files)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with dask_executor(args.dask_scheduler) if args.dask_scheduler else contextlib.nullcontext() as executor:
        results = relax_many(
            structures,
            args.calc,  # by name: worker processes and clusters build their own copy
            fmax=args.fmax,
            max_steps=args.steps,
            optimizer=args.optimizer,
            strategy="sequential" if args.sequential else "auto",
            workers=args.workers,
            executor=executor,
            relax_cell=not args.fixed_cell,
            trajectory_dir=out_dir / "trajectories" if args.trajectory else None,
            progress=not args.quiet,
            device=args.device,
        )
    for index, result in enumerate(results):
        print(result.summary())
        if result.status != "failed":
            final = out_dir / f"{index:04d}-{result.name}.extxyz"
            with atomic_output(final) as temporary:
                write(temporary, result.atoms, format="extxyz")
    rows = [result.as_row() for result in results]
    with atomic_output(out_dir / "summary.json") as temporary:
        temporary.write_text(
            json.dumps({"calculator": args.calc, "fmax": args.fmax, "results": rows}, indent=2)
        )
    n_failed = sum(result.status == "failed" for result in results)
    n_converged = sum(result.converged for result in results)
    print(f"{n_converged}/{len(results)} converged, {n_failed} failed; results in {out_dir}")
    return 1 if n_failed else 0
