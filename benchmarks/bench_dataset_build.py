"""Benchmark (not a test): ``heo-dataset build`` against a row-by-row baseline.

Writes a LeMat-Bulk-schema parquet of synthetic rows to a temporary directory - default
200,000 rows in row groups of 1,000 (what ``datasets`` writes to the hub), ~0.03% of them
HEOs as in LeMat-Bulk (``--heo-fraction`` raises that), with realistic list columns
(elements, species_at_sites, positions, forces, magnetic moments) - and times, in one run:

* fast: ``heo-dataset build --source FILE --out fast.h5`` through ``dataset_builder.cli.main``
  in this process (median of ``--repeats`` runs; the first one pays the lazy imports), and
  once more as a command in a fresh interpreter (start-up and imports included);
* baseline: what a plain ``datasets`` iteration does - read every column, turn each row
  into a Python dict (``RecordBatch.to_pylist``), filter in Python, convert the kept rows
  and write the same HDF5 file (one run, in this process).

Both must keep the same immutable ids. Run::

    OMP_NUM_THREADS=1 python benchmarks/bench_dataset_build.py
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from ase.data import atomic_numbers

from dataset_builder.cli import main as main_cli
from dataset_builder.elements import METALS, element_counts, reduced_formula
from dataset_builder.lemat_parquet import lemat_stress_to_ase
from dataset_builder.synthetic import synthetic_lemat_table, write_lemat_parquet
from heo_base.dataset_file import read_table, write
from heo_base.splits import assign_splits_by_formula
from heo_base.structure_table import StructureTable, source_database


def _baseline_row(row: dict) -> dict | None:
    """The default HEO filter and conversion of one row dict, in plain Python."""
    elements = row["elements"]
    if "O" not in elements or len(elements) < 5 or any(e not in METALS for e in elements if e != "O"):
        return None
    forces, n_sites, energy = row["forces"], row["nsites"], row["energy"]
    if not forces or len(forces) != n_sites or any(f is None or len(f) != 3 for f in forces):
        return None
    if energy is None or not math.isfinite(energy):
        return None
    if not all(math.isfinite(x) for f in forces for x in f):
        return None
    species = row["species_at_sites"]
    stress = row["stress_tensor"]
    return {
        "numbers": [atomic_numbers[s] for s in species],
        "positions": np.array(row["cartesian_site_positions"], dtype=float),
        "forces": np.array(forces, dtype=float),
        "cell": np.array(row["lattice_vectors"], dtype=float),
        "pbc": [bool(d) for d in row["dimension_types"]],
        "energy": float(energy),
        "stress": None if stress is None else lemat_stress_to_ase(np.array(stress, dtype=float)),
        "immutable_id": row["immutable_id"],
        "source_db": source_database(row["immutable_id"]),
        "functional": row["functional"],
        "formula": row["chemical_formula_reduced"] or reduced_formula(element_counts(species)),
    }


def baseline_build(parquet: Path, out: Path) -> int:
    """Row-by-row build: every column of every row becomes Python objects."""
    kept = []
    for batch in pq.ParquetFile(parquet).iter_batches(batch_size=1000):
        for row in batch.to_pylist():
            converted = _baseline_row(row)
            if converted is not None:
                kept.append(converted)
    table = StructureTable.from_rows(kept)
    table.split = np.array(assign_splits_by_formula(list(table.formula)), dtype=object)
    write(out, table, attributes={"source": str(parquet), "builder": "baseline"})
    return len(table)


def fast_build(parquet: Path, out: Path) -> float:
    """Wall time (s) of ``heo-dataset build`` run in this process (``cli.main``)."""
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        status = main_cli(["build", "--source", str(parquet), "--out", str(out), "--no-progress"])
    if status != 0:
        raise SystemExit(f"heo-dataset build failed with status {status}")
    return time.perf_counter() - start


def fast_build_subprocess(parquet: Path, out: Path) -> float:
    """Wall time (s) of the ``heo-dataset build`` command in a fresh interpreter (start-up included)."""
    command = [
        sys.executable,
        "-m",
        "dataset_builder.cli",
        "build",
        "--source",
        str(parquet),
        "--out",
        str(out),
    ]
    start = time.perf_counter()
    subprocess.run([*command, "--no-progress"], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000, help="synthetic rows (default: %(default)s)")
    parser.add_argument(
        "--row-group-size",
        type=int,
        default=1_000,
        help="parquet rows per row group; 1,000 is what `datasets` writes to the hub (default: %(default)s)",
    )
    parser.add_argument(
        "--heo-fraction",
        type=float,
        default=0.0002,
        help="fraction of rows generated as HEOs; ~0.03%% of rows pass with the default (default: %(default)s)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of the fast build (default: %(default)s)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_heo_dataset_") as directory:
        directory = Path(directory)
        parquet = directory / "lemat_synthetic.parquet"
        start = time.perf_counter()
        table = synthetic_lemat_table(args.rows, heo_fraction=args.heo_fraction, seed=0)
        write_lemat_parquet(table, parquet, row_group_size=args.row_group_size)
        n_sites = int(np.sum(table.column("nsites").to_numpy()))
        del table
        print(
            f"synthetic parquet: {args.rows} rows, {n_sites} sites, {parquet.stat().st_size / 1e6:.0f} MB, "
            f"row groups of {args.row_group_size} rows (made in {time.perf_counter() - start:.1f} s)"
        )

        fast_times = [fast_build(parquet, directory / "fast.h5") for _ in range(args.repeats)]
        fast = statistics.median(fast_times)
        times = ", ".join(f"{t:.2f}" for t in fast_times)
        print(f"heo-dataset build   : {fast:7.2f} s in-process (median of {args.repeats}: {times})")
        cold = fast_build_subprocess(parquet, directory / "fast_cli.h5")
        print(f"heo-dataset build   : {cold:7.2f} s as a command (fresh interpreter, imports included)")

        start = time.perf_counter()
        n_baseline = baseline_build(parquet, directory / "baseline.h5")
        baseline = time.perf_counter() - start
        print(f"row-by-row baseline : {baseline:7.2f} s in-process")

        fast_ids = set(read_table(directory / "fast.h5").immutable_id)
        baseline_ids = set(read_table(directory / "baseline.h5").immutable_id)
        if fast_ids != baseline_ids:
            raise SystemExit(f"kept ids differ: fast {len(fast_ids)}, baseline {len(baseline_ids)}")
        print(
            f"both kept the same {n_baseline} structures; speed-up {baseline / fast:.1f}x in-process, "
            f"{baseline / cold:.1f}x against the command"
        )


if __name__ == "__main__":
    main()
