"""Strained structures labelled by a foundation model *with its stress*, so finetuning keeps its stiffness.

Our HEO data carry no DFT stress. A zero-stress label on DFT-relaxed cells
(:mod:`heo_calc.finetune.zero_stress`) pins where each cell's minimum sits, but nothing holds
the curvature of E(V) around it: heo-ft 0.3.0 came out ~1/3 softer than its base on every
rock-salt oxide (bulk moduli, ``../shared/SCIENCE.md``). Here the base model (SevenNet-0,
trained on PBE stresses of the Materials Project) lends what our data cannot teach: copies
of cells strained by ±1-3 % in volume and in shear, whose energy (eV), forces (eV/Å) and
stress (eV/Å³, ASE's sign and Voigt order) are the base's own predictions.

Two sources, half each:

* the binary oxides of the training cations in their small cells
  (:mod:`heo_calc.structures.binary_oxides`, first rescaled to the labeller's own minimum),
  as the base replay builds them;
* DFT-relaxed training cells (largest DFT force component below ``relaxed_below``), the very
  cells whose zero-stress label fixes the volume: around those minima the base sets the slope.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_base.labels import ENERGY_KEY, FORCES_KEY, STRESS_KEY

logger = logging.getLogger(__name__)

#: Smallest and largest strain magnitude (fraction) of the volume part and of each shear component.
STRAIN_RANGE: Final = (0.01, 0.03)
#: Gaussian displacement (Å) on top of the strain, so that forces are not zero by symmetry.
STIFFNESS_RATTLE_A: Final = 0.02
#: Largest cell (atoms) taken from the training data (labelling cost grows with size).
MAX_ATOMS: Final = 40


def random_strain(rng: np.random.Generator) -> np.ndarray:
    """A symmetric 3x3 strain: a volume part and three shear components, each of magnitude in :data:`STRAIN_RANGE`.

    The volume part ε_v (fraction of volume, random sign) enters as ε_v/3 on the diagonal; the
    shear components (xy, xz, yz) each get their own random sign and magnitude.
    """
    low, high = STRAIN_RANGE
    volume = rng.uniform(low, high) * rng.choice([-1.0, 1.0])
    shear = rng.uniform(low, high, size=3) * rng.choice([-1.0, 1.0], size=3) / 2.0
    strain = np.eye(3) * volume / 3.0
    for (i, j), value in zip(((0, 1), (0, 2), (1, 2)), shear):
        strain[i, j] = strain[j, i] = value
    return strain


def strained_copy(atoms: Atoms, strain: np.ndarray, rng: np.random.Generator) -> Atoms:
    """``atoms`` deformed by (1 + ``strain``) (cell and positions), then rattled by :data:`STIFFNESS_RATTLE_A` Å."""
    from heo_calc.structures.perturb import rattle

    copy = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=True)
    copy.set_cell(np.asarray(atoms.cell) @ (np.eye(3) + strain), scale_atoms=True)
    return rattle(copy, STIFFNESS_RATTLE_A, rng)


def label_with_stress(atoms: Atoms, labeller: Calculator) -> Atoms:
    """Write ``labeller``'s energy (eV), forces (eV/Å) and stress (eV/Å³, Voigt 6) as ``REF_`` labels."""
    from heo_calc.calculator import evaluate_properties

    labels = evaluate_properties(labeller, atoms, ("forces", "stress"))
    atoms.info[ENERGY_KEY] = labels["energy"]
    atoms.arrays[FORCES_KEY] = labels["forces"]
    atoms.info[STRESS_KEY] = np.asarray(labels["stress"], dtype=float)
    return atoms


def stiffness_labelled_structures(
    training: Sequence[Atoms],
    cations: Iterable[str],
    labeller: Calculator,
    n_structures: int,
    *,
    relaxed_below: float = 0.01,
    seed: int = 0,
) -> list[Atoms]:
    """``n_structures`` strained cells labelled by ``labeller`` with energy, forces and stress.

    Half (rounded up) are binary oxides of ``cations`` (cycled), half DFT-relaxed cells of
    ``training`` (largest DFT force component below ``relaxed_below`` eV/Å, at most
    :data:`MAX_ATOMS` atoms, drawn without replacement while they last). Where one source
    is empty the other supplies all. Seeded; ``info["immutable_id"]`` names the origin.
    """
    from heo_calc.finetune.zero_stress import max_force_component
    from heo_calc.structures.binary_oxides import OXIDATION_STATES, binary_oxide_cell, prescale_to_minimum

    if n_structures <= 0:
        return []
    rng = np.random.default_rng(seed)
    usable = sorted(c for c in set(cations) if c in OXIDATION_STATES)
    relaxed = [
        atoms for atoms in training if len(atoms) <= MAX_ATOMS and max_force_component(atoms) < relaxed_below
    ]
    n_binary = (n_structures + 1) // 2 if relaxed else n_structures
    if not usable:
        n_binary = 0
    if not usable and not relaxed:
        raise ValueError(
            "no binary-oxide prototype for the training cations and no DFT-relaxed training cell: "
            "nothing to label for stiffness"
        )
    cycle = usable[:n_binary]
    equilibrium = {cation: prescale_to_minimum(binary_oxide_cell(cation), labeller) for cation in cycle}
    structures: list[Atoms] = []
    for index in range(n_binary):
        cation = cycle[index % len(cycle)]
        atoms = strained_copy(equilibrium[cation], random_strain(rng), rng)
        atoms.info["immutable_id"] = f"stiffness-{cation}-{index}"
        structures.append(label_with_stress(atoms, labeller))
    order = rng.permutation(len(relaxed)) if relaxed else np.array([], dtype=int)
    for index in range(n_structures - n_binary):
        source = relaxed[int(order[index % len(order)])]
        atoms = strained_copy(source, random_strain(rng), rng)
        origin = str(source.info.get("immutable_id", f"train-{index}"))
        atoms.info["immutable_id"] = f"stiffness-{origin}-{index}"
        structures.append(label_with_stress(atoms, labeller))
    logger.info(
        "%d strained structures labelled with stress (%d binary oxides, %d DFT-relaxed training cells)",
        len(structures),
        n_binary,
        len(structures) - n_binary,
    )
    return structures
