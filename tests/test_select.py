"""``heo-calc select`` and heo_calc.selection: frames ranked by committee spread, near-duplicates dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ase.io import read, write

from heo_calc.cli import main
from heo_calc.selection import (
    SelectionInputError,
    frame_distance,
    read_frames,
    score_frames,
    select_frames,
)
from heo_calc.structures import rocksalt_heo_supercell


@pytest.fixture(scope="module")
def committee(sevennet_calculator):
    from heo_calc import get_calculator
    from heo_calc.committee import CommitteeCalculator

    return CommitteeCalculator([sevennet_calculator, get_calculator("heo-ft", device="cpu")])


@pytest.fixture(scope="module")
def frames_file(tmp_path_factory):
    """Five 8-atom frames: four rattles of one cell, and a copy of the third shifted rigidly by 1 Å (+ 0.002 Å noise)."""
    base = rocksalt_heo_supercell(repeat=1, seed=2)
    frames = []
    for seed, rattle in enumerate((0.02, 0.06, 0.12, 0.2)):
        atoms = base.copy()
        atoms.positions += np.random.default_rng(seed).normal(scale=rattle, size=atoms.positions.shape)
        frames.append(atoms)
    duplicate = frames[2].copy()
    duplicate.positions += np.array([1.0, -0.4, 0.3])
    duplicate.positions += np.random.default_rng(9).normal(scale=0.002, size=duplicate.positions.shape)
    duplicate.wrap()
    frames.append(duplicate)
    path = tmp_path_factory.mktemp("frames") / "trajectory.extxyz"
    write(path, frames)
    return path


def test_frame_distance_ignores_rigid_translations_and_wrapping():
    atoms = rocksalt_heo_supercell(repeat=1, seed=0, rattle=0.05)
    moved = atoms.copy()
    moved.positions += np.array([2.0, 3.5, -1.0])
    moved.wrap()
    assert frame_distance(atoms, moved) == pytest.approx(0.0, abs=1e-9)
    moved.positions[3, 0] += 0.07
    assert frame_distance(atoms, moved) == pytest.approx(0.07 * 7 / 8, abs=0.01)  # the mean shift is removed
    strained = atoms.copy()
    strained.set_cell(atoms.cell * 1.01, scale_atoms=True)
    assert frame_distance(atoms, strained) == pytest.approx(0.01 * atoms.cell.lengths().max(), rel=1e-6)
    reordered = atoms[[1, 0, *range(2, len(atoms))]]
    assert frame_distance(atoms, reordered) == float("inf")


def test_frames_are_ranked_by_spread_and_a_near_duplicate_is_dropped(committee, frames_file):
    frames = read_frames([frames_file])
    scored = score_frames(committee, frames)
    spreads = {s.frame.index: s.max_force_spread for s in scored}
    ranked = select_frames(scored, top=10, tolerance=0.05)
    kept = [s for s in ranked if s.selected]
    assert [s.max_force_spread for s in kept] == sorted((s.max_force_spread for s in kept), reverse=True)
    assert [s.rank for s in ranked] == list(range(1, 6))
    # frames 2 and 4 are one structure: whichever has the larger spread is kept, the other names it
    [dropped] = [s for s in ranked if s.duplicate_of]
    assert {dropped.frame.index, int(dropped.duplicate_of.rsplit("@", 1)[1])} == {2, 4}
    assert spreads[dropped.frame.index] <= spreads[int(dropped.duplicate_of.rsplit("@", 1)[1])]
    assert len(kept) == 4 and [s.pick for s in kept] == [1, 2, 3, 4]


def test_select_writes_extxyz_poscars_and_the_reasons(committee, frames_file, tmp_path, monkeypatch, capsys):
    import heo_calc.registry

    monkeypatch.setattr(heo_calc.registry, "get_calculator", lambda name, **kwargs: committee)
    out = tmp_path / "picked"
    assert (
        main(["select", str(frames_file), "--calc", "tiny-committee", "--top", "2", "--out", str(out), "-q"])
        == 0
    )
    table = pd.read_csv(out / "selection.csv")
    assert len(table) == 5 and table["selected"].sum() == 2
    assert table["max_force_spread_eV_per_A"].iloc[:4].is_monotonic_decreasing
    selected = read(out / "selected.extxyz", index=":")
    assert [a.info["pick"] for a in selected] == [1, 2]
    assert selected[0].calc is None  # nothing in the file reads as a DFT label
    assert selected[0].arrays["committee_forces_std"].max() == pytest.approx(
        table["max_force_spread_eV_per_A"].iloc[0], rel=1e-6
    )
    poscars = sorted(out.glob("*/POSCAR"))
    assert [p.parent.name.split("-")[0] for p in poscars] == ["001", "002"]
    assert sorted(read(poscars[0], format="vasp").get_chemical_symbols()) == sorted(
        selected[0].get_chemical_symbols()
    )
    # a second run into the same directory is refused unless --force
    assert main(["select", str(frames_file), "--calc", "x", "--top", "2", "--out", str(out), "-q"]) == 2
    assert "already holds a selection" in capsys.readouterr().err
    # --top larger than the distinct frames: all four distinct ones are written, and a note says so
    assert (
        main(["select", str(frames_file), "--calc", "x", "--top", "9", "--out", str(out), "-q", "--force"])
        == 0
    )
    captured = capsys.readouterr()
    assert "asked for more frames than the 4 distinct ones" in captured.err
    assert len(list(out.glob("*/POSCAR"))) == 4


def test_select_refuses_a_calculator_without_a_spread(frames_file, tmp_path, capsys):
    assert (
        main(["select", str(frames_file), "--calc", "sevennet-0", "--top", "2", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "reports no force spread" in capsys.readouterr().err
    assert not (tmp_path / "o" / "selection.csv").exists()


def test_select_names_missing_and_unreadable_files(tmp_path, capsys):
    assert main(["select", str(tmp_path / "none.traj"), "--top", "1", "--out", str(tmp_path / "o")]) == 2
    assert "none.traj does not exist" in capsys.readouterr().err
    garbage = tmp_path / "garbage.extxyz"
    garbage.write_text("this is not a structure\n")
    assert main(["select", str(garbage), "--top", "1", "--out", str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err
    assert "cannot read" in error and "garbage.extxyz" in error
    assert main(["select", str(garbage), "--top", "0", "--out", str(tmp_path / "o")]) == 2


def test_score_frames_needs_a_spread(sevennet_calculator, frames_file):
    with pytest.raises(SelectionInputError, match="reports no force spread"):
        score_frames(sevennet_calculator, read_frames([frames_file])[:1])
