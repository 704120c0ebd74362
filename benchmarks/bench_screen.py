"""Screen throughput: compositions per hour in this process against a two-worker Dask LocalCluster.

Five-cation rock-salt compositions (every 5-subset of ``--pool``, the first ``--n``), one SQS
realization each on 40 cation sites (80 atoms), relaxed with ``--calc`` to ``--fmax``. The
parent references are relaxed once beforehand (in this process, cached, then copied to the
cluster run's folder) and are not part of either rate. Timed for each way: the whole
``run_screen`` call, i.e. the model build (here once; on the cluster once per worker, inside
the first task), the SQS searches, the relaxations and the output files. Not timed: starting
the LocalCluster (2 worker processes, 1 thread each; ``processes=True``).

    python benchmarks/bench_screen.py --calc heo-ft --n 4 --out runs/bench-screen

Prints one line per way and writes ``bench_screen.json`` in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import time
from pathlib import Path


def _machine() -> dict:
    import torch

    return {
        "cores": len(os.sched_getaffinity(0)),
        "load_average": os.getloadavg(),
        "torch_threads": torch.get_num_threads(),
    }


def _parents_beforehand(compositions, settings, out: Path, client) -> float:
    from heo_calc.model import open_model
    from heo_calc.screening.references import relax_parents

    cations = sorted({c for composition in compositions for c in composition.cations})
    started = time.perf_counter()
    with open_model(settings.calculator, device=settings.device, executor=client) as model:
        parents = relax_parents(cations, settings, model, out / "parents-beforehand", progress=False)
    seconds = time.perf_counter() - started
    failed = [p.formula for p in parents.values() if not p.usable]
    if failed:
        raise SystemExit(f"parents failed to relax: {failed}")
    for way in ("sequential", "dask"):
        shutil.copytree(out / "parents-beforehand" / "parents", out / way / "parents", dirs_exist_ok=True)
    client.restart()  # the timed cluster run builds its models again, as the run in this process does
    return seconds


def _timed(compositions, settings, out: Path, **where) -> dict:
    from heo_calc.screening import run_screen

    started = time.perf_counter()
    result = run_screen(compositions, settings, out, progress=False, **where)
    seconds = time.perf_counter() - started
    summaries = [record.summary for record in result.records]
    return {
        "engine": result.engine,
        "seconds": seconds,
        "compositions_per_hour": 3600.0 * len(compositions) / seconds,
        "steps": [s.n_steps_mean for s in summaries],
        "mixing_energy_meV_per_atom": {s.composition: s.mixing_energy_meV_per_atom_mean for s in summaries},
        "statuses": [str(s.status) for s in summaries],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calc", default="heo-ft")
    parser.add_argument("--pool", default="Mg,Co,Ni,Cu,Zn,Fe", help="cations; 5-subsets are screened")
    parser.add_argument("--n", type=int, default=4, help="compositions per way (default: 4)")
    parser.add_argument("--fmax", type=float, default=0.05)
    parser.add_argument("--out", default="runs/bench-screen")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from distributed import Client, LocalCluster

    from heo_calc.relax import RelaxOptions
    from heo_calc.screening import ScreenSettings, pool_compositions

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    compositions = pool_compositions(args.pool, 5)[: args.n]
    settings = ScreenSettings(
        lattice="rocksalt",
        calculator=args.calc,
        realizations=1,
        sites=40,
        relax=RelaxOptions(fmax=args.fmax),
        device="cpu",
    )
    report = {
        "calculator": args.calc,
        "compositions": [c.label for c in compositions],
        "machine_before": _machine(),
    }
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, Client(cluster) as client:
        report["parents_seconds"] = _parents_beforehand(compositions, settings, out, client)
        print(
            f"parents relaxed beforehand in {report['parents_seconds']:.0f} s (not in the rates)", flush=True
        )
        report["sequential"] = _timed(compositions, settings, out / "sequential")
        print(
            f"in this process: {report['sequential']['compositions_per_hour']:.1f} compositions/hour",
            flush=True,
        )
        report["dask"] = _timed(compositions, settings, out / "dask", executor=client)
        print(
            f"Dask LocalCluster, 2 workers: {report['dask']['compositions_per_hour']:.1f} compositions/hour",
            flush=True,
        )
    report["machine_after"] = _machine()
    (out / "bench_screen.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
