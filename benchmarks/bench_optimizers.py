"""Force calls to convergence: FIRE against L-BFGS/BFGS with several initial Hessian guesses.

How :data:`heo_calc.relax.INITIAL_HESSIAN_EV_PER_A2` and the default optimizer were chosen:
``lbfgs`` (L-BFGS whose initial Hessian is rescaled to the measured curvature every step,
:class:`heo_calc.relax.ScaledLBFGS`) against ``ase-lbfgs`` (ASE's, which keeps the
guess) and ``bfgs``. Every relaxation goes
through :func:`heo_calc.relax_many` (sequential, FrechetCellFilter, same fmax), on
structures of several kinds so that no single lattice decides:

* rattled (σ = 0.05 Å) 64-atom rock-salt (Mg,Co,Ni,Cu,Zn)O supercells,
* the benchmark suite's equimolar spinel, fluorite and perovskite substitution cells,
* rattled (σ = 0.05 Å) LeMat-Bulk HEOs of 20-80 atoms from ``--data`` (if given).

Each optimizer step costs one force call here, so steps are force calls (minus one). Prints
one row per structure and optimizer and the median steps per optimizer, and the final
energy difference to FIRE (meV/atom).

    OMP_NUM_THREADS=1 python benchmarks/bench_optimizers.py --calc sevennet-0 \\
        --data heo_lemat_dev.extxyz --alphas 70,15,10
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np


def _structures(data: str | None, n_data: int, n_rocksalt: int):
    from ase.io import read

    from benchmark_suite.tasks.substitution_cells import substituted_structure
    from heo_calc.structures import rocksalt_heo_supercell
    from heo_calc.structures.perturb import rattle

    structures = []
    for seed in range(n_rocksalt):
        atoms = rocksalt_heo_supercell(repeat=2, seed=seed, rattle=0.05)
        atoms.info["name"] = f"rocksalt-{seed}"
        structures.append(atoms)
    for lattice, n_sites in [("spinel", 30), ("fluorite", 20), ("perovskite", 20)]:
        atoms = substituted_structure(lattice, n_sites, seed=0).atoms
        atoms.info["name"] = lattice
        structures.append(atoms)
    if data:
        candidates = [atoms for atoms in read(data, index=":") if 20 <= len(atoms) <= 80]
        for index in np.random.default_rng(0).choice(len(candidates), n_data, replace=False):
            atoms = candidates[index].copy()
            atoms.calc = None
            atoms = rattle(atoms, 0.05, np.random.RandomState(int(index)))  # ASE's stream, as in the results
            atoms.info = {"name": f"lemat-{atoms.get_chemical_formula()}"}
            structures.append(atoms)
    return structures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calc", default="sevennet-0", help="registry name (default: sevennet-0)")
    parser.add_argument("--data", help="extxyz of HEOs to rattle and relax too")
    parser.add_argument("--n-data", type=int, default=3, help="structures taken from --data (default: 3)")
    parser.add_argument("--n-rocksalt", type=int, default=2, help="rock-salt supercells (default: 2)")
    parser.add_argument("--alphas", default="70,15,10", help="initial Hessian guesses, eV/Å² (70 = ASE's)")
    parser.add_argument("--fmax", type=float, default=0.05, help="eV/Å (default: 0.05)")
    args = parser.parse_args()

    from heo_calc.registry import get_calculator
    from heo_calc.relax import RelaxOptions, relax_many

    calculator = get_calculator(args.calc)
    structures = _structures(args.data, args.n_data, args.n_rocksalt)
    variants = [("fire", 0.0)] + [
        (optimizer, float(alpha))
        for alpha in args.alphas.split(",")
        for optimizer in ("lbfgs", "ase-lbfgs", "bfgs")
    ]
    steps: dict[str, list[int]] = defaultdict(list)
    energy_vs_fire: dict[str, list[float]] = defaultdict(list)
    print("| structure | atoms | optimizer | steps | converged | E - E(FIRE) (meV/atom) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for atoms in structures:
        fire_energy = None
        for optimizer, alpha in variants:
            label = optimizer if optimizer == "fire" else f"{optimizer} α={alpha:g}"
            hessian = {"initial_hessian": alpha} if alpha else {}
            options = RelaxOptions(fmax=args.fmax, optimizer=optimizer, **hessian)
            (result,) = relax_many([atoms], calculator, options, strategy="sequential", progress=False)
            energy = result.energy / len(atoms)
            fire_energy = energy if optimizer == "fire" else fire_energy
            difference = 1000 * (energy - fire_energy)
            steps[label].append(result.n_steps)
            energy_vs_fire[label].append(abs(difference))
            print(
                f"| {result.name} | {len(atoms)} | {label} | {result.n_steps} | {result.converged} | {difference:+.2f} |",
                flush=True,
            )
    print()
    print("| optimizer | median steps | total steps | max \\|E - E(FIRE)\\| (meV/atom) |")
    print("| --- | --- | --- | --- |")
    for label, counts in steps.items():
        print(f"| {label} | {np.median(counts):g} | {sum(counts)} | {max(energy_vs_fire[label]):.2f} |")


if __name__ == "__main__":
    main()
