"""``heo-calc finetune``: prepare data, then hand over to the backend's own trainer."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from heo_base.atomic_write import atomic_output
from heo_base.errors import LabelledDataError
from heo_base.labelled_data import load_labelled_structures, write_training_extxyz

logger = logging.getLogger(__name__)

FINAL_SEVENNET_NAME = "finetuned.pth"


def prepare_training_files(
    train: Path,
    valid: Path | None,
    out_dir: Path,
    *,
    seed: int,
    energy_key: str | None = None,
    forces_key: str | None = None,
    drop_energy_outliers: float | None = None,
    outlier_model: str = "sevennet-0",
    drop_listed: Path | None = None,
    base_replay: int = 0,
    replay_model: str = "sevennet-0",
    zero_stress_below: float | None = None,
    stiffness_labels: int = 0,
    stiffness_model: str = "sevennet-0",
) -> tuple[Path, Path]:
    """Write ``train.extxyz`` and ``valid.extxyz`` (REF_ keys) into ``out_dir``.

    An HDF5 file from ``heo-dataset`` gives its train and valid splits; an extxyz file
    without ``valid`` is split 90/10 by reduced formula (seeded), so no composition is
    on both sides. Training structures can be dropped by their energy error under
    ``outlier_model`` (``drop_energy_outliers``, eV/atom) or by the ids of an earlier
    record (``drop_listed``, a ``dropped_outliers.json``); ``base_replay`` structures
    labelled by ``replay_model`` (:mod:`heo_calc.finetune.base_replay`) are added to
    training. Validation is never filtered nor extended. ``zero_stress_below`` (eV/Å):
    training and validation structures whose largest DFT force component is below it get a
    zero-stress label, the others (replay included) none
    (:func:`heo_calc.finetune.zero_stress.attach_zero_stress_labels`). ``stiffness_labels``
    strained cells labelled by ``stiffness_model`` with energy, forces *and stress* are added
    to training (:mod:`heo_calc.finetune.stiffness_labels`), so that the curvature of E(V),
    which our stress-free data cannot teach, stays that model's.
    """
    train_structures, valid_structures = _train_and_valid(
        train, valid, seed=seed, energy_key=energy_key, forces_key=forces_key
    )
    if drop_energy_outliers is not None:
        train_structures = drop_label_outliers(
            train_structures,
            threshold=drop_energy_outliers,
            model=outlier_model,
            record=out_dir / "data" / "dropped_outliers.json",
        )
    if drop_listed is not None:
        train_structures = drop_listed_structures(
            train_structures, Path(drop_listed), record=out_dir / "data" / "dropped_outliers.json"
        )
    if zero_stress_below is not None:
        _zero_stress_labels(train_structures, valid_structures, zero_stress_below)
    if base_replay > 0:
        from heo_calc.finetune.base_replay import base_labelled_structures
        from heo_calc.registry import get_calculator

        cations = {symbol for atoms in train_structures for symbol in atoms.get_chemical_symbols()}
        replay = base_labelled_structures(cations, get_calculator(replay_model), base_replay, seed=seed)
        logger.info("added %d structures labelled by %s (base replay)", len(replay), replay_model)
        write_training_extxyz(replay, out_dir / "data" / "base_replay.extxyz")
        train_structures = train_structures + replay
    if stiffness_labels > 0:
        train_structures = train_structures + _stiffness_structures(
            train_structures,
            stiffness_labels,
            stiffness_model,
            out_dir,
            seed=seed,
            relaxed_below=zero_stress_below,
        )
    if not train_structures or not valid_structures:
        raise LabelledDataError(
            f"need at least one training and one validation structure, got {len(train_structures)} and "
            f"{len(valid_structures)}; pass more data or an explicit --valid file"
        )
    logger.info("training on %d structures, validating on %d", len(train_structures), len(valid_structures))
    return (
        write_training_extxyz(train_structures, out_dir / "data" / "train.extxyz"),
        write_training_extxyz(valid_structures, out_dir / "data" / "valid.extxyz"),
    )


def _stiffness_structures(
    train_structures: list,
    n_structures: int,
    model: str,
    out_dir: Path,
    *,
    seed: int,
    relaxed_below: float | None,
) -> list:
    """Strained cells labelled by ``model`` with stress (written to ``OUT/data/stiffness_labels.extxyz``)."""
    from heo_calc.finetune.stiffness_labels import stiffness_labelled_structures
    from heo_calc.registry import get_calculator

    cations = {symbol for atoms in train_structures for symbol in atoms.get_chemical_symbols()}
    labelled = stiffness_labelled_structures(
        train_structures,
        cations,
        get_calculator(model, device="cpu"),
        n_structures,
        relaxed_below=relaxed_below or 0.01,
        seed=seed,
    )
    write_training_extxyz(labelled, out_dir / "data" / "stiffness_labels.extxyz")
    logger.info("added %d strained structures labelled with stress by %s", len(labelled), model)
    return labelled


def _train_and_valid(
    train: Path, valid: Path | None, *, seed: int, energy_key: str | None, forces_key: str | None
) -> tuple[list, list]:
    """Training and validation structures: an .h5's splits, ``valid`` as given, or a seeded 90/10 split by formula."""
    is_hdf5 = train.suffix in {".h5", ".hdf5"}
    train_structures = load_labelled_structures(
        train, energy_key=energy_key, forces_key=forces_key, split="train" if is_hdf5 else None
    )
    if valid is not None:
        return train_structures, load_labelled_structures(valid, energy_key=energy_key, forces_key=forces_key)
    if is_hdf5:
        return train_structures, load_labelled_structures(train, split="valid")
    from pymatgen.core import Composition

    from heo_base.splits import assign_splits_by_formula

    formulas = [Composition(atoms.get_chemical_formula()).reduced_formula for atoms in train_structures]
    splits = assign_splits_by_formula(formulas, fractions=(0.9, 0.1, 0.0), seed=seed)
    return (
        [a for a, s in zip(train_structures, splits) if s == "train"],
        [a for a, s in zip(train_structures, splits) if s == "valid"],
    )


def _zero_stress_labels(train_structures: list, valid_structures: list, below: float) -> None:
    """Zero-stress labels below ``below`` eV/Å on both sides (required on the training side)."""
    from heo_calc.finetune.zero_stress import attach_zero_stress_labels

    n_train = attach_zero_stress_labels(train_structures, below)
    n_valid = attach_zero_stress_labels(valid_structures, below, required=False)
    logger.info(
        "zero-stress label on %d of %d training and %d of %d validation structures (max |F| < %g eV/Å)",
        n_train,
        len(train_structures),
        n_valid,
        len(valid_structures),
        below,
    )


def drop_label_outliers(structures: list, *, threshold: float, model: str, record: Path) -> list:
    """Drop training structures whose DFT energy disagrees with ``model`` by more than ``threshold`` eV/atom.

    Heavy-tailed energy errors on HEO data come mostly from a few compositions whose DFT
    settings differ between source databases; fitted with an MSE
    loss they pull every other energy away. The dropped ids and errors are written to
    ``record`` (JSON) so the selection can be audited. Validation and test sets are never
    filtered.
    """
    import json

    import numpy as np

    from heo_calc.evaluation import evaluate_structures
    from heo_calc.registry import get_calculator

    errors = evaluate_structures(get_calculator(model, device="cpu"), structures)["energy_error"].to_numpy(
        float
    )
    kept, dropped = [], []
    for index, (atoms, error) in enumerate(zip(structures, errors)):
        if np.isfinite(error) and abs(error) <= threshold:
            kept.append(atoms)
        else:  # NaN: the model failed on it, so it cannot vouch for the label either
            dropped.append(
                {
                    "index": index,
                    "id": str(atoms.info.get("immutable_id", f"train-{index}")),
                    "formula": atoms.get_chemical_formula(),
                    "energy_error_eV_per_atom": float(error),
                }
            )
    logger.info(
        "dropped %d of %d training structures with |E_%s - E_DFT| > %g eV/atom",
        len(dropped),
        len(structures),
        model,
        threshold,
    )
    record.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(record) as temporary:
        temporary.write_text(
            json.dumps({"model": model, "threshold_eV_per_atom": threshold, "dropped": dropped}, indent=2)
        )
    return kept


def drop_listed_structures(structures: list, listing: Path, *, record: Path) -> list:
    """Drop the structures whose ``immutable_id`` an earlier ``dropped_outliers.json`` lists.

    Reuses a recorded selection without evaluating a model again. Raises
    :class:`LabelledDataError` when the file is unreadable or none of its ids is present
    (a record of another data set); ids that are absent are logged.
    """
    import json

    try:
        listed = {str(row["id"]): row for row in json.loads(Path(listing).read_text())["dropped"]}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LabelledDataError(
            f"cannot read the outlier list {listing} ({type(error).__name__}: {error}); pass a "
            "dropped_outliers.json written by an earlier `heo-calc finetune --drop-energy-outliers`"
        ) from error
    ids = [str(atoms.info.get("immutable_id", "")) for atoms in structures]
    found = set(ids) & set(listed)
    if listed and not found:
        raise LabelledDataError(
            f"none of the {len(listed)} ids in {listing} is among the training structures; "
            "was it recorded on another data set?"
        )
    if len(found) < len(listed):
        logger.warning("%d ids of %s are not in the training data", len(listed) - len(found), listing)
    kept = [atoms for atoms, identifier in zip(structures, ids) if identifier not in found]
    record.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(record) as temporary:
        temporary.write_text(
            json.dumps(
                {"from_list": Path(listing).name, "dropped": [listed[i] for i in sorted(found)]}, indent=2
            )
        )
    logger.info("dropped %d listed training structures (%s)", len(found), listing)
    return kept


def finetune(
    *,
    base: str,
    train: Path,
    valid: Path | None,
    out_dir: Path,
    method: Literal["naive", "replay"] = "naive",
    replay_file: Path | None = None,
    epochs: int = 5,
    lr: float = 1e-3,
    batch_size: int = 4,
    device: str = "cpu",
    seed: int = 1,
    resume: bool = False,
    energy_key: str | None = None,
    forces_key: str | None = None,
    lr_decay_per_epoch: float = 0.75,
    force_loss_weight: float = 0.3,
    drop_energy_outliers: float | None = None,
    train_shift_scale: bool = False,
    refit_energy_reference: bool = False,
    time_limit_minutes: float | None = None,
    drop_listed: Path | None = None,
    anchor_strength: float = 0.0,
    base_replay: int = 0,
    replay_labels: str | None = None,
    zero_stress_below: float | None = None,
    stress_loss_weight: float = 1e-4,
    loss: Literal["mse", "huber"] = "mse",
    huber_delta: float = 0.01,
    lr_warmup_steps: int = 0,
    train_only: Literal["last-block", "readout"] | None = None,
    stiffness_labels: int = 0,
    stiffness_labels_from: str | None = None,
    energy_mae_cap: float | None = None,
) -> Path:
    """Finetune ``base`` on HEO data; return the path of the finetuned model file.

    SevenNet bases (``sevennet-0``, ``sevennet-l3i5``, or a ``.pth`` checkpoint) train
    with sevenn's own trainer on ``device``; MACE bases (``mace-mp0``... or a ``.model``
    file) with mace-torch's ``mace_run_train``. ``resume`` continues from the last
    checkpoint in ``out_dir``. SevenNet only: ``time_limit_minutes`` (counted from this
    call) stops training between epochs before that wall time and keeps the best checkpoint
    so far; two ways to hold on to what the base knew: ``anchor_strength`` (λ of an L2 pull
    toward the base weights, ``λ Σ (θ − θ0)²`` added to the loss) and ``base_replay`` (that
    many binary-oxide structures added to training, labelled by ``replay_labels``, a
    registry name, by default the base itself: when ``base`` is an earlier finetune, pass its
    foundation model, e.g. ``sevennet-0``, to hold on to that). ``zero_stress_below``
    (eV/Å): a zero-stress target, with weight ``stress_loss_weight`` (per kbar², sevenn's
    stress unit), on structures whose DFT forces are below it (:mod:`heo_calc.finetune.zero_stress`). (Its length is
    keyword forwarding to the backend's trainer, the steps are the helpers below.)
    """
    import time

    # The time limit counts from here: data preparation spends the same slot of GPU time.
    deadline = time.time() + 60.0 * time_limit_minutes if time_limit_minutes is not None else None
    is_sevennet = _check_arguments(
        base=base,
        train=train,
        epochs=epochs,
        method=method,
        time_limit_minutes=time_limit_minutes,
        anchor_strength=anchor_strength,
        base_replay=base_replay,
        refit_energy_reference=refit_energy_reference,
        zero_stress_below=zero_stress_below,
        loss=loss,
        huber_delta=huber_delta,
        lr_warmup_steps=lr_warmup_steps,
        train_only=train_only,
        stiffness_labels=stiffness_labels,
        energy_mae_cap=energy_mae_cap,
    )
    # Absolute, because the backends' trainers run with the output directory as cwd.
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    train_file, valid_file = prepare_training_files(
        Path(train),
        Path(valid) if valid else None,
        out_dir,
        seed=seed,
        energy_key=energy_key,
        forces_key=forces_key,
        drop_energy_outliers=drop_energy_outliers,
        drop_listed=drop_listed,
        base_replay=base_replay,
        replay_model=replay_labels or _registry_name_of_base(base),
        zero_stress_below=zero_stress_below,
        stiffness_labels=stiffness_labels,
        stiffness_model=stiffness_labels_from or replay_labels or _registry_name_of_base(base),
    )
    if is_sevennet:
        recipe = SevenNetRecipe(
            epochs=epochs,
            lr=lr,
            lr_decay_per_epoch=lr_decay_per_epoch,
            force_loss_weight=force_loss_weight,
            batch_size=batch_size,
            seed=seed,
            train_shift_scale=train_shift_scale,
            anchor_strength=anchor_strength,
            device=device,
            stress_loss_weight=stress_loss_weight
            if (zero_stress_below is not None or stiffness_labels)
            else 0.0,
            loss=loss,
            huber_delta=huber_delta,
            lr_warmup_steps=lr_warmup_steps,
            train_only=train_only,
            energy_mae_cap=energy_mae_cap,
        )
        final = _finetune_sevennet(
            base, train_file, valid_file, out_dir, recipe, resume=resume, deadline=deadline
        )
        if refit_energy_reference:
            from heo_calc.finetune.energy_reference import refit_energy_reference as refit

            refit(final, load_labelled_structures(train_file), final)
            os.utime(final)
        return final
    from heo_calc.backends.mace import resolve_mace_model_file
    from heo_calc.finetune.mace import finetune_mace

    return finetune_mace(
        foundation_model=resolve_mace_model_file(base),
        train_file=train_file,
        valid_file=valid_file,
        out_dir=out_dir,
        method=method,
        replay_file=replay_file,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        device=device,
        seed=seed,
        resume=resume,
    )


def _check_arguments(
    *,
    base: str,
    train: Path,
    epochs: int,
    method: str,
    time_limit_minutes: float | None,
    anchor_strength: float,
    base_replay: int,
    refit_energy_reference: bool,
    zero_stress_below: float | None = None,
    loss: str = "mse",
    huber_delta: float = 0.01,
    lr_warmup_steps: int = 0,
    train_only: str | None = None,
    stiffness_labels: int = 0,
    energy_mae_cap: float | None = None,
) -> bool:
    """Reject settings that cannot work, before any data is read; returns whether ``base`` is SevenNet."""
    from heo_calc.finetune.sevennet import SEVENNET_FOUNDATIONS

    if not Path(train).is_file():
        raise FileNotFoundError(f"training data {train} does not exist")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if time_limit_minutes is not None and not time_limit_minutes > 0:
        raise ValueError(f"--time-limit must be > 0 minutes, got {time_limit_minutes}")
    if anchor_strength < 0 or base_replay < 0:
        raise ValueError(
            f"--anchor-weights and --base-replay must be >= 0, got {anchor_strength} and {base_replay}"
        )
    is_sevennet = base in SEVENNET_FOUNDATIONS or base.endswith(".pth")
    if refit_energy_reference and not is_sevennet:
        raise ValueError(
            "--refit-energy-reference works on SevenNet models; mace-torch refits E0s itself (--E0s)"
        )
    if is_sevennet and method == "replay":
        raise ValueError(
            "--method replay is mace-torch's multihead finetuning; SevenNet bases support naive only"
        )
    if zero_stress_below is not None and not zero_stress_below > 0:
        raise ValueError(f"--zero-stress-below must be > 0 eV/Å, got {zero_stress_below}")
    if loss not in {"mse", "huber"}:
        raise ValueError(f"--loss must be mse or huber, got {loss!r}")
    if not huber_delta > 0 or lr_warmup_steps < 0 or stiffness_labels < 0:
        raise ValueError(
            "--huber-delta must be > 0 and --lr-warmup-steps and --stiffness-labels >= 0, got "
            f"{huber_delta}, {lr_warmup_steps} and {stiffness_labels}"
        )
    if energy_mae_cap is not None and not 0 < energy_mae_cap < float("inf"):
        raise ValueError(f"--energy-mae-cap must be a positive number of meV/atom, got {energy_mae_cap}")
    if train_only not in {None, "last-block", "readout"}:
        raise ValueError(f"--train-only must be last-block or readout, got {train_only!r}")
    sevenn_only = (
        time_limit_minutes is not None
        or anchor_strength
        or base_replay
        or zero_stress_below is not None
        or loss != "mse"
        or lr_warmup_steps
        or train_only
        or stiffness_labels
        or energy_mae_cap is not None
    )
    if not is_sevennet and sevenn_only:
        raise ValueError(
            "--time-limit, --anchor-weights, --base-replay, --zero-stress-below, --loss, --lr-warmup-steps, "
            "--train-only, --stiffness-labels and --energy-mae-cap work on SevenNet bases; "
            "for MACE use "
            "--method replay (mace-torch's multihead replay) and mace_run_train's own options"
        )
    return is_sevennet


def _registry_name_of_base(base: str) -> str:
    """The registry name that evaluates ``base`` (a foundation name or a model file)."""
    if base.endswith(".pth"):
        return f"sevennet:{Path(base).resolve()}"
    if base.endswith(".model"):
        return f"mace:{Path(base).resolve()}"
    return base


@dataclass(frozen=True)
class SevenNetRecipe:
    """How a SevenNet model is trained (sevenn's config keys in :func:`~heo_calc.finetune.sevennet.build_sevennet_config`).

    ``lr`` for Adam, decayed by ``lr_decay_per_epoch`` every epoch (after a linear warm-up
    over ``lr_warmup_steps`` optimizer steps, if > 0); loss (``loss``: MSE, or ``huber``
    with ``huber_delta``, SevenNet-0's own δ = 0.01) of the per-atom
    energy (eV/atom) plus ``force_loss_weight`` × that of force components (eV/Å); plus
    ``anchor_strength`` × Σ (θ − θ0)² when > 0; plus ``stress_loss_weight`` × MSE of the
    stress components (kbar) over the structures that carry a stress label, when > 0;
    ``device`` ``cpu``, ``cuda`` or ``auto``; ``train_only`` (``last-block``, ``readout``)
    trains that part and keeps every other weight bit for bit; ``energy_mae_cap`` (meV/atom):
    the exported epoch is the lowest validation force RMSE among those within the cap
    (:mod:`heo_calc.finetune.epoch_selection`; recorded in ``OUT/selection.json`` either way).
    """

    epochs: int
    lr: float
    lr_decay_per_epoch: float
    force_loss_weight: float
    batch_size: int
    seed: int
    train_shift_scale: bool = False
    anchor_strength: float = 0.0
    device: str = "cpu"
    stress_loss_weight: float = 0.0
    loss: str = "mse"
    huber_delta: float = 0.01
    lr_warmup_steps: int = 0
    train_only: str | None = None
    energy_mae_cap: float | None = None


def _finetune_sevennet(
    base: str,
    train_file: Path,
    valid_file: Path,
    out_dir: Path,
    recipe: SevenNetRecipe,
    *,
    resume: bool,
    deadline: float | None,
) -> Path:
    """Write sevenn's config, run its trainer in ``out_dir/train`` and export the best checkpoint."""
    from heo_calc.backends._common import resolve_device
    from heo_calc.finetune.epoch_selection import chosen_checkpoint
    from heo_calc.finetune.sevennet import (
        SEVENNET_FOUNDATIONS,
        build_sevennet_config,
        check_sevennet_elements,
        export_checkpoint,
        refresh_graph_cache,
        run_sevenn,
        write_config,
    )

    check_sevennet_elements(base, train_file)
    train_dir = out_dir / "train"
    train_dir.mkdir(parents=True, exist_ok=True)
    config = build_sevennet_config(
        base=base,
        train_file=train_file,
        valid_file=valid_file,
        epochs=recipe.epochs,
        lr=recipe.lr,
        lr_decay_per_epoch=recipe.lr_decay_per_epoch,
        force_loss_weight=recipe.force_loss_weight,
        batch_size=recipe.batch_size,
        seed=recipe.seed,
        train_shift_scale=recipe.train_shift_scale,
        device=resolve_device(recipe.device),
        work_dir=train_dir,
        stress_loss_weight=recipe.stress_loss_weight,
        loss=recipe.loss,
        huber_delta=recipe.huber_delta,
    )
    from heo_calc.finetune.run_identity import record_or_check_run_identity

    record_or_check_run_identity(out_dir, base, train_file, valid_file, recipe, resume=resume)
    refresh_graph_cache(train_dir, [train_file, valid_file])
    earlier_best = None
    if resume:
        config["train"]["continue"] = _resume_block(train_dir)
        earlier_best = _keep_earlier_best(train_dir)
    run_sevenn(
        write_config(config, train_dir / "input.yaml"),
        train_dir,
        deadline=deadline,
        anchor_strength=recipe.anchor_strength,
        anchor_checkpoint=SEVENNET_FOUNDATIONS.get(base) or str(Path(base).resolve()),
        # A resumed run continues the optimizer of the last checkpoint: it warmed up already.
        lr_warmup_steps=0 if resume else recipe.lr_warmup_steps,
        train_only=recipe.train_only,
    )
    best = train_dir / "checkpoint_best.pth"
    if earlier_best is not None:
        _restore_earlier_best_if_better(train_dir, earlier_best)
    if not best.is_file():
        raise RuntimeError(f"sevenn finished without writing {best}; see {train_dir / 'log.sevenn'}")
    best = chosen_checkpoint(train_dir, recipe.energy_mae_cap, out_dir)
    final = export_checkpoint(best, out_dir / FINAL_SEVENNET_NAME)
    os.utime(final)
    return final


EARLIER_BEST_NAME = "checkpoint_best_before_resume.pth"


def _validation_losses(train_dir: Path) -> dict[int, float]:
    """Validation TotalLoss per epoch from every learning-curve file sevenn wrote (``lc*.csv``)."""
    import csv

    losses: dict[int, float] = {}
    for path in sorted(Path(train_dir).glob("lc*.csv")):
        with path.open(newline="") as stream:
            for row in csv.DictReader(stream):
                try:
                    losses[int(row["epoch"])] = float(row["validset_TotalLoss"])
                except (KeyError, TypeError, ValueError):
                    continue
    return losses


def _keep_earlier_best(train_dir: Path) -> tuple[Path, float] | None:
    """Set the best checkpoint of the runs so far aside (with its validation loss) before resuming.

    sevenn starts every run with "best so far" at infinity, so a resumed run would overwrite
    ``checkpoint_best.pth`` with the best of the resumed epochs only.
    """
    import shutil

    best = train_dir / "checkpoint_best.pth"
    losses = _validation_losses(train_dir)
    if not best.is_file() or not losses:
        return None
    kept = train_dir / EARLIER_BEST_NAME
    with atomic_output(kept) as temporary:
        shutil.copyfile(best, temporary)
    return kept, min(losses.values())


def _restore_earlier_best_if_better(train_dir: Path, earlier: tuple[Path, float]) -> None:
    """Put the earlier best back as ``checkpoint_best.pth`` when no resumed epoch beat its validation loss."""
    import shutil

    kept, earlier_loss = earlier
    resumed = [loss for loss in _validation_losses(train_dir).values() if loss < earlier_loss]
    if not resumed and kept.is_file():
        logger.info("no resumed epoch beat the earlier best (validation loss %.6g): keeping it", earlier_loss)
        with atomic_output(train_dir / "checkpoint_best.pth") as temporary:
            shutil.copyfile(kept, temporary)


def _resume_block(train_dir: Path) -> dict:
    """sevenn's ``continue`` block that goes on with the newest checkpoint of ``train_dir``."""
    from heo_calc.finetune.sevennet import latest_checkpoint

    last = latest_checkpoint(train_dir)
    if last is None:
        raise LabelledDataError(
            f"--resume given but {train_dir} holds no checkpoint_<epoch>.pth; start without --resume"
        )
    logger.info("resuming from %s", last)
    # Continue the same run: keep optimizer, scheduler and epoch counter of the checkpoint.
    return {
        "checkpoint": last.name,  # sevenn runs in train_dir
        "reset_optimizer": False,
        "reset_scheduler": False,
        "reset_epoch": False,
        "use_statistic_values_of_checkpoint": True,
    }
