"""Committees of registry models: :class:`CommitteeCalculator` and the ``heo-ft-committee`` entry point.

A committee evaluates every member on the same structure and returns the members' mean as
its energy, forces and stress, and their spread as an uncertainty:

* ``results["energy_std"]`` (eV): the standard deviation of the members' total energies,
  over members (population, ddof 0): ``sqrt(mean_m (E_m - E_mean)^2)``.
* ``results["forces_std"]`` (eV/Å, shape (N,)): per atom ``i``, the root mean square over
  members of the length of the deviation vector, ``sqrt(mean_m |F_m,i - F_mean,i|^2)``.
  For two members it is ``|F_1,i - F_2,i| / 2``; a single number per atom, rotation
  invariant, zero for identical members.

``heo-ft-committee`` is ``heo-ft`` (SevenNet-0 finetuned) and ``heo-ft-l3i5``
(SevenNet-l3i5 finetuned): two shipped models of different bases, so no new weights. Any
list of registry names works too: ``CommitteeCalculator(["sevennet:a.pth", "sevennet:b.pth"])``.
One committee call costs the sum of its members' calls (they run one after another).

The committee is an ordinary ASE calculator (relaxations, filters, MD), declares its
:class:`~heo_calc.backends.capabilities.Capabilities` like every backend (elements: those
every member covers; a batched evaluator when every member has one, so lock-step
relaxation on a GPU batches it too), and :func:`~heo_calc.relax.relax_many` reports the
final ``max(forces_std)`` as :attr:`~heo_calc.relax.RelaxResult.max_force_spread`.

This module lives beside :mod:`heo_calc.registry`, not in :mod:`heo_calc.backends`: it
builds its members through the registry, and the registry imports the backends, so a
committee inside ``backends`` would close an import cycle between the two (import-linter's
acyclic-siblings contract).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from typing import Any, ClassVar, Final

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes
from ase.data import chemical_symbols

from heo_calc.backends.capabilities import (
    BatchEvaluator,
    Capabilities,
    batch_evaluator_of,
    capabilities_of,
    covered_atomic_numbers,
    declare,
)
from heo_calc.errors import HEOCalcError, ModelUnavailableError

logger = logging.getLogger(__name__)

#: The members of ``heo-ft-committee``: the two shipped finetuned models, of different bases.
HEO_FT_COMMITTEE_MEMBERS: Final = ("heo-ft", "heo-ft-l3i5")


class CommitteeError(HEOCalcError, ValueError):
    """A committee that cannot be formed: too few members, or members covering different elements."""


def _member_name(member: Calculator, index: int) -> str:
    parameters = getattr(member, "parameters", None) or {}
    return str(parameters.get("heo_calc_name") or f"member {index} ({type(member).__name__})")


def _build_member(name: str, *, device: str, dtype: str) -> Calculator:
    from heo_calc.registry import get_calculator

    try:
        return get_calculator(name, device=device, dtype=dtype)
    except HEOCalcError as error:
        message = f"committee member {name!r} cannot be built: {error}"
        try:
            raised = type(error)(message)
        except TypeError:  # an error class with its own constructor
            raised = ModelUnavailableError(message)
        raise raised from error


def _symbols(numbers: frozenset[int]) -> str:
    return ", ".join(chemical_symbols[z] for z in sorted(numbers, key=lambda z: chemical_symbols[z]))


def _common_coverage(
    names: Sequence[str], coverages: Sequence[frozenset[int] | None]
) -> frozenset[int] | None:
    """The elements every member covers; raises :class:`CommitteeError` when declared coverages differ."""
    known = [(name, covered) for name, covered in zip(names, coverages) if covered is not None]
    if not known:
        return None
    if len(known) < len(names):
        undeclared = [name for name, covered in zip(names, coverages) if covered is None]
        logger.warning(
            "committee members %s do not declare their elements; only the others' coverage is checked",
            ", ".join(undeclared),
        )
    union = frozenset().union(*(covered for _, covered in known))
    lacking = [(name, union - covered) for name, covered in known if union - covered]
    if lacking:
        details = "; ".join(
            f"{name!r} lacks {_symbols(missing)} ({len(missing)} of the {len(union)} elements the others cover)"
            for name, missing in lacking
        )
        raise CommitteeError(
            f"committee members cover different elements: {details}. A committee's spread means "
            "something only where every member was trained; choose members with the same elements."
        )
    return known[0][1]


def combine(predictions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean and spread of the members' predictions of one structure (see the module docstring).

    ``predictions``: one dict per member with ``energy`` (eV), ``forces`` (eV/Å, (N, 3)) and,
    optionally, ``stress`` (eV/Å^3, Voigt 6). Returns ``energy``, ``free_energy``, ``forces``,
    ``stress`` (when every member gave one), ``energy_std`` (eV) and ``forces_std`` (eV/Å, (N,)).
    """
    energies = np.array([float(p["energy"]) for p in predictions])
    forces = np.stack([np.asarray(p["forces"], dtype=float) for p in predictions])  # (M, N, 3)
    mean_forces = forces.mean(axis=0)
    results: dict[str, Any] = {
        "energy": float(energies.mean()),
        "free_energy": float(energies.mean()),
        "forces": mean_forces,
        "energy_std": float(energies.std()),
        "forces_std": np.sqrt(((forces - mean_forces) ** 2).sum(axis=2).mean(axis=0)),
    }
    if all(p.get("stress") is not None for p in predictions):
        results["stress"] = np.mean([np.asarray(p["stress"], dtype=float) for p in predictions], axis=0)
    return results


def _evaluate_member(member: Calculator, atoms: Atoms, stress: bool) -> dict[str, Any]:
    evaluated = atoms.copy()
    evaluated.calc = member
    return {
        "energy": float(evaluated.get_potential_energy()),
        "forces": np.array(evaluated.get_forces()),
        "stress": np.array(evaluated.get_stress()) if stress else None,
    }


def batched_evaluator(committee: CommitteeCalculator) -> BatchEvaluator:
    """Every member's own batched evaluator on the same structures, combined per structure.

    Returns what :func:`combine` returns per structure; ``evaluate.seconds`` sums the
    members' timings where they keep them.
    """
    evaluators = [batch_evaluator_of(member) for member in committee.members]
    if any(evaluator is None for evaluator in evaluators):
        raise ValueError("not every committee member has a batched evaluator")

    def evaluate(structures: Sequence[Atoms]) -> list[dict[str, Any]]:
        started = time.perf_counter()
        per_member = [evaluator(structures) for evaluator in evaluators]  # type: ignore[misc]
        evaluate.seconds["model"] += time.perf_counter() - started
        return [combine([member[i] for member in per_member]) for i in range(len(structures))]

    evaluate.seconds = {"graphs": 0.0, "model": 0.0}
    return evaluate


CAPABILITIES: Final = Capabilities(
    backend="committee",
    dtype="float32",  # the shipped committee's members; each committee narrows or widens it to its members'
    covered_numbers=lambda calculator: calculator.covered_numbers,
    batch_evaluator=batched_evaluator,
    computes_stress=True,
)


class CommitteeCalculator(Calculator):
    """The mean of several models as one ASE calculator, with the members' spread as its uncertainty.

    Args:
        members: registry names (``"heo-ft"``, ``"sevennet:model.pth"``, built with
            :func:`~heo_calc.registry.get_calculator`) or ASE calculators, at least two.
        device, dtype: passed to the registry for members given by name.

    Properties, in ASE units: ``energy`` and ``free_energy`` (eV), ``forces`` (eV/Å, (N, 3)),
    ``stress`` (eV/Å^3, Voigt; when every member computes it): the members' means;
    ``energy_std`` (eV) and ``forces_std`` (eV/Å, (N,)): their spread, defined in
    :mod:`heo_calc.committee`.

    Raises, at construction: :class:`CommitteeError` for fewer than two members or members
    whose declared elements differ (naming the member and the elements); the registry's
    errors (unknown name, missing weights), prefixed with the member's name.
    """

    implemented_properties: ClassVar[list[str]] = [
        "energy",
        "free_energy",
        "forces",
        "stress",
        "energy_std",
        "forces_std",
    ]

    def __init__(
        self, members: Sequence[str | Calculator], *, device: str = "auto", dtype: str = "float64"
    ) -> None:
        super().__init__()
        if isinstance(members, str) or len(members) < 2:
            raise CommitteeError(
                f"a committee needs at least two members, got {members!r}: its spread is the disagreement between them"
            )
        self.members: list[Calculator] = [
            _build_member(member, device=device, dtype=dtype) if isinstance(member, str) else member
            for member in members
        ]
        self.member_names = [
            member if isinstance(member, str) else _member_name(built, index)
            for index, (member, built) in enumerate(zip(members, self.members))
        ]
        self.covered_numbers = _common_coverage(
            self.member_names, [covered_atomic_numbers(member) for member in self.members]
        )
        declarations = [capabilities_of(member) for member in self.members]
        self.computes_stress = all(d is None or d.computes_stress for d in declarations)
        batches = all(batch_evaluator_of(member) is not None for member in self.members)
        dtype_of_members = (
            "float32" if any(d is None or d.dtype == "float32" for d in declarations) else "float64"
        )
        declare(
            self,
            dataclasses.replace(
                CAPABILITIES,
                dtype=dtype_of_members,
                computes_stress=self.computes_stress,
                batch_evaluator=CAPABILITIES.batch_evaluator if batches else None,
            ),
        )
        self.parameters.update(
            {
                "members": [
                    {
                        "name": name,
                        "model_file": (getattr(member, "parameters", None) or {}).get("model_file"),
                        "dtype": (getattr(member, "parameters", None) or {}).get("dtype"),
                    }
                    for name, member in zip(self.member_names, self.members)
                ],
                "spread": "energy_std: std over members (ddof 0), eV; forces_std: per atom "
                "sqrt(mean over members |F_m - F_mean|^2), eV/Å",
            }
        )

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: list[str] | None = None,
        system_changes: list[str] = all_changes,
    ) -> None:
        super().calculate(atoms, properties, system_changes)
        stress = self.computes_stress or "stress" in (properties or ())
        self.results = combine([_evaluate_member(member, self.atoms, stress) for member in self.members])

    def __repr__(self) -> str:
        return f"CommitteeCalculator({self.member_names!r})"


def make_committee(
    members: Sequence[str], *, device: str = "auto", dtype: str = "float64", **kwargs: Any
) -> CommitteeCalculator:
    """A :class:`CommitteeCalculator` of registry names (keyword arguments are not passed on)."""
    if kwargs:
        raise TypeError(f"a committee takes no backend keyword arguments, got {sorted(kwargs)}")
    return CommitteeCalculator(members, device=device, dtype=dtype)


def make_heo_ft_committee(
    *, device: str = "auto", dtype: str = "float64", **kwargs: Any
) -> CommitteeCalculator:
    """``heo-ft`` and ``heo-ft-l3i5`` as one committee (float32 members; eV, eV/Å)."""
    return make_committee(HEO_FT_COMMITTEE_MEMBERS, device=device, dtype=dtype, **kwargs)


def _check_heo_ft_committee() -> None:
    from heo_calc.registry import require_available

    for name in HEO_FT_COMMITTEE_MEMBERS:
        try:
            require_available(name)
        except HEOCalcError as error:
            raise type(error)(f"committee member {name!r} is not available: {error}") from error


make_heo_ft_committee.check_available = _check_heo_ft_committee  # type: ignore[attr-defined]
