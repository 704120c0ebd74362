"""The forgetting study: relax the same simple oxides with each model, then compare each finetuned model with its base.

What is relaxed (:func:`relax_model`), with every model alike (:class:`ForgettingOptions`):

* the binary oxide of every cation asked for
  (:func:`heo_calc.structures.binary_oxides.binary_oxide_supercell`: rescaled to the model's
  own minimum, repeated to at least ``min_atoms`` atoms, rattled);
* equimolar random rock-salt solid solutions (:data:`SOLID_SOLUTIONS`,
  :func:`heo_calc.structures.solid_solutions.rocksalt_solid_solution`), started at the
  model's own Vegard lattice parameter (:func:`heo_calc.mixing.vegard_lattice_parameter` of
  its relaxed rock-salt end members) and rattled the same way.

Every relaxation goes through :func:`heo_calc.relax.relax_many` and lands in the
relaxation cache (:class:`heo_calc.relax.cache.RelaxationCache`) as soon as it is final.
:func:`forgetting_report` relaxes the base and each model and compares them
(:mod:`heo_calc.forgetting.comparison`).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Final

import numpy as np
import pandas as pd
from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_calc.forgetting.comparison import add_mixing_energies, compare_to_base, summarize_comparison
from heo_calc.mixing import vegard_lattice_parameter
from heo_calc.provenance import flat_identity, model_identity
from heo_calc.relax.cache import RelaxationCache
from heo_calc.structures.binary_oxides import (
    ATOMS_PER_FORMULA_UNIT,
    binary_oxide,
    binary_oxide_supercell,
    cubic_lattice_parameter,
)
from heo_calc.structures.solid_solutions import rocksalt_solid_solution, solid_solution_name

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
        bulk_moduli: also the bulk modulus (GPa) of every binary oxide, from E(V) of its
            conventional cell around the model's own minimum (:func:`heo_calc.bulk_modulus.bulk_modulus`).
    """

    fmax: float = 0.05
    max_steps: int = 150
    rattle: float = 0.02
    seed: int = 0
    min_atoms: int = 60
    max_aspect: float = 2.0
    solution_repeat: int = 2
    bulk_moduli: bool = True

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def cations_of(structures: Iterable[Atoms]) -> list[str]:
    """Every element other than oxygen in ``structures``, alphabetically."""
    return sorted({symbol for atoms in structures for symbol in atoms.get_chemical_symbols()} - {"O"})


def binary_oxide_start(cation: str, calculator: Calculator, options: ForgettingOptions) -> Atoms:
    """The rattled supercell of ``cation``'s binary oxide, rescaled to ``calculator``'s minimum first."""
    atoms = binary_oxide_supercell(
        cation,
        calculator,
        min_atoms=options.min_atoms,
        max_aspect=options.max_aspect,
        rattle=options.rattle,
        seed=options.seed,
    )
    atoms.info["kind"] = "binary"
    return atoms


def binary_bulk_modulus(cation: str, calculator: Calculator) -> float:
    """Bulk modulus (GPa) of ``cation``'s binary oxide in its conventional cell under ``calculator``; NaN if E(V) has no minimum.

    The cell is rescaled to the model's minimum (:func:`~heo_calc.structures.binary_oxides.prescale_to_minimum`),
    relaxed in its space group and scanned over ±2 % in volume (:func:`heo_calc.bulk_modulus.bulk_modulus`).
    """
    from heo_calc.bulk_modulus import bulk_modulus
    from heo_calc.structures.binary_oxides import binary_oxide_cell, prescale_to_minimum

    try:
        return bulk_modulus(
            prescale_to_minimum(binary_oxide_cell(cation), calculator), calculator
        ).bulk_modulus_gpa
    except ValueError as error:
        logger.warning("no bulk modulus for the oxide of %s: %s", cation, error)
        return float("nan")


def solid_solution_start(
    cations: Sequence[str], end_member_lattice_parameters: dict[str, float], options: ForgettingOptions
) -> Atoms:
    """A rattled random rock-salt cell of ``cations`` (64 atoms by default) at the Vegard mean of the model's end members (Å)."""
    vegard = vegard_lattice_parameter([end_member_lattice_parameters[c] for c in cations])
    atoms = rocksalt_solid_solution(
        cations, vegard, repeat=options.solution_repeat, rattle=options.rattle, seed=options.seed
    )
    atoms.info.update(kind="solid solution", a_vegard_A=vegard)
    return atoms


def _row(result, start: Atoms, name: str, identity: dict[str, Any], options: ForgettingOptions) -> dict:
    """The row of one relaxed (or failed) structure (see the module docstring)."""
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


class _ModelRelaxations:
    """The rows of one model: from the cache where there, else relaxed now and cached as each finishes."""

    def __init__(
        self,
        name: str,
        calculator: Calculator,
        options: ForgettingOptions,
        cache: RelaxationCache | None,
        progress: bool,
    ) -> None:
        self.name, self.calculator, self.options, self.cache = name, calculator, options, cache
        self.progress = progress
        self.identity = model_identity(calculator, name)
        self.rows: dict[str, dict[str, Any]] = {}

    def _settings(self, structure: str) -> dict[str, Any]:
        """What decides a structure's relaxation besides the model: its name and the options."""
        return {"structure": structure, "options": asdict(self.options)}

    def _cached(self, structure: str) -> dict[str, Any] | None:
        if self.cache is None:
            return None
        record = self.cache.load(self.name, structure, self._settings(structure), self.identity)
        return None if record is None else {"model": self.name, **record}

    def relax_missing(self, starts: dict[str, Callable[[], Atoms]]) -> None:
        """Rows for every structure of ``starts`` (name -> builder): cached, or built and relaxed now."""
        todo = []
        for structure, build in starts.items():
            cached = self._cached(structure)
            if cached is not None:
                self.rows[structure] = cached
            else:
                todo.append(build())
        if todo:
            self._relax(todo)

    def _finished(self, result, start: Atoms) -> None:
        """Keep the row of a final structure and cache it at once (an interruption loses only the running ones)."""
        row = _row(result, start, self.name, self.identity, self.options)
        row["bulk_modulus_GPa"] = float("nan")
        if self.options.bulk_moduli and start.info["kind"] == "binary" and str(result.status) != "failed":
            row["bulk_modulus_GPa"] = binary_bulk_modulus(start.info["cations"], self.calculator)
        self.rows[row["structure"]] = row
        if self.cache is not None:
            record = {key: value for key, value in row.items() if key != "model"}
            structure = row["structure"]
            self.cache.store(
                self.name, structure, self._settings(structure), self.identity, record, result.atoms
            )

    def _relax(self, starts: list[Atoms]) -> None:
        from heo_calc.relax import RelaxOptions, relax_many

        started = time.perf_counter()
        by_name = {start.info["name"]: start for start in starts}
        relax_many(
            starts,
            self.calculator,
            RelaxOptions(fmax=self.options.fmax, max_steps=self.options.max_steps),
            progress=self.progress,
            strategy="sequential",
            on_result=lambda result: self._finished(result, by_name[result.name]),
        )
        logger.info(
            "%s: relaxed %d structures in %.0f s", self.name, len(starts), time.perf_counter() - started
        )


def _rocksalt_end_members(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Relaxed pseudo-cubic lattice parameter (Å) of every rock-salt binary that did not fail, by cation."""
    return {
        row["cations"]: row["a_pseudo_cubic_A"]
        for row in rows.values()
        if row["kind"] == "binary" and row["prototype"] == "rocksalt" and row["status"] != "failed"
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

    Structures already in ``cache`` for this model identity and these options are not
    relaxed again; solid solutions whose rock-salt end members failed are skipped (logged).
    Returns one row per structure (energies eV, lengths Å, stress GPa; see the module
    docstring), with the mixing energy of the solid solutions (``mixing_energy_meV_per_atom``).
    """
    from heo_calc.registry import get_calculator

    calculator = calculator if calculator is not None else get_calculator(name, device=device)
    model = _ModelRelaxations(name, calculator, options, cache, progress)
    needed = sorted(set(cations) | {c for solution in solid_solutions for c in solution})
    model.relax_missing(
        {binary_oxide(c).formula: partial(binary_oxide_start, c, calculator, options) for c in needed}
    )
    end_members = _rocksalt_end_members(model.rows)
    buildable = []
    for solution in solid_solutions:
        if all(c in end_members for c in solution):
            buildable.append(solution)
        else:
            logger.warning(
                "%s: no relaxed rock-salt end member for %s; skipped", name, solid_solution_name(solution)
            )
    model.relax_missing(
        {solid_solution_name(s): partial(solid_solution_start, s, end_members, options) for s in buildable}
    )
    wanted = [binary_oxide(c).formula for c in needed] + [solid_solution_name(s) for s in solid_solutions]
    return add_mixing_energies(pd.DataFrame([model.rows[key] for key in wanted if key in model.rows]))


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
