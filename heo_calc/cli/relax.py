"""``heo-calc relax``: relax structures from files with the one relaxation engine."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from heo_base.types import DEVICES
from heo_calc.cli._common import CLIError, non_negative_int, positive_float, positive_int, read_structures

if TYPE_CHECKING:
    from heo_calc.relax.store import RelaxRunSettings, RelaxStore


def add_parser(subparsers) -> None:
    """Register the command."""
    command = subparsers.add_parser(
        "relax",
        help="relax positions and cell of structures (FrechetCellFilter)",
        description="Relax every structure in FILE... (any ASE-readable format, all frames) and write "
        "each final structure (extxyz) and its record (results/) to --out as soon as it finishes; "
        "summary.json is rebuilt from them after each. All record the model's identity (registry name, "
        "weights file and its SHA-256, dtype, package versions, device): summary.json under 'model', each "
        "extxyz as flat model_* keys of its info line. An interrupted run keeps what finished: rerun "
        "with --resume.",
    )
    command.add_argument(
        "files", nargs="+", metavar="FILE", help="structure files (extxyz, cif, POSCAR, ...)"
    )
    command.add_argument(
        "--calc", default="heo-ft", help="calculator name from `heo-calc list` (default: heo-ft)"
    )
    command.add_argument(
        "--fmax", type=positive_float, default=0.05, help="force threshold in eV/Å, > 0 (default: 0.05)"
    )
    command.add_argument(
        "--steps", type=non_negative_int, default=500, help="max optimizer steps per structure (default: 500)"
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
    command.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out: finished structures are kept, not redone. Only with the same "
        "input, options and model weights (recorded in --out/relax.json); otherwise it stops naming what changed",
    )
    command.add_argument(
        "--discard-stale",
        action="store_true",
        help="with --resume: if --out holds structures relaxed with other weights, delete them and relax "
        "again with the current model instead of stopping",
    )
    command.add_argument(
        "--overwrite",
        action="store_true",
        help="--out holds another run's results: delete them first (only the files a relax run writes: "
        "relax.json, summary.json, results/, trajectories/, NNNN-*.extxyz). Without --resume or "
        "--overwrite such a folder is refused, so two runs never mix",
    )
    command.add_argument("--trajectory", action="store_true", help="write one ASE .traj per structure")
    command.add_argument("--fixed-cell", action="store_true", help="relax positions only")
    command.add_argument(
        "--sequential",
        action="store_true",
        help="one structure after another, never batched (default: batched on a GPU)",
    )
    command.add_argument(
        "--workers",
        type=positive_int,
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
        "--device",
        choices=DEVICES,
        default="auto",
        help="auto, cpu or cuda (default: auto; on a cluster, per worker)",
    )
    command.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    command.set_defaults(handler=run)


def _open_model(args: argparse.Namespace):
    """The model handle of the options (:func:`heo_calc.model.open_model`).

    In this process the calculator is built once and passed on as an object; on worker
    processes (``--workers N``) or a Dask cluster it travels by name, each worker builds its
    own, and the identity is asked of a worker (where the model runs).
    """
    from heo_calc.model import open_model

    return open_model(
        args.calc,
        device=args.device,
        workers=None if args.sequential else args.workers,
        dask_scheduler=args.dask_scheduler,
    )


def _check_options(args: argparse.Namespace) -> None:
    if args.dask_scheduler and (args.workers or args.sequential):
        raise CLIError("--dask-scheduler runs on the cluster's workers; drop --workers and --sequential")
    if args.discard_stale and not args.resume:
        raise CLIError("--discard-stale goes with --resume: heo-calc relax --resume --discard-stale ...")


def _keyed(structures: list, indices: list[int]) -> tuple[list, dict[str, int]]:
    """Copies of ``structures[i]`` for ``i`` in ``indices``, each named by its unique file stem, and stem -> index.

    Results come back in any order (worker processes); the stem finds each one's input index.
    """
    from heo_base.labels import structure_id
    from heo_calc.relax.store import RelaxStore

    keyed, index_of = [], {}
    for index in indices:
        atoms = structures[index].copy()
        key = RelaxStore.stem(index, structure_id(atoms, index))
        atoms.info["name"] = key
        keyed.append(atoms)
        index_of[key] = index
    return keyed, index_of


def _relax_into(
    store: RelaxStore, settings: RelaxRunSettings, structures: list, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Relax the structures not finished in ``store``, keeping each as it finishes; the summary's rows."""
    from heo_base.labels import structure_id
    from heo_calc.relax import relax_many

    names = [structure_id(atoms, index) for index, atoms in enumerate(structures)]
    with _open_model(args) as model:
        identity = model.identity()
        store.open(
            settings, identity, resume=args.resume, discard_stale=args.discard_stale, overwrite=args.overwrite
        )
        done = store.finished()
        todo = [index for index in range(len(structures)) if index not in done]
        if done:
            print(f"resuming: {len(done)} of {len(structures)} structures already finished in {store.root}")
        keyed, index_of = _keyed(structures, todo)

        def keep(result) -> None:
            index = index_of[result.name]
            result.name = names[index]
            result.atoms.info.pop("name", None)
            if "name" in structures[index].info:
                result.atoms.info["name"] = structures[index].info["name"]
            print(result.summary())
            store.save(index, result, identity)
            store.write_summary(settings, identity)

        if keyed:
            relax_many(
                keyed,
                model,
                settings.relax,
                strategy="sequential" if args.sequential else "auto",
                trajectory_dir=store.root / "trajectories" if args.trajectory else None,
                progress=not args.quiet,
                on_result=keep,
            )
    return store.write_summary(settings, identity)["results"]


def run(args: argparse.Namespace) -> int:
    """Relax the files into ``--out``, keeping each structure as it finishes (exit 0 all ok, 1 some failed, 130 interrupted)."""
    from heo_calc.relax import RelaxOptions
    from heo_calc.relax.store import RelaxRunSettings, RelaxStore, fingerprint

    _check_options(args)
    structures = read_structures(args.files)
    settings = RelaxRunSettings(
        calculator=args.calc,
        inputs=fingerprint(structures),
        n_structures=len(structures),
        relax=RelaxOptions(
            fmax=args.fmax, max_steps=args.steps, optimizer=args.optimizer, relax_cell=not args.fixed_cell
        ),
    )
    store = RelaxStore(args.out)
    store.check(settings, resume=args.resume, overwrite=args.overwrite)  # before the model loads
    try:
        rows = _relax_into(store, settings, structures, args)
    except KeyboardInterrupt:  # every finished structure is already on disk, with the summary
        print(
            f"interrupted: {len(store.finished())} of {len(structures)} structures finished and kept in "
            f"{store.root}; rerun with --resume to continue"
        )
        return 130
    n_failed = sum(row["status"] == "failed" for row in rows)
    n_converged = sum(bool(row["converged"]) for row in rows)
    print(f"{n_converged}/{len(rows)} converged, {n_failed} failed; results in {store.root}")
    return 1 if n_failed else 0
