"""Relaxation throughput: the fast engine against the plain sequential ASE FIRE loop.

Relaxes N rattled (σ = 0.05 Å) 64-atom rock-salt (Mg,Co,Ni,Cu,Zn)O supercells to the same
fmax with both, for each calculator, in one run, and prints structures per minute, their
ratio, median steps, the energy difference of the final structures and peak memory.
Each variant runs in its own subprocess so that its peak memory (max RSS, including its
worker processes) is its own.

    python benchmarks/bench_relax.py --calc heo-ft,sevennet-0 --n 8
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np


def _structures(n: int):
    from heo_calc.structures import rocksalt_heo_supercell

    return [rocksalt_heo_supercell(repeat=2, seed=seed, rattle=0.05) for seed in range(n)]


def run_variant(variant: str, calc: str, n: int, fmax: float) -> dict:
    from heo_calc.relax import relax_many

    structures = _structures(n)
    started = time.perf_counter()
    if variant == "plain":
        # The seed project's loop: one structure after another, FIRE, in this process.
        results = relax_many(structures, calc, fmax=fmax, optimizer="fire", batched=False, progress=False)
    else:
        results = relax_many(structures, calc, fmax=fmax, progress=False)
    elapsed = time.perf_counter() - started
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "variant": variant,
        "calc": calc,
        "seconds": elapsed,
        "structures_per_minute": 60 * n / elapsed,
        "steps": [r.n_steps for r in results],
        "converged": [r.converged for r in results],
        "energy_per_atom": [r.energy / len(r.atoms) for r in results],
        "peak_rss_mib": peak_kib / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calc", default="heo-ft,sevennet-0", help="comma-separated registry names")
    parser.add_argument("--n", type=int, default=8, help="number of 64-atom structures (default: 8)")
    parser.add_argument("--fmax", type=float, default=0.05, help="eV/Å (default: 0.05)")
    parser.add_argument("--variant", choices=["plain", "fast"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.calc, args.n, args.fmax)))
        return
    rows = []
    for calc in args.calc.split(","):
        outcome = {}
        for variant in ("plain", "fast"):
            command = [
                sys.executable,
                __file__,
                "--variant",
                variant,
                "--calc",
                calc,
                "--n",
                str(args.n),
                "--fmax",
                str(args.fmax),
            ]
            completed = subprocess.run(command, capture_output=True, text=True, check=True)
            outcome[variant] = json.loads(completed.stdout.strip().splitlines()[-1])
        plain, fast = outcome["plain"], outcome["fast"]
        energy_difference = 1000 * np.abs(
            np.array(fast["energy_per_atom"]) - np.array(plain["energy_per_atom"])
        )
        rows.append(
            f"| {calc} | {plain['structures_per_minute']:.2f} | {fast['structures_per_minute']:.2f} | "
            f"**{fast['structures_per_minute'] / plain['structures_per_minute']:.2f}x** | "
            f"{np.median(plain['steps']):.0f} / {np.median(fast['steps']):.0f} | "
            f"{sum(plain['converged'])}/{args.n} / {sum(fast['converged'])}/{args.n} | "
            f"{np.median(energy_difference):.2f} / {energy_difference.max():.2f} | "
            f"{plain['peak_rss_mib']:.0f} / {fast['peak_rss_mib']:.0f} |"
        )
        print(rows[-1], flush=True)
    print()
    from heo_calc.parallel import default_worker_count

    print(
        f"{args.n} rattled (σ = 0.05 Å) 64-atom rock-salt (Mg,Co,Ni,Cu,Zn)O, fmax {args.fmax} eV/Å, "
        f"FrechetCellFilter, {default_worker_count()} usable CPU cores"
    )
    print(
        "| calculator | plain FIRE (structures/min) | fast engine (structures/min) | ratio | median steps plain / fast "
        "| converged plain / fast | |ΔE| median / max (meV/atom) | peak RSS plain / fast (MiB) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
