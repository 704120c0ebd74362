"""Benchmark profiles: how much of each task runs. ``quick`` is the default, ``full`` the real benchmark."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final


@dataclass(frozen=True)
class Profile:
    """Sizes and settings of every task.

    Attributes:
        name: ``quick`` or ``full``.
        accuracy_n_test: test-split structures evaluated (``None``: all).
        accuracy_n_fit: train- and valid-split structures (formula-disjoint from test)
            evaluated to fit the per-element energy reference (``None``: all; 0: fit on the
            test structures themselves, in-sample). The fit has one parameter per element
            (~60 in the dev data), so it needs of the order of a hundred structures:
            measured with CHGNet on 16 test structures (plain least squares), 16 fit
            structures left 144 meV/atom RMSE, 128 left 44 and 160 left 38.
        accuracy_fit_max_atoms: only fit structures with at most this many atoms (cheap to
            evaluate; ``None``: any size).
        relaxed_max_force: a dataset structure counts as DFT-relaxed when max |F_DFT| is
            below this (eV/Å).
        rattle_n_structures: DFT-relaxed test structures for the rattle-and-relax task.
        rattle_min_atoms: each is repeated into a supercell of at least this many atoms.
        rattle_max_atoms: only structures with at most this many atoms (before repeating)
            are picked, to bound the cost.
        rattle_sigma: standard deviation of the Gaussian rattle (Å).
        substitution_sites: substituted (cation; B for perovskite) sites per parent lattice,
            multiples of 5 so that equimolar is exact.
        substitution_arrangements: ``random`` and/or ``sqs``.
        substitution_seeds: one structure per lattice, arrangement and seed.
        sqs_trials: swap-search trials per SQS.
        fmax: relaxation threshold (eV/Å; FrechetCellFilter applies it to the virial too).
        max_steps: optimizer steps per relaxation.
        symprec: spglib distance tolerance (Å) for space-group numbers (matbench-discovery: 1e-2).
        worst_k: worst structures listed per task and calculator.
    """

    name: str
    accuracy_n_test: int | None
    accuracy_n_fit: int | None
    accuracy_fit_max_atoms: int | None
    rattle_n_structures: int
    rattle_min_atoms: int
    rattle_max_atoms: int
    substitution_sites: dict[str, int] = field(default_factory=dict)
    substitution_arrangements: tuple[str, ...] = ("random", "sqs")
    substitution_seeds: tuple[int, ...] = (0,)
    relaxed_max_force: float = 0.01
    rattle_sigma: float = 0.05
    sqs_trials: int = 2000
    fmax: float = 0.05
    max_steps: int = 200
    symprec: float = 1e-2
    worst_k: int = 5

    def with_overrides(self, **overrides: object) -> Profile:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


PROFILES: Final[dict[str, Profile]] = {
    # Every task for two offline calculators (SevenNet-0 and CHGNet) in under 10 minutes on
    # one busy CPU core (measured: see docs/benchmark.md). Small cells, one seed and only
    # the SQS arrangement: random and SQS both at 1 seed took 9.8 min on a loaded core,
    # mostly the 50-atom perovskite cells (75-100 L-BFGS steps each); one seed cannot
    # compare arrangements anyway, and the full profile runs both with three seeds.
    "quick": Profile(
        name="quick",
        accuracy_n_test=16,
        accuracy_n_fit=128,
        accuracy_fit_max_atoms=12,
        rattle_n_structures=3,
        rattle_min_atoms=16,
        rattle_max_atoms=24,
        substitution_sites={"rocksalt": 20, "spinel": 30, "fluorite": 10, "perovskite": 10},
        substitution_arrangements=("sqs",),
        substitution_seeds=(0,),
        sqs_trials=1000,
        fmax=0.05,
        max_steps=200,
    ),
    # The real benchmark: the whole test split, 64-atom-plus rattled supercells, larger
    # substitution cells, random and SQS arrangements with three seeds, tighter relaxation.
    "full": Profile(
        name="full",
        accuracy_n_test=None,
        accuracy_n_fit=600,
        accuracy_fit_max_atoms=40,
        rattle_n_structures=20,
        rattle_min_atoms=64,
        rattle_max_atoms=160,
        substitution_sites={"rocksalt": 40, "spinel": 60, "fluorite": 40, "perovskite": 30},
        substitution_arrangements=("random", "sqs"),
        substitution_seeds=(0, 1, 2),
        sqs_trials=20000,
        fmax=0.02,
        max_steps=1000,
    ),
}
