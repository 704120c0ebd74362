"""Forgetting report: what finetuning did to simple oxides, each finetuned model against its base.

A model finetuned on HEO data may drift on the chemistry it was not trained on. This
module relaxes, with each model, the same small set of simple oxides and compares the
finetuned model with its base on them:

* the binary oxide of every cation asked for (:mod:`heo_calc.structures.binary_oxides`
  prototypes: rock salt AO, fluorite AO2, anti-fluorite A2O, corundum A2O3): its
  conventional cell is first rescaled to the model's own minimum
  (:func:`~heo_calc.structures.binary_oxides.prescale_to_minimum`, an isotropic energy
  scan), then repeated to at least ``min_atoms`` atoms, rattled and relaxed (positions and
  cell, :func:`heo_calc.relax.relax_many`);
* equimolar random rock-salt solid solutions (:data:`SOLID_SOLUTIONS`, 64-atom cells, the
  cations as evenly as 32 sites allow), started at the model's own Vegard lattice parameter
  (the mean of its relaxed rock-salt end members), rattled and relaxed the same way.

Per structure and model: energy per formula unit (eV/f.u.), pseudo-cubic lattice parameter
(Å, from the volume per formula unit, 4 formula units per cubic cell; a size measure only for
corundum), residual stress, and for the solid solutions the mixing energy against the
model's own rock-salt end members (meV/atom). :func:`compare_to_base` puts each finetuned
model beside its base, with the experimental lattice parameters where recorded.

Relaxations are cached per model (``cache/<model>.jsonl``, keyed by the structure, the
options and the model identity's key, :func:`heo_calc.provenance.identity_key`: name,
SHA-256 of the weights, dtype), so a base model shared by several comparisons is relaxed
once, an interrupted report resumes, and other weights under the same name are relaxed
anew. Every row carries the model identity as flat ``model_*`` columns
(:func:`heo_calc.provenance.flat_identity`), every cached extxyz the same keys in ``info``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_base.markdown import markdown_table
from heo_base.units import MEV
from heo_calc.mixing import mixing_energy_mev_per_atom, vegard_lattice_parameter
from heo_calc.provenance import flat_identity, identity_key, model_identity
from heo_calc.structures import rocksalt_heo_supercell
from heo_calc.structures.binary_oxides import (
    binary_oxide,
    binary_oxide_cell,
    cubic_lattice_parameter,
    prescale_to_minimum,
)
from heo_calc.structures.experimental import experimental_lattice_parameter

logger = logging.getLogger(__name__)

#: Equimolar random rock-salt solid solutions compared by default (cation tuples).
SOLID_SOLUTIONS: Final[tuple[tuple[str, ...], ...]] = (
    ("Mg", "Ni"),
    ("Mg", "Co"),
    ("Co", "Ni"),
    ("Mg", "Zn"),
    ("Mg", "Co", "Ni", "Cu", "Zn"),
)


@dataclass(frozen=True)
class ForgettingOptions:
    """How every structure is built and relaxed (the same for every model).

    Attributes:
        fmax: force threshold (eV/Å), also on the cell (FrechetCellFilter, virial per
            atom): 0.05 allows up to ~0.9 GPa of residual stress on these cells, ~0.2 % in
            the lattice parameter at a bulk modulus of 150 GPa; the residual stress is
            reported per structure. Tighter is better and slower.
        max_steps: optimizer steps per structure.
        rattle: standard deviation (Å) of the Gaussian displacement of every atom before relaxing.
        seed: seed of the rattle and of the solid solutions' cation arrangement.
        min_atoms, max_aspect: binary-oxide supercells are the smallest repeats of the
            conventional cell with at least ``min_atoms`` atoms and no side longer than
            ``max_aspect`` times the shortest (rock salt 64, fluorite and anti-fluorite 96,
            corundum 120 atoms by default).
        solution_repeat: solid solutions are this repeat of the 8-atom cubic rock-salt cell
            (2: 64 atoms, 32 cations).
    """

    fmax: float = 0.05
    max_steps: int = 150
    rattle: float = 0.02
    seed: int = 0
    min_atoms: int = 60
    max_aspect: float = 2.0
    solution_repeat: int = 2

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def cations_of(structures: Iterable[Atoms]) -> list[str]:
    """Every element other than oxygen in ``structures``, alphabetically."""
    return sorted({symbol for atoms in structures for symbol in atoms.get_chemical_symbols()} - {"O"})


def solid_solution_name(cations: Sequence[str]) -> str:
    """``(Mg,Ni)O``."""
    return f"({','.join(cations)})O"


def supercell_repeat(atoms: Atoms, min_atoms: int, max_aspect: float = 2.0) -> tuple[int, int, int]:
    """The repeat of ``atoms`` with the fewest atoms >= ``min_atoms`` whose longest side is at most
    ``max_aspect`` times its shortest (no slab-like cells); of equal ones, the most isotropic."""
    lengths = atoms.cell.lengths()

    def aspect(repeat: tuple[int, int, int]) -> float:
        sides = np.asarray(repeat) * lengths
        return float(sides.max() / sides.min())

    candidates = [
        (n1, n2, n3)
        for n1 in range(1, 7)
        for n2 in range(1, 7)
        for n3 in range(1, 7)
        if n1 * n2 * n3 * len(atoms) >= min_atoms and aspect((n1, n2, n3)) <= max_aspect
    ]
    if not candidates:
        raise ValueError(f"no repeat of this {len(atoms)}-atom cell up to 6x6x6 has aspect <= {max_aspect}")
    return min(candidates, key=lambda repeat: (int(np.prod(repeat)), aspect(repeat)))


def _rattled(atoms: Atoms, rattle: float, seed: int) -> Atoms:
    atoms = atoms.copy()
    if rattle > 0:
        atoms.positions += np.random.default_rng(seed).normal(scale=rattle, size=atoms.positions.shape)
    return atoms


def binary_oxide_start(cation: str, calculator: Calculator, options: ForgettingOptions) -> Atoms:
    """The rattled supercell of ``cation``'s binary oxide, rescaled to ``calculator``'s minimum first."""
    oxide = binary_oxide(cation)
    cell = prescale_to_minimum(binary_oxide_cell(cation), calculator)
    repeat = supercell_repeat(cell, options.min_atoms, options.max_aspect)
    atoms = _rattled(cell.repeat(repeat), options.rattle, options.seed)
    atoms.info.update(name=oxide.formula, prototype=oxide.prototype, kind="binary", cations=cation)
    return atoms


def solid_solution_start(
    cations: Sequence[str], end_member_lattice_parameters: dict[str, float], options: ForgettingOptions
) -> Atoms:
    """A rattled random rock-salt cell of ``cations`` (64 atoms by default) at the Vegard mean of the model's end members (Å)."""
    vegard = vegard_lattice_parameter([end_member_lattice_parameters[c] for c in cations])
    atoms = rocksalt_heo_supercell(
        cations, repeat=options.solution_repeat, lattice_parameter=vegard, seed=options.seed
    )
    atoms = _rattled(atoms, options.rattle, options.seed)
    atoms.info.update(
        name=solid_solution_name(cations),
        prototype="rocksalt",
        kind="solid solution",
        cations=",".join(cations),
        a_vegard_A=vegard,
    )
    return atoms


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"


class RelaxationCache:
    """Rows of relaxed structures, one JSON-lines file per model, reused when structure, options and model match."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)

    def _path(self, name: str) -> Path:
        return self.directory / f"{_slug(name)}.jsonl"

    def load(self, name: str, identity: dict[str, Any], options: ForgettingOptions) -> dict[str, dict]:
        path = self._path(name)
        if not path.is_file():
            return {}
        rows = {}
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if row.get("options") == options.key() and row.get("model_key") == identity_key(identity):
                rows[row["structure"]] = row
        return rows

    def append(self, name: str, row: dict[str, Any], atoms: Atoms) -> None:
        from ase.io import write

        from heo_base.atomic_write import atomic_output

        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as handle:  # one line per finished structure: an interruption loses at most one
            handle.write(json.dumps(row, default=float) + "\n")
        with atomic_output(self.directory / _slug(name) / f"{_slug(row['structure'])}.extxyz") as temporary:
            write(temporary, atoms, format="extxyz")


def _row(result, start: Atoms, name: str, identity: dict[str, Any], options: ForgettingOptions) -> dict:
    from heo_calc.structures.binary_oxides import ATOMS_PER_FORMULA_UNIT

    prototype = start.info["prototype"]
    n_formula_units = len(start) / ATOMS_PER_FORMULA_UNIT[prototype]
    failed = str(result.status) == "failed"
    final = result.atoms
    lengths = final.cell.lengths() if not failed else np.full(3, np.nan)
    return {
        "model": name,
        "structure": start.info["name"],
        "kind": start.info["kind"],
        "prototype": prototype,
        "cations": start.info["cations"],
        "cation_counts": ",".join(
            f"{symbol}:{count}"
            for symbol, count in sorted(Counter(start.get_chemical_symbols()).items())
            if symbol != "O"
        ),
        "n_atoms": len(start),
        "n_formula_units": n_formula_units,
        "status": str(result.status),
        "converged": bool(result.converged),
        "n_steps": result.n_steps,
        "energy_eV": result.energy,
        "energy_per_fu_eV": result.energy / n_formula_units,
        "a_pseudo_cubic_A": cubic_lattice_parameter(final, prototype) if not failed else float("nan"),
        "cell_a_A": float(lengths[0]),
        "cell_b_A": float(lengths[1]),
        "cell_c_A": float(lengths[2]),
        "max_stress_GPa": result.max_stress_gpa,
        "max_force_eV_per_A": result.max_force,
        "a_vegard_A": start.info.get("a_vegard_A", float("nan")),
        "wall_time_s": result.wall_time_s,
        "error": result.error or "",
        "options": options.key(),
        **flat_identity(identity),
    }


def relax_model(
    name: str,
    cations: Sequence[str],
    *,
    solid_solutions: Sequence[Sequence[str]] = SOLID_SOLUTIONS,
    options: ForgettingOptions = ForgettingOptions(),
    cache: RelaxationCache | None = None,
    calculator: Calculator | None = None,
    device: str = "cpu",
    progress: bool = False,
) -> pd.DataFrame:
    """Relax the binary oxides of ``cations`` and the ``solid_solutions`` with the model ``name``.

    Structures already in ``cache`` for this model file and these options are not relaxed
    again. Every relaxation goes through :func:`heo_calc.relax.relax_many`. Returns one row
    per structure (energies eV, lengths Å, stress GPa; see the module docstring), with the
    mixing energy of the solid solutions (``mixing_energy_meV_per_atom``).
    """
    from heo_calc.registry import get_calculator
    from heo_calc.relax import relax_many

    needed_cations = sorted(set(cations) | {c for solution in solid_solutions for c in solution})
    calculator = calculator if calculator is not None else get_calculator(name, device=device)
    identity = model_identity(calculator, name)
    done = cache.load(name, identity, options) if cache is not None else {}

    def relax(starts: list[Atoms]) -> None:
        if not starts:
            return
        started = time.perf_counter()
        by_name = {start.info["name"]: start for start in starts}

        def finished(result) -> None:  # cached as soon as each structure is final
            row = _row(result, by_name[result.name], name, identity, options)
            done[row["structure"]] = row
            if cache is not None:
                atoms = result.atoms.copy()
                atoms.info.update(flat_identity(identity))
                cache.append(name, row, atoms)

        relax_many(
            starts,
            calculator,
            fmax=options.fmax,
            max_steps=options.max_steps,
            progress=progress,
            strategy="sequential",
            on_result=finished,
        )
        logger.info("%s: relaxed %d structures in %.0f s", name, len(starts), time.perf_counter() - started)

    binaries = [c for c in needed_cations if binary_oxide(c).formula not in done]
    relax([binary_oxide_start(c, calculator, options) for c in binaries])
    end_members = {
        row["cations"]: row["a_pseudo_cubic_A"]
        for row in done.values()
        if row["kind"] == "binary" and row["prototype"] == "rocksalt" and row["status"] != "failed"
    }
    missing = [
        s for s in solid_solutions if solid_solution_name(s) not in done and all(c in end_members for c in s)
    ]
    skipped = [s for s in solid_solutions if not all(c in end_members for c in s)]
    for solution in skipped:
        logger.warning(
            "%s: no relaxed rock-salt end member for %s; skipped", name, solid_solution_name(solution)
        )
    relax([solid_solution_start(s, end_members, options) for s in missing])
    wanted = {binary_oxide(c).formula for c in needed_cations} | {
        solid_solution_name(s) for s in solid_solutions
    }
    table = pd.DataFrame([row for key, row in done.items() if key in wanted])
    return add_mixing_energies(table)


def add_mixing_energies(table: pd.DataFrame) -> pd.DataFrame:
    """``mixing_energy_meV_per_atom`` of each solid solution against the same model's rock-salt end members.

    E_mix = (E - sum over cations of n_c E_fu(cO)) / N_atoms, with n_c the number of each
    cation in the cell and E_fu the relaxed end member's energy per formula unit. NaN for
    binaries and where an end member failed.
    """
    table = table.copy()
    table["mixing_energy_meV_per_atom"] = np.nan
    if table.empty:
        return table
    for index, row in table[table["kind"] == "solid solution"].iterrows():
        references = table[(table["model"] == row["model"]) & (table["kind"] == "binary")]
        per_fu = {
            r["cations"]: r["energy_per_fu_eV"] for _, r in references.iterrows() if r["status"] != "failed"
        }
        counts = {c: int(n) for c, n in (item.split(":") for item in row["cation_counts"].split(","))}
        if not all(c in per_fu for c in counts) or row["status"] == "failed":
            continue
        table.loc[index, "mixing_energy_meV_per_atom"] = mixing_energy_mev_per_atom(
            row["energy_eV"], row["n_atoms"], counts, per_fu
        )
    return table


#: Columns of :func:`compare_to_base`.
COMPARISON_COLUMNS: Final = (
    "model",
    "base",
    "structure",
    "kind",
    "prototype",
    "energy_per_fu_base_eV",
    "energy_per_fu_model_eV",
    "delta_energy_per_fu_meV",
    "a_base_A",
    "a_model_A",
    "delta_a_A",
    "delta_a_percent",
    "a_exp_A",
    "mixing_base_meV_per_atom",
    "mixing_model_meV_per_atom",
    "delta_mixing_meV_per_atom",
    "status_base",
    "status_model",
    "max_stress_base_GPa",
    "max_stress_model_GPa",
    "model_sha256",
    "base_sha256",
)


def compare_to_base(model: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """One row per structure both relaxed: the finetuned model beside its base (deltas are model - base).

    Energies per formula unit in eV (delta in meV/f.u.), lattice parameters in Å (delta also
    in %), mixing energies in meV/atom, stresses in GPa; ``a_exp_A`` where recorded;
    ``model_sha256`` and ``base_sha256``: the weights of each side (where the rows carry them).
    """
    merged = model.merge(base, on="structure", suffixes=("_model", "_base"))
    rows = []
    for _, r in merged.iterrows():
        rows.append(
            {
                "model": r["model_model"],
                "base": r["model_base"],
                "structure": r["structure"],
                "kind": r["kind_model"],
                "prototype": r["prototype_model"],
                "energy_per_fu_base_eV": r["energy_per_fu_eV_base"],
                "energy_per_fu_model_eV": r["energy_per_fu_eV_model"],
                "delta_energy_per_fu_meV": (r["energy_per_fu_eV_model"] - r["energy_per_fu_eV_base"]) * MEV,
                "a_base_A": r["a_pseudo_cubic_A_base"],
                "a_model_A": r["a_pseudo_cubic_A_model"],
                "delta_a_A": r["a_pseudo_cubic_A_model"] - r["a_pseudo_cubic_A_base"],
                "delta_a_percent": 100.0 * (r["a_pseudo_cubic_A_model"] / r["a_pseudo_cubic_A_base"] - 1.0),
                "a_exp_A": experimental_lattice_parameter(r["structure"]),
                "mixing_base_meV_per_atom": r["mixing_energy_meV_per_atom_base"],
                "mixing_model_meV_per_atom": r["mixing_energy_meV_per_atom_model"],
                "delta_mixing_meV_per_atom": r["mixing_energy_meV_per_atom_model"]
                - r["mixing_energy_meV_per_atom_base"],
                "status_base": r["status_base"],
                "status_model": r["status_model"],
                "max_stress_base_GPa": r["max_stress_GPa_base"],
                "max_stress_model_GPa": r["max_stress_GPa_model"],
                "model_sha256": r.get("model_sha256_model"),
                "base_sha256": r.get("model_sha256_base"),
            }
        )
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def summarize_comparison(comparison: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers of one model against its base (binaries and solid solutions apart).

    Binaries: number compared, median and largest |delta E| (meV/f.u., with the oxide), mean
    delta E, median |delta a| (%) and the largest (with the oxide); solid solutions: mean
    delta and mean |delta| of the mixing energy (meV/atom) and its range.
    """
    binaries = comparison[comparison["kind"] == "binary"].dropna(subset=["delta_energy_per_fu_meV"])
    solutions = comparison[comparison["kind"] == "solid solution"].dropna(
        subset=["delta_mixing_meV_per_atom"]
    )
    summary: dict[str, Any] = {"n_binaries": len(binaries), "n_solid_solutions": len(solutions)}
    if len(binaries):
        energy = binaries["delta_energy_per_fu_meV"]
        a = binaries["delta_a_percent"]
        summary.update(
            delta_energy_per_fu_mean_meV=float(energy.mean()),
            abs_delta_energy_per_fu_median_meV=float(energy.abs().median()),
            abs_delta_energy_per_fu_max_meV=float(energy.abs().max()),
            abs_delta_energy_worst=str(binaries.loc[energy.abs().idxmax(), "structure"]),
            delta_a_percent_mean=float(a.mean()),
            abs_delta_a_percent_median=float(a.abs().median()),
            abs_delta_a_percent_max=float(a.abs().max()),
            abs_delta_a_worst=str(binaries.loc[a.abs().idxmax(), "structure"]),
        )
    if len(solutions):
        mixing = solutions["delta_mixing_meV_per_atom"]
        summary.update(
            delta_mixing_mean_meV_per_atom=float(mixing.mean()),
            abs_delta_mixing_mean_meV_per_atom=float(mixing.abs().mean()),
            delta_mixing_min_meV_per_atom=float(mixing.min()),
            delta_mixing_max_meV_per_atom=float(mixing.max()),
        )
    return summary


def _f(value: float, digits: int) -> str:
    return "" if not np.isfinite(value) else f"{value:.{digits}f}"


def _statuses(row: Any) -> str:
    """One status when base and model agree, else ``base / model``."""
    return (
        row.status_base if row.status_base == row.status_model else f"{row.status_base} / {row.status_model}"
    )


def _mixing_range(summary: dict[str, Any]) -> str:
    """``mean [min, max]`` of the mixing-energy deltas, or empty without solid solutions."""
    if not summary.get("n_solid_solutions"):
        return ""
    mean = _f(summary["delta_mixing_mean_meV_per_atom"], 1)
    low = _f(summary["delta_mixing_min_meV_per_atom"], 1)
    high = _f(summary["delta_mixing_max_meV_per_atom"], 1)
    return f"{mean} [{low}, {high}]"


def format_comparison(comparison: pd.DataFrame) -> str:
    """Markdown tables of one model against its base: binaries, then solid solutions."""
    if comparison.empty:
        return "(nothing compared)"
    model, base = comparison["model"].iloc[0], comparison["base"].iloc[0]
    lines = [f"### {model} against {base}", ""]
    binaries = comparison[comparison["kind"] == "binary"]
    if len(binaries):
        header = [
            "oxide",
            "prototype",
            f"E/f.u. {base} (eV)",
            "ΔE/f.u. (meV)",
            f"a {base} (Å)",
            f"a {model} (Å)",
            "Δa (%)",
            "a exp. (Å)",
            "max |σ| base / model (GPa)",
            "status",
        ]
        rows = [
            [
                r.structure,
                r.prototype,
                _f(r.energy_per_fu_base_eV, 3),
                _f(r.delta_energy_per_fu_meV, 0),
                _f(r.a_base_A, 3),
                _f(r.a_model_A, 3),
                _f(r.delta_a_percent, 2),
                _f(r.a_exp_A, 3),
                f"{_f(r.max_stress_base_GPa, 2)} / {_f(r.max_stress_model_GPa, 2)}",
                _statuses(r),
            ]
            for r in binaries.itertuples()
        ]
        lines += [markdown_table(header, rows), ""]
    solutions = comparison[comparison["kind"] == "solid solution"]
    if len(solutions):
        header = [
            "solid solution",
            f"E_mix {base} (meV/atom)",
            f"E_mix {model} (meV/atom)",
            "ΔE_mix (meV/atom)",
            f"a {base} (Å)",
            f"a {model} (Å)",
            "a exp. (Å)",
            "status",
        ]
        rows = [
            [
                r.structure,
                _f(r.mixing_base_meV_per_atom, 1),
                _f(r.mixing_model_meV_per_atom, 1),
                _f(r.delta_mixing_meV_per_atom, 1),
                _f(r.a_base_A, 3),
                _f(r.a_model_A, 3),
                _f(r.a_exp_A, 3),
                _statuses(r),
            ]
            for r in solutions.itertuples()
        ]
        lines += [markdown_table(header, rows), ""]
    return "\n".join(lines)


def format_summaries(summaries: dict[str, dict[str, Any]]) -> str:
    """One markdown row per model: the headline numbers of :func:`summarize_comparison`."""
    header = [
        "model vs base",
        "binaries",
        "mean ΔE/f.u. (meV)",
        "median |ΔE/f.u.| (meV)",
        "max |ΔE/f.u.| (meV, oxide)",
        "mean Δa (%)",
        "median |Δa| (%)",
        "max |Δa| (%, oxide)",
        "mean ΔE_mix (meV/atom) [range]",
        "mean |ΔE_mix| (meV/atom)",
    ]
    rows = []
    for label, s in summaries.items():
        nan = float("nan")
        rows.append(
            [
                label,
                s.get("n_binaries", 0),
                _f(s.get("delta_energy_per_fu_mean_meV", nan), 0),
                _f(s.get("abs_delta_energy_per_fu_median_meV", nan), 0),
                f"{_f(s.get('abs_delta_energy_per_fu_max_meV', nan), 0)} ({s.get('abs_delta_energy_worst', '')})",
                _f(s.get("delta_a_percent_mean", nan), 2),
                _f(s.get("abs_delta_a_percent_median", nan), 2),
                f"{_f(s.get('abs_delta_a_percent_max', nan), 2)} ({s.get('abs_delta_a_worst', '')})",
                _mixing_range(s),
                _f(s.get("abs_delta_mixing_mean_meV_per_atom", nan), 1),
            ]
        )
    return markdown_table(header, rows)


def forgetting_report(
    models: Sequence[str],
    base: str,
    cations: Sequence[str],
    *,
    solid_solutions: Sequence[Sequence[str]] = SOLID_SOLUTIONS,
    options: ForgettingOptions = ForgettingOptions(),
    cache: RelaxationCache | None = None,
    device: str = "cpu",
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, dict[str, Any]]]:
    """Relax everything with ``base`` and each of ``models`` and compare each model with ``base``.

    Returns the relaxed rows of every model (:func:`relax_model`), the comparison rows
    (:func:`compare_to_base`, all models) and the summary of each model
    (:func:`summarize_comparison`, keyed ``"model vs base"``).
    """
    kwargs = {"solid_solutions": solid_solutions, "options": options, "cache": cache, "device": device}
    base_table = relax_model(base, cations, progress=progress, **kwargs)
    tables, comparisons, summaries = [base_table], [], {}
    for model in models:
        table = relax_model(model, cations, progress=progress, **kwargs)
        tables.append(table)
        comparison = compare_to_base(table, base_table)
        comparisons.append(comparison)
        summaries[f"{model} vs {base}"] = summarize_comparison(comparison)
    return pd.concat(tables, ignore_index=True), pd.concat(comparisons, ignore_index=True), summaries
