"""SevenNet finetuning options of heo-ft 0.4 (issue #28): Huber loss, warm-up, training part of the model,
stiffness labels with the base's stress, and sevenn's graph cache rebuilt when the data change."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from ase.build import bulk

from heo_calc.cli import main
from heo_calc.finetune._sevenn_entry import freeze_all_but, install_warmup, trainable_prefixes
from heo_calc.finetune.sevennet import build_sevennet_config, refresh_graph_cache


def _sevennet0_model():
    from heo_calc.backends.sevennet import import_sevenn_calculator

    return import_sevenn_calculator()("7net-0", device="cpu").model


def test_huber_loss_and_its_delta_go_into_the_sevenn_config(tmp_path):
    common = dict(
        train_file=tmp_path / "t.extxyz", valid_file=None, epochs=1, lr=1e-4, lr_decay_per_epoch=1.0
    )
    common |= dict(force_loss_weight=1.0, batch_size=2, seed=1)
    huber = build_sevennet_config(base="sevennet-0", loss="huber", huber_delta=0.02, **common)["train"]
    assert huber["loss"] == "Huber" and huber["loss_param"] == {"delta": 0.02}
    assert build_sevennet_config(base="sevennet-0", **common)["train"]["loss"] == "mse"


def test_warmup_scales_the_rate_linearly_and_leaves_the_scheduled_rate_alone():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=1.0)
    install_warmup(optimizer, steps=4)
    positions = []
    for _ in range(6):
        optimizer.zero_grad()
        parameter.sum().backward()  # gradient 1: each step moves the parameter by -lr
        optimizer.step()
        positions.append(float(parameter.detach()))
        assert optimizer.param_groups[0]["lr"] == 1.0  # restored after every step
    steps = -np.diff([0.0, *positions])
    np.testing.assert_allclose(steps, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0])


def test_train_only_selects_the_last_block_and_the_readout_of_sevennet0():
    model = _sevennet0_model()
    names = [name for name, _ in model.named_parameters()]
    assert trainable_prefixes(names, "last-block") == (
        "4_",
        "reduce_input_to_hidden",
        "reduce_hidden_to_energy",
    )
    total = sum(parameter.numel() for parameter in model.parameters())
    last_block = freeze_all_but(model, "last-block")
    trainable = {name for name, parameter in model.named_parameters() if parameter.requires_grad}
    assert trainable and all(name.startswith(("4_", "reduce_")) for name in trainable)
    assert any(name.startswith("3_") for name in names) and not any(
        name.startswith("3_") for name in trainable
    )
    assert 0.10 < last_block / total < 0.12  # ~11 % of SevenNet-0 (../shared/SCIENCE.md)
    readout = freeze_all_but(model, "readout")
    assert readout == 8192 + 64  # two linear layers: 128x64 and 64x1
    with pytest.raises(ValueError, match="last-block or readout"):
        trainable_prefixes(names, "first-block")


def test_graph_cache_is_rebuilt_when_the_data_change(tmp_path):
    train, valid = tmp_path / "train.extxyz", tmp_path / "valid.extxyz"
    train.write_text("first data")
    valid.write_text("validation")
    train_dir = tmp_path / "train"
    cached = train_dir / "sevenn_data" / "trainset.pt"
    cached.parent.mkdir(parents=True)
    cached.write_text("graphs of unknown origin")
    assert refresh_graph_cache(train_dir, [train, valid]) is True  # no record: not trusted
    assert not cached.exists()
    cached.write_text("graphs of the first data")  # what sevenn would build now
    assert refresh_graph_cache(train_dir, [train, valid]) is False
    assert cached.read_text() == "graphs of the first data"
    train.write_text("other data")
    assert refresh_graph_cache(train_dir, [train, valid]) is True
    assert not cached.exists()
    record = json.loads((train_dir / "sevenn_data" / "heo_source.json").read_text())
    assert set(record) == {"train.extxyz", "valid.extxyz"}


def test_stiffness_labels_carry_the_labellers_stress_and_strains_in_range(sevennet_calculator):
    from heo_calc.finetune.stiffness_labels import STRAIN_RANGE, stiffness_labelled_structures

    relaxed = bulk("MgO", "rocksalt", a=4.25, cubic=True)
    relaxed.info["immutable_id"] = "mgo-relaxed"
    relaxed.arrays["REF_forces"] = np.zeros((len(relaxed), 3))
    labelled = stiffness_labelled_structures([relaxed], ["Mg"], sevennet_calculator, 4, seed=3)
    assert [atoms.info["immutable_id"].split("-")[1] for atoms in labelled] == ["Mg", "Mg", "mgo", "mgo"]
    for atoms in labelled:
        check = atoms.copy()
        check.calc = sevennet_calculator
        np.testing.assert_allclose(atoms.info["REF_stress"], check.get_stress(), atol=1e-6)
        np.testing.assert_allclose(atoms.arrays["REF_forces"], check.get_forces(), atol=1e-5)
        assert atoms.info["REF_energy"] == pytest.approx(check.get_potential_energy(), abs=1e-5)
    for atoms in labelled[2:]:  # strained copies of the relaxed cell: |ΔV/V| within the range
        ratio = abs(atoms.get_volume() / relaxed.get_volume() - 1)
        assert STRAIN_RANGE[0] * 0.9 < ratio < STRAIN_RANGE[1] * 1.1
        assert np.abs(atoms.cell[0, 1:]).max() > 1e-3  # sheared, not only scaled
    assert np.abs(labelled[0].info["REF_stress"]).max() > 1e-3  # a strained cell is under stress


def test_stress_labels_reach_sevenn_in_its_own_convention(sevennet_calculator, tmp_path):
    """sevenn reads ``REF_stress`` (ASE: eV/Å³, xx yy zz yz xz xy, positive = tensile) and compares it with
    its model's stress; a label equal to the base's prediction must give zero error inside sevenn."""
    from sevenn.train.dataload import _set_atoms_y

    from heo_calc.finetune.stiffness_labels import label_with_stress, random_strain, strained_copy

    atoms = strained_copy(
        bulk("NiO", "rocksalt", a=4.2, cubic=True), random_strain(np.random.default_rng(0)), 0
    )
    label_with_stress(atoms, sevennet_calculator)
    (converted,) = _set_atoms_y([atoms.copy()], "REF_energy", "REF_forces", "REF_stress")
    sevenn_label = converted.info["y_stress"]  # sevenn's convention: -stress, xx yy zz xy yz zx
    ase_stress = atoms.info["REF_stress"]
    np.testing.assert_allclose(sevenn_label, -ase_stress[[0, 1, 2, 5, 3, 4]])
    assert np.abs(ase_stress[:3]).max() > 1e-3


def test_bad_option_values_are_refused_before_any_data_is_read(tmp_path, capsys):
    train = tmp_path / "t.extxyz"
    train.write_text("")
    base = ["finetune", "--base", "sevennet-0", "--train", str(train), "--out", str(tmp_path / "o")]
    assert main([*base, "--loss", "huber", "--huber-delta", "0"]) == 2
    assert "--huber-delta must be > 0" in capsys.readouterr().err
    assert main([*base, "--stiffness-labels", "-1"]) == 2
    assert "--stiffness-labels >= 0" in capsys.readouterr().err
    assert main([*base, "--energy-mae-cap", "-1"]) == 2
    assert "--energy-mae-cap must be a positive number" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_train_only_last_block_keeps_every_other_weight_bit_for_bit(dev_data_path, tmp_path):
    from ase.io import read, write

    from heo_calc.backends.sevennet import load_checkpoint, sevennet_pretrained_path

    small = [atoms for atoms in read(dev_data_path, index=":") if len(atoms) <= 8][:6]
    data = tmp_path / "few.extxyz"
    write(data, small)
    out = tmp_path / "run"
    args = ["finetune", "--base", "sevennet-0", "--train", str(data), "--valid", str(data), "--out", str(out)]
    args += ["--epochs", "1", "--lr", "1e-3", "--batch-size", "3", "--train-only", "last-block"]
    args += ["--loss", "huber", "--lr-warmup-steps", "2"]
    assert main(args) == 0
    before = load_checkpoint(sevennet_pretrained_path("7net-0"))["model_state_dict"]
    after = load_checkpoint(out / "finetuned.pth")["model_state_dict"]
    changed = {name for name in before if not torch.equal(before[name], after[name])}
    assert changed, "the last block and readout should have moved"
    assert all(name.startswith(("4_", "reduce_")) for name in changed), sorted(changed)


def test_energy_capped_epoch_choice_reads_the_learning_curve_and_records_it(tmp_path):
    from heo_calc.finetune.epoch_selection import chosen_checkpoint

    train_dir = tmp_path / "train"
    train_dir.mkdir()
    header = "epoch,lr,validset_Energy_MAE,validset_Force_RMSE,validset_TotalLoss\n"
    rows = [  # epoch 3 has the lowest loss and force error but gave up energy accuracy
        "1,1e-4,0.0130,0.134,0.00052",
        "2,9e-5,0.0134,0.128,0.00049",
        "3,8e-5,0.0150,0.120,0.00045",
    ]
    (train_dir / "lc.csv").write_text(header + "\n".join(rows) + "\n")
    for epoch in (1, 2, 3):
        (train_dir / f"checkpoint_{epoch}.pth").write_text(f"epoch {epoch}")
    (train_dir / "checkpoint_best.pth").write_text("epoch 3")
    assert chosen_checkpoint(train_dir, 14.0, tmp_path).name == "checkpoint_2.pth"
    record = json.loads((tmp_path / "selection.json").read_text())
    assert record["chosen_epoch"] == 2 and "energy MAE <= 14" in record["rule"]
    assert record["validation"]["3"]["energy_mae_meV_per_atom"] == pytest.approx(15.0)
    assert chosen_checkpoint(train_dir, None, tmp_path).name == "checkpoint_best.pth"
    assert json.loads((tmp_path / "selection.json").read_text())["chosen_epoch"] == 3
    assert chosen_checkpoint(train_dir, 10.0, tmp_path).name == "checkpoint_best.pth"  # none within the cap
    assert "no epoch had" in json.loads((tmp_path / "selection.json").read_text())["rule"]
