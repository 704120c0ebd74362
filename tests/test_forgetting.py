"""Forgetting report: binary oxides and solid solutions relaxed per model, compared with the base."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from ase.io import read

from heo_calc.forgetting import (
    ForgettingOptions,
    add_mixing_energies,
    compare_to_base,
    relax_model,
    summarize_comparison,
)
from heo_calc.relax.cache import RelaxationCache
from heo_calc.structures.binary_oxides import binary_oxide_cell, supercell_repeat

#: Small and loose: 8-atom cells, a few steps; the plumbing, not the numbers.
CHEAP = ForgettingOptions(fmax=0.1, max_steps=40, rattle=0.02, min_atoms=8, solution_repeat=1)


@pytest.mark.parametrize(("cation", "n_atoms"), [("Mg", 64), ("Ce", 96), ("Li", 96), ("Al", 120)])
def test_binary_oxide_supercells_have_at_least_sixty_atoms_and_no_slab_shape(cation, n_atoms):
    cell = binary_oxide_cell(cation)
    assert len(cell) * np.prod(supercell_repeat(cell, 60)) == n_atoms


def _row(model, structure, kind, energy, n_atoms, counts="", a=4.2, status="ok"):
    per_fu = 2  # rock salt: two atoms per formula unit
    return {
        "model": model,
        "structure": structure,
        "kind": kind,
        "prototype": "rocksalt",
        "cations": structure[:2] if kind == "binary" else counts.replace(":16", "").replace(":2", ""),
        "cation_counts": counts,
        "n_atoms": n_atoms,
        "energy_eV": energy,
        "energy_per_fu_eV": energy / (n_atoms / per_fu),
        "a_pseudo_cubic_A": a,
        "status": status,
        "max_stress_GPa": 0.1,
    }


def test_mixing_energy_is_against_the_models_own_end_members():
    table = pd.DataFrame(
        [
            _row("m", "MgO", "binary", -12.0 * 32, 64),
            _row("m", "NiO", "binary", -10.0 * 32, 64),
            _row("m", "(Mg,Ni)O", "solid solution", -12.0 * 16 - 10.0 * 16 + 0.64, 64, "Mg:16,Ni:16"),
        ]
    )
    mixed = add_mixing_energies(table)
    assert mixed["mixing_energy_meV_per_atom"].iloc[2] == pytest.approx(10.0)
    assert mixed["mixing_energy_meV_per_atom"].iloc[:2].isna().all()


def test_comparison_gives_model_minus_base_and_the_experimental_lattice_parameter():
    base = add_mixing_energies(pd.DataFrame([_row("base", "MgO", "binary", -12.0 * 32, 64, a=4.25)]))
    model = add_mixing_energies(pd.DataFrame([_row("ft", "MgO", "binary", -11.9 * 32, 64, a=4.30)]))
    comparison = compare_to_base(model, base)
    [row] = comparison.to_dict("records")
    assert row["delta_energy_per_fu_meV"] == pytest.approx(100.0)
    assert row["delta_a_percent"] == pytest.approx(100 * (4.30 / 4.25 - 1))
    assert row["a_exp_A"] == 4.212
    summary = summarize_comparison(comparison)
    assert summary["abs_delta_energy_worst"] == "MgO" and summary["n_binaries"] == 1


def test_summary_gives_the_signed_and_absolute_mean_of_the_mixing_energy_changes():
    comparison = pd.DataFrame(
        {
            "kind": ["solid solution"] * 3 + ["binary"],
            "structure": ["(Mg,Ni)O", "(Co,Ni)O", "(Mg,Zn)O", "MgO"],
            "delta_mixing_meV_per_atom": [6.0, -12.0, 3.0, np.nan],
            "delta_energy_per_fu_meV": [np.nan, np.nan, np.nan, 50.0],
            "delta_a_percent": [0.1, 0.0, 0.0, -0.2],
        }
    )
    summary = summarize_comparison(comparison)
    assert summary["n_solid_solutions"] == 3
    assert summary["delta_mixing_mean_meV_per_atom"] == pytest.approx(-1.0)
    assert summary["abs_delta_mixing_mean_meV_per_atom"] == pytest.approx(7.0)
    assert (summary["delta_mixing_min_meV_per_atom"], summary["delta_mixing_max_meV_per_atom"]) == (
        -12.0,
        6.0,
    )


def test_a_model_against_itself_changes_nothing_and_the_cache_is_reused(
    sevennet_calculator, tmp_path, monkeypatch
):
    cache = RelaxationCache(tmp_path / "cache")
    kwargs = {"solid_solutions": [("Mg", "Ni")], "options": CHEAP, "cache": cache}
    table = relax_model("sevennet-0", ["Mg"], calculator=sevennet_calculator, **kwargs)
    assert sorted(table["structure"]) == ["(Mg,Ni)O", "MgO", "NiO"]
    assert (table["status"] != "failed").all()
    assert 4.0 < table.set_index("structure").loc["MgO", "a_pseudo_cubic_A"] < 4.4
    assert np.isfinite(table.set_index("structure").loc["(Mg,Ni)O", "mixing_energy_meV_per_atom"])
    records = [json.loads(path.read_text()) for path in (tmp_path / "cache" / "sevennet-0").glob("*.json")]
    assert len(records) == 3 and all(record["options"] == CHEAP.key() for record in records)
    assert len(list((tmp_path / "cache" / "sevennet-0").glob("*.extxyz"))) == 3

    import heo_calc.relax

    def no_relaxing(*args, **kwargs):
        raise AssertionError("cached structures must not be relaxed again")

    monkeypatch.setattr(heo_calc.relax, "relax_many", no_relaxing)
    again = relax_model("sevennet-0", ["Mg"], calculator=sevennet_calculator, **kwargs)
    comparison = compare_to_base(again, table)
    assert np.allclose(comparison["delta_energy_per_fu_meV"], 0.0)
    assert np.allclose(comparison["delta_a_A"], 0.0)
    # what the cache gave back is the model's, recomputed independently from the cached MgO cell
    [cached_path] = (tmp_path / "cache" / "sevennet-0").glob("MgO-*.extxyz")
    cached = read(cached_path)
    cached.calc = sevennet_calculator
    mgo = again.set_index("structure").loc["MgO"]
    assert cached.get_potential_energy() == pytest.approx(mgo["energy_eV"], abs=1e-5)
    # rock salt: 4 formula units (8 atoms) per cubic cell of edge a
    assert (8 * cached.get_volume() / len(cached)) ** (1 / 3) == pytest.approx(
        mgo["a_pseudo_cubic_A"], abs=1e-6
    )


def test_forgetting_command_writes_the_report(sevennet_calculator, tmp_path, monkeypatch, capsys):
    import heo_calc.registry
    from heo_calc.cli import main

    monkeypatch.setattr(heo_calc.registry, "get_calculator", lambda name, **kwargs: sevennet_calculator)
    out = tmp_path / "report"
    args = ["forgetting", "--calc", "ft", "--base", "base", "--cations", "Mg", "--solid-solutions", "none"]
    args += ["--out", str(out), "--fmax", "0.1", "--steps", "30", "--min-atoms", "8", "-q"]
    assert main(args) == 0
    comparison = pd.read_csv(out / "forgetting.csv")
    assert list(comparison["structure"]) == ["MgO"] and comparison["a_exp_A"].iloc[0] == 4.212
    assert "ft against base" in (out / "forgetting.md").read_text()
    assert main(["forgetting", "--calc", "ft", "--base", "b", "--cations", "Xx", "--out", str(out)]) == 2
    assert "no binary-oxide prototype recorded for 'Xx'" in capsys.readouterr().err
