"""Benchmark profiles: how much of each task runs. ``quick`` is the default, ``full`` the real benchmark.

A :class:`Profile` holds the settings every task shares (relaxation threshold and steps,
symmetry tolerance, worst structures listed) and, per task, the sizes that task's record
gives for the profile (:attr:`benchmark_suite.task_spec.TaskSpec.sizes`, documented in the
task modules). This module names no task.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final

from benchmark_suite.registry import TASKS

__all__ = ["PROFILES", "Profile", "profile"]


@dataclass(frozen=True)
class Profile:
    """Sizes and settings of every task.

    Attributes:
        name: ``quick`` or ``full``.
        fmax: relaxation threshold (eV/Å; FrechetCellFilter applies it to the virial too).
        max_steps: optimizer steps per relaxation.
        symprec: spglib distance tolerance (Å) for space-group numbers (matbench-discovery: 1e-2).
        worst_k: worst structures listed per task and calculator.
        task_sizes: per task name, the task's sizes (a frozen dataclass of its module, e.g.
            :class:`benchmark_suite.tasks.accuracy.AccuracySizes`).

    A task's size fields read as attributes of the profile (``profile.accuracy_n_test``):
    field names are unique across tasks.
    """

    name: str
    fmax: float = 0.05
    max_steps: int = 200
    symprec: float = 1e-2
    worst_k: int = 5
    task_sizes: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        """A size field of one of the tasks (only called for names that are not fields of the profile)."""
        if name.startswith("__") or name == "task_sizes":
            raise AttributeError(name)
        for sizes in self.task_sizes.values():
            if name in _field_names(sizes):
                return getattr(sizes, name)
        raise AttributeError(f"{type(self).__name__!r} has no setting {name!r} (no task has that size)")

    def sizes(self, task: str) -> Any:
        """The sizes of ``task`` in this profile."""
        return self.task_sizes[task]

    def with_overrides(self, **overrides: object) -> Profile:
        """A copy with the given fields (the profile's or a task's size) replaced (``None`` values are ignored)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        task_sizes = dict(self.task_sizes)
        for task, sizes in task_sizes.items():
            mine = {k: given.pop(k) for k in list(given) if k in _field_names(sizes)}
            if mine:
                task_sizes[task] = replace(sizes, **mine)
        return replace(self, **given, task_sizes=task_sizes)  # an unknown name: TypeError

    def context(self) -> dict[str, Any]:
        """The shared settings and every task's ``TaskSpec.context`` sizes (tuples as lists), for the report."""
        recorded: dict[str, Any] = {"fmax": self.fmax, "max_steps": self.max_steps}
        for spec in TASKS.values():
            if spec.name not in self.task_sizes:  # registered after this profile was made
                continue
            for name in spec.context:
                value = getattr(self.sizes(spec.name), name)
                recorded[name] = list(value) if isinstance(value, tuple) else value
        recorded["symprec"] = self.symprec
        return recorded


def _field_names(instance: Any) -> set[str]:
    """Names of the fields of a dataclass instance."""
    return {f.name for f in fields(instance)}


def profile(name: str, **settings: Any) -> Profile:
    """Profile ``name`` with every registered task's sizes for it and the given shared ``settings``."""
    return Profile(name=name, task_sizes={spec.name: spec.sizes[name] for spec in TASKS.values()}, **settings)


PROFILES: Final[dict[str, Profile]] = {
    # Samples large enough to decide (64 accuracy structures, 16 symmetric and 8 free
    # relaxations of DFT-relaxed structures) for two SevenNet-0-sized calculators in under
    # 10 minutes on a shared 2-core CPU (measured: see docs/benchmark.md).
    "quick": profile("quick", fmax=0.05, max_steps=200),
    # The real benchmark: every structure of every task, tighter relaxation. Budget: five
    # calculators (three SevenNet-0-sized, two 2.6x dearer) with -n 2 in about 1.5 hours on
    # a 2-core CPU (docs/benchmark.md).
    "full": profile("full", fmax=0.02, max_steps=1000),
}
