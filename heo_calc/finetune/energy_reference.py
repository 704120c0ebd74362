"""Refit the per-element energy shift of a finetuned SevenNet model (closed form, no training).

Finetuning with Adam moves SevenNet's per-species ``scale`` (and with it the atomic energy
scale) by a few per cent, which shows up as per-element energy offsets against DFT. A
per-element constant leaves forces and stresses unchanged, so we fit it by ridge least
squares of the atom-count matrix against the model's energy residuals on the *training*
set and add it to the model's per-species ``shift`` (eV/atom), the same per-element
reference MACE calls E0s. The held-out test set never enters the fit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

logger = logging.getLogger(__name__)


def fit_energy_offsets(
    structures: Sequence[Atoms], predicted_energies: Sequence[float], *, ridge: float = 1.0
) -> dict[int, float]:
    """Per-element offsets (eV/atom) minimising sum_s ((E_DFT - E_pred - sum_e n_se d_e) / N_s)^2 + ridge |d|^2.

    Each structure is weighted per atom (rows divided by its atom count N_s), so large cells
    do not dominate; ``ridge`` (eV^-2 relative weight) pulls offsets of rarely seen elements
    towards zero instead of letting collinear compositions make them large.
    """
    from heo_calc.metrics import composition_matrix

    composition, elements = composition_matrix(structures)
    n_atoms = composition.sum(axis=1, keepdims=True)
    residual = np.array([a.info["REF_energy"] for a in structures]) - np.asarray(
        predicted_energies, dtype=float
    )
    design = composition / n_atoms
    target = residual / n_atoms[:, 0]
    keep = np.isfinite(target)
    design, target = design[keep], target[keep]
    lhs = design.T @ design + ridge / max(len(target), 1) * np.eye(design.shape[1])
    offsets = np.linalg.solve(lhs, design.T @ target)
    from ase.data import atomic_numbers

    return {atomic_numbers[element]: float(offset) for element, offset in zip(elements, offsets)}


def shift_sevennet_checkpoint(checkpoint: Path, offsets: dict[int, float], destination: Path) -> Path:
    """Add ``offsets`` (eV/atom, by atomic number) to the per-species shift of a sevenn checkpoint."""
    import torch

    torch.serialization.add_safe_globals([slice])
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)  # our own checkpoint
    type_map = state["config"]["_type_map"]
    shift = state["model_state_dict"]["rescale_atomic_energy.shift"]
    if shift.numel() != len(type_map):
        raise ValueError(
            f"{checkpoint}: expected one shift per species ({len(type_map)}), found {shift.numel()}"
        )
    for atomic_number, offset in offsets.items():
        if atomic_number not in type_map:
            raise KeyError(f"element Z={atomic_number} is not in the model's species")
        shift[type_map[atomic_number]] += offset
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(destination.name + ".tmp")
    torch.save(state, temporary)
    os.replace(temporary, destination)
    return destination


def refit_sevennet_energy_reference(
    checkpoint: Path, train_structures: Sequence[Atoms], destination: Path, *, ridge: float = 1.0
) -> tuple[Path, dict[int, float]]:
    """Evaluate ``checkpoint`` on the training structures, fit offsets, write the shifted model."""
    from heo_calc.registry import get_calculator

    calculator = get_calculator(f"sevennet:{checkpoint}", device="cpu")
    predicted = []
    for atoms in train_structures:
        evaluated = atoms.copy()
        evaluated.calc = calculator
        predicted.append(evaluated.get_potential_energy())
    offsets = fit_energy_offsets(train_structures, predicted, ridge=ridge)
    logger.info(
        "largest per-element offsets (eV/atom): %s", sorted(offsets.items(), key=lambda kv: -abs(kv[1]))[:5]
    )
    return shift_sevennet_checkpoint(checkpoint, offsets, destination), offsets
