"""SevenNet finetuning through sevenn's own trainer, on a few real HEO structures."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import read, write

from heo_base.errors import LabelledDataError
from heo_calc import get_calculator
from heo_calc.cli import main
from heo_calc.errors import ResumeMismatchError
from heo_calc.finetune.runner import finetune
from heo_calc.finetune.sevennet import latest_checkpoint


@pytest.fixture(scope="module")
def few_structures(packaged_small_structures, tmp_path_factory):
    """Eight small (<= 10 atoms) real structures of the packaged set (DFT_ keys), written to extxyz."""
    small = [atoms for atoms in packaged_small_structures if len(atoms) <= 10][:8]
    assert len(small) == 8
    path = tmp_path_factory.mktemp("sevennet-data") / "few.extxyz"
    write(path, small)
    return path


@pytest.fixture(scope="module")
def finetuned(few_structures, tmp_path_factory):
    out = tmp_path_factory.mktemp("sevennet-ft")
    model = finetune(
        base="sevennet-0", train=few_structures, valid=None, out_dir=out, epochs=1, lr=1e-4, batch_size=2
    )
    return out, model


@pytest.mark.slow
def test_one_epoch_writes_a_loadable_slim_model(finetuned, few_structures):
    out, model = finetuned
    assert model == out / "finetuned.pth" and model.is_file()
    assert model.stat().st_size < (out / "train" / "checkpoint_best.pth").stat().st_size
    assert "Epoch 1/1" in (out / "train" / "log.sevenn").read_text()
    calculator = get_calculator(f"sevennet:{model}", device="cpu")
    atoms = read(few_structures, index=0)
    atoms.calc = calculator
    assert np.isfinite(atoms.get_forces()).all()


@pytest.mark.slow
def test_resume_continues_from_the_last_checkpoint(finetuned, few_structures):
    out, _ = finetuned
    finetune(
        base="sevennet-0",
        train=few_structures,
        valid=None,
        out_dir=out,
        epochs=2,
        lr=1e-4,
        batch_size=2,
        resume=True,
    )
    # sevenn keeps the first log and numbers later ones (log0.sevenn, ...)
    logs = "".join(path.read_text() for path in (out / "train").glob("log*.sevenn"))
    assert "Epoch 2/2" in logs
    assert "Epoch 1/2" not in logs
    assert latest_checkpoint(out / "train").name == "checkpoint_2.pth"


@pytest.mark.slow
def test_resume_with_other_data_or_recipe_is_refused_before_training(
    finetuned, few_structures, packaged_small_structures, tmp_path, capsys
):
    out, _ = finetuned
    checkpoints = {path.name: path.stat().st_mtime_ns for path in (out / "train").glob("checkpoint_*.pth")}
    other = tmp_path / "other.extxyz"
    write(other, [atoms for atoms in packaged_small_structures if len(atoms) <= 10][8:16])
    args = ["finetune", "--base", "sevennet-0", "--train", str(other), "--out", str(out), "--resume"]
    assert main([*args, "--epochs", "2", "--lr", "1e-4", "--batch-size", "2"]) == 2
    error = capsys.readouterr().err
    assert f"--resume: the run in {out} was started with other settings (train data sha256" in error
    assert "start over in a new --out folder" in error
    with pytest.raises(ResumeMismatchError, match=r"\(batch_size 2 then, 4 now\)"):
        finetune(
            base="sevennet-0",
            train=few_structures,
            valid=None,
            out_dir=out,
            epochs=2,
            lr=1e-4,
            batch_size=4,
            resume=True,
        )
    assert {
        path.name: path.stat().st_mtime_ns for path in (out / "train").glob("checkpoint_*.pth")
    } == checkpoints


def test_resume_without_checkpoint_is_a_clear_error(few_structures, tmp_path):
    with pytest.raises(LabelledDataError, match="holds no checkpoint"):
        finetune(base="sevennet-0", train=few_structures, valid=None, out_dir=tmp_path, epochs=1, resume=True)


def test_training_data_without_forces_is_refused(packaged_small_structures, tmp_path, capsys):
    atoms = packaged_small_structures[0].copy()
    del atoms.arrays["DFT_forces"]
    write(tmp_path / "no-forces.extxyz", atoms)
    args = [
        "finetune",
        "--base",
        "sevennet-0",
        "--train",
        str(tmp_path / "no-forces.extxyz"),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(args) == 2
    assert "has no forces" in capsys.readouterr().err


def test_replay_is_refused_for_sevennet(few_structures, tmp_path):
    with pytest.raises(ValueError, match="SevenNet bases support naive only"):
        finetune(base="sevennet-0", train=few_structures, valid=None, out_dir=tmp_path, method="replay")


def test_energy_outliers_are_dropped_from_training_only(few_structures, tmp_path):
    import json

    from heo_calc.finetune.runner import prepare_training_files

    train_file, valid_file = prepare_training_files(
        few_structures, few_structures, tmp_path, seed=1, drop_energy_outliers=0.005
    )
    record = json.loads((tmp_path / "data" / "dropped_outliers.json").read_text())
    kept = read(train_file, index=":")
    assert record["dropped"] and kept  # the 5 meV/atom threshold splits these eight
    assert len(kept) + len(record["dropped"]) == 8
    assert len(read(valid_file, index=":")) == 8
    calculator = get_calculator("sevennet-0", device="cpu")
    originals = read(few_structures, index=":")
    for row in record["dropped"]:
        atoms = originals[row["index"]].copy()
        atoms.calc = calculator
        error = (atoms.get_potential_energy() - originals[row["index"]].info["DFT_energy"]) / len(atoms)
        assert abs(error) > 0.005
        assert error == pytest.approx(row["energy_error_eV_per_atom"], abs=1e-6)


@pytest.mark.slow
def test_cli_with_relative_paths_drops_outliers_trains_and_refits_energies(
    few_structures, tmp_path, monkeypatch
):
    """The command as the model card runs it: relative --out, outliers dropped, energy reference refitted."""
    import json

    monkeypatch.chdir(tmp_path)
    args = [
        "finetune",
        "--base",
        "sevennet-0",
        "--train",
        str(few_structures),
        "--valid",
        str(few_structures),
    ]
    args += ["--out", "run", "--epochs", "1", "--lr", "1e-4", "--batch-size", "2"]
    assert main([*args, "--drop-energy-outliers", "0.005", "--refit-energy-reference"]) == 0
    record = json.loads((tmp_path / "run" / "data" / "dropped_outliers.json").read_text())
    assert record["dropped"]
    assert len(read(tmp_path / "run" / "data" / "train.extxyz", index=":")) == 8 - len(record["dropped"])
    assert "Epoch 1/1" in (tmp_path / "run" / "train" / "log.sevenn").read_text()
    assert get_calculator("sevennet:run/finetuned.pth", device="cpu") is not None
    # The energy reference was fitted on the structures trained on (not the dropped ones).
    reference = json.loads((tmp_path / "run" / "finetuned.energy_reference.json").read_text())
    assert reference["n_structures"] == 8 - len(record["dropped"])


def test_a_checkpoint_base_keeps_its_own_architecture(tmp_path):
    """Continuing from a .pth (e.g. stage 2 from stage 1) reads the model block from the file."""
    from pathlib import Path

    import sevenn

    from heo_calc.finetune.sevennet import build_sevennet_config

    l3i5_file = (
        Path(sevenn.__file__).parent / "pretrained_potentials" / "SevenNet_l3i5" / "checkpoint_l3i5.pth"
    )
    common = dict(train_file=tmp_path / "t.extxyz", valid_file=None, epochs=1, lr=1e-4)
    common |= dict(lr_decay_per_epoch=1.0, force_loss_weight=0.1, batch_size=2, seed=1)
    from_file = build_sevennet_config(base=str(l3i5_file), **common)
    assert from_file["model"]["lmax"] == 3
    assert from_file["model"] == build_sevennet_config(base="sevennet-l3i5", **common)["model"]
    assert build_sevennet_config(base="sevennet-0", **common)["model"]["lmax"] == 2
    assert from_file["train"]["continue"]["checkpoint"] == str(l3i5_file.resolve())
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_sevennet_config(base=str(tmp_path / "missing.pth"), **common)
