"""The forgetting report's numbers: mixing energies of the relaxed rows, each finetuned model beside its base, summaries.

Pure functions of the tables :func:`heo_calc.forgetting.study.relax_model` returns; no
files, no relaxations. Energies per formula unit in eV (deltas in meV/f.u.), lattice
parameters in Å, mixing energies in meV/atom, stresses in GPa.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from heo_base.units import MEV
from heo_calc.mixing import mixing_energy_mev_per_atom
from heo_calc.structures.experimental import experimental_bulk_modulus, experimental_lattice_parameter


def add_mixing_energies(table: pd.DataFrame) -> pd.DataFrame:
    """``mixing_energy_meV_per_atom`` of each solid solution against the same model's rock-salt end members.

    E_mix = (E - sum over cations of n_c E_fu(cO)) / N_atoms (:func:`heo_calc.mixing.mixing_energy_mev_per_atom`),
    with n_c the number of each cation in the cell and E_fu the relaxed end member's energy
    per formula unit. NaN for binaries and where an end member failed.
    """
    table = table.copy()
    table["mixing_energy_meV_per_atom"] = np.nan
    if table.empty:
        return table
    for index, row in table[table["kind"] == "solid solution"].iterrows():
        references = table[(table["model"] == row["model"]) & (table["kind"] == "binary")]
        per_fu = {
            r["cations"]: r["energy_per_fu_eV"] for _, r in references.iterrows() if r["status"] != "failed"
        }
        counts = {c: int(n) for c, n in (item.split(":") for item in row["cation_counts"].split(","))}
        if not all(c in per_fu for c in counts) or row["status"] == "failed":
            continue
        table.loc[index, "mixing_energy_meV_per_atom"] = mixing_energy_mev_per_atom(
            row["energy_eV"], row["n_atoms"], counts, per_fu
        )
    return table


#: Columns of :func:`compare_to_base`.
COMPARISON_COLUMNS: Final = (
    "model",
    "base",
    "structure",
    "kind",
    "prototype",
    "energy_per_fu_base_eV",
    "energy_per_fu_model_eV",
    "delta_energy_per_fu_meV",
    "a_base_A",
    "a_model_A",
    "delta_a_A",
    "delta_a_percent",
    "a_exp_A",
    "bulk_modulus_base_GPa",
    "bulk_modulus_model_GPa",
    "delta_bulk_modulus_percent",
    "bulk_modulus_exp_GPa",
    "mixing_base_meV_per_atom",
    "mixing_model_meV_per_atom",
    "delta_mixing_meV_per_atom",
    "status_base",
    "status_model",
    "max_stress_base_GPa",
    "max_stress_model_GPa",
    "model_sha256",
    "base_sha256",
)


def compare_to_base(model: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """One row per structure both relaxed: the finetuned model beside its base (deltas are model - base).

    Energies per formula unit in eV (delta in meV/f.u.), lattice parameters in Å (delta also
    in %), bulk moduli of the binaries in GPa (delta in %), mixing energies in meV/atom,
    stresses in GPa; ``a_exp_A`` and ``bulk_modulus_exp_GPa`` where recorded;
    ``model_sha256`` and ``base_sha256``: the weights of each side (where the rows carry them).
    """
    merged = model.merge(base, on="structure", suffixes=("_model", "_base"))
    rows = []
    for _, r in merged.iterrows():
        rows.append(
            {
                "model": r["model_model"],
                "base": r["model_base"],
                "structure": r["structure"],
                "kind": r["kind_model"],
                "prototype": r["prototype_model"],
                "energy_per_fu_base_eV": r["energy_per_fu_eV_base"],
                "energy_per_fu_model_eV": r["energy_per_fu_eV_model"],
                "delta_energy_per_fu_meV": (r["energy_per_fu_eV_model"] - r["energy_per_fu_eV_base"]) * MEV,
                "a_base_A": r["a_pseudo_cubic_A_base"],
                "a_model_A": r["a_pseudo_cubic_A_model"],
                "delta_a_A": r["a_pseudo_cubic_A_model"] - r["a_pseudo_cubic_A_base"],
                "delta_a_percent": 100.0 * (r["a_pseudo_cubic_A_model"] / r["a_pseudo_cubic_A_base"] - 1.0),
                "a_exp_A": experimental_lattice_parameter(r["structure"]),
                "bulk_modulus_base_GPa": r.get("bulk_modulus_GPa_base", np.nan),
                "bulk_modulus_model_GPa": r.get("bulk_modulus_GPa_model", np.nan),
                "delta_bulk_modulus_percent": 100.0
                * (r.get("bulk_modulus_GPa_model", np.nan) / r.get("bulk_modulus_GPa_base", np.nan) - 1.0),
                "bulk_modulus_exp_GPa": experimental_bulk_modulus(r["structure"]),
                "mixing_base_meV_per_atom": r["mixing_energy_meV_per_atom_base"],
                "mixing_model_meV_per_atom": r["mixing_energy_meV_per_atom_model"],
                "delta_mixing_meV_per_atom": r["mixing_energy_meV_per_atom_model"]
                - r["mixing_energy_meV_per_atom_base"],
                "status_base": r["status_base"],
                "status_model": r["status_model"],
                "max_stress_base_GPa": r["max_stress_GPa_base"],
                "max_stress_model_GPa": r["max_stress_GPa_model"],
                "model_sha256": r.get("model_sha256_model"),
                "base_sha256": r.get("model_sha256_base"),
            }
        )
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def _stiffness_summary(binaries: pd.DataFrame) -> dict[str, float]:
    """Median |ΔB| (%) model vs base, and each side's mean |B/B_exp − 1| over the binaries with a measured B."""
    relative = binaries["delta_bulk_modulus_percent"].dropna()
    measured = binaries.dropna(
        subset=["bulk_modulus_exp_GPa", "bulk_modulus_base_GPa", "bulk_modulus_model_GPa"]
    )
    summary = {
        "abs_delta_bulk_modulus_percent_median": float(relative.abs().median()) if len(relative) else np.nan
    }
    for side in ("base", "model"):
        deviation = measured[f"bulk_modulus_{side}_GPa"] / measured["bulk_modulus_exp_GPa"] - 1.0
        summary[f"bulk_modulus_{side}_vs_exp_mean_abs"] = (
            float(deviation.abs().mean()) if len(measured) else np.nan
        )
    summary["n_bulk_moduli_vs_exp"] = len(measured)
    return summary


def summarize_comparison(comparison: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers of one model against its base (binaries and solid solutions apart).

    Binaries: number compared, median and largest |delta E| (meV/f.u., with the oxide), mean
    delta E, median |delta a| (%) and the largest (with the oxide); solid solutions: mean
    delta and mean |delta| of the mixing energy (meV/atom) and its range.
    """
    binaries = comparison[comparison["kind"] == "binary"].dropna(subset=["delta_energy_per_fu_meV"])
    solutions = comparison[comparison["kind"] == "solid solution"].dropna(
        subset=["delta_mixing_meV_per_atom"]
    )
    summary: dict[str, Any] = {"n_binaries": len(binaries), "n_solid_solutions": len(solutions)}
    if len(binaries):
        energy = binaries["delta_energy_per_fu_meV"]
        a = binaries["delta_a_percent"]
        summary.update(
            delta_energy_per_fu_mean_meV=float(energy.mean()),
            abs_delta_energy_per_fu_median_meV=float(energy.abs().median()),
            abs_delta_energy_per_fu_max_meV=float(energy.abs().max()),
            abs_delta_energy_worst=str(binaries.loc[energy.abs().idxmax(), "structure"]),
            delta_a_percent_mean=float(a.mean()),
            abs_delta_a_percent_median=float(a.abs().median()),
            abs_delta_a_percent_max=float(a.abs().max()),
            abs_delta_a_worst=str(binaries.loc[a.abs().idxmax(), "structure"]),
        )
        if "delta_bulk_modulus_percent" in binaries:
            summary.update(_stiffness_summary(binaries))
    if len(solutions):
        mixing = solutions["delta_mixing_meV_per_atom"]
        summary.update(
            delta_mixing_mean_meV_per_atom=float(mixing.mean()),
            abs_delta_mixing_mean_meV_per_atom=float(mixing.abs().mean()),
            delta_mixing_min_meV_per_atom=float(mixing.min()),
            delta_mixing_max_meV_per_atom=float(mixing.max()),
        )
    return summary
