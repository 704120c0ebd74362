"""Refit the per-element energy reference of a finetuned SevenNet checkpoint on training data.

Finetuning moves a model's energies by a roughly constant amount per atom of each element
(the network learns the training set's reference along with its forces). The model card
measures energies also after a per-element linear reference fitted on the train split
(:func:`heo_calc.statistics.fit_elemental_offsets`); this module bakes that same fit into the
checkpoint's per-species energy shift, so the raw energies a user gets are the corrected
ones. Forces and stresses do not change: a constant per atom has no gradient. Whether it
helps depends on the model: check it on a validation split (for the shipped ``heo-ft`` it
did not, so the shipped models do not carry it; see the model card).

sevenn has no post-training step for this (its ``shift: elemwise_reference_energies``
fits total energies before training, not a trained model's residuals), hence this module.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_base.atomic_write import atomic_output
from heo_calc import statistics
from heo_calc.evaluation import REFERENCE_FIT_HUBER_DELTA, evaluate_structures

logger = logging.getLogger(__name__)

#: The per-species energy shift (eV per atom) inside a SevenNet model's state dict.
SHIFT_KEY = "rescale_atomic_energy.shift"


def fit_energy_reference(
    calculator: Calculator,
    structures: Sequence[Atoms],
    *,
    huber_delta: float | None = REFERENCE_FIT_HUBER_DELTA,
) -> dict[str, float]:
    """Per-element offsets (eV per atom of the element) of ``calculator``'s energies against DFT.

    ``E_pred - E_DFT ≈ Σ_e n_e · offset_e`` over ``structures`` (labelled as for
    :func:`heo_calc.evaluation.evaluate_structures`), fitted with the Huber loss of the model
    card's reference fit (``huber_delta`` eV/atom). Structures the model fails on are left
    out of the fit (:func:`~heo_calc.evaluation.evaluate_structures` logs each). Elements absent
    from ``structures`` are not in the result.
    """
    if not structures:
        raise ValueError("no structures to fit the energy reference on; pass the training data")
    table = evaluate_structures(calculator, structures)
    differences = (table["energy_pred"] - table["energy_DFT"]).to_numpy(float)
    if not np.isfinite(differences).any():
        raise ValueError("the model gave no finite energy on any structure; cannot fit an energy reference")
    composition, elements = statistics.composition_matrix(list(structures))
    offsets = statistics.fit_elemental_offsets(composition, differences, huber_delta=huber_delta)
    return {element: float(offset) for element, offset in zip(elements, offsets)}


def apply_energy_reference(checkpoint: Path, offsets: Mapping[str, float], destination: Path) -> Path:
    """Write ``checkpoint`` to ``destination`` with ``offsets`` (eV/atom) subtracted from its energy shift.

    A model whose energies were ``offsets[e]`` per atom of element ``e`` too high then
    predicts them without that excess; forces are unchanged. Raises
    :class:`~heo_calc.errors.UnsupportedElementsError` for an element the model does not
    know. The file is written atomically (``destination`` may equal ``checkpoint``).
    """
    import torch
    from ase.data import atomic_numbers

    from heo_calc.backends.sevennet import load_checkpoint
    from heo_calc.errors import UnsupportedElementsError

    state = load_checkpoint(Path(checkpoint))
    weights, config = state["model_state_dict"], state["config"]
    shift = weights.get(SHIFT_KEY)
    if shift is None or shift.ndim != 1 or shift.numel() < 2:
        raise ValueError(
            f"{checkpoint} has no per-species energy shift ({SHIFT_KEY}); only SevenNet models "
            "with one shift per element can take a per-element energy reference"
        )
    type_map = {int(z): int(index) for z, index in config["_type_map"].items()}
    unknown = [e for e in offsets if atomic_numbers.get(e) not in type_map]
    if unknown:
        raise UnsupportedElementsError(unknown, str(checkpoint))
    shift = shift.clone()
    for element, offset in offsets.items():
        shift[type_map[atomic_numbers[element]]] -= offset
    weights[SHIFT_KEY] = shift
    if isinstance(config.get("shift"), list) and len(config["shift"]) == shift.numel():
        # The config copy is what sevenn would rebuild the model from: keep the two equal.
        config["shift"] = shift.tolist()
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(destination) as temporary:
        torch.save(state, temporary)
    logger.info("%s: energy shift of %d elements corrected (from %s)", destination, len(offsets), checkpoint)
    return destination


def refit_energy_reference(
    checkpoint: Path,
    structures: Sequence[Atoms],
    destination: Path,
    *,
    huber_delta: float | None = REFERENCE_FIT_HUBER_DELTA,
) -> dict[str, float]:
    """Fit the per-element energy reference of ``checkpoint`` on ``structures`` and bake it in.

    Writes the corrected checkpoint to ``destination`` and the offsets (eV per atom,
    subtracted from the model's shift) to ``destination`` with suffix ``.energy_reference.json``;
    returns the offsets.
    """
    from heo_calc.backends.sevennet import make_sevennet_from_file

    offsets = fit_energy_reference(
        make_sevennet_from_file(checkpoint, device="cpu"), structures, huber_delta=huber_delta
    )
    apply_energy_reference(checkpoint, offsets, destination)
    record = Path(destination).with_suffix(".energy_reference.json")
    with atomic_output(record) as temporary:
        temporary.write_text(
            json.dumps(
                {
                    "checkpoint": str(checkpoint),
                    "n_structures": len(structures),
                    "huber_delta_eV_per_atom": huber_delta,
                    "offsets_eV_per_atom": offsets,
                },
                indent=2,
            )
        )
    return offsets
