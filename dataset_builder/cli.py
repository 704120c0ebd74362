"""``heo-dataset``: build, export and report the HEO training dataset.

Thin argparse layer over :mod:`dataset_builder.build`, :mod:`~dataset_builder.export`
and :mod:`~dataset_builder.report`; heavy imports happen inside the commands so that
``--help`` is instant. Expected failures print one line ``heo-dataset: error: …`` and
exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from heo_base.splits import DEFAULT_SPLIT_FRACTIONS

PROG = "heo-dataset"
EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line, like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{PROG}: error: {message} (see `{self.prog} --help`)\n")


def _elements(values: Sequence[str]) -> tuple[str, ...]:
    """``["Ru,Rh", "Pd"] -> ("Ru", "Rh", "Pd")``: space or comma separated symbols."""
    return tuple(symbol for value in values for symbol in value.replace(",", " ").split())


def _add_build(subparsers: argparse._SubParsersAction) -> None:
    """Add ``heo-dataset build`` and its options (source, output, HEO filter, splits, labels).

    Longer than the usual 60 lines on purpose: it is a flat, declarative list of options,
    which reads best in one place, next to the help text the user sees; splitting it
    would only scatter the option groups across functions.
    """
    parser = subparsers.add_parser(
        "build",
        help="select HEOs from LeMat-Bulk (or an extxyz file) and write the HDF5 dataset",
        description=(
            "Scan a source for high-entropy oxides and write them, with train/valid/test splits grouped by "
            "reduced formula, to one HDF5 file. Kept: contains O, at least --min-elements distinct elements, "
            "every other element a metal (metalloids B Si Ge As Sb Te are not), forces present with one "
            "vector per site and no NaN. Units in the file: Å, eV, eV/Å, eV/Å^3."
        ),
    )
    parser.add_argument(
        "--source",
        default="hf",
        metavar="SRC",
        help=(
            "'hf' = LeMaterial/LeMat-Bulk config compatible_pbe read from the Hugging Face hub (needs "
            "heo-relax[hf] and internet); or a local LeMat-Bulk parquet file, directory or glob; or an "
            "extended-XYZ file (default: %(default)s)"
        ),
    )
    parser.add_argument(
        "--out", required=True, metavar="PATH", help="HDF5 file to write, e.g. heo.h5 (atomic write)"
    )
    group = parser.add_argument_group("HEO filter")
    group.add_argument(
        "--min-elements",
        type=int,
        default=5,
        metavar="N",
        help="minimum distinct elements, O included (default: %(default)s)",
    )
    group.add_argument(
        "--min-cations",
        type=int,
        default=0,
        metavar="N",
        help="minimum distinct cation (non-O) elements (default: %(default)s, i.e. only --min-elements)",
    )
    group.add_argument(
        "--min-config-entropy",
        type=float,
        default=None,
        metavar="S",
        help=(
            "minimum ideal mixing entropy of the cation sublattice, -sum x ln x over cation site fractions, "
            "in units of R (HEOs: usually >= 1.5; default: no limit)"
        ),
    )
    group.add_argument(
        "--equimolar-tol",
        type=float,
        default=None,
        metavar="T",
        help="maximum |x_i - 1/n_cations| of any cation site fraction, dimensionless (default: no limit)",
    )
    group.add_argument(
        "--exclude-elements",
        nargs="+",
        default=[],
        metavar="EL",
        help="drop structures containing any of these elements, e.g. Ru Rh Pd Ag Os Ir Pt Au (default: none)",
    )
    group.add_argument(
        "--functional",
        default=None,
        help="keep only this functional, case-insensitive, e.g. pbe (default: all)",
    )
    group.add_argument(
        "--dedup",
        action="store_true",
        help=(
            "drop structures that pymatgen's StructureMatcher matches to one with the same reduced formula "
            "from another source database; keeps mp, then alexandria, then oqmd (default: off)"
        ),
    )
    splits = parser.add_argument_group("splits")
    splits.add_argument(
        "--split-fractions",
        nargs=3,
        type=float,
        default=DEFAULT_SPLIT_FRACTIONS,
        metavar=("TRAIN", "VALID", "TEST"),
        help=(
            "fractions of structures, grouped by reduced formula "
            f"(default: {' '.join(str(f) for f in DEFAULT_SPLIT_FRACTIONS)})"
        ),
    )
    splits.add_argument(
        "--seed", type=int, default=0, help="seed of the split shuffle (default: %(default)s)"
    )
    labels = parser.add_argument_group("labels")
    labels.add_argument(
        "--energy-key",
        default=None,
        help=(
            "total-energy column (parquet; default: energy, uncorrected eV; energy_corrected = MP2020-corrected) "
            "or info key (extxyz; default: detected from REF_energy, DFT_energy, energy, ...)"
        ),
    )
    labels.add_argument(
        "--forces-key",
        default=None,
        help="forces column (parquet; default: forces) or arrays key (extxyz; default: detected), eV/Å",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(handler=_run_build)


def _add_export(subparsers: argparse._SubParsersAction) -> None:
    """Add ``heo-dataset export`` (one split of a dataset file as extended XYZ)."""
    parser = subparsers.add_parser(
        "export",
        help="write one split as extended XYZ with REF_ keys (for mace_run_train)",
        description=(
            "Write structures of a heo-dataset HDF5 file to extended XYZ with info REF_energy (eV), arrays "
            "REF_forces (eV/Å) and info REF_stress (Voigt-6 xx yy zz yz xz xy, eV/Å^3, where known): the keys "
            "mace_run_train reads with --energy_key REF_energy --forces_key REF_forces --stress_key REF_stress."
        ),
    )
    parser.add_argument("h5", metavar="H5", help="the heo-dataset .h5 file")
    parser.add_argument(
        "--split",
        choices=("train", "valid", "test"),
        default=None,
        help="split to export (default: all structures)",
    )
    parser.add_argument("--out", required=True, metavar="PATH", help="extxyz file to write (atomic write)")
    parser.set_defaults(handler=_run_export)


def _add_report(subparsers: argparse._SubParsersAction) -> None:
    """Add ``heo-dataset report`` (figures and summary.md of a dataset file)."""
    parser = subparsers.add_parser(
        "report",
        help="plots (PNG) and a markdown summary of a dataset file",
        description=(
            "Write element frequency, elements per structure, a PCA map of compositions, sample structures, "
            "energy per atom (eV/atom) and force magnitude (eV/Å) figures, plus summary.md (counts per source, "
            "split, number of elements, dropped rows) to DIR."
        ),
    )
    parser.add_argument("h5", metavar="H5", help="the heo-dataset .h5 file")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for the report (created)")
    parser.add_argument(
        "--samples",
        type=int,
        default=4,
        metavar="N",
        help="structures drawn in sample_structures.png (default: 4)",
    )
    parser.set_defaults(handler=_run_report)


def make_parser() -> argparse.ArgumentParser:
    """The ``heo-dataset`` argument parser (subcommands build, export, report)."""
    parser = _Parser(
        prog=PROG,
        description=(
            "Curate a high-entropy-oxide training set from LeMat-Bulk (CC-BY-4.0) into a documented HDF5 file "
            "(docs/dataset.md). Units: Å, eV, eV/Å, eV/Å^3."
        ),
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress messages (INFO level)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="{build,export,report}")
    subparsers._parser_class = _Parser  # subcommand errors are one line as well
    _add_build(subparsers)
    _add_export(subparsers)
    _add_report(subparsers)
    return parser


def _run_build(args: argparse.Namespace) -> None:
    """Build the dataset from the parsed options and print one summary line."""
    from dataset_builder.build import build_dataset, format_dropped
    from dataset_builder.heo_filter import HEOFilter
    from heo_base.errors import HEODataError

    if Path(args.out).is_dir():  # before hours of reading: the rename at the end would fail
        raise HEODataError(
            f"--out {args.out} is a folder; give the HDF5 file to write, e.g. {Path(args.out) / 'heo.h5'}"
        )
    heo_filter = HEOFilter(
        min_elements=args.min_elements,
        min_cations=args.min_cations,
        min_config_entropy=args.min_config_entropy,
        equimolar_tol=args.equimolar_tol,
        exclude_elements=_elements(args.exclude_elements),
        functional=args.functional,
    )
    summary = build_dataset(
        args.source,
        args.out,
        heo_filter=heo_filter,
        split_fractions=tuple(args.split_fractions),
        seed=args.seed,
        dedup=args.dedup,
        energy_key=args.energy_key,
        forces_key=args.forces_key,
        progress=not args.no_progress,
    )
    splits = ", ".join(f"{name} {count}" for name, count in summary.split_counts.items())
    print(
        f"wrote {summary.n_kept} structures ({splits}) of {summary.n_scanned} rows read to {summary.out}; "
        f"dropped: {format_dropped(summary.dropped)}"
    )


def _run_export(args: argparse.Namespace) -> None:
    """Export the chosen split and print how many structures were written."""
    from dataset_builder.export import export_extxyz

    count = export_extxyz(args.h5, args.out, split=args.split)
    print(f"wrote {count} structures (split {args.split or 'all'}) to {args.out}")


def _run_report(args: argparse.Namespace) -> None:
    """Write the report and print the files written."""
    from dataset_builder.report import write_report

    paths = write_report(args.h5, args.out, n_samples=args.samples)
    print(f"wrote {len(paths)} files to {args.out}: {', '.join(p.name for p in paths)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``heo-dataset``; returns the exit status (0 ok, 2 error, 130 interrupted)."""
    args = make_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    from heo_base.errors import HEODataError

    try:
        args.handler(args)
    except (HEODataError, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; no output file was written or replaced", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
