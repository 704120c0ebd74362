"""Structures labelled by the base model, mixed into finetuning so that it keeps what the base knew.

Finetuning on a thousand HEO structures moves a foundation model's energies of simple
oxides (measured: MgO in rock salt moved by +0.13 to +0.24 eV per formula unit). One
remedy is replay: train on the HEO data *and* on structures whose labels are the base
model's own predictions, so that the loss pulls back wherever the finetuned model drifts
from the base on chemistry outside the HEO data. Here those are the binary oxides of the
cations in the training data (:mod:`heo_calc.structures.binary_oxides`), rattled and
strained, in their small conventional cells.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

logger = logging.getLogger(__name__)

#: Gaussian displacement (Å) and largest isotropic strain of the replay structures.
REPLAY_RATTLE_A = 0.08
REPLAY_MAX_STRAIN = 0.03


def base_labelled_structures(
    cations: Iterable[str],
    base: Calculator,
    n_structures: int,
    *,
    seed: int = 0,
    energy_key: str = "REF_energy",
    forces_key: str = "REF_forces",
) -> list[Atoms]:
    """``n_structures`` rattled, strained binary-oxide cells labelled by ``base``, cycling over ``cations``.

    Each cell is first rescaled to ``base``'s own minimum volume; then every copy gets a
    random isotropic strain of up to ±:data:`REPLAY_MAX_STRAIN` and Gaussian displacements of
    :data:`REPLAY_RATTLE_A` Å. Labels: ``info[energy_key]`` (eV) and ``arrays[forces_key]``
    (eV/Å) from ``base``. Cations without a recorded prototype are skipped (logged).
    """
    from heo_calc.calculator import evaluate_properties
    from heo_calc.structures.binary_oxides import OXIDATION_STATES, binary_oxide_cell, prescale_to_minimum
    from heo_calc.structures.perturb import rattle

    usable = sorted(c for c in set(cations) if c in OXIDATION_STATES)
    skipped = sorted(set(cations) - set(usable) - {"O"})
    if skipped:
        logger.info("no binary-oxide prototype for %s: not replayed", ", ".join(skipped))
    if not usable or n_structures <= 0:
        return []
    rng = np.random.default_rng(seed)
    equilibrium = {cation: prescale_to_minimum(binary_oxide_cell(cation), base) for cation in usable}
    structures = []
    for index in range(n_structures):
        cation = usable[index % len(usable)]
        atoms = equilibrium[cation].copy()
        strain = 1.0 + rng.uniform(-REPLAY_MAX_STRAIN, REPLAY_MAX_STRAIN)
        atoms.set_cell(atoms.cell * strain, scale_atoms=True)
        atoms = rattle(atoms, REPLAY_RATTLE_A, rng)  # the one rattle, continuing this generator
        labels = evaluate_properties(base, atoms, ("forces",))
        atoms.info[energy_key] = labels["energy"]
        atoms.arrays[forces_key] = labels["forces"]
        atoms.info["immutable_id"] = f"base-replay-{atoms.info['name']}-{index}"
        structures.append(atoms)
    return structures
