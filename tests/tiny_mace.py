"""A tiny MACE model (about 50k parameters) that stands in for MACE-MP-0 in offline tests.

It is an honest ``mace.modules.ScaleShiftMACE`` saved whole with ``torch.save``, the form
of the MACE-MP-0 ``.model`` files, so ``mace.calculators.MACECalculator(model_paths=...)``
and ``mace_run_train --foundation_model <file>`` load it like a real foundation model.
Its weights are random: it predicts nothing physical, but finetuning must improve it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
from ase import Atoms

#: Mean number of neighbours within 4 Å in our oxide data, roughly; only sets a normalisation.
_DEFAULT_AVG_NUM_NEIGHBORS = 12.0


def fit_atomic_energies(
    structures: Iterable[Atoms],
    *,
    energy_key: str = "REF_energy",
    atomic_numbers: Sequence[int] | None = None,
) -> dict[int, float]:
    """Least-squares per-element energies (eV/atom) so that sum_i E0[Z_i] ~ total energy (eV).

    Elements listed in ``atomic_numbers`` but absent from ``structures`` get 0 eV.
    """
    structures = list(structures)
    present = sorted({int(z) for atoms in structures for z in atoms.numbers})
    column = {z: i for i, z in enumerate(present)}
    counts = np.zeros((len(structures), len(present)))
    for row, atoms in enumerate(structures):
        for z in atoms.numbers:
            counts[row, column[int(z)]] += 1
    energies = np.array([float(atoms.info[energy_key]) for atoms in structures])
    solution, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    fitted = {z: float(solution[column[z]]) for z in present}
    return {int(z): fitted.get(int(z), 0.0) for z in (atomic_numbers or present)}


def build_tiny_mace_model(
    path: Path,
    *,
    atomic_numbers: Sequence[int],
    r_max: float = 4.0,
    seed: int = 0,
    atomic_energies: Mapping[int, float] | None = None,
    num_channels: int = 16,
    avg_num_neighbors: float = _DEFAULT_AVG_NUM_NEIGHBORS,
    atomic_inter_scale: float = 1.0,
) -> Path:
    """Build a small float64 ScaleShiftMACE for ``atomic_numbers`` and ``torch.save`` it to ``path``.

    Architecture: ``num_channels`` x (0e + 1o) hidden irreps (max_L 1), spherical harmonics
    up to l = 2, correlation order 2, two interactions, 8 Bessel functions, cutoff ``r_max``
    (Å). ``atomic_energies`` are the isolated-atom reference energies E0 (eV) per atomic
    number; missing ones are 0 eV. The interaction energy is multiplied by
    ``atomic_inter_scale`` (larger values give larger random forces, eV/Å) and shifted by 0 eV.
    Returns ``path``.
    """
    import mace  # noqa: F401  (sets torch.load up for e3nn before e3nn is imported)
    import torch
    from e3nn import o3
    from mace import modules

    zs = sorted({int(z) for z in atomic_numbers})
    if not zs:
        raise ValueError("atomic_numbers is empty; the model needs at least one element")
    atomic_energies = atomic_energies or {}
    e0s = np.array([float(atomic_energies.get(z, 0.0)) for z in zs])

    previous_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(seed)
        model = modules.ScaleShiftMACE(
            r_max=float(r_max),
            num_bessel=8,
            num_polynomial_cutoff=5,
            max_ell=2,
            interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
            interaction_cls_first=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
            num_interactions=2,
            num_elements=len(zs),
            hidden_irreps=o3.Irreps(f"{num_channels}x0e + {num_channels}x1o"),
            MLP_irreps=o3.Irreps("16x0e"),
            atomic_energies=e0s,
            avg_num_neighbors=float(avg_num_neighbors),
            atomic_numbers=zs,
            correlation=2,
            gate=torch.nn.functional.silu,
            radial_MLP=[32, 32],
            atomic_inter_scale=float(atomic_inter_scale),
            atomic_inter_shift=0.0,
        )
    finally:
        torch.set_default_dtype(previous_dtype)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model, path)
    return path
