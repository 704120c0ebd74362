"""``heo-calc finetune --zero-stress-below``: a zero-stress target on DFT-relaxed structures only."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from ase.io import read, write

from heo_calc import get_calculator
from heo_calc.cli import main
from heo_calc.finetune.runner import finetune, prepare_training_files
from heo_calc.finetune.zero_stress import attach_zero_stress_labels

THRESHOLD = 0.01  # eV/Å


def _largest_force(atoms) -> float:
    return float(np.abs(atoms.arrays["DFT_forces"]).max())


@pytest.fixture(scope="module")
def mixed_structures(packaged_small_structures, tmp_path_factory):
    """Twelve small real structures (the packaged set), some DFT-relaxed (max |F| < 0.01 eV/Å) and some not."""
    small = [atoms for atoms in packaged_small_structures if len(atoms) <= 10]
    relaxed = [atoms for atoms in small if _largest_force(atoms) < THRESHOLD][:7]
    off_minimum = [atoms for atoms in small if _largest_force(atoms) > 0.05][:5]
    path = tmp_path_factory.mktemp("zero-stress-data") / "mixed.extxyz"
    write(path, relaxed + off_minimum)
    return path


@pytest.fixture(scope="module")
def stress_finetune(mixed_structures, tmp_path_factory):
    out = tmp_path_factory.mktemp("zero-stress-ft")
    model = finetune(
        base="sevennet-0",
        train=mixed_structures,
        valid=mixed_structures,
        out_dir=out,
        epochs=2,
        lr=3e-5,
        batch_size=2,
        zero_stress_below=THRESHOLD,
        stress_loss_weight=1.0,
    )
    return out, model


@pytest.mark.slow
def test_the_stress_label_sits_on_exactly_the_structures_below_the_threshold(
    stress_finetune, mixed_structures
):
    out, _ = stress_finetune
    config = yaml.safe_load((out / "train" / "input.yaml").read_text())
    assert config["train"]["is_train_stress"] is True
    assert config["train"]["stress_loss_weight"] == 1.0
    assert config["data"]["data_format_args"]["stress_key"] == "REF_stress"
    originals = read(mixed_structures, index=":")
    written = read(out / "data" / "train.extxyz", index=":")
    assert len(written) == len(originals)
    for original, atoms in zip(originals, written):
        stress = np.asarray(atoms.info["REF_stress"], dtype=float)
        assert stress.shape == (6,)
        if _largest_force(original) < THRESHOLD:
            assert np.array_equal(stress, np.zeros(6))
        else:
            assert np.isnan(stress).all()
    assert sum(np.isfinite(np.asarray(a.info["REF_stress"], dtype=float)).all() for a in written) == 7


@pytest.mark.slow
def test_the_model_loads_and_its_stress_on_relaxed_structures_moves_toward_zero(
    stress_finetune, mixed_structures
):
    _, model = stress_finetune
    relaxed = [atoms for atoms in read(mixed_structures, index=":") if _largest_force(atoms) < THRESHOLD]

    def mean_abs_stress(name: str) -> float:
        calculator = get_calculator(name, device="cpu")
        values = []
        for atoms in relaxed:
            atoms = atoms.copy()
            atoms.calc = calculator
            values.append(np.abs(atoms.get_stress()).max())
        return float(np.mean(values))

    before, after = mean_abs_stress("sevennet-0"), mean_abs_stress(f"sevennet:{model}")
    assert np.isfinite(after)
    assert after < before


def test_no_structure_below_the_threshold_is_a_clear_error(mixed_structures, tmp_path, capsys):
    off_minimum = [atoms for atoms in read(mixed_structures, index=":") if _largest_force(atoms) > 0.05]
    write(tmp_path / "off.extxyz", off_minimum)
    smallest = min(_largest_force(atoms) for atoms in off_minimum)
    args = ["finetune", "--base", "sevennet-0", "--train", str(tmp_path / "off.extxyz")]
    args += [
        "--valid",
        str(tmp_path / "off.extxyz"),
        "--out",
        str(tmp_path / "o"),
        "--zero-stress-below",
        "0.01",
    ]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert "--zero-stress-below 0.01" in error
    assert f"{smallest:.4g}" in error


def test_labels_without_the_option_carry_no_stress(mixed_structures, tmp_path):
    train_file, _ = prepare_training_files(mixed_structures, mixed_structures, tmp_path, seed=1)
    assert all("REF_stress" not in atoms.info for atoms in read(train_file, index=":"))


def test_threshold_must_be_positive(mixed_structures):
    with pytest.raises(ValueError, match="must be > 0"):
        attach_zero_stress_labels(read(mixed_structures, index=":"), 0.0)
