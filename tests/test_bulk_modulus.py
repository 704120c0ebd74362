"""Bulk moduli from E(V) (issue #28): against a calculator whose E(V), and so its bulk modulus, is known in closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.units import GPa

from heo_calc.bulk_modulus import bulk_modulus, fit_bulk_modulus


class MurnaghanSolid(Calculator):
    """E(V) = E0 + B0 V / B' ((V0/V)^B' / (B' − 1) + 1) − B0 V0 / (B' − 1): the Murnaghan equation of state.

    Per cell, with V0 = ``v0_per_atom`` × N. Its bulk modulus at V0 is B0 exactly; forces are zero
    (no position dependence) and the stress is isotropic, σ = dE/dV (ASE's sign: positive when the
    cell wants to shrink... i.e. tensile), so cell relaxations find V0.
    """

    implemented_properties = ("energy", "forces", "stress")

    def __init__(self, b0_gpa: float, b_prime: float = 4.0, v0_per_atom: float = 9.0) -> None:
        super().__init__()
        self.b0, self.b_prime, self.v0_per_atom = b0_gpa * GPa, b_prime, v0_per_atom

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        volume, v0, b0, bp = (
            self.atoms.get_volume(),
            self.v0_per_atom * len(self.atoms),
            self.b0,
            self.b_prime,
        )
        energy = b0 * volume / bp * ((v0 / volume) ** bp / (bp - 1) + 1) - b0 * v0 / (bp - 1)
        pressure = b0 / bp * ((v0 / volume) ** bp - 1)  # −dE/dV
        self.results = {
            "energy": energy,
            "forces": np.zeros((len(self.atoms), 3)),
            "stress": np.array([-pressure] * 3 + [0.0] * 3),
        }


def test_closed_form_bulk_modulus_is_recovered_from_the_relaxed_minimum():
    atoms = bulk("MgO", "rocksalt", a=4.3, cubic=True)  # V/atom 9.94 Å³, away from V0 = 9.0
    result = bulk_modulus(atoms, MurnaghanSolid(b0_gpa=160.0, b_prime=4.0, v0_per_atom=9.0))
    assert result.relaxed
    assert result.volume_A3 == pytest.approx(9.0 * len(atoms), rel=1e-3)
    assert result.bulk_modulus_gpa == pytest.approx(160.0, rel=5e-3)
    volumes = np.array(result.volumes_A3)
    assert volumes.min() == pytest.approx(
        0.98 * 9.0 * len(atoms), rel=2e-3
    )  # ±2 % around the model's minimum
    assert volumes.max() == pytest.approx(1.02 * 9.0 * len(atoms), rel=2e-3)


def test_a_softer_solid_gives_a_smaller_modulus_in_proportion():
    atoms = bulk("NiO", "rocksalt", a=4.18, cubic=True)
    stiff = bulk_modulus(atoms, MurnaghanSolid(190.0, 4.5, 9.1)).bulk_modulus_gpa
    soft = bulk_modulus(atoms, MurnaghanSolid(95.0, 4.5, 9.1)).bulk_modulus_gpa
    assert stiff == pytest.approx(190.0, rel=5e-3)
    assert soft / stiff == pytest.approx(0.5, rel=5e-3)


def test_a_curve_without_minimum_is_a_clear_error():
    volumes = np.linspace(90, 110, 7)
    with pytest.raises(ValueError, match="no minimum|at least 5 finite"):
        fit_bulk_modulus(volumes, -0.1 * volumes)  # monotonic: no minimum
    with pytest.raises(ValueError, match="at least 5 finite"):
        fit_bulk_modulus(volumes, np.full(7, np.nan))


def test_forgetting_comparison_reports_bulk_moduli_against_experiment():
    from heo_calc.forgetting import compare_to_base, summarize_comparison

    def table(model: str, moduli: dict[str, float]) -> pd.DataFrame:
        rows = []
        for oxide, modulus in moduli.items():
            rows.append(
                {
                    "model": model,
                    "structure": oxide,
                    "kind": "binary",
                    "prototype": "rocksalt",
                    "energy_per_fu_eV": -10.0,
                    "a_pseudo_cubic_A": 4.2,
                    "mixing_energy_meV_per_atom": np.nan,
                    "status": "ok",
                    "max_stress_GPa": 0.0,
                    "bulk_modulus_GPa": modulus,
                }
            )
        return pd.DataFrame(rows)

    base = table("base", {"MgO": 130.0, "NiO": 136.0, "ZnO": 140.0})
    model = table("soft", {"MgO": 83.0, "NiO": 86.0, "ZnO": 100.0})
    comparison = compare_to_base(model, base)
    mgo = comparison.set_index("structure").loc["MgO"]
    assert mgo["bulk_modulus_exp_GPa"] == 160.0
    assert mgo["delta_bulk_modulus_percent"] == pytest.approx(100 * (83 / 130 - 1))
    summary = summarize_comparison(comparison)
    assert summary["n_bulk_moduli_vs_exp"] == 2  # ZnO has no measured value in the table
    assert summary["bulk_modulus_base_vs_exp_mean_abs"] == pytest.approx((30 / 160 + 55 / 191) / 2)
    assert summary["bulk_modulus_model_vs_exp_mean_abs"] == pytest.approx((77 / 160 + 105 / 191) / 2)
