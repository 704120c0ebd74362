"""``heo-calc select``: the frames a committee is least sure about, for DFT labelling."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from heo_base.types import DEVICES
from heo_calc.cli._common import CLIError

#: Files of an earlier selection in the output directory, replaced by --force.
_OUTPUTS = ("selected.extxyz", "selection.csv")


def add_parser(subparsers) -> None:
    """Register the command."""
    command = subparsers.add_parser(
        "select",
        help="rank frames by committee force spread and write the most uncertain for DFT",
        description="Evaluate a committee on every frame of FILE... (relaxation trajectories .traj, "
        "extxyz, anything ASE reads), rank the frames by their largest per-atom force spread (eV/Å), "
        "drop near-duplicates of frames already picked (same atoms in the same order, no atom or cell "
        "vector moved by more than --duplicate-tolerance Å) and write the --top most uncertain to --out: "
        "selected.extxyz, NNN-<file>-frame<k>/POSCAR (VASP) and selection.csv (every frame: its rank, "
        "spreads, energy std and why it was or was not picked). With fewer distinct frames than --top, "
        "all distinct frames are written and a note says so (exit status 0). The committee's identity "
        "(members' weights files and SHA-256, dtype, versions) is in selected.extxyz's info (model_* "
        "keys) and in selection.csv's model_* columns.",
    )
    command.add_argument(
        "files", nargs="+", metavar="FILE", help="structure files (.traj, extxyz, POSCAR, ...)"
    )
    command.add_argument(
        "--calc",
        default="heo-ft-committee",
        help="a committee calculator, one that reports results['forces_std'] (default: heo-ft-committee)",
    )
    command.add_argument("--top", type=int, required=True, metavar="N", help="how many frames to pick")
    command.add_argument("--out", required=True, metavar="DIR", help="output directory")
    command.add_argument(
        "--duplicate-tolerance",
        type=float,
        default=0.05,
        metavar="Å",
        help="frames of the same atoms within this distance (largest atom or cell-vector difference, "
        "rigid translation removed) of a picked frame are near-duplicates (default: 0.05 Å)",
    )
    command.add_argument(
        "--force", action="store_true", help="replace an earlier selection in --out (default: refuse)"
    )
    command.add_argument(
        "--device", choices=DEVICES, default="auto", help="auto, cpu or cuda (default: auto)"
    )
    command.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    command.set_defaults(handler=run)


def _earlier_selection(out: Path, force: bool) -> list[Path]:
    """The files of an earlier selection in ``out``; refused (CLIError) unless ``force``."""
    earlier = [out / name for name in _OUTPUTS if (out / name).exists()]
    earlier += [path.parent for path in out.glob("[0-9][0-9][0-9]-*/POSCAR")]
    if earlier and not force:
        raise CLIError(
            f"{out} already holds a selection ({earlier[0].name}); choose another --out or pass --force"
        )
    return earlier


def _remove(paths: list[Path]) -> None:
    import shutil

    for path in paths:
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def run(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise CLIError(f"--top must be at least 1, got {args.top}")
    if not args.duplicate_tolerance >= 0:
        raise CLIError(f"--duplicate-tolerance must be >= 0 Å, got {args.duplicate_tolerance}")
    from heo_calc.provenance import model_identity
    from heo_calc.registry import get_calculator
    from heo_calc.selection import read_frames, require_spread, score_frames, select_frames, write_selection

    frames = read_frames(args.files)  # missing or unreadable files fail before any model is built
    out = Path(args.out)
    earlier = _earlier_selection(out, args.force)
    calculator = get_calculator(args.calc, device=args.device)
    require_spread(calculator, f"calculator {args.calc!r}")
    scored = score_frames(calculator, frames, progress=not args.quiet)
    ranked = select_frames(scored, args.top, tolerance=args.duplicate_tolerance)
    _remove(earlier)  # only now: a run that fails earlier leaves the earlier selection as it was
    written = write_selection(ranked, out, model_identity(calculator, args.calc))
    picked = [s for s in ranked if s.selected]
    n_duplicates = sum(bool(s.duplicate_of) for s in ranked)
    n_failed = sum(bool(s.error) for s in ranked)
    for frame in picked:
        print(
            f"{frame.pick:3d}. {frame.frame.label}: max force spread {frame.max_force_spread:.3f} eV/Å, "
            f"mean {frame.mean_force_spread:.3f} eV/Å, energy std {1000 * frame.energy_std / len(frame.frame.atoms):.1f} meV/atom"
        )
    print(
        f"{len(picked)} of {len(frames)} frames picked ({n_duplicates} near-duplicates dropped, {n_failed} failed); "
        f"{written['extxyz']}, {len(written['poscars'])} POSCARs, {written['csv']}"
    )
    if len(picked) < args.top:
        print(
            f"heo-calc: note: --top {args.top} asked for more frames than the {len(picked)} distinct ones; "
            "all distinct frames were written",
            file=sys.stderr,
        )
    return 0
