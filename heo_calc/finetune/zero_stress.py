"""Zero-stress labels for the end points of DFT relaxations (``heo-calc finetune --zero-stress-below``).

Our HEO data carry no DFT stress. Structures whose DFT forces all but vanish are end
points of relaxations that relaxed the cell as well (Materials Project, Alexandria and
OQMD all relax positions and cell), so their DFT stress is zero to within the tolerance
those relaxations used. A zero-stress target on them tells the model where DFT's cell
is; the other structures (off-minimum, stress unknown) get no stress label at all: a
stress of NaN, which the trainer masks out (:mod:`heo_calc.finetune._sevenn_entry`).

Tolerance assumed by the zero label: the source relaxations stop on forces and energy,
not on stress; with a plane-wave cutoff of 520 eV the residual (Pulay and convergence)
stress of such end points is typically a few kbar (a few tenths of a GPa), which for
oxides of bulk modulus 150-250 GPa is a volume uncertainty of about 0.1-0.3 %. The label
says "zero, to within ~0.5 GPa"; its loss weight (``--stress-weight``) is chosen so that
an error of that size weighs about as much as the force term (see docs/finetuning.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms

from heo_base.errors import LabelledDataError
from heo_base.labels import FORCES_KEY, STRESS_KEY


def max_force_component(atoms: Atoms) -> float:
    """Largest absolute DFT force component of ``atoms`` (eV/Å); NaN without forces."""
    forces = atoms.arrays.get(FORCES_KEY)
    if forces is None or len(forces) == 0:
        return float("nan")
    return float(np.abs(np.asarray(forces, dtype=float)).max())


def attach_zero_stress_labels(structures: Sequence[Atoms], below: float, *, required: bool = True) -> int:
    """Give every structure a stress label (``info["REF_stress"]``, eV/Å³, Voigt 6): zero where
    its largest DFT force component is below ``below`` (eV/Å), NaN (no label) elsewhere.

    Works in place and returns how many structures got the zero label. With ``required``,
    raises :class:`LabelledDataError` when none qualifies, naming the threshold and the
    data's smallest largest force, so the user can pick a threshold that means something.
    """
    if not below > 0:
        raise ValueError(f"--zero-stress-below must be > 0 eV/Å, got {below}")
    largest = np.array([max_force_component(atoms) for atoms in structures], dtype=float)
    labelled = np.isfinite(largest) & (largest < below)
    if required and not labelled.any():
        smallest = np.nanmin(largest) if np.isfinite(largest).any() else float("nan")
        raise LabelledDataError(
            f"--zero-stress-below {below:g} eV/Å: no training structure has all DFT force components "
            f"below it (the smallest largest force component in the data is {smallest:.4g} eV/Å); "
            "raise the threshold or train without the zero-stress label"
        )
    for atoms, zero in zip(structures, labelled):
        atoms.info[STRESS_KEY] = np.zeros(6) if zero else np.full(6, np.nan)
    return int(labelled.sum())
