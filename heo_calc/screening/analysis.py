"""Numbers of a screen: mixing energy against the parents, Vegard's law, local distortion, summaries.

Pure functions of relaxed structures and records; no files, no relaxations.

Mixing energy and Vegard's law are :mod:`heo_calc.mixing`'s, with the parents as end
members: each parent's energy per substituted site (one formula unit: the cation with its
anions and spectators) and its pseudo-cubic lattice parameter, each cation on
``n_sites / k`` of the ``n_sites`` sites of an equimolar mixture of ``k`` cations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from heo_calc.mixing import mixing_energy_mev_per_atom, vegard_lattice_parameter
from heo_calc.relax import RelaxResult
from heo_calc.screening.compositions import Composition
from heo_calc.screening.records import CompositionSummary, ParentRecord, RealizationRecord
from heo_calc.status import Status
from heo_calc.structures.bonds import bond_lengths
from heo_calc.structures.lattices import pseudo_cubic_lattice_parameter
from heo_calc.structures.substituted import SubstitutedStructure

NAN = float("nan")


def realization_record(
    item: SubstitutedStructure, result: RelaxResult, composition: Composition, parents: Sequence[ParentRecord]
) -> RealizationRecord:
    """The record of one relaxed arrangement (a failed relaxation keeps its reason and NaN numbers).

    A realization relaxed to convergence whose parents did not all converge is marked
    ``not_converged`` with a note naming them (:func:`unconverged_parents`): its mixing
    energy is taken against unconverged references.
    """
    n_atoms = len(item.atoms)
    finite = result.status != Status.FAILED
    status, note = Status(result.status), result.error or ""
    parents_note = unconverged_parents(parents)
    if finite and parents_note:
        status = Status.NOT_CONVERGED
        note = "; ".join(filter(None, [note, parents_note]))
    return RealizationRecord(
        composition=composition.label,
        lattice=item.lattice,
        arrangement=item.arrangement,
        seed=item.seed,
        n_sites=item.n_sites,
        n_atoms=n_atoms,
        status=status,
        converged=bool(result.converged),
        n_steps=int(result.n_steps),
        energy_eV=result.energy if finite else NAN,
        energy_per_atom_eV=result.energy / n_atoms if finite else NAN,
        mixing_energy_meV_per_atom=mixing_energy_mev_per_atom(
            result.energy,
            n_atoms,
            {parent.cation: item.n_sites / len(parents) for parent in parents},
            {parent.cation: parent.energy_per_site_eV for parent in parents},
        )
        if finite
        else NAN,
        a_pseudo_cubic_A=pseudo_cubic_lattice_parameter(result.atoms, item.lattice) if finite else NAN,
        a_vegard_A=vegard_lattice_parameter([parent.a_pseudo_cubic_A for parent in parents]),
        bond_length_std_A=float(np.std(bond_lengths(result.atoms, item.bonds))) if finite else NAN,
        max_force_spread_eV_per_A=result.max_force_spread if finite else NAN,
        max_stress_GPa=result.max_stress_gpa if finite else NAN,
        wc_objective=item.wc_objective,
        error=note,
    )


def unconverged_parents(parents: Sequence[ParentRecord]) -> str:
    """A note naming the parents that did not converge (their mixing energies are uncertain), ``""`` if none."""
    unconverged = [p.formula for p in parents if p.status != Status.FAILED and not p.converged]
    if not unconverged:
        return ""
    return (
        f"parent reference(s) {', '.join(unconverged)} did not converge within --steps: the mixing energy "
        "is measured against unconverged references; raise --steps"
    )


def failed_realization(
    composition: Composition, lattice: str, arrangement: str, seed: int, n_sites: int, reason: str
) -> RealizationRecord:
    """A realization that could not be relaxed (its parents failed, its cell could not be built)."""
    return RealizationRecord(
        composition=composition.label,
        lattice=lattice,
        arrangement=arrangement,
        seed=seed,
        n_sites=n_sites,
        n_atoms=0,
        status=Status.FAILED,
        converged=False,
        n_steps=0,
        energy_eV=NAN,
        energy_per_atom_eV=NAN,
        mixing_energy_meV_per_atom=NAN,
        a_pseudo_cubic_A=NAN,
        a_vegard_A=NAN,
        bond_length_std_A=NAN,
        max_force_spread_eV_per_A=NAN,
        max_stress_GPa=NAN,
        wc_objective=NAN,
        error=reason,
    )


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    values = [v for v in values if np.isfinite(v)]
    if not values:
        return NAN, NAN
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else NAN


def summarize(
    composition: Composition, lattice: str, realizations: Sequence[RealizationRecord]
) -> CompositionSummary:
    """Means and sample standard deviations over the realizations that did not fail.

    The status is ``ok`` only if every realization is (converged, with converged parents),
    ``failed`` if none can be used, else ``not_converged``; ``error`` joins the reasons and notes.
    """
    usable = [r for r in realizations if r.status != Status.FAILED]
    n_converged = sum(r.converged for r in realizations)
    status = (
        Status.FAILED
        if not usable
        else Status.OK
        if all(r.status == Status.OK for r in realizations)
        else Status.NOT_CONVERGED
    )
    mixing = _mean_std([r.mixing_energy_meV_per_atom for r in usable])
    energy = _mean_std([r.energy_per_atom_eV for r in usable])
    a = _mean_std([r.a_pseudo_cubic_A for r in usable])
    bonds = _mean_std([r.bond_length_std_A for r in usable])
    a_vegard = next((r.a_vegard_A for r in realizations if np.isfinite(r.a_vegard_A)), NAN)
    errors = sorted({r.error for r in realizations if r.status != Status.OK and r.error})
    return CompositionSummary(
        composition=composition.label,
        formula=composition.formula(lattice),
        lattice=lattice,
        n_cations=len(composition.cations),
        status=status,
        n_realizations=len(realizations),
        n_converged=n_converged,
        n_failed=len(realizations) - len(usable),
        mixing_energy_meV_per_atom_mean=mixing[0],
        mixing_energy_meV_per_atom_std=mixing[1],
        energy_per_atom_eV_mean=energy[0],
        energy_per_atom_eV_std=energy[1],
        a_pseudo_cubic_A_mean=a[0],
        a_pseudo_cubic_A_std=a[1],
        a_vegard_A=a_vegard,
        a_vegard_deviation_percent=100.0 * (a[0] / a_vegard - 1.0),
        bond_length_std_A_mean=bonds[0],
        bond_length_std_A_std=bonds[1],
        n_steps_mean=float(np.mean([r.n_steps for r in usable])) if usable else NAN,
        max_force_spread_eV_per_A_mean=_mean_std([r.max_force_spread_eV_per_A for r in usable])[0],
        error="; ".join(errors),
    )
