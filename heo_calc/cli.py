"""``heo-calc``: list calculators, relax structures, finetune foundation models.

Heavy imports (torch, backends) happen inside the commands so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from heo_base.atomic_write import atomic_output

logger = logging.getLogger(__name__)


class _CLIError(Exception):
    """A usage or input problem reported as one line, without traceback."""


def _command_list(args: argparse.Namespace) -> int:
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


def _read_structures(paths: list[str]):
    from ase.io import read

    structures = []
    for path in paths:
        if not Path(path).is_file():
            raise _CLIError(f"input file {path} does not exist")
        try:
            frames = read(path, index=":")
        except Exception as error:  # ase raises many types for unreadable files
            raise _CLIError(
                f"cannot read {path} as a structure file ({type(error).__name__}: {error})"
            ) from error
        for index, atoms in enumerate(frames):
            atoms.info.setdefault(
                "name", Path(path).stem if len(frames) == 1 else f"{Path(path).stem}-{index}"
            )
            structures.append(atoms)
    return structures


def _command_relax(args: argparse.Namespace) -> int:
    import json

    from ase.io import write

    from heo_calc.relax import relax_many

    structures = _read_structures(args.files)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = relax_many(
        structures,
        args.calc,  # by name: worker processes and clusters build their own copy
        fmax=args.fmax,
        max_steps=args.steps,
        optimizer=args.optimizer,
        strategy="sequential" if args.sequential else "auto",
        workers=args.workers,
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


def _command_demo(args: argparse.Namespace) -> int:
    from heo_calc.calculator import HEOCalculator
    from heo_calc.relax import relax_many
    from heo_calc.structures import rocksalt_heo_supercell
    from heo_calc.structures.lattices import pseudo_cubic_lattice_parameter

    atoms = rocksalt_heo_supercell(repeat=args.repeat, seed=args.seed, rattle=0.05)
    calculator = HEOCalculator(args.calc, device=args.device)
    print(f"relaxing a rattled {len(atoms)}-atom rock-salt (Mg,Co,Ni,Cu,Zn)O supercell with {args.calc!r}")
    (result,) = relax_many([atoms], calculator, fmax=args.fmax, progress=False)
    print(result.summary())
    pseudo_cubic_a = pseudo_cubic_lattice_parameter(result.atoms, "rocksalt")
    print(f"pseudo-cubic lattice parameter a = {pseudo_cubic_a:.4f} Å (experiment: ~4.22-4.24 Å)")
    return 0 if result.status != "failed" else 1


def _command_evaluate(args: argparse.Namespace) -> int:
    import pandas as pd

    from heo_base.labelled_data import load_labelled_structures
    from heo_calc.evaluation import evaluate_calculator_on_splits, format_summary_table, format_worst

    data = Path(args.data)
    is_hdf5 = data.suffix in {".h5", ".hdf5"}
    split_names = [name for name in args.split.split(",") if name] if is_hdf5 else [""]
    if not split_names:
        raise _CLIError("--split names no split; pass e.g. --split test or --split valid,test")
    splits = {name: load_labelled_structures(data, split=name or None) for name in split_names}
    fit = load_labelled_structures(data, split=args.fit_split) if is_hdf5 and args.fit_split else None
    summaries: dict[str, dict] = {name: {} for name in split_names}
    tables = []
    for calculator_name in args.calc.split(","):
        results = evaluate_calculator_on_splits(
            calculator_name, splits, fit_structures=fit, device=args.device
        )
        for split, (table, summary) in results.items():
            summaries[split][calculator_name] = summary
            if is_hdf5:
                table.insert(1, "split", split)
            tables.append(table)
    for split in split_names:
        print(f"{len(splits[split])} structures of {data}" + (f" (split {split})" if is_hdf5 else ""))
        print(format_summary_table(summaries[split]))
        print(format_worst(summaries[split]))
    if args.out:
        out = Path(args.out)
        with atomic_output(out) as temporary:
            pd.concat(tables).to_csv(temporary, index=False)
    return 0


def _command_finetune(args: argparse.Namespace) -> int:
    from heo_calc.finetune.runner import finetune

    model_path = finetune(
        base=args.base,
        train=Path(args.train),
        valid=Path(args.valid) if args.valid else None,
        out_dir=Path(args.out),
        method=args.method,
        replay_file=Path(args.replay_file) if args.replay_file else None,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        device=args.device,
        seed=args.seed,
        resume=args.resume,
        energy_key=args.energy_key,
        forces_key=args.forces_key,
        lr_decay_per_epoch=args.lr_decay,
        force_loss_weight=args.force_weight,
        drop_energy_outliers=args.drop_energy_outliers,
        train_shift_scale=args.train_shift_scale,
        refit_energy_reference=args.refit_energy_reference,
        time_limit_minutes=args.time_limit,
        drop_listed=Path(args.drop_outliers_from) if args.drop_outliers_from else None,
        anchor_strength=args.anchor_weights,
        base_replay=args.base_replay,
    )
    print(f"finetuned model written to {model_path}")
    return 0


def _command_refit_energies(args: argparse.Namespace) -> int:
    from heo_base.labelled_data import load_labelled_structures
    from heo_calc.finetune.energy_reference import refit_energy_reference

    structures = load_labelled_structures(args.data, split=args.split)  # split: .h5 only
    offsets = refit_energy_reference(Path(args.model), structures, Path(args.out))
    shown = ", ".join(f"{element} {offset * 1000:+.1f}" for element, offset in offsets.items())
    print(f"per-element offsets removed (meV/atom, fitted on {len(structures)} structures): {shown}")
    print(f"model with the refitted energy reference written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="heo-calc",
        description="ASE calculators for high-entropy oxides: list, relax, finetune. Units: eV, Å, eV/Å, GPa.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages and full reasons")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="registered calculators and whether each can load here")
    listing.set_defaults(handler=_command_list)

    relax = commands.add_parser(
        "relax",
        help="relax positions and cell of structures (FrechetCellFilter)",
        description="Relax every structure in FILE... (any ASE-readable format, all frames) and write "
        "the final structures (extxyz) and summary.json to --out.",
    )
    relax.add_argument("files", nargs="+", metavar="FILE", help="structure files (extxyz, cif, POSCAR, ...)")
    relax.add_argument(
        "--calc", default="heo-ft", help="calculator name from `heo-calc list` (default: heo-ft)"
    )
    relax.add_argument("--fmax", type=float, default=0.05, help="force threshold in eV/Å (default: 0.05)")
    relax.add_argument(
        "--steps", type=int, default=500, help="max optimizer steps per structure (default: 500)"
    )
    relax.add_argument(
        "--optimizer",
        # Spelled out, not read from heo_calc.relax.OPTIMIZERS: importing the engine (ASE's
        # optimizers) would cost --help half a second. A test keeps the two lists equal.
        choices=["lbfgs", "ase-lbfgs", "bfgs", "fire"],
        default="lbfgs",
        help="lbfgs: L-BFGS with a rescaled initial Hessian (default, fewest force calls); "
        "ase-lbfgs: ASE's L-BFGS as it comes; bfgs; fire: ASE's FIRE (the seed project's loop)",
    )
    relax.add_argument("--out", default="relaxed", help="output directory (default: ./relaxed)")
    relax.add_argument("--trajectory", action="store_true", help="write one ASE .traj per structure")
    relax.add_argument("--fixed-cell", action="store_true", help="relax positions only")
    relax.add_argument(
        "--sequential",
        action="store_true",
        help="one structure after another, never batched (default: batched on a GPU)",
    )
    relax.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="relax in N local worker processes, one torch thread each (default: none, in this process)",
    )
    relax.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    relax.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    relax.set_defaults(handler=_command_relax)

    demo = commands.add_parser(
        "demo", help="relax a rattled rock-salt (Mg,Co,Ni,Cu,Zn)O supercell and print the result"
    )
    demo.add_argument("--calc", default="heo-ft", help="calculator name (default: heo-ft)")
    demo.add_argument(
        "--repeat",
        type=int,
        default=2,
        help="supercell repeats of the 8-atom cubic cell (default: 2 = 64 atoms)",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of cation order and rattle (default: 0)")
    demo.add_argument("--fmax", type=float, default=0.05, help="force threshold in eV/Å (default: 0.05)")
    demo.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    demo.set_defaults(handler=_command_demo)

    evaluate = commands.add_parser(
        "evaluate",
        help="energy and force errors of calculators against DFT labels",
        description="Force RMSE/MAE (meV/Å, per Cartesian component) and energy RMSE/MAE/median "
        "(meV/atom), raw and after a per-element linear reference fitted on --fit-split.",
    )
    evaluate.add_argument("--calc", required=True, help="comma-separated calculator names")
    evaluate.add_argument(
        "--data", required=True, help="heo.h5 from heo-dataset, or an extxyz file with labels"
    )
    evaluate.add_argument(
        "--split", default="test", help="split(s) of an .h5 to evaluate, comma-separated (default: test)"
    )
    evaluate.add_argument(
        "--fit-split", default="train", help="split of an .h5 the reference is fitted on (default: train)"
    )
    evaluate.add_argument("--out", help="write the per-structure table as CSV")
    evaluate.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    evaluate.set_defaults(handler=_command_evaluate)

    finetune = commands.add_parser(
        "finetune",
        help="finetune a foundation model on HEO data with the backend's own trainer",
        description="Finetune BASE (mace-mp0, another MACE foundation name or a .model file: through "
        "mace_run_train; sevennet-0 or sevennet-l3i5: through sevenn) on --train (.h5 from heo-dataset or "
        "extxyz with energies in eV and forces in eV/Å).",
    )
    finetune.add_argument(
        "--base",
        required=True,
        help="mace-mp0 | mace-mp0-small | mace-omat | PATH.model | sevennet-0 | sevennet-l3i5",
    )
    finetune.add_argument(
        "--train", required=True, help="training data: heo.h5 (its train split) or an extxyz file"
    )
    finetune.add_argument(
        "--valid", help="validation data (default: the valid split of an .h5, else 10%% of --train)"
    )
    finetune.add_argument("--out", required=True, help="output directory (checkpoints, logs, final model)")
    finetune.add_argument(
        "--method",
        choices=["naive", "replay"],
        default="naive",
        help="MACE only: naive or multihead replay finetuning",
    )
    finetune.add_argument(
        "--replay-file", help="MACE replay: pretraining-like data (extxyz) for --method replay"
    )
    finetune.add_argument("--epochs", type=int, default=5, help="epochs (default: 5)")
    finetune.add_argument("--lr", type=float, default=1e-3, help="learning rate (default: 1e-3)")
    finetune.add_argument(
        "--lr-decay", type=float, default=0.75, help="SevenNet: lr factor per epoch (default: 0.75)"
    )
    finetune.add_argument(
        "--force-weight",
        type=float,
        default=0.3,
        help="SevenNet: force loss weight against per-atom energy (default: 0.3; MACE uses its own weights)",
    )
    finetune.add_argument(
        "--drop-energy-outliers",
        type=float,
        metavar="EV_PER_ATOM",
        help="drop training structures whose DFT energy differs from SevenNet-0's by more than this (eV/atom); "
        "listed in OUT/data/dropped_outliers.json (default: keep all)",
    )
    finetune.add_argument(
        "--drop-outliers-from",
        metavar="JSON",
        help="drop the training structures listed in a dropped_outliers.json of an earlier run "
        "(by id; no model is evaluated)",
    )
    finetune.add_argument(
        "--time-limit",
        type=float,
        metavar="MINUTES",
        help="SevenNet: stop between epochs before this wall time and keep the best checkpoint so far "
        "(default: none)",
    )
    finetune.add_argument(
        "--anchor-weights",
        type=float,
        default=0.0,
        metavar="LAMBDA",
        help="SevenNet: add LAMBDA * sum((w - w_base)^2) over the weights to the loss, holding the model "
        "near its base (L2-SP; default 0: off)",
    )
    finetune.add_argument(
        "--base-replay",
        type=int,
        default=0,
        metavar="N",
        help="SevenNet: add N rattled binary-oxide structures of the training cations, labelled by the "
        "base model, to training (default 0: off)",
    )
    finetune.add_argument(
        "--train-shift-scale",
        action="store_true",
        help="SevenNet: also train the per-species energy shift and scale (default: keep them as pretrained)",
    )
    finetune.add_argument("--batch-size", type=int, default=4, help="structures per batch (default: 4)")
    finetune.add_argument(
        "--device", default="cpu", help="cpu, cuda or auto (default: cpu); both backends train there"
    )
    finetune.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    finetune.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    finetune.add_argument(
        "--energy-key", help="info key of the energy (eV) in extxyz input (default: detected)"
    )
    finetune.add_argument(
        "--forces-key", help="arrays key of the forces (eV/Å) in extxyz input (default: detected)"
    )
    finetune.add_argument(
        "--refit-energy-reference",
        action="store_true",
        help="SevenNet: after training, fit the per-element energy reference on the training structures "
        "and bake it into the model (see refit-energies)",
    )
    finetune.set_defaults(handler=_command_finetune)

    refit = commands.add_parser(
        "refit-energies",
        help="bake a per-element energy reference fitted on training data into a SevenNet model",
        description="Fit per-element offsets (eV per atom of each element, Huber loss as in `evaluate`'s "
        "reference fit) of MODEL's energies against DFT on --data, subtract them from the model's "
        "per-species energy shift and write the result to --out. Forces do not change.",
    )
    refit.add_argument("model", help="SevenNet checkpoint (.pth), e.g. OUT/finetuned.pth of `finetune`")
    refit.add_argument("--data", required=True, help="labelled structures: heo.h5 or extxyz (eV, eV/Å)")
    refit.add_argument("--split", default="train", help="split of an .h5 to fit on (default: train)")
    refit.add_argument("--out", required=True, help="output .pth (may equal MODEL; written atomically)")
    refit.set_defaults(handler=_command_refit_energies)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    from heo_calc.errors import HEOCalcError

    try:
        return args.handler(args)
    except (_CLIError, HEOCalcError, FileNotFoundError, ValueError) as error:
        print(f"heo-calc: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
