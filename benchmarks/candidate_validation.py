"""Validation figures of finetune candidates (the heo-ft 0.4 rule, docs/finetuning.md): F, E and V.

    OMP_NUM_THREADS=1 python benchmarks/candidate_validation.py runs/heo.h5 sevennet-0 heo-ft \\
        sevennet:runs/zs-s0/finetuned.pth --out runs/validation.jsonl

Per calculator, on the ``valid`` split (never test): force RMSE (meV/Å, per component) and
energy MAE (meV/atom) from heo_calc's own evaluation, and the median |ΔV| (%) of the split's
DFT-relaxed structures (max |F| < 0.01 eV/Å, at most ``--max-atoms``) relaxed in their space
group from a symmetric rattle and strain, by the benchmark's own task
(:func:`benchmark_suite.tasks.run_rattle_relax`). One JSON line per calculator is appended to
``--out`` as soon as it is done, with the model identity; calculators already there (same
identity) are skipped, so a killed run resumes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from candidate_records import append_missing

from benchmark_suite.profiles import PROFILES
from benchmark_suite.tasks import rattle_settings, run_rattle_relax
from heo_base.labelled_data import load_labelled_structures
from heo_base.labels import FORCES_KEY
from heo_calc.evaluation import evaluate_structures, summarize_accuracy
from heo_calc.registry import get_calculator


def _identity(calculator, name: str) -> dict:
    try:
        from heo_calc.provenance import model_identity
    except ImportError:  # older checkout: the registry's stamp is all there is
        return {"name": name, **{k: str(v) for k, v in calculator.parameters.items()}}
    return model_identity(calculator, name)


def validation_figures(name: str, structures: list, cells: list, fmax: float) -> dict:
    """F, E (all structures) and V (DFT-relaxed cells in their symmetry) of one calculator."""
    calculator = get_calculator(name, device="cpu")
    started = time.perf_counter()
    summary = summarize_accuracy(evaluate_structures(calculator, structures))
    rattle = run_rattle_relax(
        calculator,
        name,
        cells,
        (),
        # The task's own settings of the full profile (1000 steps), at this fmax, structure by structure.
        rattle_settings(PROFILES["full"], engine="sequential", from_dft=False, fmax=fmax),
    )
    rows = rattle.rows[rattle.rows["status"] != "failed"]
    return {
        "calculator": name,
        "identity": _identity(calculator, name),
        "force_rmse_meV_per_A": float(summary.force_rmse),
        "energy_mae_meV_per_atom": float(summary.energy_mae),
        "abs_volume_change_median_pct": float(np.median(rows["abs_volume_change_pct"])),
        "abs_volume_change_mean_pct": float(np.mean(rows["abs_volume_change_pct"])),
        "volume_change_median_pct": float(np.median(rows["volume_change_pct"])),
        "n_structures": len(structures),
        "n_relaxed_cells": len(cells),
        "n_relaxations_failed": int((rattle.rows["status"] == "failed").sum()),
        "n_not_converged": int((rattle.rows["status"] == "not_converged").sum()),
        "wall_time_s": time.perf_counter() - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="heo.h5 from heo-dataset build")
    parser.add_argument("calculators", nargs="+", help="registry names")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--out", required=True, help="JSON lines, appended per calculator")
    parser.add_argument("--max-atoms", type=int, default=40)
    parser.add_argument("--fmax", type=float, default=0.005, help="eV/Å (the benchmark's symmetric_fmax)")
    args = parser.parse_args()
    structures = load_labelled_structures(args.data, split=args.split)
    cells = [
        atoms.copy()
        for atoms in structures
        if np.abs(atoms.arrays[FORCES_KEY]).max() < 0.01 and len(atoms) <= args.max_atoms
    ]
    for index, atoms in enumerate(cells):
        atoms.info["name"] = str(atoms.info.get("immutable_id", f"{args.split}-{index}"))
    append_missing(
        Path(args.out), args.calculators, lambda name: validation_figures(name, structures, cells, args.fmax)
    )


if __name__ == "__main__":
    main()
