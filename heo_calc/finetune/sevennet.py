"""Finetune SevenNet foundation models through sevenn's own trainer (``sevenn input.yaml``)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from heo_base.atomic_write import atomic_output
from heo_base.labels import ENERGY_KEY, FORCES_KEY, STRESS_KEY

logger = logging.getLogger(__name__)

#: Checkpoint names sevenn resolves to weights shipped inside its wheel.
SEVENNET_FOUNDATIONS: dict[str, str] = {
    "sevennet-0": "SevenNet-0_11July2024",
    "sevennet-l3i5": "SevenNet-l3i5",
}


def build_sevennet_config(
    *,
    base: str,
    train_file: Path,
    valid_file: Path | None,
    epochs: int,
    lr: float,
    lr_decay_per_epoch: float,
    force_loss_weight: float,
    batch_size: int,
    seed: int,
    loss: str = "mse",
    huber_delta: float = 0.01,
    train_shift_scale: bool = False,
    device: str = "cpu",
    work_dir: Path | None = None,
    stress_loss_weight: float = 0.0,
) -> dict[str, Any]:
    """Return a sevenn ``input.yaml`` (as a dict) that finetunes ``base`` on our data.

    The model block is read from sevenn's own preset of that model, so the architecture
    always matches the checkpoint. Energies are trained per atom (eV/atom), forces in eV/Å;
    stress (kbar in sevenn's loss) only with ``stress_loss_weight`` > 0, on the structures
    whose ``REF_stress`` is finite (the others are masked: :mod:`heo_calc.finetune._sevenn_entry`). ``device`` (``cpu``, ``cuda``,
    ``cuda:N``) is where sevenn trains; sevenn itself would pick a visible GPU.
    ``work_dir``: the directory sevenn runs in; file paths are written relative to it, so
    that neither the config nor the checkpoints (which store it) name a machine's
    directories. Without it they are absolute. (Long because it spells out sevenn's config,
    one key a line.)
    """

    def path_for_sevenn(path: Path) -> str:
        resolved = Path(path).resolve()
        return os.path.relpath(resolved, Path(work_dir).resolve()) if work_dir is not None else str(resolved)

    model = _model_block(base)
    # By default the per-species shift and scale stay as pretrained (sevenn's preset): with
    # Adam at lr 1e-3 they drift by per cents per epoch.
    model["train_shift_scale"] = train_shift_scale
    loss_block: dict[str, Any] = (
        {"loss": "mse"} if loss == "mse" else {"loss": "Huber", "loss_param": {"delta": huber_delta}}
    )
    train = {
        "device": device,
        "random_seed": seed,
        "is_train_stress": stress_loss_weight > 0,
        "epoch": epochs,
        **loss_block,
        "optimizer": "adam",
        "optim_param": {"lr": lr},
        "scheduler": "exponentiallr",
        "scheduler_param": {"gamma": lr_decay_per_epoch},
        "force_loss_weight": force_loss_weight,
        "stress_loss_weight": stress_loss_weight,
        "per_epoch": 1,
        "error_record": [
            ["Energy", "RMSE"],
            ["Energy", "MAE"],
            ["Force", "RMSE"],
            ["Force", "MAE"],
            ["TotalLoss", "None"],
        ],
        "continue": {
            "reset_optimizer": True,
            "reset_scheduler": True,
            "reset_epoch": True,
            "checkpoint": SEVENNET_FOUNDATIONS.get(base) or path_for_sevenn(Path(base)),
            "use_statistic_values_of_checkpoint": True,
        },
    }
    data: dict[str, Any] = {
        "batch_size": batch_size,
        "data_format_args": {
            "index": ":",
            "energy_key": ENERGY_KEY,
            "force_key": FORCES_KEY,
            **({"stress_key": STRESS_KEY} if stress_loss_weight > 0 else {}),
        },
        "load_trainset_path": [path_for_sevenn(train_file)],
    }
    if valid_file is not None:
        data["load_validset_path"] = [path_for_sevenn(valid_file)]
    else:
        data["data_divide_ratio"] = 0.1
    return {"model": model, "train": train, "data": data}


def _model_block(base: str) -> dict[str, Any]:
    """sevenn's model settings for ``base``: its preset, or the architecture stored in a checkpoint file."""
    import sevenn

    presets = {
        name: yaml.safe_load((Path(sevenn.__file__).parent / "presets" / name).read_text())["model"]
        for name in ("fine_tune.yaml", "sevennet-l3i5.yaml")
    }
    model = dict(presets["sevennet-l3i5.yaml" if base == "sevennet-l3i5" else "fine_tune.yaml"])
    if base not in SEVENNET_FOUNDATIONS:
        # A checkpoint of an earlier finetune: its own architecture, whichever base it came from.
        saved = _checkpoint_config(Path(base))
        model_keys = set(presets["fine_tune.yaml"]) | set(presets["sevennet-l3i5.yaml"])
        model.update({key: saved[key] for key in model_keys if key in saved})
    model["chemical_species"] = "auto"
    model["train_denominator"] = False
    return model


def _checkpoint_config(path: Path) -> dict[str, Any]:
    """The model configuration stored in a sevenn checkpoint."""
    from heo_calc.backends.sevennet import load_checkpoint

    return dict(load_checkpoint(path)["config"])


def write_config(config: dict[str, Any], path: Path) -> Path:
    """Write a YAML config atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as temporary:
        temporary.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def latest_checkpoint(out_dir: Path) -> Path | None:
    """Return the newest ``checkpoint_<epoch>.pth`` sevenn wrote in ``out_dir``, if any."""
    numbered = []
    for candidate in Path(out_dir).glob("checkpoint_*.pth"):
        suffix = candidate.stem.removeprefix("checkpoint_")
        if suffix.isdigit():
            numbered.append((int(suffix), candidate))
    return max(numbered)[1] if numbered else None


def run_sevenn(
    config_path: Path,
    out_dir: Path,
    *,
    log_name: str = "log.sevenn",
    deadline: float | None = None,
    anchor_strength: float = 0.0,
    anchor_checkpoint: str | None = None,
    lr_warmup_steps: int = 0,
    train_only: str | None = None,
) -> bool:
    """Run sevenn's trainer on ``config_path`` in ``out_dir``; raise if it fails.

    ``deadline`` (Unix time, s): no epoch starts that would end after it (the run stops
    cleanly between epochs; :mod:`heo_calc.finetune._sevenn_entry`). Should an epoch
    overrun it by more than half of the time left at the start, the trainer is
    terminated; its checkpoints are written atomically, so the best one so far stays
    loadable.
    ``anchor_strength`` > 0 adds the L2 pull toward ``anchor_checkpoint``'s weights.
    ``lr_warmup_steps`` > 0: linear warm-up of the rate over that many optimizer steps;
    ``train_only`` (``last-block``, ``readout``): every other weight stays as it is
    (both in :mod:`heo_calc.finetune._sevenn_entry`).
    Returns whether the time limit ended the run.
    """
    import time

    from heo_calc.finetune import _sevenn_entry as entry

    command = [
        sys.executable,
        "-m",
        "heo_calc.finetune._sevenn_entry",
        str(config_path),
        "-w",
        str(out_dir),
        "-l",
        log_name,
    ]
    environment = dict(os.environ)
    hard_timeout = None
    if deadline is not None:
        environment[entry.DEADLINE_ENV] = str(deadline)
        hard_timeout = 1.5 * max(deadline - time.time(), 0.0) + 60.0
    if anchor_strength > 0:
        if anchor_checkpoint is None:
            raise ValueError("anchor_strength > 0 needs anchor_checkpoint")
        environment[entry.ANCHOR_STRENGTH_ENV] = str(anchor_strength)
        environment[entry.ANCHOR_CHECKPOINT_ENV] = anchor_checkpoint
    if lr_warmup_steps > 0:
        environment[entry.WARMUP_STEPS_ENV] = str(lr_warmup_steps)
    if train_only:
        environment[entry.TRAIN_ONLY_ENV] = train_only
    logger.info("running %s", " ".join(command))
    process = subprocess.Popen(command, cwd=out_dir, env=environment)
    try:
        returncode = process.wait(timeout=hard_timeout)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.wait()
        logger.warning("sevenn overran the time limit by more than half of it and was stopped")
        return True
    if returncode == entry.DEADLINE_EXIT_STATUS:
        logger.info("training stopped at its time limit; the best checkpoint so far is kept")
        return True
    if returncode != 0:
        raise RuntimeError(
            f"sevenn training failed (exit {returncode}); see {Path(out_dir) / log_name}. "
            "Rerun with --resume to continue from the last checkpoint."
        )
    return False


#: Record, inside sevenn's graph cache, of the data files the cache was built from.
CACHE_SOURCE_NAME = "heo_source.json"


def refresh_graph_cache(train_dir: Path, data_files: list[Path]) -> bool:
    """Delete sevenn's graph cache (``train_dir/sevenn_data``) unless it was built from ``data_files`` as they are now.

    sevenn 0.10.4 loads ``sevenn_data/<set>.pt`` "without update" whenever it exists, so a
    rerun in the same folder with other data would silently train on the old graphs. The
    cache is kept only when its record (:data:`CACHE_SOURCE_NAME`: file names and sha256 of
    the data) matches; otherwise it is removed, sevenn rebuilds it, and the new record is
    written. Returns whether a stale cache was removed.
    """
    import hashlib
    import json
    import shutil

    cache = Path(train_dir) / "sevenn_data"
    source = {Path(path).name: hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in data_files}
    record = cache / CACHE_SOURCE_NAME
    removed = False
    if cache.exists():
        try:
            recorded = json.loads(record.read_text())
        except (OSError, ValueError):
            recorded = None
        if recorded != source:
            logger.warning("sevenn's graph cache %s was built from other data: rebuilding it", cache)
            shutil.rmtree(cache)
            removed = True
    cache.mkdir(parents=True, exist_ok=True)
    with atomic_output(record) as temporary:
        temporary.write_text(json.dumps(source, indent=2, sort_keys=True))
    return removed


def export_checkpoint(checkpoint: Path, destination: Path) -> Path:
    """Copy a sevenn checkpoint without optimizer and scheduler state (a few MB), atomically.

    The stored training config keeps only file *names* of the data and of the checkpoint
    it continued from (:func:`portable_config`), so a shipped file names no directory of
    the machine that trained it. The result loads with ``SevenNetCalculator(path)`` and
    ``sevennet:PATH``.
    """
    import torch

    from heo_calc.backends.sevennet import load_checkpoint

    state = load_checkpoint(checkpoint)
    slim = {
        key: value
        for key, value in state.items()
        if key not in {"optimizer_state_dict", "scheduler_state_dict"}
    }
    if isinstance(slim.get("config"), dict):
        slim["config"] = portable_config(slim["config"])
    destination.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(destination) as temporary:
        torch.save(slim, temporary)
    return destination


#: Keys of a sevenn config whose values are file paths (strings or lists of them).
_PATH_KEYS = ("load_trainset_path", "load_validset_path", "load_testset_path", "load_dataset_path")


def portable_config(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of a sevenn training config whose file paths are reduced to file names.

    Applies to the data paths (:data:`_PATH_KEYS`) and to ``continue.checkpoint``; the
    rest (architecture, hyperparameters) is unchanged. sevenn needs none of them to load
    the model.
    """

    def name_only(value: Any) -> Any:
        if isinstance(value, str) and ("/" in value or os.sep in value):
            return Path(value).name
        if isinstance(value, list):
            return [name_only(item) for item in value]
        return value

    portable = dict(config)
    for key in _PATH_KEYS:
        if key in portable:
            portable[key] = name_only(portable[key])
    if isinstance(portable.get("continue"), dict):
        portable["continue"] = {
            **portable["continue"],
            "checkpoint": name_only(portable["continue"].get("checkpoint")),
        }
    return portable


def check_sevennet_elements(base: str, train_file: Path) -> None:
    """Raise UnsupportedElementsError if the training data hold elements ``base`` does not know."""
    from ase.data import chemical_symbols
    from ase.io import iread

    from heo_calc.backends.sevennet import SEVENNET_KEYWORDS, import_sevenn_calculator
    from heo_calc.errors import UnsupportedElementsError

    calculator_class = import_sevenn_calculator()
    calculator = calculator_class(SEVENNET_KEYWORDS.get(base, base), device="cpu")
    known = set(calculator.type_map)
    present: set[int] = set()
    for atoms in iread(train_file):
        present.update(atoms.numbers.tolist())
    missing = present - known
    if missing:
        raise UnsupportedElementsError([chemical_symbols[z] for z in missing], base)
