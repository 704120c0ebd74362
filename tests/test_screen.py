"""heo-calc screen with a cheap analytic calculator (tests/toy_ionic.py) on small rock-salt cells."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import toy_ionic

from heo_calc.cli import main
from heo_calc.errors import CompositionError
from heo_calc.relax import RelaxOptions
from heo_calc.screening import ScreenSettings, parse_cations, run_screen
from heo_calc.screening.store import ScreenStore


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    with toy_ionic.installed(tmp_path_factory.mktemp("toy-ionic")) as name:
        yield name


def _screen(out, *extra: str) -> int:
    return main(["screen", "--lattice", "rocksalt", "--calc", "toy-ionic", "--out", str(out), "-q", *extra])


def test_one_cation_has_zero_mixing_energy_against_its_own_parent(toy, tmp_path):
    # a different cell size (8 sites) from the parent's (32) and its own rattle: only the energy per site matters
    settings = ScreenSettings(
        lattice="rocksalt", calculator=toy, realizations=1, sites=8, relax=RelaxOptions(fmax=1e-4)
    )
    (record,) = run_screen([parse_cations("Mg")], settings, tmp_path, progress=False).records
    assert record.summary.status == "ok"
    assert abs(record.summary.mixing_energy_meV_per_atom_mean) < 1e-3  # 1e-6 eV/atom
    assert record.summary.a_pseudo_cubic_A_mean == pytest.approx(record.summary.a_vegard_A, abs=1e-4)


def test_a_screen_writes_every_table_and_plot(toy, tmp_path, capsys):
    assert (
        _screen(
            tmp_path, "--cations", "Mg,Ni", "--cations", "Ni,Mg,Cu", "--realizations", "2", "--sites", "12"
        )
        == 0
    )
    assert "2 compositions on this process (0 from an earlier run): 2 ok" in capsys.readouterr().out
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert list(summary["composition"]) == ["Mg-Ni", "Mg-Ni-Cu"]  # ranked by mixing energy
    assert (summary["mixing_energy_meV_per_atom_mean"] > 0).all()
    assert summary["mixing_energy_meV_per_atom_std"].notna().all()
    realizations = pd.read_csv(tmp_path / "results.csv")
    assert len(realizations) == 4 and set(realizations["seed"]) == {0, 1}
    assert (realizations["bond_length_std_A"] > 0).all() and realizations[
        "max_force_spread_eV_per_A"
    ].isna().all()
    document = json.loads((tmp_path / "results.json").read_text())
    assert [p["formula"] for p in document["parents"]] == ["CuO", "MgO", "NiO"]
    assert all(p["n_atoms"] >= 64 for p in document["parents"])
    ranking = (tmp_path / "ranking.md").read_text()
    assert "| 1 | (Mg0.5Ni0.5)O |" in ranking and "Parents: AO in rock salt" in ranking
    assert (tmp_path / "mixing_energy.png").stat().st_size > 0 and (tmp_path / "lattice_vegard.png").is_file()
    assert not list(tmp_path.rglob(".*.tmp"))


def test_a_committee_calculator_reports_its_force_spread(toy, tmp_path):
    settings = ScreenSettings(lattice="rocksalt", calculator="toy-committee", realizations=2, sites=8)
    (record,) = run_screen([parse_cations("Mg,Ni")], settings, tmp_path, progress=False).records
    assert [r.max_force_spread_eV_per_A for r in record.realizations] == [toy_ionic.FORCE_SPREAD] * 2
    assert record.summary.max_force_spread_eV_per_A_mean == pytest.approx(toy_ionic.FORCE_SPREAD)
    assert "| 0.012 | ok |" in (tmp_path / "ranking.md").read_text()


def test_resume_after_an_interruption_neither_repeats_nor_loses_compositions(
    toy, tmp_path, monkeypatch, capsys
):
    import heo_calc.screening.runner as runner

    args = (
        "--cations",
        "Mg,Ni",
        "--cations",
        "Co,Zn",
        "--cations",
        "Mg,Cu",
        "--realizations",
        "1",
        "--sites",
        "8",
    )
    save = ScreenStore.save

    def save_then_interrupt(self, record):
        save(self, record)
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C right after the first composition

    monkeypatch.setattr(ScreenStore, "save", save_then_interrupt)
    assert _screen(tmp_path, *args) == 130
    assert "rerun with --resume" in capsys.readouterr().out
    (first,) = list((tmp_path / "compositions").glob("*.json"))
    kept = first.read_text()
    monkeypatch.setattr(ScreenStore, "save", save)
    assert _screen(tmp_path, *args) == 2
    assert "pass --resume to continue" in capsys.readouterr().err
    relaxed = []
    relax_many = runner.relax_many
    monkeypatch.setattr(
        runner,
        "relax_many",
        lambda cells, *a, **k: relaxed.extend(c.info["name"] for c in cells) or relax_many(cells, *a, **k),
    )
    assert _screen(tmp_path, *args, "--resume") == 0
    assert "3 compositions on this process (1 from an earlier run)" in capsys.readouterr().out
    assert len(relaxed) == 2 and not any(first.stem in name for name in relaxed)
    assert first.read_text() == kept
    assert sorted(pd.read_csv(tmp_path / "summary.csv")["composition"]) == ["Co-Zn", "Mg-Cu", "Mg-Ni"]
    assert _screen(tmp_path, *args, "--resume", "--fmax", "0.02") == 2
    assert "fmax: 0.05 there, 0.02 now" in capsys.readouterr().err


def test_a_parent_that_fails_gives_failed_rows_and_the_rest_go_on(toy, tmp_path, capsys):
    # toy-ionic returns NaN for anything with Cd: CdO cannot be relaxed
    assert (
        _screen(tmp_path, "--cations", "Mg,Cd", "--cations", "Mg,Ni", "--realizations", "1", "--sites", "8")
        == 1
    )
    assert "1 ok, 0 not converged, 1 failed" in capsys.readouterr().out
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("composition")
    assert summary.loc["Mg-Ni", "status"] == "ok"
    assert summary.loc["Mg-Cd", "status"] == "failed"
    reason = summary.loc["Mg-Cd", "error"]
    assert (
        "parent reference(s) failed to relax (CdO: DivergedError" in reason
        and "leave the cation out" in reason
    )
    assert not list((tmp_path / "parents").rglob("*CdO*"))  # not cached: the next run retries


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--cations", "Mg,U"], "'toy-ionic' does not cover U, in composition(s) Mg-U; drop U"),
        (["--cations", "Mg,Co,Ni", "--sites", "40"], "Mg-Co-Ni on rocksalt: 40 sites cannot hold 3 cations"),
        (
            ["--cations", "Mg,Co,Mg"],
            "composition Mg-Co-Mg: Mg is listed more than once; list each cation once",
        ),
        (["--cations", "Mg,Xx"], "composition Mg-Xx: Xx is not an element symbol"),
        (["--pool", "Mg,Co"], "--pool and --n-cations go together"),
        ([], "no composition given"),
    ],
)
def test_bad_input_is_one_line_naming_the_composition_and_the_fix(toy, tmp_path, capsys, options, message):
    assert _screen(tmp_path, *options) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_an_unknown_lattice_is_refused(toy, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["screen", "--lattice", "garnet", "--cations", "Mg,Co", "--calc", toy])
    assert "invalid choice: 'garnet'" in capsys.readouterr().err
    with pytest.raises(CompositionError, match="unknown lattice 'garnet'; choose one of rocksalt, spinel"):
        run_screen([parse_cations("Mg")], ScreenSettings(lattice="garnet", calculator=toy), tmp_path)
