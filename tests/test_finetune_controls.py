"""GPU-ready finetuning controls: device, time limit, reused outlier lists, weight anchor, base replay,
and checkpoints and logs that name no directory of the machine that made them."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import yaml
from ase.io import read, write
from machine_paths import machine_path_pattern

from heo_base.errors import LabelledDataError
from heo_base.labels import reduced_formula
from heo_calc import get_calculator
from heo_calc.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def few_structures(packaged_small_structures, tmp_path_factory):
    small = [atoms for atoms in packaged_small_structures if len(atoms) <= 10][:8]
    path = tmp_path_factory.mktemp("controls-data") / "few.extxyz"
    write(path, small)
    return path


@pytest.fixture(scope="module")
def dev_h5(dev_data_path, tmp_path_factory):
    from dataset_builder.cli import main as dataset_main

    path = tmp_path_factory.mktemp("controls-h5") / "heo.h5"
    assert dataset_main(["build", "--source", str(dev_data_path), "--out", str(path), "--no-progress"]) == 0
    return path


class _Clock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _trainer_with_deadline(deadline: float, clock: _Clock, train_s: float, valid_s: float):
    """A stand-in for sevenn's Trainer whose epochs take ``train_s`` and ``valid_s`` on ``clock``."""
    from heo_calc.finetune._sevenn_entry import _install_deadline

    class Trainer:
        def __init__(self) -> None:
            self.epochs: list[bool] = []

        def run_one_epoch(self, loader, is_train=False):
            self.epochs.append(is_train)
            clock.now += train_s if is_train else valid_s

    _install_deadline(Trainer, deadline, clock=clock)
    return Trainer()


def _train(trainer, epochs: int) -> None:
    for _ in range(epochs):
        trainer.run_one_epoch(None, True)
        trainer.run_one_epoch(None, False)


def _train_until_stopped(trainer, epochs: int = 100) -> str:
    from heo_calc.finetune._sevenn_entry import DeadlineReached

    with pytest.raises(DeadlineReached) as stopped:
        _train(trainer, epochs)
    return str(stopped.value)


def test_time_limit_starts_no_epoch_that_would_end_after_the_deadline():
    clock = _Clock()
    # epochs of 20 s training + 10 s validation from t0: the 4th would end at t0 + 120 > t0 + 100
    trainer = _trainer_with_deadline(clock.now + 100.0, clock, train_s=20.0, valid_s=10.0)
    message = _train_until_stopped(trainer)
    assert trainer.epochs == [True, False] * 3
    assert message.startswith("time limit reached after 3 epoch(s) of this run (one epoch takes 30 s)")
    assert "best checkpoint so far is kept" in message
    exact = _trainer_with_deadline(clock.now + 90.0, clock, train_s=20.0, valid_s=10.0)
    _train_until_stopped(exact)
    assert exact.epochs == [True, False] * 3  # ending exactly at the deadline is allowed


def test_time_limit_runs_one_epoch_even_past_the_deadline_and_never_stops_validation():
    clock = _Clock()
    trainer = _trainer_with_deadline(clock.now - 1.0, clock, train_s=5.0, valid_s=500.0)
    trainer.run_one_epoch(None, True)
    trainer.run_one_epoch(None, False)  # validation is never refused
    trainer.run_one_epoch(None, False)
    assert "after 1 epoch(s)" in _train_until_stopped(trainer)
    assert trainer.epochs == [True, False, False]


class _TrainerWithoutHardTimeout(subprocess.Popen):
    """The trainer process, waited for without ``run_sevenn``'s hard timeout (a safety net for a
    hung trainer, 60 s past a limit that has passed: on a busy machine it would fire before sevenn
    has read its data, which is the machine's speed, not the behaviour under test)."""

    def wait(self, timeout=None):
        return super().wait()


@pytest.mark.slow
def test_time_limit_stops_between_epochs_and_keeps_a_loadable_best_checkpoint(
    few_structures, tmp_path, capfd, monkeypatch
):
    """End to end, independent of machine speed: the limit (60 ms) has passed when the trainer
    starts, so exactly one epoch runs (the first always does) and the run ends as a success."""
    import heo_calc.finetune.sevennet as sevennet

    monkeypatch.setattr(
        sevennet,
        "subprocess",
        SimpleNamespace(Popen=_TrainerWithoutHardTimeout, TimeoutExpired=subprocess.TimeoutExpired),
    )
    out = tmp_path / "run"
    args = [
        "finetune",
        "--base",
        "sevennet-0",
        "--train",
        str(few_structures),
        "--valid",
        str(few_structures),
    ]
    args += [
        "--out",
        str(out),
        "--epochs",
        "200",
        "--lr",
        "1e-5",
        "--batch-size",
        "4",
        "--time-limit",
        "0.001",
    ]
    assert main([*args, "--device", "cpu"]) == 0
    config = yaml.safe_load((out / "train" / "input.yaml").read_text())
    assert config["train"]["device"] == "cpu"
    log = (out / "train" / "log.sevenn").read_text()
    finished = [line for line in log.splitlines() if re.match(r"Epoch \d+ elapsed", line)]
    assert len(finished) == 1, log[-2000:]  # sevenn logs "Epoch 2/200" before the epoch is refused
    assert "time limit reached after 1 epoch(s)" in capfd.readouterr().out  # printed by the trainer
    model = get_calculator(f"sevennet:{out / 'finetuned.pth'}", device="cpu")
    atoms = read(few_structures, index=0)
    atoms.calc = model
    assert np.isfinite(atoms.get_forces()).all()


def test_device_goes_into_the_sevenn_config(tmp_path):
    from heo_calc.finetune.sevennet import build_sevennet_config

    common = dict(
        train_file=tmp_path / "t.extxyz", valid_file=None, epochs=1, lr=1e-4, lr_decay_per_epoch=1.0
    )
    common |= dict(force_loss_weight=0.1, batch_size=2, seed=1)
    assert build_sevennet_config(base="sevennet-0", device="cuda", **common)["train"]["device"] == "cuda"
    relative = build_sevennet_config(base="sevennet-0", work_dir=tmp_path / "train", **common)
    assert relative["data"]["load_trainset_path"] == [os.path.join("..", "t.extxyz")]


def test_a_recorded_outlier_list_is_reused_by_id(dev_h5, tmp_path):
    from heo_calc.finetune.runner import prepare_training_files

    listing = ROOT / "heo_calc" / "models" / "heo-ft.dropped_outliers.json"
    listed = {row["id"] for row in json.loads(listing.read_text())["dropped"]}
    train_file, valid_file = prepare_training_files(dev_h5, None, tmp_path, seed=1, drop_listed=listing)
    kept = {atoms.info["immutable_id"] for atoms in read(train_file, index=":")}
    assert len(kept) == 1034 - len(listed) and not kept & listed
    assert len(read(valid_file, index=":")) == 129
    record = json.loads((tmp_path / "data" / "dropped_outliers.json").read_text())
    assert {row["id"] for row in record["dropped"]} == listed


def test_an_outlier_list_of_other_data_or_unreadable_is_a_clear_error(few_structures, tmp_path):
    from heo_calc.finetune.runner import prepare_training_files

    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"dropped": [{"id": "not-in-these-data"}]}))
    with pytest.raises(LabelledDataError, match="none of the 1 ids"):
        prepare_training_files(few_structures, few_structures, tmp_path, seed=1, drop_listed=foreign)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(LabelledDataError, match="cannot read the outlier list"):
        prepare_training_files(few_structures, few_structures, tmp_path, seed=1, drop_listed=broken)


def test_weight_anchor_is_lambda_times_the_squared_distance_to_the_anchor():
    from heo_calc.finetune._sevenn_entry import WeightAnchor

    model = torch.nn.Linear(3, 2)
    anchor_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
    anchor = WeightAnchor(0.5, anchor_state)
    assert float(anchor.get_loss({}, model).detach()) == pytest.approx(0.0)
    with torch.no_grad():
        model.weight += 0.1  # 6 entries moved by 0.1
    assert float(anchor.get_loss({}, model).detach()) == pytest.approx(0.5 * 6 * 0.01, rel=1e-5)
    loss = anchor.get_loss({}, model)
    loss.backward()  # the pull is differentiable: it reaches the optimizer
    np.testing.assert_allclose(model.weight.grad.numpy(), 0.5 * 2 * 0.1, rtol=1e-5)


def test_base_replay_structures_carry_the_base_models_labels(sevennet_calculator):
    from heo_calc.calculator import evaluate_properties
    from heo_calc.finetune.base_replay import base_labelled_structures

    replay = base_labelled_structures(["Mg", "Ni", "O", "Xx"], sevennet_calculator, 3, seed=2)
    assert [reduced_formula(a) for a in replay] == ["MgO", "NiO", "MgO"]
    for atoms in replay:
        labels = evaluate_properties(sevennet_calculator, atoms, ("forces",))
        assert atoms.info["REF_energy"] == pytest.approx(labels["energy"], abs=1e-5)
        np.testing.assert_allclose(atoms.arrays["REF_forces"], labels["forces"], atol=1e-5)
        assert np.abs(atoms.arrays["REF_forces"]).max() > 0.01  # rattled, not at a minimum


@pytest.mark.slow
def test_replay_labels_come_from_the_named_model_not_the_starting_checkpoint(
    few_structures, sevennet_calculator, tmp_path, monkeypatch
):
    """A continued finetune (``--base`` an earlier finetune) can replay its foundation model's labels."""
    from heo_calc.calculator import evaluate_properties
    from heo_calc.finetune import runner

    trained = []
    monkeypatch.setattr(runner, "_finetune_sevennet", lambda *args, **kwargs: trained.append(args) or args[3])
    start = ROOT / "heo_calc" / "models" / "heo-ft.pth"
    common = {"train": few_structures, "valid": few_structures, "epochs": 1, "base_replay": 2, "seed": 3}
    runner.finetune(base=str(start), out_dir=tmp_path / "own", **common)
    runner.finetune(base=str(start), out_dir=tmp_path / "foundation", replay_labels="sevennet-0", **common)
    assert len(trained) == 2

    own = read(tmp_path / "own" / "data" / "base_replay.extxyz", index=":")
    foundation = read(tmp_path / "foundation" / "data" / "base_replay.extxyz", index=":")
    heo_ft = get_calculator("heo-ft", device="cpu")
    for by_start, by_foundation in zip(own, foundation, strict=True):
        np.testing.assert_allclose(by_start.positions, by_foundation.positions)  # same cells, same seed
        assert by_start.info["REF_energy"] == pytest.approx(
            evaluate_properties(heo_ft, by_start, ("energy",))["energy"], abs=1e-4
        )
        assert by_foundation.info["REF_energy"] == pytest.approx(
            evaluate_properties(sevennet_calculator, by_foundation, ("energy",))["energy"], abs=1e-4
        )
        assert abs(by_start.info["REF_energy"] - by_foundation.info["REF_energy"]) > 1e-3


def _absolute_paths(value, found: list[str]) -> list[str]:
    if isinstance(value, str) and os.path.isabs(value):
        found.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _absolute_paths(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _absolute_paths(item, found)
    return found


@pytest.mark.parametrize("name", ["heo-ft", "heo-ft-l3i5"])
def test_shipped_checkpoints_store_no_absolute_path(name):
    from heo_calc.backends.heo_ft import heo_ft_weights_path
    from heo_calc.backends.sevennet import load_checkpoint

    state = load_checkpoint(heo_ft_weights_path(name))
    assert _absolute_paths(state["config"], []) == []


def test_no_tracked_file_names_this_machines_directories():
    """Docs, training logs and package data keep only relative paths."""
    try:
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    pattern = machine_path_pattern()
    offenders = [
        path for path in tracked if (ROOT / path).is_file() and pattern.search((ROOT / path).read_bytes())
    ]
    assert offenders == []
