"""Regenerate the benchmark set shipped in ``benchmark_suite/benchmark_data/`` from the HEO dev data.

The packaged set is a subset of ``heo_lemat_dev.extxyz`` (1,292 HEO structures from
LeMat-Bulk ``compatible_pbe``, CC-BY-4.0; see ``benchmark_suite/benchmark_data/PROVENANCE.md``):

* **test**: every structure of the formula-disjoint test split (129 structures). The split
  is the project's convention, the same as ``heo-dataset build``'s default:
  :func:`heo_base.splits.assign_splits_by_formula` on pymatgen reduced formulas, fractions
  0.8/0.1/0.1, seed 0, over the whole source file.
* **fit pool** (train and valid structures for the per-element energy-reference fit): every
  train/valid structure with at most :data:`FIT_MAX_ATOMS` atoms (cheap to evaluate), then,
  for each element of the train/valid splits that is in fewer than
  :data:`FIT_MIN_PER_ELEMENT` pool structures, the smallest further train/valid structures
  containing it (ties in file order) until it is in that many or there are no more.

Each structure keeps its labels (``REF_energy``, eV; ``REF_forces``, eV/Å), its split
(``info["split"]``) and the id ``heo_lemat_dev-<index in the source file>``
(``info["immutable_id"]``; the id ``heo-dataset build`` and ``--heo-dataset`` give it too).
The file is extended XYZ, gzip-compressed with a zero time stamp and no file name, so the same
source and ASE version give the same bytes. Run from the repository root::

    python benchmarks/make_benchmark_set.py --source PATH/TO/heo_lemat_dev.extxyz
    python benchmarks/make_benchmark_set.py --source PATH/TO/heo_lemat_dev.extxyz --check
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ase import Atoms

from heo_base.atomic_write import atomic_output
from heo_base.labelled_data import load_labelled_structures
from heo_base.labels import ENERGY_KEY, FORCES_KEY, reduced_formula
from heo_base.splits import DEFAULT_SPLIT_FRACTIONS, assign_splits_by_formula

ROOT: Final = Path(__file__).resolve().parents[1]
DEFAULT_OUT: Final = ROOT / "benchmark_suite" / "benchmark_data" / "heo_benchmark.extxyz.gz"
#: Split convention (``heo-dataset build`` defaults, ``benchmark_suite.data``).
SPLIT_SEED: Final = 0
#: Every train/valid structure up to this size joins the fit pool.
FIT_MAX_ATOMS: Final = 16
#: Each element of the train/valid splits is topped up to this many pool structures.
FIT_MIN_PER_ELEMENT: Final = 5
ID_PREFIX: Final = "heo_lemat_dev"


def fit_pool(structures: Sequence[Atoms], splits: Sequence[str]) -> list[int]:
    """Indices (file order) of the train/valid structures of the energy-reference fit pool."""
    candidates = [i for i, split in enumerate(splits) if split in ("train", "valid")]
    elements = {i: set(structures[i].get_chemical_symbols()) for i in candidates}
    pool = {i for i in candidates if len(structures[i]) <= FIT_MAX_ATOMS}
    counts = Counter(e for i in pool for e in elements[i])
    for element in sorted({e for i in candidates for e in elements[i]}):
        extra = sorted(
            (i for i in candidates if i not in pool and element in elements[i]),
            key=lambda i: (len(structures[i]), i),
        )
        for i in extra[: max(0, FIT_MIN_PER_ELEMENT - counts[element])]:
            pool.add(i)
            counts.update(elements[i])
    return sorted(pool)


def benchmark_set(source: Path) -> list[Atoms]:
    """The packaged structures, in source-file order, with labels, split and id."""
    structures = load_labelled_structures(source)
    splits = assign_splits_by_formula(
        [reduced_formula(atoms) for atoms in structures], fractions=DEFAULT_SPLIT_FRACTIONS, seed=SPLIT_SEED
    )
    keep = set(fit_pool(structures, splits)) | {i for i, s in enumerate(splits) if s == "test"}
    selected = []
    for index in sorted(keep):
        atoms = structures[index]
        clean = Atoms(atoms.numbers, positions=atoms.positions, cell=atoms.cell, pbc=atoms.pbc)
        clean.info[ENERGY_KEY] = float(atoms.info[ENERGY_KEY])
        clean.info["immutable_id"] = f"{ID_PREFIX}-{index}"
        clean.info["split"] = splits[index]
        clean.arrays[FORCES_KEY] = atoms.arrays[FORCES_KEY]
        selected.append(clean)
    return selected


def encode(structures: Sequence[Atoms]) -> bytes:
    """Extended XYZ, gzip-compressed reproducibly (mtime 0, no file name in the header)."""
    from ase.io import write

    text = io.StringIO()
    write(text, list(structures), format="extxyz")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.write(text.getvalue().encode("utf-8"))
    return buffer.getvalue()


def describe(structures: Sequence[Atoms]) -> str:
    """Counts per split, atoms and elements: what PROVENANCE.md records."""
    lines = []
    for split in ("test", "train", "valid"):
        part = [a for a in structures if a.info["split"] == split]
        elements = {e for a in part for e in a.get_chemical_symbols()}
        lines.append(
            f"{split}: {len(part)} structures, {sum(len(a) for a in part)} atoms, {len(elements)} elements"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="heo_lemat_dev.extxyz (DFT_ labels)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: the packaged file")
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 unless --out already holds these bytes"
    )
    args = parser.parse_args(argv)
    print(f"source sha256 {hashlib.sha256(args.source.read_bytes()).hexdigest()}")
    structures = benchmark_set(args.source)
    data = encode(structures)
    print(describe(structures))
    print(f"output sha256 {hashlib.sha256(data).hexdigest()}, {len(data)} bytes")
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == data
        print(f"{args.out}: {'identical' if same else 'DIFFERENT'}")
        return 0 if same else 1
    with atomic_output(args.out) as temporary:
        temporary.write_bytes(data)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
