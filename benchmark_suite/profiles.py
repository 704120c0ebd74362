"""Benchmark profiles: how much of each task runs. ``quick`` is the default, ``full`` the real benchmark.

A :class:`Profile` holds the settings every task shares (one
:class:`~heo_calc.relax.RelaxOptions`: relaxation threshold, steps, symmetry tolerance; the
worst structures listed) and, per task, the sizes that task's record
gives for the profile (:attr:`benchmark_suite.task_spec.TaskSpec.sizes`, documented in the
task modules), read typed with ``profile.sizes(SPEC)``. This module names no task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, TypeVar, overload

from benchmark_suite.registry import TASKS
from benchmark_suite.task_spec import TaskSpec
from heo_calc.relax.single import RelaxOptions

__all__ = ["PROFILES", "SHARED_CONTEXT", "Profile", "profile"]

S = TypeVar("S")


@dataclass(frozen=True)
class Profile:
    """Sizes and settings of every task.

    Attributes:
        name: ``quick`` or ``full``.
        relax: how the tasks relax: ``fmax`` (eV/Å; FrechetCellFilter applies it to the
            virial too), ``max_steps``, and ``symprec``, the spglib distance tolerance (Å) of
            symmetry-kept relaxations and of space-group numbers (matbench-discovery: 1e-2).
        worst_k: worst structures listed per task and calculator.
        task_sizes: per task name, the task's sizes (a frozen dataclass of its module, e.g.
            the ``...Sizes`` record of a task module), read typed with :meth:`sizes`.
    """

    name: str
    relax: RelaxOptions = RelaxOptions(fmax=0.05, max_steps=200)
    worst_k: int = 5
    task_sizes: Mapping[str, Any] = field(default_factory=dict)

    @overload
    def sizes(self, task: TaskSpec[S]) -> S: ...

    @overload
    def sizes(self, task: str) -> Any: ...

    def sizes(self, task: TaskSpec[Any] | str) -> Any:
        """The sizes of ``task`` (its record, typed, or its name) in this profile; KeyError if it has none."""
        name = task if isinstance(task, str) else task.name
        try:
            return self.task_sizes[name]
        except KeyError:
            raise KeyError(f"profile {self.name!r} has no sizes of task {name!r}") from None

    def with_overrides(
        self, *, sizes: Mapping[str, Mapping[str, object]] | None = None, **shared: object
    ) -> Profile:
        """A copy with shared fields and, per task name, size fields replaced (``None`` values are ignored).

        ``profile.with_overrides(fmax=0.01, sizes={"some_task": {"n": 4}})``: fields of
        :class:`~heo_calc.relax.RelaxOptions` (``fmax``, ``max_steps``, ``symprec``...) change
        :attr:`relax`. An unknown shared field or size field is a TypeError, an unknown task a KeyError.
        """
        task_sizes = dict(self.task_sizes)
        for task, changes in (sizes or {}).items():
            given = {k: v for k, v in changes.items() if v is not None}
            if given:
                task_sizes[task] = replace(self.sizes(task), **given)
        given = {k: v for k, v in shared.items() if v is not None}
        relax_fields = {f.name for f in fields(RelaxOptions)}
        relax = replace(self.relax, **{k: v for k, v in given.items() if k in relax_fields})
        own = {k: v for k, v in given.items() if k not in relax_fields}
        return replace(self, **own, relax=relax, task_sizes=task_sizes)

    def context(self) -> dict[str, Any]:
        """The shared settings and every task's ``TaskSpec.context`` sizes (tuples as lists), for the report."""
        recorded: dict[str, Any] = {"fmax": self.relax.fmax, "max_steps": self.relax.max_steps}
        for spec in TASKS.values():
            if spec.name not in self.task_sizes:  # registered after this profile was made
                continue
            for name in spec.context:
                value = getattr(self.sizes(spec.name), name)
                recorded[name] = list(value) if isinstance(value, tuple) else value
        recorded["symprec"] = self.relax.symprec
        return recorded


#: The keys of :meth:`Profile.context` that are not a task's: runs whose rows are paired agree on them.
SHARED_CONTEXT: Final = ("fmax", "max_steps", "symprec")


def profile(name: str, **settings: Any) -> Profile:
    """Profile ``name`` with every registered task's sizes for it and the given shared ``settings``."""
    return Profile(name=name, task_sizes={spec.name: spec.sizes[name] for spec in TASKS.values()}, **settings)


PROFILES: Final[dict[str, Profile]] = {
    # Every task's quick sizes (in its module): samples large enough to decide, for two
    # SevenNet-0-sized calculators in under 10 minutes on a shared 2-core CPU (measured:
    # see docs/benchmark.md).
    "quick": profile("quick", relax=RelaxOptions(fmax=0.05, max_steps=200)),
    # The real benchmark: every task's full sizes (in its module), tighter relaxation;
    # budgets per task in docs/benchmark.md.
    "full": profile("full", relax=RelaxOptions(fmax=0.02, max_steps=1000)),
}
