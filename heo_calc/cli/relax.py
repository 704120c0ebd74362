"""``heo-calc relax``: relax structures from files with the one relaxation engine."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from heo_base.atomic_write import atomic_output
from heo_calc.cli._common import CLIError, read_structures


def add_parser(subparsers) -> None:
    """Register the command."""
    command = subparsers.add_parser(
        "relax",
        help="relax positions and cell of structures (FrechetCellFilter)",
        description="Relax every structure in FILE... (any ASE-readable format, all frames) and write "
        "the final structures (extxyz) and summary.json to --out. Both record the model's identity "
        "(registry name, weights file and its SHA-256, dtype, package versions, device): summary.json "
        "under 'model', each extxyz as flat model_* keys of its info line.",
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


@contextlib.contextmanager
def _model(args: argparse.Namespace) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """(calculator, executor, model identity) for the options.

    In this process the calculator is built here once and passed on as an object; on worker
    processes (``--workers N``) or a Dask cluster it travels by name, each worker builds its
    own, and the identity is asked of a worker (where the model runs).
    """
    from heo_calc.registry import get_calculator, require_available

    require_available(args.calc)  # an unknown name or missing weights: before any work
    distributed = args.dask_scheduler or (args.workers and args.workers > 1 and not args.sequential)
    if not distributed:
        from heo_calc.provenance import model_identity

        calculator = get_calculator(args.calc, device=args.device)
        yield calculator, None, model_identity(calculator, args.calc)
        return
    from heo_calc.relax.clusters import dask_executor, local_processes
    from heo_calc.relax.strategies import identity_in_worker

    opened = dask_executor(args.dask_scheduler) if args.dask_scheduler else local_processes(args.workers)
    with opened as executor:
        yield args.calc, executor, executor.submit(identity_in_worker, args.calc, args.device).result()


def _write_outputs(out_dir: Path, args: argparse.Namespace, results: list, identity: dict[str, Any]) -> None:
    """Each relaxed structure (extxyz, identity in ``info``) and summary.json (identity under ``model``)."""
    import json

    from ase.io import write

    from heo_calc.provenance import flat_identity

    for index, result in enumerate(results):
        print(result.summary())
        if result.status != "failed":
            atoms = result.atoms.copy()
            atoms.info.update(flat_identity(identity))
            with atomic_output(out_dir / f"{index:04d}-{result.name}.extxyz") as temporary:
                write(temporary, atoms, format="extxyz")
    summary = {
        "calculator": args.calc,
        "model": identity,
        "fmax": args.fmax,
        "results": [result.as_row() for result in results],
    }
    with atomic_output(out_dir / "summary.json") as temporary:
        temporary.write_text(json.dumps(summary, indent=2))


def run(args: argparse.Namespace) -> int:
    from heo_calc.relax import relax_many

    if args.dask_scheduler and (args.workers or args.sequential):
        raise CLIError("--dask-scheduler runs on the cluster's workers; drop --workers and --sequential")
    structures = read_structures(args.files)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _model(args) as (calculator, executor, identity):
        results = relax_many(
            structures,
            calculator,
            fmax=args.fmax,
            max_steps=args.steps,
            optimizer=args.optimizer,
            strategy="sequential" if args.sequential else "auto",
            executor=executor,
            relax_cell=not args.fixed_cell,
            trajectory_dir=out_dir / "trajectories" if args.trajectory else None,
            progress=not args.quiet,
            device=args.device,
        )
    _write_outputs(out_dir, args, results, identity)
    n_failed = sum(result.status == "failed" for result in results)
    n_converged = sum(result.converged for result in results)
    print(f"{n_converged}/{len(results)} converged, {n_failed} failed; results in {out_dir}")
    return 1 if n_failed else 0
