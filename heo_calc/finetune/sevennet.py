"""Finetune SevenNet foundation models through sevenn's own trainer (``sevenn input.yaml``)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from heo_calc.atomic import atomic_output

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
    train_shift_scale: bool = False,
) -> dict[str, Any]:
    """Return a sevenn ``input.yaml`` (as a dict) that finetunes ``base`` on our data.

    The model block is read from sevenn's own preset of that model, so the architecture
    always matches the checkpoint. Energies are trained per atom (eV/atom), forces in eV/Å;
    our data carry no stress, so stress is not trained.
    """
    import sevenn

    # sevenn runs in the output directory, so a checkpoint path must be absolute.
    checkpoint = SEVENNET_FOUNDATIONS.get(base) or str(Path(base).resolve())
    presets = {
        name: yaml.safe_load((Path(sevenn.__file__).parent / "presets" / name).read_text())["model"]
        for name in ("fine_tune.yaml", "sevennet-l3i5.yaml")
    }
    model = dict(presets["sevennet-l3i5.yaml" if base == "sevennet-l3i5" else "fine_tune.yaml"])
    if base not in SEVENNET_FOUNDATIONS:
        # A checkpoint of an earlier finetune: its own architecture, whichever base it came from.
        saved = _checkpoint_config(Path(checkpoint))
        model_keys = set(presets["fine_tune.yaml"]) | set(presets["sevennet-l3i5.yaml"])
        model.update({key: saved[key] for key in model_keys if key in saved})
    model["chemical_species"] = "auto"
    # By default the per-species shift and scale stay as pretrained (sevenn's preset): with
    # Adam at lr 1e-3 they drift by per cents per epoch.
    model["train_shift_scale"] = train_shift_scale
    model["train_denominator"] = False
    loss_block: dict[str, Any] = (
        {"loss": "mse"} if loss == "mse" else {"loss": "Huber", "loss_param": {"delta": 0.01}}
    )
    train = {
        "random_seed": seed,
        "is_train_stress": False,
        "epoch": epochs,
        **loss_block,
        "optimizer": "adam",
        "optim_param": {"lr": lr},
        "scheduler": "exponentiallr",
        "scheduler_param": {"gamma": lr_decay_per_epoch},
        "force_loss_weight": force_loss_weight,
        "stress_loss_weight": 0.0,
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
            "checkpoint": checkpoint,
            "use_statistic_values_of_checkpoint": True,
        },
    }
    data: dict[str, Any] = {
        "batch_size": batch_size,
        "data_format_args": {"index": ":", "energy_key": "REF_energy", "force_key": "REF_forces"},
        "load_trainset_path": [str(Path(train_file).resolve())],
    }
    if valid_file is not None:
        data["load_validset_path"] = [str(Path(valid_file).resolve())]
    else:
        data["data_divide_ratio"] = 0.1
    return {"model": model, "train": train, "data": data}


def _checkpoint_config(path: Path) -> dict[str, Any]:
    """The model configuration stored in a sevenn checkpoint."""
    return dict(load_sevennet_checkpoint(path)["config"])


def load_sevennet_checkpoint(path: Path) -> dict[str, Any]:
    """A sevenn checkpoint (``model_state_dict``, ``config``...) loaded weights-only on the CPU."""
    import numpy as np
    import torch

    from heo_calc.backends.sevennet import import_sevenn_calculator

    if not path.is_file():
        raise FileNotFoundError(
            f"SevenNet checkpoint {path} does not exist; pass an existing .pth file "
            "(as a finetuning base, sevennet-0 and sevennet-l3i5 work too)"
        )
    import_sevenn_calculator()  # allows the one extra global (slice) sevenn checkpoints pickle
    # sevenn's own pretrained checkpoints also pickle numpy arrays in their config: allow
    # exactly the numpy globals they need, only for this load.
    # (numpy 2 moved numpy.core to numpy._core; the pickles name the old path.)
    reconstruct = (np._core.multiarray._reconstruct, "numpy.core.multiarray._reconstruct")
    numpy_globals = [
        np.ndarray,
        np.dtype,
        reconstruct,
        type(np.dtype(np.float32)),
        type(np.dtype(np.float64)),
    ]
    with torch.serialization.safe_globals(numpy_globals):
        return torch.load(path, map_location="cpu", weights_only=True)


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


def run_sevenn(config_path: Path, out_dir: Path, *, log_name: str = "log.sevenn") -> None:
    """Run sevenn's trainer on ``config_path`` in ``out_dir``; raise if it fails."""
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
    logger.info("running %s", " ".join(command))
    completed = subprocess.run(command, cwd=out_dir, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"sevenn training failed (exit {completed.returncode}); see {Path(out_dir) / log_name}. "
            "Rerun with --resume to continue from the last checkpoint."
        )


def export_checkpoint(checkpoint: Path, destination: Path) -> Path:
    """Copy a sevenn checkpoint without optimizer and scheduler state (a few MB), atomically.

    The result loads with ``SevenNetCalculator(path)`` and ``sevennet:PATH``.
    """
    import torch

    torch.serialization.add_safe_globals([slice])
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)  # our own training output
    slim = {
        key: value
        for key, value in state.items()
        if key not in {"optimizer_state_dict", "scheduler_state_dict"}
    }
    destination.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(destination) as temporary:
        torch.save(slim, temporary)
    return destination


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
