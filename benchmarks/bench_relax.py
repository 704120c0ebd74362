"""Relaxation throughput: the engine's strategies against the plain sequential ASE FIRE loop.

Relaxes N rattled (σ = 0.05 Å) 64-atom rock-salt (Mg,Co,Ni,Cu,Zn)O supercells to the same
fmax with each variant, for each calculator, in one run, and prints structures per minute,
their ratio to the plain loop, median steps, the energy difference of the final structures
and peak memory. Variants:

* ``plain``: FIRE, one structure after another, in one process (the usual ASE loop).
* ``sequential``: the engine's default optimizer (rescaled L-BFGS), one after another.
* ``fast``: ``relax_many``'s own choice (in this process on a CPU, lock-step on a GPU).
* ``processes``: one worker process per usable core, one torch thread each.
* ``lockstep``: every structure advances together, one batched model call per step.

Each variant runs in its own subprocess so that its peak memory (max RSS, including its
worker processes) and its start-up are its own; the start-up (imports, model build, first
call) is timed apart from the relaxation. With ``--out FILE`` every finished variant is
appended to FILE as one JSON line at once, so a run stopped at a time limit keeps what it
measured; ``--variant-timeout`` bounds each variant.

    python benchmarks/bench_relax.py --calc heo-ft,sevennet-0 --n 8
    python benchmarks/bench_relax.py --calc heo-ft --n 32 --variants plain,sequential,lockstep --out relax.jsonl
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

VARIANTS = ("plain", "sequential", "fast", "lockstep", "processes")


def _structures(n: int):
    from heo_calc.structures import rocksalt_heo_supercell

    return [rocksalt_heo_supercell(repeat=2, seed=seed, rattle=0.05) for seed in range(n)]


def run_variant(variant: str, calc: str, n: int, fmax: float, max_batch_atoms: int) -> dict:
    """Relax ``n`` structures with one variant in this process; timings in seconds."""
    began = time.perf_counter()
    from heo_calc.model import open_model
    from heo_calc.registry import get_calculator
    from heo_calc.relax import RelaxOptions, relax_many

    imported = time.perf_counter()
    calculator = get_calculator(calc)
    structures = _structures(n)
    warm = structures[0].copy()
    warm.calc = calculator
    warm.get_forces()  # first call: CUDA context, kernels, graph code paths
    ready = time.perf_counter()
    options = RelaxOptions(fmax=fmax)
    if variant == "plain":
        fire = RelaxOptions(fmax=fmax, optimizer="fire")
        results = relax_many(structures, calculator, fire, strategy="sequential", progress=False)
    elif variant == "sequential":
        results = relax_many(structures, calculator, options, strategy="sequential", progress=False)
    elif variant == "processes":
        from heo_calc.relax.strategies import usable_cores

        with open_model(calc, workers=usable_cores()) as model:
            results = relax_many(structures, model, options, progress=False)
    elif variant == "lockstep":
        results = relax_many(
            structures,
            calculator,
            options,
            strategy="lockstep",
            max_batch_atoms=max_batch_atoms,
            progress=False,
        )
    else:
        results = relax_many(structures, calculator, options, progress=False)
    elapsed = time.perf_counter() - ready
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    return {
        "variant": variant,
        "calc": calc,
        "n": n,
        "device": str(getattr(calculator, "device", "cpu")),
        "max_batch_atoms": max_batch_atoms if variant == "lockstep" else None,
        "import_s": imported - began,
        "startup_s": ready - imported,
        "seconds": elapsed,
        "structures_per_minute": 60 * n / elapsed,
        "steps": [r.n_steps for r in results],
        "converged": [r.converged for r in results],
        "energy_per_atom": [r.energy / len(r.atoms) for r in results],
        "peak_rss_mib": peak_kib / 1024,
    }


def _measure(variant: str, args: argparse.Namespace, calc: str) -> dict | None:
    command = [sys.executable, __file__, "--variant", variant, "--calc", calc]
    command += ["--n", str(args.n), "--fmax", str(args.fmax), "--max-batch-atoms", str(args.max_batch_atoms)]
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=args.variant_timeout
        )
    except subprocess.TimeoutExpired:
        print(f"{calc} {variant}: no result within {args.variant_timeout} s", file=sys.stderr, flush=True)
        return None
    except subprocess.CalledProcessError as error:
        print(f"{calc} {variant} failed:\n{error.stderr[-2000:]}", file=sys.stderr, flush=True)
        return None
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - started
    result["log_tail"] = completed.stderr[-1500:]
    print(
        f"{calc} {variant}: {result['structures_per_minute']:.2f} structures/min, relaxation "
        f"{result['seconds']:.1f} s, start-up {result['import_s'] + result['startup_s']:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    if args.out:
        with open(args.out, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(result) + "\n")
    return result


def _row(calc: str, variant: str, result: dict, plain: dict | None, n: int) -> str:
    ratio = result["structures_per_minute"] / plain["structures_per_minute"] if plain else float("nan")
    difference = (
        1000 * np.abs(np.array(result["energy_per_atom"]) - np.array(plain["energy_per_atom"]))
        if plain
        else np.array([np.nan])
    )
    return (
        f"| {calc} | {variant} | {result['structures_per_minute']:.2f} | **{ratio:.2f}x** | "
        f"{np.median(result['steps']):.0f} | {sum(result['converged'])}/{n} | "
        f"{np.nanmedian(difference):.2f} / {np.nanmax(difference):.2f} | "
        f"{result['import_s'] + result['startup_s']:.1f} | {result['peak_rss_mib']:.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calc", default="heo-ft,sevennet-0", help="comma-separated registry names")
    parser.add_argument("--n", type=int, default=8, help="number of 64-atom structures (default: 8)")
    parser.add_argument("--fmax", type=float, default=0.05, help="eV/Å (default: 0.05)")
    parser.add_argument(
        "--variants",
        default="plain,fast",
        help=f"comma-separated, of {', '.join(VARIANTS)} (default: plain,fast)",
    )
    parser.add_argument(
        "--max-batch-atoms", type=int, default=1024, help="atoms per batched call, lockstep (default: 1024)"
    )
    parser.add_argument("--out", help="append one JSON line per finished variant to this file")
    parser.add_argument(
        "--variant-timeout", type=float, default=None, help="seconds per variant (default: none)"
    )
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        import logging
        import warnings

        # FrechetCellFilter's matrix logarithm warns at every step on near-identity cells.
        warnings.filterwarnings("ignore", message="logm result may be inaccurate")
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        print(json.dumps(run_variant(args.variant, args.calc, args.n, args.fmax, args.max_batch_atoms)))
        return
    variants = [v for v in args.variants.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(sorted(unknown))}; choose from {', '.join(VARIANTS)}")
    rows = []
    for calc in args.calc.split(","):
        results = {variant: _measure(variant, args, calc) for variant in variants}
        plain = results.get("plain")
        rows += [_row(calc, v, r, plain, args.n) for v, r in results.items() if r is not None]
    from heo_calc.relax.strategies import usable_cores

    print(
        f"\n{args.n} rattled (σ = 0.05 Å) 64-atom rock-salt (Mg,Co,Ni,Cu,Zn)O, fmax {args.fmax} eV/Å, "
        f"FrechetCellFilter, {usable_cores()} usable CPU cores; relaxation time excludes start-up"
    )
    print(
        "| calculator | variant | structures/min | vs plain | median steps | converged "
        "| |ΔE| vs plain, median / max (meV/atom) | start-up (s) | peak RSS (MiB) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
