"""finetune_mace drives mace-torch's own trainer on a tiny MACE foundation and real HEO data.

The tiny foundation (tests/tiny_mace.py) has random weights whose interaction energy is
scaled up (``atomic_inter_scale=10``), so its forces are far too large: a few epochs of
finetuning on real structures must bring the force error on held-out formulas down. That
checks the plumbing (data conversion, flags, checkpoints, the saved model) end to end; it says
nothing about how well MACE-MP-0 finetunes.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import read, write
from tiny_mace import build_tiny_mace_model, fit_atomic_energies

from heo_base.errors import LabelledDataError
from heo_calc.errors import ModelWeightsNotFoundError, UnsupportedElementsError
from heo_calc.finetune.mace import (
    MODEL_NAME,
    PROVENANCE_NAME,
    TRAINER_LOG_NAME,
    build_run_train_command,
    finetune_mace,
)

logger = logging.getLogger(__name__)

EPOCHS = 4
LR = 2e-3
BATCH_SIZE = 4
SEED = 1


def _force_rmse(model_file: Path, structures: list[Atoms]) -> float:
    """Per-component force RMSE (eV/Å) of a MACE model against ``DFT_forces``."""
    from mace.calculators import MACECalculator

    calculator = MACECalculator(model_paths=str(model_file), device="cpu", default_dtype="float64")
    errors = []
    for atoms in structures:
        copy = atoms.copy()
        copy.calc = calculator
        errors.append((copy.get_forces() - atoms.arrays["DFT_forces"]).ravel())
    return float(np.sqrt(np.mean(np.concatenate(errors) ** 2)))


def _formula_disjoint_split(structures: list[Atoms]) -> tuple[list[Atoms], list[Atoms], list[Atoms]]:
    """24 train, 6 valid (for mace's checkpoint choice) and 12 held-out test structures.

    Small cells (<= 24 atoms) that are off their minimum (force RMS > 0.01 eV/Å), one per
    formula, so no formula sits on two sides; valid and test only use elements seen in train.
    """
    candidates = [
        atoms
        for atoms in structures
        if len(atoms) <= 24 and np.sqrt(np.mean(atoms.arrays["DFT_forces"] ** 2)) > 0.01
    ]
    candidates.sort(key=len)
    one_per_formula: dict[str, Atoms] = {}
    for atoms in candidates:
        one_per_formula.setdefault(atoms.get_chemical_formula(empirical=True), atoms)
    ordered = list(one_per_formula.values())
    train = ordered[:24]
    train_elements = {int(z) for atoms in train for z in atoms.numbers}
    rest = [atoms for atoms in ordered[24:] if {int(z) for z in atoms.numbers} <= train_elements]
    return train, rest[:6], rest[6:18]


@pytest.fixture(scope="module")
def dev_structures(dev_data_path) -> list[Atoms]:
    return read(dev_data_path, index=":")


@pytest.fixture(scope="module")
def finetuned_run(dev_structures, tmp_path_factory) -> dict:
    """A tiny foundation finetuned for EPOCHS epochs on 24 real structures (files with DFT_ keys)."""
    root = tmp_path_factory.mktemp("mace_ft")
    train, valid, test = _formula_disjoint_split(dev_structures)
    assert len(train) == 24
    assert len(valid) == 6
    assert len(test) == 12
    held_out = {id(atoms) for atoms in test}
    known = [atoms for atoms in dev_structures if id(atoms) not in held_out]
    elements = sorted({int(z) for atoms in train + valid + test for z in atoms.numbers})
    foundation = build_tiny_mace_model(
        root / "tiny.model",
        atomic_numbers=elements,
        seed=SEED,
        atomic_energies=fit_atomic_energies(known, energy_key="DFT_energy", atomic_numbers=elements),
        atomic_inter_scale=10.0,
    )
    write(root / "train_dft.extxyz", train)
    write(root / "valid_dft.extxyz", valid)
    out_dir = root / "run"
    model_file = finetune_mace(
        foundation_model=foundation,
        train_file=root / "train_dft.extxyz",
        valid_file=root / "valid_dft.extxyz",
        out_dir=out_dir,
        epochs=EPOCHS,
        lr=LR,
        batch_size=BATCH_SIZE,
        seed=SEED,
    )
    return {
        "foundation": foundation,
        "model_file": model_file,
        "out_dir": out_dir,
        "train": train,
        "test": test,
        "root": root,
    }


@pytest.mark.slow
def test_finetuned_model_loads_and_lowers_held_out_force_rmse(finetuned_run):
    model_file = finetuned_run["model_file"]
    assert model_file == finetuned_run["out_dir"] / f"{MODEL_NAME}.model"
    before = _force_rmse(finetuned_run["foundation"], finetuned_run["test"])
    after = _force_rmse(model_file, finetuned_run["test"])
    logger.info(
        "held-out force RMSE per component: %.4f eV/Å before, %.4f eV/Å after finetuning", before, after
    )
    assert after < before, f"held-out force RMSE rose from {before:.4f} to {after:.4f} eV/Å"


@pytest.mark.slow
def test_finetuning_writes_converted_data_checkpoints_and_provenance(finetuned_run):
    import json

    out_dir = finetuned_run["out_dir"]
    train = read(out_dir / "train.extxyz", index=":")
    assert len(train) == 24
    assert "REF_energy" in train[0].info
    assert "REF_forces" in train[0].arrays
    assert list((out_dir / "checkpoints").glob(f"{MODEL_NAME}_run-{SEED}_epoch-*.pt"))
    provenance = json.loads((out_dir / PROVENANCE_NAME).read_text())
    assert provenance["method"] == "naive"
    assert provenance["model_file"] == str(finetuned_run["model_file"])
    from heo_calc.provenance import sha256_of_file

    assert provenance["model_sha256"] == sha256_of_file(finetuned_run["model_file"])
    assert provenance["foundation_sha256"] == sha256_of_file(finetuned_run["foundation"])
    assert {"heo-relax", "torch", "ase", "mace-torch"} <= set(provenance["versions"])
    command = provenance["command"]
    assert command[command.index("--E0s") + 1] == "foundation"
    assert command[command.index("--multiheads_finetuning") + 1] == "False"


@pytest.mark.slow
def test_resume_continues_from_the_latest_checkpoint(finetuned_run, tmp_path):
    out_dir = tmp_path / "run"
    shutil.copytree(finetuned_run["out_dir"], out_dir)
    (checkpoint,) = (out_dir / "checkpoints").glob("*_epoch-*.pt")
    saved_epoch = int(re.search(r"_epoch-(\d+)\.pt$", checkpoint.name).group(1))
    first_log = (out_dir / TRAINER_LOG_NAME).read_text()
    saved_rmse = re.search(rf"Epoch {saved_epoch}: .*RMSE_F=\s*([\d.]+)", first_log).group(1)

    model_file = finetune_mace(
        foundation_model=finetuned_run["foundation"],
        train_file=out_dir / "train.extxyz",
        valid_file=out_dir / "valid.extxyz",
        out_dir=out_dir,
        epochs=EPOCHS + 1,
        lr=LR,
        batch_size=BATCH_SIZE,
        seed=SEED,
        resume=True,
    )

    resumed_log = (out_dir / TRAINER_LOG_NAME).read_text()[len(first_log) :]
    assert "--restart_latest" in resumed_log.splitlines()[0]
    assert checkpoint.name in resumed_log  # "Loading checkpoint: ..."
    # The restored weights reproduce the validation error of the saved epoch ...
    assert re.search(r"Initial: .*RMSE_F=\s*([\d.]+)", resumed_log).group(1) == saved_rmse
    # ... and training goes on from there up to the new last epoch.
    assert f"Epoch {EPOCHS}:" in resumed_log
    assert "Epoch 0:" not in resumed_log or saved_epoch == 0
    assert list((out_dir / "checkpoints").glob("*_epoch-*.pt"))
    assert _force_rmse(model_file, finetuned_run["test"][:2]) > 0


@pytest.mark.slow
def test_replay_finetuning_trains_a_new_head_beside_the_foundation_head(
    finetuned_run, dev_structures, tmp_path
):
    import torch

    train_elements = {int(z) for atoms in finetuned_run["train"] for z in atoms.numbers}
    used = {id(atoms) for atoms in finetuned_run["train"] + finetuned_run["test"]}
    replay = [
        atoms
        for atoms in dev_structures
        if len(atoms) <= 12 and id(atoms) not in used and {int(z) for z in atoms.numbers} <= train_elements
    ][:12]
    write(tmp_path / "replay.extxyz", replay)
    model_file = finetune_mace(
        foundation_model=finetuned_run["foundation"],
        train_file=finetuned_run["out_dir"] / "train.extxyz",
        valid_file=finetuned_run["out_dir"] / "valid.extxyz",
        out_dir=tmp_path / "replay_run",
        method="replay",
        replay_file=tmp_path / "replay.extxyz",
        epochs=1,
        lr=LR,
        batch_size=BATCH_SIZE,
    )
    from mace.calculators import MACECalculator

    model = torch.load(model_file, map_location="cpu", weights_only=False)
    assert sorted(model.heads) == ["Default", "pt_head"]
    calculator = MACECalculator(model_paths=str(model_file), device="cpu", default_dtype="float64")
    assert calculator.head == "Default"
    atoms = finetuned_run["test"][0].copy()
    atoms.calc = calculator
    assert np.isfinite(atoms.get_forces()).all()


def test_replay_without_replay_file_raises(tmp_path):
    with pytest.raises(ValueError, match="replay_file"):
        finetune_mace(
            foundation_model=tmp_path / "tiny.model",
            train_file=tmp_path / "train.extxyz",
            valid_file=None,
            out_dir=tmp_path / "run",
            method="replay",
            epochs=1,
            lr=1e-3,
            batch_size=2,
        )


def test_missing_foundation_model_raises_weights_not_found_naming_the_path(tmp_path):
    missing = tmp_path / "2023-12-03-mace-128-L1_epoch-199.model"
    with pytest.raises(ModelWeightsNotFoundError, match=re.escape(str(missing))):
        finetune_mace(
            foundation_model=missing,
            train_file=tmp_path / "train.extxyz",
            valid_file=None,
            out_dir=tmp_path / "run",
            epochs=1,
            lr=1e-3,
            batch_size=2,
        )


def _rock_salt_cells(count: int, *, with_forces: bool) -> list[Atoms]:
    cells = []
    for index in range(count):
        atoms = bulk("MgO", "rocksalt", a=4.21 + 0.01 * index, cubic=True)
        atoms.info["DFT_energy"] = -47.5 + 0.1 * index
        if with_forces:
            atoms.arrays["DFT_forces"] = np.zeros((len(atoms), 3))
        cells.append(atoms)
    return cells


def test_training_data_without_forces_raises(tmp_path):
    foundation = build_tiny_mace_model(tmp_path / "tiny.model", atomic_numbers=[8, 12])
    write(tmp_path / "train.extxyz", _rock_salt_cells(4, with_forces=False))
    with pytest.raises(LabelledDataError, match="no forces"):
        finetune_mace(
            foundation_model=foundation,
            train_file=tmp_path / "train.extxyz",
            valid_file=None,
            out_dir=tmp_path / "run",
            epochs=1,
            lr=1e-3,
            batch_size=2,
        )
    assert not (tmp_path / "run" / TRAINER_LOG_NAME).exists()


def test_elements_the_foundation_lacks_raise_unsupported_elements(tmp_path):
    foundation = build_tiny_mace_model(tmp_path / "tiny.model", atomic_numbers=[8, 12])
    cells = _rock_salt_cells(4, with_forces=True)
    cells[0].numbers[0] = 28  # one Ni on a Mg site
    write(tmp_path / "train.extxyz", cells)
    with pytest.raises(UnsupportedElementsError, match="Ni") as caught:
        finetune_mace(
            foundation_model=foundation,
            train_file=tmp_path / "train.extxyz",
            valid_file=None,
            out_dir=tmp_path / "run",
            epochs=1,
            lr=1e-3,
            batch_size=2,
        )
    assert caught.value.elements == ["Ni"]


def test_run_train_command_uses_foundation_e0s_keys_and_appends_extra_args_last(tmp_path):
    files = {"train": tmp_path / "train.extxyz", "replay": tmp_path / "replay.extxyz"}
    common = dict(
        foundation_model=tmp_path / "f.model",
        files=files,
        out_dir=tmp_path,
        epochs=3,
        lr=1e-3,
        batch_size=2,
        device="cuda",
        seed=7,
        energy_weight=1.0,
        forces_weight=100.0,
    )
    naive = build_run_train_command(method="naive", resume=False, extra_args=["--plot", "True"], **common)
    assert naive[1:3] == ["-m", "mace.cli.run_train"]
    for flag, value in [
        ("--E0s", "foundation"),
        ("--energy_key", "REF_energy"),
        ("--forces_key", "REF_forces"),
        ("--default_dtype", "float64"),
        ("--loss", "weighted"),
        ("--seed", "7"),
        ("--multiheads_finetuning", "False"),
    ]:
        assert naive[naive.index(flag) + 1] == value, flag
    assert "--valid_file" not in naive
    assert "--restart_latest" not in naive
    assert naive[-2:] == ["--plot", "True"]
    replay = build_run_train_command(method="replay", resume=True, **common)
    assert replay[replay.index("--multiheads_finetuning") + 1] == "True"
    assert replay[replay.index("--pt_train_file") + 1] == str(files["replay"])
    assert replay[-1] == "--restart_latest"
