"""Pick the frames a committee is least sure about, for DFT labelling (``heo-calc select``).

Frames of structure files (relaxation trajectories ``.traj``, extxyz, anything ASE reads)
are ranked by the committee's largest per-atom force spread (``forces_std``, eV/Å,
:mod:`heo_calc.committee`); near-duplicates of a frame already picked are dropped, and the
``top`` most uncertain distinct frames are written as one extxyz, one VASP ``POSCAR`` each
and a CSV saying why each frame was or was not picked.

Near-duplicates: two frames are near-duplicates when they hold the same atoms in the same
order and, after removing a rigid translation, no atom (minimum image) and no cell vector
differs by more than ``tolerance`` Å (:func:`frame_distance`). That is exact for what this
ranks (successive steps of a relaxation or MD run keep the atom order) and costs O(N) per
pair with numpy, where pymatgen's ``StructureMatcher`` costs about 0.1 s per pair of 64-atom
cells and compares with its own, normalised tolerances. What it does not catch: the same
structure written with its atoms in another order, rotated, or as another supercell; such
copies are treated as different frames.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_calc.backends.capabilities import backend_of
from heo_calc.errors import HEOCalcError

logger = logging.getLogger(__name__)

#: Default near-duplicate tolerance (Å): largest atom or cell-vector difference, see :func:`frame_distance`.
DEFAULT_DUPLICATE_TOLERANCE: Final = 0.05

#: Columns of the selection CSV, in order.
SELECTION_COLUMNS: Final = (
    "rank",
    "selected",
    "pick",
    "file",
    "frame",
    "formula",
    "n_atoms",
    "max_force_spread_eV_per_A",
    "mean_force_spread_eV_per_A",
    "energy_std_eV",
    "energy_std_meV_per_atom",
    "energy_per_atom_eV",
    "duplicate_of",
    "distance_to_duplicate_A",
    "reason",
)


class SelectionInputError(HEOCalcError, ValueError):
    """Input ``select`` cannot use: an unreadable file, no frames, or a calculator without a spread."""


@dataclass(frozen=True)
class Frame:
    """One frame of an input file: the file as given, its index in the file (from 0), the structure."""

    file: str
    index: int
    atoms: Atoms

    @property
    def label(self) -> str:
        return f"{self.file}@{self.index}"


@dataclass
class ScoredFrame:
    """A frame with the committee's verdict and, after :func:`select_frames`, whether it was picked.

    Spreads in eV/Å (per atom, :mod:`heo_calc.committee`; ``forces_std`` the per-atom
    array), ``energy_std`` in eV, the committee's mean energy per atom in eV/atom; NaN where
    the evaluation failed (``error``).
    """

    frame: Frame
    max_force_spread: float
    mean_force_spread: float
    energy_std: float
    energy_per_atom: float
    error: str = ""
    forces_std: np.ndarray | None = None
    rank: int = 0
    selected: bool = False
    pick: int = 0
    duplicate_of: str = ""
    distance_to_duplicate: float = float("nan")
    reason: str = ""

    def as_row(self) -> dict[str, Any]:
        n = len(self.frame.atoms)
        return {
            "rank": self.rank,
            "selected": self.selected,
            "pick": self.pick or "",
            "file": self.frame.file,
            "frame": self.frame.index,
            "formula": self.frame.atoms.get_chemical_formula(mode="metal"),
            "n_atoms": n,
            "max_force_spread_eV_per_A": self.max_force_spread,
            "mean_force_spread_eV_per_A": self.mean_force_spread,
            "energy_std_eV": self.energy_std,
            "energy_std_meV_per_atom": 1000.0 * self.energy_std / n,
            "energy_per_atom_eV": self.energy_per_atom,
            "duplicate_of": self.duplicate_of,
            "distance_to_duplicate_A": self.distance_to_duplicate,
            "reason": self.reason,
        }


def read_frames(paths: Sequence[str | os.PathLike]) -> list[Frame]:
    """Every frame of every file (any format ASE reads, all frames).

    Raises :class:`FileNotFoundError` for a missing file and :class:`SelectionInputError`
    for a file ASE cannot read or one without frames, naming the file.
    """
    from heo_base.structure_files import StructureFileError, read_structure_files

    try:
        return [Frame(path, index, atoms) for path, index, atoms in read_structure_files(paths)]
    except StructureFileError as error:
        raise SelectionInputError(str(error)) from error


def require_spread(calculator: Calculator, name: str = "the calculator") -> None:
    """Raise :class:`SelectionInputError` unless ``calculator`` reports a force spread (a committee)."""
    if "forces_std" not in getattr(backend_of(calculator), "implemented_properties", ()):
        raise SelectionInputError(
            f"{name} ({type(backend_of(calculator)).__name__}) reports no force spread "
            "(results['forces_std']): ranking by uncertainty needs a committee, e.g. --calc heo-ft-committee "
            "or a heo_calc.committee.CommitteeCalculator of two or more models"
        )


def score_frames(
    calculator: Calculator, frames: Sequence[Frame], *, progress: bool = False
) -> list[ScoredFrame]:
    """The committee's spread on every frame; a frame whose evaluation fails gets NaN and its error."""
    from tqdm.auto import tqdm

    from heo_calc.backends.capabilities import covered_atomic_numbers
    from heo_calc.calculator import evaluate_properties
    from heo_calc.validation import check_structure

    require_spread(calculator)
    supported = covered_atomic_numbers(calculator)
    scored = []
    for frame in tqdm(frames, desc="committee", unit="frame", disable=not progress):
        try:
            check_structure(frame.atoms, supported_numbers=supported)
            results = evaluate_properties(calculator, frame.atoms, ("forces",))
            if "forces_std" not in results:
                require_spread(calculator)  # a duck-typed calculator that claimed a spread it did not give
                raise SelectionInputError("the calculator returned no results['forces_std']")
            spread = np.asarray(results["forces_std"], dtype=float)
            scored.append(
                ScoredFrame(
                    frame,
                    max_force_spread=float(spread.max()),
                    mean_force_spread=float(spread.mean()),
                    energy_std=float(results.get("energy_std", float("nan"))),
                    energy_per_atom=results["energy"] / len(frame.atoms),
                    forces_std=spread,
                )
            )
        except SelectionInputError:
            raise
        except Exception as error:  # one bad frame must not stop the ranking
            logger.warning("frame %s could not be evaluated: %s", frame.label, error)
            nan = float("nan")
            scored.append(ScoredFrame(frame, nan, nan, nan, nan, error=f"{type(error).__name__}: {error}"))
    return scored


def frame_distance(first: Atoms, second: Atoms) -> float:
    """Largest difference (Å) between two frames of the same atoms: any atom, or any cell vector.

    Atom differences are minimum-image (fractional differences wrapped into [-0.5, 0.5))
    in the mean of the two cells, after removing the rigid translation (circular mean of
    the fractional differences). ``inf`` when the frames do not hold the same elements in
    the same order.
    """
    if len(first) != len(second) or not np.array_equal(first.numbers, second.numbers):
        return float("inf")
    cell_a, cell_b = np.asarray(first.cell), np.asarray(second.cell)
    cell_change = float(np.linalg.norm(cell_b - cell_a, axis=1).max())
    delta = second.get_scaled_positions(wrap=False) - first.get_scaled_positions(wrap=False)
    angle = 2.0 * np.pi * delta
    translation = np.arctan2(np.sin(angle).mean(axis=0), np.cos(angle).mean(axis=0)) / (2.0 * np.pi)
    delta -= translation
    delta -= np.round(delta)
    atom_change = float(np.linalg.norm(delta @ (0.5 * (cell_a + cell_b)), axis=1).max())
    return max(cell_change, atom_change)


def select_frames(
    scored: Sequence[ScoredFrame], top: int, *, tolerance: float = DEFAULT_DUPLICATE_TOLERANCE
) -> list[ScoredFrame]:
    """Rank frames by max force spread (then mean spread), drop near-duplicates, pick the ``top`` first.

    Greedy, from the most uncertain down: a frame within ``tolerance`` Å
    (:func:`frame_distance`) of a frame already kept is a near-duplicate of it; the others
    are kept, and the first ``top`` kept are picked. Every frame gets its ``rank`` (1 = the
    largest spread), ``selected``/``pick`` (1..top), ``duplicate_of`` and a ``reason``.
    Returns the frames in rank order; frames that failed come last, never picked. When
    fewer than ``top`` distinct frames exist, all of them are picked (the caller says so).
    """
    if top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    if not tolerance >= 0:
        raise ValueError(f"the near-duplicate tolerance must be >= 0 Å, got {tolerance}")
    ok = [s for s in scored if not s.error]
    failed = [s for s in scored if s.error]
    ranked = sorted(ok, key=lambda s: (-s.max_force_spread, -s.mean_force_spread)) + failed
    kept: list[ScoredFrame] = []
    for rank, candidate in enumerate(ranked, start=1):
        candidate.rank = rank
        if candidate.error:
            candidate.reason = f"evaluation failed: {candidate.error}"
            continue
        nearest, distance = None, float("inf")
        for other in kept:
            d = frame_distance(other.frame.atoms, candidate.frame.atoms)
            if d < distance:
                nearest, distance = other, d
        if nearest is not None and distance <= tolerance:
            candidate.duplicate_of = nearest.frame.label
            candidate.distance_to_duplicate = distance
            candidate.reason = (
                f"near-duplicate ({distance:.3f} Å <= {tolerance} Å) of a frame with a larger spread"
            )
            continue
        kept.append(candidate)
        if len(kept) <= top:
            candidate.selected, candidate.pick = True, len(kept)
            candidate.reason = (
                f"pick {len(kept)} of {top}: largest max force spread among distinct frames left"
            )
        else:
            candidate.reason = f"distinct, but below the top {top}"
    return ranked


def _pick_directory(frame: ScoredFrame) -> str:
    stem = Path(frame.frame.file).stem.replace(" ", "_") or "frame"
    return f"{frame.pick:03d}-{stem}-frame{frame.frame.index}"


def write_selection(
    ranked: Sequence[ScoredFrame], out_dir: str | os.PathLike, identity: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Write the picked frames and the ranking to ``out_dir``, each file atomically.

    ``identity``: the committee's model identity (:func:`heo_calc.provenance.model_identity`);
    when given, every frame of ``selected.extxyz`` carries it as flat ``model_*`` keys of
    its ``info`` (:func:`~heo_calc.provenance.flat_identity`, the members' files and
    SHA-256 separated by ``;``) and ``selection.csv`` ends with its columns
    (:func:`~heo_calc.provenance.identity_columns`).

    * ``selected.extxyz``: the picked frames in pick order, without any calculator results
      (so nothing in the file reads as a label); ``info`` holds ``source_file``,
      ``source_frame``, ``pick`` and ``committee_max_force_spread`` (eV/Å),
      ``committee_mean_force_spread`` (eV/Å), ``committee_energy_std`` (eV); the per-atom
      spread is the array ``committee_forces_std`` (eV/Å).
    * ``NNN-<file stem>-frame<k>/POSCAR``: each picked frame as a VASP POSCAR (direct
      coordinates, atoms sorted by element as VASP's POTCAR order needs), one directory per
      calculation.
    * ``selection.csv``: every frame, ranked (:data:`SELECTION_COLUMNS`).

    Returns the paths written: ``{"extxyz": Path, "poscars": [Path...], "csv": Path}``.
    """
    import pandas as pd
    from ase.io import write

    from heo_base.atomic_write import atomic_output
    from heo_calc.provenance import flat_identity, identity_columns

    out = Path(out_dir)
    flat, columns = (flat_identity(identity), identity_columns(identity)) if identity else ({}, {})
    picked = sorted((s for s in ranked if s.selected), key=lambda s: s.pick)
    structures = []
    poscars = []
    for frame in picked:
        atoms = frame.frame.atoms.copy()
        atoms.calc = None
        atoms.info.update(
            source_file=frame.frame.file,
            source_frame=frame.frame.index,
            pick=frame.pick,
            committee_max_force_spread=frame.max_force_spread,
            committee_mean_force_spread=frame.mean_force_spread,
            committee_energy_std=frame.energy_std,
            **flat,
        )
        if frame.forces_std is not None:
            atoms.arrays["committee_forces_std"] = np.asarray(frame.forces_std, dtype=float)
        structures.append(atoms)
        poscar = out / _pick_directory(frame) / "POSCAR"
        with atomic_output(poscar) as temporary:
            write(temporary, atoms, format="vasp", direct=True, sort=True)
        poscars.append(poscar)
    extxyz = out / "selected.extxyz"
    with atomic_output(extxyz) as temporary:
        write(temporary, structures, format="extxyz")
    csv = out / "selection.csv"
    with atomic_output(csv) as temporary:
        table = pd.DataFrame([s.as_row() for s in ranked], columns=list(SELECTION_COLUMNS))
        for column, value in columns.items():
            table[column] = value
        table.to_csv(temporary, index=False)
    return {"extxyz": extxyz, "poscars": poscars, "csv": csv}
