"""``heo-calc finetune --resume`` goes on only with the base, data and recipe the run was started with."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest
from ase.io import write

from heo_calc.errors import ResumeMismatchError
from heo_calc.finetune.run_identity import IDENTITY_FILE, base_identity, record_or_check_run_identity
from heo_calc.finetune.runner import SevenNetRecipe

RECIPE = SevenNetRecipe(
    epochs=3,
    lr=1e-4,
    lr_decay_per_epoch=0.75,
    force_loss_weight=0.3,
    batch_size=2,
    seed=1,
    train_shift_scale=False,
)


@pytest.fixture
def prepared(packaged_small_structures, tmp_path):
    """A run folder with prepared train and valid files, and a second train file with other structures."""
    data = tmp_path / "run" / "data"
    data.mkdir(parents=True)
    files = {name: data / f"{name}.extxyz" for name in ("train", "valid")}
    write(files["train"], packaged_small_structures[:4])
    write(files["valid"], packaged_small_structures[4:6])
    files["other"] = tmp_path / "other.extxyz"
    write(files["other"], packaged_small_structures[6:10])
    return tmp_path / "run", files


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_new_run_records_its_base_data_and_recipe(prepared):
    out, files = prepared
    record_or_check_run_identity(out, "sevennet-0", files["train"], files["valid"], RECIPE, resume=False)
    record = json.loads((out / IDENTITY_FILE).read_text())
    assert record["data"] == {"train": _sha(files["train"]), "valid": _sha(files["valid"])}
    assert record["base"]["name"] == "sevennet-0" and record["base"]["package"] == "sevenn"
    from heo_calc.backends.sevennet import sevennet_pretrained_path

    assert record["base"]["sha256"] == _sha(sevennet_pretrained_path("7net-0"))
    assert (
        record["recipe"]["lr"] == 1e-4
        and "epochs" not in record["recipe"]
        and "device" not in record["recipe"]
    )


def test_resume_with_the_same_run_or_more_epochs_or_another_device_goes_on(prepared):
    out, files = prepared
    record_or_check_run_identity(out, "sevennet-0", files["train"], files["valid"], RECIPE, resume=False)
    longer = dataclasses.replace(RECIPE, epochs=30, device="cuda")
    record_or_check_run_identity(out, "sevennet-0", files["train"], files["valid"], longer, resume=True)


def test_resume_with_other_data_base_or_recipe_is_refused_naming_what_changed(prepared, tmp_path):
    out, files = prepared
    record_or_check_run_identity(out, "sevennet-0", files["train"], files["valid"], RECIPE, resume=False)
    old, new = _sha(files["train"])[:12], _sha(files["other"])[:12]
    with pytest.raises(ResumeMismatchError, match=f"train data sha256 {old} then, {new} now") as caught:
        record_or_check_run_identity(out, "sevennet-0", files["other"], files["valid"], RECIPE, resume=True)
    message = str(caught.value)
    assert "\n" not in message
    assert (
        message.split("other settings (")[1].split("); resume")[0]
        == f"train data sha256 {old} then, {new} now"
    )
    assert message.endswith(
        "resume with the same base, data and options, or start over in a new --out folder"
    )
    with pytest.raises(ResumeMismatchError, match=r"base sevennet-0 \(sha256 \w{12}\) then, sevennet-l3i5"):
        record_or_check_run_identity(
            out, "sevennet-l3i5", files["train"], files["valid"], RECIPE, resume=True
        )
    other_lr = dataclasses.replace(RECIPE, lr=1e-3, seed=2)
    with pytest.raises(ResumeMismatchError, match=r"lr 0.0001 then, 0.001 now; seed 1 then, 2 now\)"):
        record_or_check_run_identity(out, "sevennet-0", files["train"], files["valid"], other_lr, resume=True)
    # a checkpoint file as base: named by its file, compared by its bytes
    checkpoint = tmp_path / "finetuned.pth"
    checkpoint.write_bytes(b"weights")
    record_or_check_run_identity(out, str(checkpoint), files["train"], files["valid"], RECIPE, resume=False)
    assert base_identity(str(checkpoint)) == {"name": "finetuned.pth", "sha256": _sha(checkpoint)}
    checkpoint.write_bytes(b"other weights")
    with pytest.raises(ResumeMismatchError, match="base finetuned.pth .* then, finetuned.pth"):
        record_or_check_run_identity(
            out, str(checkpoint), files["train"], files["valid"], RECIPE, resume=True
        )


def test_resuming_a_run_without_a_record_warns_and_records_it(prepared, caplog):
    out, files = prepared
    with caplog.at_level("WARNING"):
        record_or_check_run_identity(out, "sevennet-0", files["train"], files["valid"], RECIPE, resume=True)
    assert f"holds no {IDENTITY_FILE}" in caplog.text
    assert json.loads((out / IDENTITY_FILE).read_text())["data"]["train"] == _sha(files["train"])
