"""Bulk modulus from a model's energy-volume curve: the stiffness check of every finetune.

B = V d²E/dV² at the minimum. A finetune on stress-free data leaves the curvature of E(V)
free: heo-ft 0.3.0 came out about a third softer than its base on every rock-salt oxide
(``../shared/SCIENCE.md``). Measured here the way the issue measured it: the cell is first
relaxed (positions and cell, kept in its space group: ASE ``FixSymmetry`` through the one
relaxation of :mod:`heo_calc.relax.single`), then scaled isotropically to ``n_points``
volumes within ±``volume_range`` of that minimum, with positions relaxed at fixed cell at each
volume, and the energies are fitted with the Birch-Murnaghan equation of state (ASE's
:class:`ase.eos.EquationOfState`; over ±2 % every usual EOS gives the same B within ~1 %).
A fit over ±10 % (matcalc's default) gives larger values: compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.units import GPa

#: Default half-width of the volume scan, as a fraction of the minimum's volume.
VOLUME_RANGE: Final = 0.02
#: Default number of volumes in the scan.
N_POINTS: Final = 7
#: Force threshold (eV/Å) of the relaxations (and, on the cell, of the virial per atom).
FMAX: Final = 0.005


@dataclass(frozen=True)
class BulkModulus:
    """The fitted equation of state: B (GPa), minimum volume V0 (Å³ per cell), E0 (eV per cell), and the scan."""

    bulk_modulus_gpa: float
    volume_A3: float
    energy_eV: float
    volumes_A3: tuple[float, ...]
    energies_eV: tuple[float, ...]
    relaxed: bool


def fit_bulk_modulus(volumes: np.ndarray, energies: np.ndarray) -> tuple[float, float, float]:
    """Birch-Murnaghan fit of E(V) (Å³, eV): (B in GPa, V0 in Å³, E0 in eV); raises ``ValueError`` without a minimum."""
    from ase.eos import EquationOfState

    volumes, energies = np.asarray(volumes, float), np.asarray(energies, float)
    if len(volumes) < 5 or not np.isfinite(energies).all():
        raise ValueError(
            f"need at least 5 finite energies for the E(V) fit, got {np.isfinite(energies).sum()}"
        )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", UserWarning
        )  # ASE only warns when the minimum is outside: checked below
        try:
            volume, energy, modulus = EquationOfState(volumes, energies, eos="birchmurnaghan").fit()
        except (RuntimeError, ValueError) as error:  # the fit did not converge
            raise ValueError(f"the E(V) curve has no minimum in the scanned range: {error}") from error
    if not (volumes.min() <= volume <= volumes.max() and np.isfinite(modulus) and modulus > 0):
        raise ValueError(
            f"the E(V) curve has no minimum in the scanned range {volumes.min():.2f}-{volumes.max():.2f} Å³ "
            f"(fitted V0 {volume:.2f} Å³); centre the scan on the relaxed cell or widen it"
        )
    return float(modulus / GPa), float(volume), float(energy)


def energy_volume_scan(
    atoms: Atoms,
    calculator: Calculator,
    *,
    volume_range: float = VOLUME_RANGE,
    n_points: int = N_POINTS,
    relax_positions: bool = True,
    fmax: float = FMAX,
) -> tuple[np.ndarray, np.ndarray]:
    """Energies (eV per cell) of ``atoms`` scaled isotropically to ``n_points`` volumes (Å³) within ±``volume_range``.

    Positions are relaxed at each fixed cell (kept in the input's space group) when
    ``relax_positions``; a relaxation that fails leaves NaN for that volume.
    """
    from heo_calc.relax.single import RelaxOptions, relax_structure

    if not 0 < volume_range < 0.5 or n_points < 5:
        raise ValueError(
            f"volume_range must be in (0, 0.5) and n_points >= 5, got {volume_range} and {n_points}"
        )
    options = RelaxOptions(fmax=fmax, max_steps=300, relax_cell=False, keep_symmetry=True)
    factors = np.linspace(1 - volume_range, 1 + volume_range, n_points)
    volumes, energies = [], []
    for factor in factors:
        scaled = atoms.copy()
        scaled.set_cell(np.asarray(atoms.cell) * factor ** (1 / 3), scale_atoms=True)
        if relax_positions:
            result = relax_structure(scaled, calculator, options, name="eos", check_input=False)
            energy = result.energy if str(result.status) != "failed" else float("nan")
        else:
            scaled.calc = calculator
            energy = float(scaled.get_potential_energy())
        volumes.append(scaled.get_volume())
        energies.append(energy)
    return np.array(volumes), np.array(energies)


def bulk_modulus(
    atoms: Atoms,
    calculator: Calculator,
    *,
    relax_first: bool = True,
    volume_range: float = VOLUME_RANGE,
    n_points: int = N_POINTS,
    relax_positions: bool = True,
    fmax: float = FMAX,
) -> BulkModulus:
    """The bulk modulus (GPa) of ``atoms`` under ``calculator`` around the model's own minimum.

    ``relax_first``: relax positions and cell in the input's space group (fmax ``fmax`` eV/Å,
    also on the virial per atom) before the scan; otherwise the scan is centred on the input's
    volume. Raises ``ValueError`` when that relaxation fails or the curve has no minimum.
    """
    from heo_calc.relax.single import RelaxOptions, relax_structure

    centre = atoms
    if relax_first:
        options = RelaxOptions(fmax=fmax, max_steps=500, keep_symmetry=True)
        result = relax_structure(atoms, calculator, options, name="eos-minimum", check_input=True)
        if str(result.status) == "failed":
            raise ValueError(f"relaxing the cell before the E(V) scan failed: {result.error}")
        centre = result.atoms
    volumes, energies = energy_volume_scan(
        centre,
        calculator,
        volume_range=volume_range,
        n_points=n_points,
        relax_positions=relax_positions,
        fmax=fmax,
    )
    modulus, volume, energy = fit_bulk_modulus(volumes, energies)
    return BulkModulus(modulus, volume, energy, tuple(volumes), tuple(energies), relax_first)
