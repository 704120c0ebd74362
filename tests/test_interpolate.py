"""``heo-calc interpolate``: weight-space interpolation of two SevenNet checkpoints (issue #28)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk

from heo_calc import get_calculator
from heo_calc.cli import main


@pytest.fixture(scope="module")
def heo_cell():
    atoms = bulk("MgO", "rocksalt", a=4.2, cubic=True).repeat((1, 1, 2))
    atoms.symbols[[0, 2, 4]] = ["Co", "Ni", "Zn"]
    atoms.rattle(0.05, seed=1)
    return atoms


def _energy_forces(name: str, atoms) -> tuple[float, np.ndarray]:
    calculator = get_calculator(name, device="cpu")
    probe = atoms.copy()
    probe.calc = calculator
    return probe.get_potential_energy(), probe.get_forces()


@pytest.mark.parametrize(("alpha", "parent"), [(0.0, "sevennet-0"), (1.0, "heo-ft")])
def test_alpha_zero_and_one_reproduce_each_parent(alpha, parent, heo_cell, tmp_path):
    out = tmp_path / f"alpha{alpha}.pth"
    assert main(["interpolate", "sevennet-0", "heo-ft", "--alpha", str(alpha), "--out", str(out)]) == 0
    energy, forces = _energy_forces(f"sevennet:{out}", heo_cell)
    expected_energy, expected_forces = _energy_forces(parent, heo_cell)
    assert energy == pytest.approx(expected_energy, abs=1e-6)
    np.testing.assert_allclose(forces, expected_forces, atol=1e-6)


def test_half_way_is_the_mean_of_the_weights_and_names_both_parents(tmp_path):
    from heo_calc.backends.sevennet import load_checkpoint
    from heo_calc.finetune.interpolate import PROVENANCE_KEY, resolve_sevennet_checkpoint
    from heo_calc.provenance import sha256_of_file

    out = tmp_path / "half.pth"
    assert main(["interpolate", "sevennet-0", "heo-ft", "--alpha", "0.5", "--out", str(out)]) == 0
    mixed = load_checkpoint(out)
    base = load_checkpoint(resolve_sevennet_checkpoint("sevennet-0"))["model_state_dict"]
    tuned = load_checkpoint(resolve_sevennet_checkpoint("heo-ft"))["model_state_dict"]
    name = (
        "4_convolution.weight_nn.linear_0.weight"
        if "4_convolution.weight_nn.linear_0.weight" in base
        else next(iter(base))
    )
    torch.testing.assert_close(mixed["model_state_dict"][name], (base[name] + tuned[name]) / 2)
    record = mixed[PROVENANCE_KEY]
    assert record["alpha"] == 0.5 and record["base"]["name"] == "sevennet-0"
    assert record["finetuned"]["sha256"] == sha256_of_file(resolve_sevennet_checkpoint("heo-ft"))
    assert "optimizer_state_dict" not in mixed


def test_checkpoints_of_two_architectures_are_refused_before_writing(tmp_path, capsys):
    out = tmp_path / "mixed.pth"
    assert main(["interpolate", "sevennet-0", "sevennet-l3i5", "--alpha", "0.5", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "differ in lmax" in error and "one architecture" in error
    assert not out.exists()


def test_other_species_lists_and_bad_alpha_are_refused(tmp_path, capsys):
    from heo_calc.backends.sevennet import load_checkpoint
    from heo_calc.finetune.interpolate import resolve_sevennet_checkpoint

    state = load_checkpoint(resolve_sevennet_checkpoint("heo-ft"))
    state["config"]["chemical_species"] = list(reversed(state["config"]["chemical_species"]))
    reordered = tmp_path / "reordered.pth"
    torch.save(state, reordered)
    assert (
        main(
            ["interpolate", "sevennet-0", str(reordered), "--alpha", "0.5", "--out", str(tmp_path / "o.pth")]
        )
        == 2
    )
    assert "differ in chemical_species" in capsys.readouterr().err
    assert (
        main(["interpolate", "sevennet-0", "heo-ft", "--alpha", "nan", "--out", str(tmp_path / "o.pth")]) == 2
    )
    assert "finite" in capsys.readouterr().err
    assert (
        main(["interpolate", "sevennet-0", "missing.pth", "--alpha", "0.5", "--out", str(tmp_path / "o.pth")])
        == 2
    )
    assert "neither a SevenNet registry name" in capsys.readouterr().err
    assert not (tmp_path / "o.pth").exists()
