"""Benchmark profiles: how much of each task runs. ``quick`` is the default, ``full`` the real benchmark."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final


@dataclass(frozen=True)
class Profile:
    """Sizes and settings of every task.

    Attributes:
        name: ``quick`` or ``full``.
        accuracy_n_test: test-split structures evaluated, a seeded random sample (``None``: all).
        accuracy_n_fit: train- and valid-split structures (formula-disjoint from test)
            evaluated to fit the per-element energy reference, chosen to cover every element
            (:func:`benchmark_suite.data.element_coverage_sample`; ``None``: all; 0: fit on the
            test structures themselves, in-sample). The fit has one parameter per element
            (~60 in the dev data), so it needs of the order of a hundred structures:
            measured with CHGNet on 16 test structures (plain least squares), 16 fit
            structures left 144 meV/atom RMSE, 128 left 44 and 160 left 38.
        accuracy_fit_max_atoms: only fit structures with at most this many atoms (cheap to
            evaluate; ``None``: any size).
        relaxed_max_force: a dataset structure counts as DFT-relaxed when max |F_DFT| is
            below this (eV/Å).
        symmetric_n_structures: DFT-relaxed test structures relaxed the way DFT did (stored
            cells, space group kept; rattle-and-relax's headline), a seeded random sample
            (``None``: every one within ``symmetric_max_atoms``).
        symmetric_max_atoms: only stored cells with at most this many atoms (``None``: any).
        symmetric_fmax: convergence threshold (eV/Å) of those relaxations. Tighter than
            ``fmax``: FrechetCellFilter applies it to the virial per atom, so on a 10-atom,
            100 Å^3 cell 0.05 eV/Å leaves up to 0.8 GPa of stress (~0.4 % of volume), the
            size of the differences measured; 0.005 leaves 0.08 GPa. In symmetry these
            cells have few degrees of freedom and converge in a few steps.
        rattle_n_structures: how many of those (the first within ``rattle_max_atoms``) are
            also relaxed *freely* as rattled supercells (``rattle_relax.free_*``; ``None``: every one).
        rattle_min_atoms: each is repeated into a supercell of at least this many atoms.
        rattle_max_atoms: only structures with at most this many atoms (before repeating)
            are picked, to bound the cost.
        rattle_sigma: standard deviation of the Gaussian rattle (Å).
        rattle_strain: largest component of the seeded symmetric strain of the symmetric
            start (0.01: ±1 %).
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
    rattle_n_structures: int | None
    rattle_min_atoms: int
    rattle_max_atoms: int
    symmetric_n_structures: int | None = None
    symmetric_max_atoms: int | None = None
    symmetric_fmax: float = 0.005
    substitution_sites: dict[str, int] = field(default_factory=dict)
    substitution_arrangements: tuple[str, ...] = ("random", "sqs")
    substitution_seeds: tuple[int, ...] = (0,)
    relaxed_max_force: float = 0.01
    rattle_sigma: float = 0.05
    rattle_strain: float = 0.01
    sqs_trials: int = 2000
    fmax: float = 0.05
    max_steps: int = 200
    symprec: float = 1e-2
    worst_k: int = 5

    def with_overrides(self, **overrides: object) -> Profile:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


PROFILES: Final[dict[str, Profile]] = {
    # Samples large enough to decide (64 accuracy structures, 16 symmetric and 8 free
    # relaxations of DFT-relaxed structures) for two
    # SevenNet-0-sized calculators in under 10 minutes on a shared 2-core CPU (measured: see
    # docs/benchmark.md). Substitution: small cells, one seed and only the SQS arrangement.
    "quick": Profile(
        name="quick",
        accuracy_n_test=64,
        accuracy_n_fit=192,
        accuracy_fit_max_atoms=None,
        symmetric_n_structures=16,
        symmetric_max_atoms=20,
        rattle_n_structures=8,
        rattle_min_atoms=16,
        rattle_max_atoms=24,
        substitution_sites={"rocksalt": 20, "spinel": 30, "fluorite": 10, "perovskite": 10},
        substitution_arrangements=("sqs",),
        substitution_seeds=(0,),
        sqs_trials=1000,
        fmax=0.05,
        max_steps=200,
    ),
    # The real benchmark: the whole test split, its whole fit pool, every DFT-relaxed test
    # structure relaxed in its symmetry (56 in the packaged set, stored cells of 9-80 atoms),
    # those of <= 20 atoms (42) also freely as >= 20-atom rattled supercells,
    # random and SQS substitution cells with two seeds, tighter relaxation. Budget: five
    # calculators (three SevenNet-0-sized, two 2.6x dearer) with -n 2 in about 1.5 hours on
    # a 2-core CPU (docs/benchmark.md).
    "full": Profile(
        name="full",
        accuracy_n_test=None,
        accuracy_n_fit=None,
        accuracy_fit_max_atoms=None,
        symmetric_n_structures=None,
        symmetric_max_atoms=None,
        rattle_n_structures=None,
        rattle_min_atoms=20,
        rattle_max_atoms=20,
        substitution_sites={"rocksalt": 20, "spinel": 30, "fluorite": 20, "perovskite": 10},
        substitution_arrangements=("random", "sqs"),
        substitution_seeds=(0, 1),
        sqs_trials=5000,
        fmax=0.02,
        max_steps=1000,
    ),
}
