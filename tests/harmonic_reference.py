"""A calculator whose minimum is a given set of DFT structures by construction, for geometry tests.

For a structure whose atomic numbers match a reference (the closest one by cell and
fractional positions), the energy is

    E = ½ k Σ_i |Δf_i C_t|²  +  ½ B V_t Σ_ab G_ab²,    G = ½ (Mᵀ M − I),  C = C_t M,

with Δf_i the minimum-image fractional displacement from the reference's positions and
C_t the reference cell scaled isotropically by ``volume_bias`` (``1.02``: a model whose
cells are 2 % too large). Rows of C are the cell vectors (ASE). The first term does not
change under a strain at fixed fractional positions, so the stress (ASE's sign, eV/Å³)
comes from the second alone: σ = B V_t sym(G MᵀM) / V. Units: k in eV/Å², B in eV/Å³.
Forces are exact derivatives; ``tests/test_rattle_symmetric.py`` checks them and the stress
against finite differences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator, all_changes


class HarmonicReference(Calculator):
    implemented_properties = ("energy", "free_energy", "forces", "stress")

    def __init__(
        self,
        references: Sequence[Atoms],
        *,
        k: float = 5.0,
        bulk_modulus: float = 1.0,
        volume_bias: float = 1.0,
    ) -> None:
        super().__init__()
        self.references = [reference.copy() for reference in references]
        self.k, self.bulk_modulus = k, bulk_modulus
        self.scale = volume_bias ** (1.0 / 3.0)

    def _reference(self, atoms: Atoms) -> Atoms:
        candidates = [r for r in self.references if np.array_equal(r.numbers, atoms.numbers)]
        if not candidates:
            raise ValueError(f"no reference structure has the atoms of {atoms.get_chemical_formula()}")
        return min(candidates, key=lambda r: np.abs(r.cell.array - atoms.cell.array).sum())

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        reference = self._reference(self.atoms)
        target = reference.cell.array * self.scale
        cell = self.atoms.cell.array
        fractional = np.linalg.solve(cell.T, self.atoms.positions.T).T
        displacement = fractional - reference.get_scaled_positions(wrap=False)
        displacement -= np.round(displacement)
        cartesian = displacement @ target
        energy_positions = 0.5 * self.k * float((cartesian**2).sum())
        forces = -self.k * (cartesian @ target.T) @ np.linalg.inv(cell).T
        deformation = np.linalg.solve(target.T, cell.T).T  # C = C_t M
        metric = deformation.T @ deformation
        green = 0.5 * (metric - np.eye(3))
        volume_target = abs(np.linalg.det(target))
        energy_cell = 0.5 * self.bulk_modulus * volume_target * float((green**2).sum())
        derivative = self.bulk_modulus * volume_target * (green @ metric)
        stress = 0.5 * (derivative + derivative.T) / self.atoms.get_volume()
        self.results = {
            "energy": energy_positions + energy_cell,
            "free_energy": energy_positions + energy_cell,
            "forces": forces,
            "stress": stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]],
        }
