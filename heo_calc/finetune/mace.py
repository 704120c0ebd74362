"""Finetune MACE foundation models through mace-torch's own trainer (``mace_run_train``).

We never re-implement MACE's training loop: :func:`finetune_mace` prepares the data, checks
what can be checked cheaply (labels, weights file, element coverage), then runs
``python -m mace.cli.run_train`` (the ``mace_run_train`` console script of mace-torch
0.3.16) in a subprocess, which keeps the caller's process free of mace's global state
(default dtype, logging handlers, seeds).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

from heo_base.atomic_write import atomic_output
from heo_base.labelled_data import load_labelled_structures, write_training_extxyz
from heo_base.labels import ENERGY_KEY, FORCES_KEY
from heo_calc.errors import ModelUnavailableError, ModelWeightsNotFoundError, UnsupportedElementsError
from heo_calc.provenance import package_versions, sha256_of_file

logger = logging.getLogger(__name__)
_trainer_logger = logging.getLogger(f"{__name__}.run_train")

FinetuneMethod = Literal["naive", "replay"]

#: ``--name`` given to mace_run_train; the finetuned model is ``<out_dir>/<MODEL_NAME>.model``.
MODEL_NAME: Final = "mace_finetuned"
#: Everything mace_run_train prints (stdout and stderr, appended across resumed runs).
TRAINER_LOG_NAME: Final = "mace_run_train.log"
#: Our record of how the model was made (foundation, data, hyperparameters, command).
PROVENANCE_NAME: Final = "finetune_mace.json"
#: Devices mace_run_train 0.3.16 accepts (``--device``); ``cuda:N`` is mapped to ``cuda``.
_MACE_DEVICES: Final = ("cpu", "cuda", "mps", "xpu")


def finetune_mace(
    *,
    foundation_model: Path,
    train_file: Path,
    valid_file: Path | None,
    out_dir: Path,
    method: FinetuneMethod = "naive",
    replay_file: Path | None = None,
    epochs: int,
    lr: float,
    batch_size: int,
    device: str = "cpu",
    seed: int = 0,
    resume: bool = False,
    energy_weight: float = 1.0,
    forces_weight: float = 100.0,
    extra_args: Sequence[str] = (),
) -> Path:
    """Finetune a MACE foundation model on labelled structures; return the finetuned ``.model``.

    Parameters
    ----------
    foundation_model
        A whole-model MACE file (``torch.save(model)``), e.g. MACE-MP-0 medium
        ``2023-12-03-mace-128-L1_epoch-199.model``.
    train_file, valid_file
        Structures with total energies (eV) and forces (eV/Å), as ``.h5`` (our HDF5 schema)
        or extended XYZ with ``REF_``/``DFT_``/plain keys. They are rewritten to
        ``out_dir/train.extxyz`` and ``out_dir/valid.extxyz`` with ``REF_energy`` and
        ``REF_forces``. Without ``valid_file`` mace holds out a random 10% of the training set
        (not grouped by formula: prefer passing a formula-disjoint ``valid_file``).
    out_dir
        Working directory of the run: data, ``checkpoints/``, ``logs/``, ``results/``,
        :data:`TRAINER_LOG_NAME`, :data:`PROVENANCE_NAME` and the final model.
    method
        ``"naive"``: all weights are trained on the new data only
        (``--multiheads_finetuning False``). ``"replay"``: mace's multihead finetuning,
        which trains a new head on our data and the foundation's own head on ``replay_file``
        (pretraining-like data, e.g. a subset of MPtrj) to limit forgetting; mace then uses
        its ``universal`` loss. The returned model has the heads ``Default`` (ours, which
        ``MACECalculator`` picks) and ``pt_head``.
    replay_file
        Replay structures for ``method="replay"`` (same formats as ``train_file``); required there.
    epochs, lr, batch_size
        Number of epochs (``--max_num_epochs``; on resume the total, not additional ones),
        Adam learning rate and structures per batch. For replay, mace would override ``lr``
        with 1e-4 and switch on EMA; we pass ``--force_mh_ft_lr True`` so ``lr`` is used as given.
    device
        ``cpu``, ``cuda`` (``cuda:N`` selects GPU N through ``CUDA_VISIBLE_DEVICES``), ``mps`` or ``xpu``.
    seed
        Seed of mace's data split, shuffling and initialisation; also part of its checkpoint names,
        so resume with the same seed.
    resume
        Continue from the latest checkpoint in ``out_dir/checkpoints`` (``--restart_latest``).
    energy_weight, forces_weight
        Weights of mace's ``weighted`` loss: ``energy_weight * MSE(E/N) [(eV/atom)^2] +
        forces_weight * MSE(F) [(eV/Å)^2, per component]``.
    extra_args
        Further ``mace_run_train`` arguments, appended last so they override ours
        (e.g. ``["--plot", "True"]``, ``["--foundation_model_elements", "True"]``, ``["--ema"]``).

    Raises
    ------
    ValueError
        Unknown ``method`` or ``device``, replay without ``replay_file``, nonsensical numbers.
    ModelWeightsNotFoundError
        ``foundation_model`` is not a file.
    LabelledDataError
        Training, validation or replay data without energies or forces.
    UnsupportedElementsError
        The data hold elements the foundation model does not cover.
    RuntimeError
        mace_run_train failed; the message names the log file.

    Its length is keyword forwarding to :func:`build_run_train_command` and the provenance
    record; the steps are the helpers below.
    """
    _check_settings(method, replay_file, epochs=epochs, batch_size=batch_size, lr=lr)
    mace_device, cuda_visible = _mace_device(device)
    foundation_model = Path(foundation_model).expanduser().resolve()
    if not foundation_model.is_file():
        raise ModelWeightsNotFoundError(
            f"MACE foundation model file {foundation_model} does not exist; download it on a machine "
            "with internet access and copy it to that path (see docs/finetune-mace.md)"
        )
    out_dir = Path(out_dir).expanduser().resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    datasets = _load_datasets(train_file, valid_file, replay_file if method == "replay" else None, batch_size)
    _check_elements(datasets, foundation_atomic_numbers(foundation_model), foundation_model)
    files = {
        name: write_training_extxyz(structures, out_dir / f"{name}.extxyz")
        for name, structures in datasets.items()
    }
    command = build_run_train_command(
        foundation_model=foundation_model,
        files=files,
        out_dir=out_dir,
        method=method,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        device=mace_device,
        seed=seed,
        resume=resume,
        energy_weight=energy_weight,
        forces_weight=forces_weight,
        extra_args=extra_args,
    )
    env = dict(os.environ) | ({"CUDA_VISIBLE_DEVICES": cuda_visible} if cuda_visible is not None else {})
    _run(command, out_dir=out_dir, env=env)
    model_file = out_dir / f"{MODEL_NAME}.model"
    if not model_file.is_file():
        raise RuntimeError(
            f"mace_run_train finished but wrote no {model_file}; see {out_dir / TRAINER_LOG_NAME}. "
            "Rerun with --resume to continue from the last checkpoint."
        )
    record = {
        "model_file": str(model_file),
        "foundation_model": str(foundation_model),
        "model_sha256": sha256_of_file(model_file),
        "foundation_sha256": sha256_of_file(foundation_model),
        "method": method,
        "data": {
            name: {"file": str(path), "structures": len(datasets[name])} for name, path in files.items()
        },
        "source_files": {
            "train": str(train_file),
            "valid": _optional(valid_file),
            "replay": _optional(replay_file),
        },
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "energy_weight": energy_weight,
        "forces_weight": forces_weight,
        "seed": seed,
        "device": device,
        "resumed": resume,
        "mace_version": package_versions(("mace-torch",)).get("mace-torch"),
        "versions": package_versions(("heo-relax", "torch", "ase", "mace-torch")),
        "command": command,
    }
    _write_provenance(out_dir / PROVENANCE_NAME, record)
    logger.info("finetuned MACE model written to %s", model_file)
    return model_file


def _optional(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _check_settings(
    method: str, replay_file: Path | None, *, epochs: int, batch_size: int, lr: float
) -> None:
    if method not in ("naive", "replay"):
        raise ValueError(f"unknown finetuning method {method!r}; choose 'naive' or 'replay'")
    if method == "replay" and replay_file is None:
        raise ValueError(
            "method='replay' (mace multihead finetuning) needs replay_file: structures like the "
            "foundation's training data (e.g. an MPtrj subset) with energies and forces"
        )
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs >= 1, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")


def _load_datasets(
    train_file: Path, valid_file: Path | None, replay_file: Path | None, batch_size: int
) -> dict[str, list]:
    """The labelled structures of each file mace will read, checked against the batch size."""
    train = load_labelled_structures(train_file)
    if valid_file is None and batch_size > int(0.9 * len(train)):
        raise ValueError(
            f"batch_size {batch_size} exceeds 90% of the {len(train)} training structures "
            "(mace holds 10% out for validation when no valid_file is given)"
        )
    if valid_file is not None and batch_size > len(train):
        raise ValueError(f"batch_size {batch_size} exceeds the {len(train)} training structures")
    datasets = {"train": train}
    if valid_file is not None:
        datasets["valid"] = load_labelled_structures(valid_file)
    if replay_file is not None:
        datasets["replay"] = load_labelled_structures(replay_file)
    return datasets


def build_run_train_command(
    *,
    foundation_model: Path,
    files: dict[str, Path],
    out_dir: Path,
    method: FinetuneMethod,
    epochs: int,
    lr: float,
    batch_size: int,
    device: str,
    seed: int,
    resume: bool,
    energy_weight: float,
    forces_weight: float,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """Return the ``python -m mace.cli.run_train`` command line (flags of mace-torch 0.3.16).

    ``files`` maps ``"train"``, optionally ``"valid"`` and ``"replay"``, to extxyz files with
    ``REF_energy`` (eV) and ``REF_forces`` (eV/Å).
    """
    flags: dict[str, object] = {
        "--name": MODEL_NAME,
        "--seed": seed,
        "--work_dir": out_dir,
        "--model_dir": out_dir,
        "--checkpoints_dir": out_dir / "checkpoints",
        "--log_dir": out_dir / "logs",
        "--results_dir": out_dir / "results",
        "--foundation_model": foundation_model,
        "--train_file": files["train"],
        **({"--valid_file": files["valid"]} if "valid" in files else {}),
        "--E0s": "foundation",
        "--energy_key": ENERGY_KEY,
        "--forces_key": FORCES_KEY,
        "--default_dtype": "float64",
        "--device": device,
        "--loss": "weighted",
        "--energy_weight": repr(float(energy_weight)),
        "--forces_weight": repr(float(forces_weight)),
        "--lr": repr(float(lr)),
        "--max_num_epochs": epochs,
        "--batch_size": batch_size,
        "--valid_batch_size": batch_size,
        "--plot": "False",
        "--multiheads_finetuning": "True" if method == "replay" else "False",
    }
    if method == "replay":
        flags |= {"--pt_train_file": files["replay"], "--force_mh_ft_lr": "True"}
    command = [sys.executable, "-m", "mace.cli.run_train", "--save_cpu"]
    for flag, value in flags.items():
        command += [flag, str(value)]
    if resume:
        command.append("--restart_latest")
    return command + list(extra_args)


def foundation_atomic_numbers(model_file: Path) -> list[int]:
    """Atomic numbers a whole-model MACE file covers (its ``atomic_numbers`` buffer).

    A MACE ``.model`` file is a whole pickled module by mace-torch's design (mace_run_train
    loads it the same way), so it is unpickled in full: pass only model files you trust.
    """
    import mace  # noqa: F401  (lets e3nn's constants and mace's pickled classes load)
    import torch

    try:
        model = torch.load(model_file, map_location="cpu", weights_only=False)
    except Exception as error:  # torch.load raises many types for a file that is no model
        raise ModelUnavailableError(f"cannot load {model_file} as a MACE model: {error}") from error
    numbers = getattr(model, "atomic_numbers", None)
    if numbers is None:
        raise ModelUnavailableError(
            f"{model_file} holds no MACE model (no atomic_numbers); pass a .model file"
        )
    return sorted(int(z) for z in numbers)


def _check_elements(datasets: dict[str, list[Any]], supported: Sequence[int], model_file: Path) -> None:
    from ase.data import chemical_symbols

    present = {int(z) for structures in datasets.values() for atoms in structures for z in atoms.numbers}
    missing = present - set(supported)
    if missing:
        raise UnsupportedElementsError(
            [chemical_symbols[z] for z in missing], str(model_file), [chemical_symbols[z] for z in supported]
        )


def _mace_device(device: str) -> tuple[str, str | None]:
    """Map ``cuda:N`` to mace's ``cuda`` plus ``CUDA_VISIBLE_DEVICES=N``."""
    kind, _, index = device.partition(":")
    if kind not in _MACE_DEVICES or (index and (kind != "cuda" or not index.isdigit())):
        raise ValueError(
            f"unknown device {device!r}; mace_run_train takes one of {', '.join(_MACE_DEVICES)} (or cuda:N)"
        )
    return kind, (index or None)


def _run(command: list[str], *, out_dir: Path, env: dict[str, str]) -> None:
    """Run mace_run_train, copying its output to :data:`TRAINER_LOG_NAME` and to our logger."""
    log_path = out_dir / TRAINER_LOG_NAME
    logger.info("running %s", " ".join(command))
    logger.info("mace_run_train output goes to %s", log_path)
    with (
        log_path.open("a", encoding="utf-8") as log,
        subprocess.Popen(
            command,
            cwd=out_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        ) as process,
    ):
        log.write(f"# {' '.join(command)}\n")
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            log.flush()
            _trainer_logger.info("%s", line.rstrip())
        returncode = process.wait()
    if returncode != 0:
        raise RuntimeError(
            f"mace_run_train failed (exit {returncode}); see {log_path}. "
            "Fix the cause and rerun with --resume to continue from the last checkpoint."
        )


def _write_provenance(path: Path, record: dict[str, Any]) -> None:
    """Write the finetune's record (JSON) atomically."""
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
