"""Stiffness figures of finetune candidates (K of the heo-ft 0.4 rule, docs/finetuning.md).

    OMP_NUM_THREADS=2 python benchmarks/candidate_stiffness.py runs/heo.h5 sevennet-0 heo-ft \\
        sevennet:runs/hs0/finetuned.pth --out runs/stiffness.jsonl

Per calculator: K1, the bulk moduli (GPa) of the rock-salt binaries MgO, CaO, MnO, CoO, NiO
(8-atom cubic cells, :func:`heo_calc.forgetting.study.binary_bulk_modulus`) and their mean
|B/B_exp − 1| against :data:`heo_calc.structures.experimental.EXPERIMENTAL_BULK_MODULI`; K2, the
bulk moduli of three DFT-relaxed cells of the ``valid`` split chosen without any model (max
|F_DFT| < 0.01 eV/Å, ≤ 40 atoms, ≥ 4 distinct cations; the three with the most atoms, ties in
file order). E(V) over ±2 % around each model's own minimum (:mod:`heo_calc.bulk_modulus`). One
JSON line per calculator, appended as it finishes; calculators already there are skipped.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from candidate_records import append_missing

from heo_base.labelled_data import load_labelled_structures
from heo_base.labels import FORCES_KEY
from heo_calc.bulk_modulus import bulk_modulus
from heo_calc.forgetting.study import binary_bulk_modulus
from heo_calc.provenance import model_identity
from heo_calc.registry import get_calculator
from heo_calc.structures.experimental import EXPERIMENTAL_BULK_MODULI

#: The rock-salt binaries of K1, by cation.
K1_CATIONS = ("Mg", "Ca", "Mn", "Co", "Ni")


def k2_cells(structures: list, n_cells: int = 3, max_atoms: int = 40, min_cations: int = 4) -> list:
    """The K2 cells: DFT-relaxed, small enough, with enough cations; the ``n_cells`` largest (stable sort)."""
    eligible = [
        atoms
        for atoms in structures
        if np.abs(atoms.arrays[FORCES_KEY]).max() < 0.01
        and len(atoms) <= max_atoms
        and len(set(atoms.get_chemical_symbols()) - {"O"}) >= min_cations
    ]
    return sorted(eligible, key=len, reverse=True)[:n_cells]


def stiffness_figures(name: str, cells: list) -> dict:
    calculator = get_calculator(name, device="cpu")
    started = time.perf_counter()
    k1 = {f"{cation}O": binary_bulk_modulus(cation, calculator) for cation in K1_CATIONS}
    deviation = [abs(k1[oxide] / EXPERIMENTAL_BULK_MODULI[oxide].b - 1) for oxide in k1]
    k2 = {}
    for atoms in cells:
        try:
            k2[str(atoms.info.get("immutable_id"))] = bulk_modulus(atoms, calculator).bulk_modulus_gpa
        except ValueError as error:
            print(f"{name}: {atoms.info.get('immutable_id')}: {error}", flush=True)
            k2[str(atoms.info.get("immutable_id"))] = float("nan")
    return {
        "calculator": name,
        "identity": model_identity(calculator, name),
        "k1_bulk_moduli_GPa": k1,
        "k1_mean_abs_relative_to_exp": float(np.mean(deviation)),
        "k2_bulk_moduli_GPa": k2,
        "k2_formulas": {str(a.info.get("immutable_id")): a.get_chemical_formula() for a in cells},
        "wall_time_s": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="heo.h5 from heo-dataset build")
    parser.add_argument("calculators", nargs="+", help="registry names")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--out", required=True, help="JSON lines, appended per calculator")
    args = parser.parse_args()
    cells = k2_cells(load_labelled_structures(args.data, split=args.split))
    append_missing(Path(args.out), args.calculators, lambda name: stiffness_figures(name, cells))


if __name__ == "__main__":
    main()
