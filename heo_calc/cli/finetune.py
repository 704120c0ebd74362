"""``heo-calc finetune``: finetune a foundation model with its backend's own trainer."""

from __future__ import annotations

import argparse
from pathlib import Path

from heo_base.types import DEVICES


def add_parser(subparsers) -> None:
    """Register the command.

    Over 60 lines on purpose: a flat list of argparse declarations, kept together so that
    the command's interface (every option with its unit and default) reads top to bottom.
    """
    command = subparsers.add_parser(
        "finetune",
        help="finetune a foundation model on HEO data with the backend's own trainer",
        description="Finetune BASE (mace-mp0, another MACE foundation name or a .model file: through "
        "mace_run_train; sevennet-0 or sevennet-l3i5: through sevenn) on --train (.h5 from heo-dataset or "
        "extxyz with energies in eV and forces in eV/Å).",
    )
    command.add_argument(
        "--base",
        required=True,
        help="mace-mp0 | mace-mp0-small | mace-omat | PATH.model | sevennet-0 | sevennet-l3i5",
    )
    command.add_argument(
        "--train", required=True, help="training data: heo.h5 (its train split) or an extxyz file"
    )
    command.add_argument(
        "--valid", help="validation data (default: the valid split of an .h5, else 10%% of --train)"
    )
    command.add_argument("--out", required=True, help="output directory (checkpoints, logs, final model)")
    command.add_argument(
        "--method",
        choices=["naive", "replay"],
        default="naive",
        help="MACE only: naive or multihead replay finetuning",
    )
    command.add_argument(
        "--replay-file", help="MACE replay: pretraining-like data (extxyz) for --method replay"
    )
    command.add_argument("--epochs", type=int, default=5, help="epochs (default: 5)")
    command.add_argument("--lr", type=float, default=1e-3, help="learning rate (default: 1e-3)")
    command.add_argument(
        "--lr-decay", type=float, default=0.75, help="SevenNet: lr factor per epoch (default: 0.75)"
    )
    command.add_argument(
        "--force-weight",
        type=float,
        default=0.3,
        help="SevenNet: force loss weight against per-atom energy (default: 0.3; MACE uses its own weights)",
    )
    command.add_argument(
        "--drop-energy-outliers",
        type=float,
        metavar="EV_PER_ATOM",
        help="drop training structures whose DFT energy differs from SevenNet-0's by more than this (eV/atom); "
        "listed in OUT/data/dropped_outliers.json (default: keep all)",
    )
    command.add_argument(
        "--drop-outliers-from",
        metavar="JSON",
        help="drop the training structures listed in a dropped_outliers.json of an earlier run "
        "(by id; no model is evaluated)",
    )
    command.add_argument(
        "--time-limit",
        type=float,
        metavar="MINUTES",
        help="SevenNet: stop between epochs before this wall time and keep the best checkpoint so far "
        "(default: none)",
    )
    command.add_argument(
        "--anchor-weights",
        type=float,
        default=0.0,
        metavar="LAMBDA",
        help="SevenNet: add LAMBDA * sum((w - w_base)^2) over the weights to the loss, holding the model "
        "near its base (L2-SP; default 0: off)",
    )
    command.add_argument(
        "--base-replay",
        type=int,
        default=0,
        metavar="N",
        help="SevenNet: add N rattled binary-oxide structures of the training cations, labelled by the "
        "base model (or --replay-labels), to training (default 0: off)",
    )
    command.add_argument(
        "--replay-labels",
        metavar="NAME",
        help="calculator that labels the --base-replay structures (default: the base); when --base is "
        "an earlier finetune, name its foundation model (e.g. sevennet-0) to hold on to that",
    )
    command.add_argument(
        "--zero-stress-below",
        type=float,
        metavar="FMAX",
        help="SevenNet: structures whose largest DFT force component is below FMAX (eV/Å) get a zero-stress "
        "target (end points of DFT relaxations of positions and cell); the others no stress term "
        "(default: off, no stress trained)",
    )
    command.add_argument(
        "--stress-weight",
        type=float,
        default=1e-4,
        help="SevenNet, with --zero-stress-below or --stiffness-labels: stress loss weight per kbar^2 against per-atom energy "
        "(eV/atom)^2 (default: 1e-4)",
    )
    command.add_argument(
        "--loss",
        choices=["mse", "huber"],
        default="mse",
        help="SevenNet: loss of energies, forces and stresses (default: mse; SevenNet-0 was trained with huber)",
    )
    command.add_argument(
        "--huber-delta",
        type=float,
        default=0.01,
        help="SevenNet, with --loss huber: δ of the Huber loss (default: 0.01, SevenNet-0's own)",
    )
    command.add_argument(
        "--lr-warmup-steps",
        type=int,
        default=0,
        metavar="N",
        help="SevenNet: raise the rate linearly over the first N optimizer steps of the run (default 0: off; "
        "sevenn itself changes the rate only once per epoch)",
    )
    command.add_argument(
        "--train-only",
        choices=["last-block", "readout"],
        help="SevenNet: train only the last interaction block and the readout, or the readout only; every "
        "other weight stays as in the base, bit for bit (default: all weights)",
    )
    command.add_argument(
        "--stiffness-labels",
        type=int,
        default=0,
        metavar="N",
        help="SevenNet: add N strained cells (±1-3%% in volume and shear; binary oxides of the training cations "
        "and DFT-relaxed training cells) labelled with energy, forces and stress by --stiffness-labels-from, "
        "so that finetuning keeps that model's stiffness (default 0: off)",
    )
    command.add_argument(
        "--stiffness-labels-from",
        metavar="NAME",
        help="calculator that labels the --stiffness-labels cells (default: --replay-labels, else the base)",
    )
    command.add_argument(
        "--energy-mae-cap",
        type=float,
        metavar="MEV_PER_ATOM",
        help="SevenNet: export the epoch with the lowest validation force RMSE among those whose validation "
        "energy MAE is at most this (meV/atom), instead of the lowest validation loss; the choice and every "
        "epoch's figures go to OUT/selection.json (default: sevenn's lowest validation loss)",
    )
    command.add_argument(
        "--train-shift-scale",
        action="store_true",
        help="SevenNet: also train the per-species energy shift and scale (default: keep them as pretrained)",
    )
    command.add_argument("--batch-size", type=int, default=4, help="structures per batch (default: 4)")
    command.add_argument(
        "--device",
        choices=DEVICES,
        default="cpu",
        help="cpu, cuda or auto (default: cpu); both backends train there",
    )
    command.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    command.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --out")
    command.add_argument(
        "--energy-key", help="info key of the energy (eV) in extxyz input (default: detected)"
    )
    command.add_argument(
        "--forces-key", help="arrays key of the forces (eV/Å) in extxyz input (default: detected)"
    )
    command.add_argument(
        "--refit-energy-reference",
        action="store_true",
        help="SevenNet: after training, fit the per-element energy reference on the training structures "
        "and bake it into the model (see refit-energies)",
    )
    command.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
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
        replay_labels=args.replay_labels,
        zero_stress_below=args.zero_stress_below,
        stress_loss_weight=args.stress_weight,
        loss=args.loss,
        huber_delta=args.huber_delta,
        lr_warmup_steps=args.lr_warmup_steps,
        train_only=args.train_only,
        stiffness_labels=args.stiffness_labels,
        stiffness_labels_from=args.stiffness_labels_from,
        energy_mae_cap=args.energy_mae_cap,
    )
    print(f"finetuned model written to {model_path}")
    return 0
