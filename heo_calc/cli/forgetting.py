"""``heo-calc forgetting``: finetuned models against their base on simple oxides they were not trained on."""

from __future__ import annotations

import argparse
from pathlib import Path

from heo_base.types import DEVICES
from heo_calc.cli._common import CLIError


def add_parser(subparsers) -> None:
    """Register the command."""
    command = subparsers.add_parser(
        "forgetting",
        help="finetuned models against their base model on binary oxides and rock-salt solid solutions",
        description="Relax, with --base and with each model of --calc (heo_calc.relax.relax_many), the binary "
        "oxide of every cation (rock salt, fluorite, anti-fluorite or corundum, rescaled to each model's own "
        "minimum, then repeated to >= --min-atoms atoms, no side more than twice another, and rattled) and equimolar 64-atom random rock-salt "
        "solid solutions ((Mg,Ni)O, (Mg,Co)O, (Co,Ni)O, (Mg,Zn)O, (Mg,Co,Ni,Cu,Zn)O). Writes per structure "
        "the energy per formula unit (eV), the pseudo-cubic lattice parameter (Å), the residual stress "
        "(GPa), the mixing energy (meV/atom, against the model's own rock-salt end members) and each "
        "model's difference from the base, with experimental lattice parameters where recorded: "
        "--out/forgetting.md, forgetting.csv (comparisons), relaxed.csv (every model's rows) and "
        "forgetting.json (summaries, options and each model's identity: weights file, SHA-256, dtype, "
        "versions, device; relaxed.csv carries it as model_* columns). Relaxations are cached in --cache "
        "per model identity (name, SHA-256 of the weights, dtype) and reused; other weights under the "
        "same name are relaxed anew.",
    )
    command.add_argument("--calc", required=True, help="comma-separated finetuned calculator names")
    command.add_argument(
        "--base", required=True, help="the base model they were finetuned from (e.g. sevennet-0)"
    )
    cations = command.add_mutually_exclusive_group(required=True)
    cations.add_argument("--data", help="take the cations from this heo.h5 (all splits) or labelled extxyz")
    cations.add_argument("--cations", help="comma-separated cations, e.g. Mg,Ni,Co,Zr,La")
    command.add_argument(
        "--solid-solutions",
        default="Mg-Ni,Mg-Co,Co-Ni,Mg-Zn,Mg-Co-Ni-Cu-Zn",
        help="rock-salt solid solutions, cations joined by '-', comma-separated, or 'none' "
        "(default: Mg-Ni,Mg-Co,Co-Ni,Mg-Zn,Mg-Co-Ni-Cu-Zn)",
    )
    command.add_argument("--out", required=True, metavar="DIR", help="output directory")
    command.add_argument(
        "--cache", metavar="DIR", help="relaxations reused across runs (default: DIR/cache of --out)"
    )
    command.add_argument(
        "--fmax", type=float, default=0.05, help="force and cell threshold in eV/Å (default: 0.05)"
    )
    command.add_argument(
        "--steps", type=int, default=150, help="max optimizer steps per structure (default: 150)"
    )
    command.add_argument("--rattle", type=float, default=0.02, help="rattle amplitude in Å (default: 0.02)")
    command.add_argument("--seed", type=int, default=0, help="seed of the rattle and the cation arrangement")
    command.add_argument(
        "--min-atoms",
        type=int,
        default=60,
        help="binary-oxide supercells have at least this many atoms (default: 60)",
    )
    command.add_argument(
        "--no-bulk-moduli",
        action="store_true",
        help="skip the binaries' bulk moduli (E(V) of each conventional cell, ±2 %% in volume; default: computed)",
    )
    command.add_argument("--device", choices=DEVICES, default="cpu", help="auto, cpu or cuda (default: cpu)")
    command.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    command.set_defaults(handler=run)


def _cations_and_solutions(args: argparse.Namespace) -> tuple[list[str], list[tuple[str, ...]]]:
    """The cations (from --data or --cations) and the rock-salt solid solutions, checked."""
    from heo_calc.forgetting import cations_of
    from heo_calc.structures.binary_oxides import binary_oxide

    if args.data:
        from heo_base.labelled_data import load_labelled_structures

        cations = cations_of(load_labelled_structures(args.data, require_forces=False))
    else:
        cations = [c.strip() for c in args.cations.split(",") if c.strip()]
    if not cations:
        raise CLIError("no cations to compare; pass --cations Mg,Ni,... or --data heo.h5")
    for cation in cations:
        binary_oxide(cation)  # unknown cations fail here, before any model is built
    solutions = [
        tuple(part.split("-")) for part in args.solid_solutions.split(",") if part and part != "none"
    ]
    for solution in solutions:
        for cation in solution:
            if binary_oxide(cation).prototype != "rocksalt":
                raise CLIError(
                    f"{cation} has no rock-salt end member here; solid solutions are rock salt only"
                )
    return cations, solutions


def _identities(relaxed) -> dict[str, dict[str, str]]:
    """Each model's identity as its rows carry it (flat ``model_*`` fields; those of its first row)."""
    columns = [c for c in relaxed.columns if c.startswith("model_")]
    return {
        str(name): {c: rows[c].iloc[0] for c in columns if rows[c].notna().iloc[0]}
        for name, rows in relaxed.groupby("model", sort=False)
    }


def _write_report(out: Path, header: list[str], relaxed, comparison, summaries, models: list[str]) -> None:
    """Print the markdown report; write forgetting.md, forgetting.csv, relaxed.csv and forgetting.json atomically."""
    import json

    from heo_base.atomic_write import atomic_output
    from heo_calc.forgetting import format_comparison, format_summaries

    report = [*header, format_summaries(summaries), ""]
    report += [format_comparison(comparison[comparison["model"] == model]) for model in models]
    text = "\n".join(report)
    print(text)
    with atomic_output(out / "forgetting.md") as temporary:
        temporary.write_text(text + "\n")
    with atomic_output(out / "forgetting.csv") as temporary:
        comparison.to_csv(temporary, index=False)
    with atomic_output(out / "relaxed.csv") as temporary:
        relaxed.drop(columns=["options"]).to_csv(temporary, index=False)
    options = json.loads(relaxed["options"].iloc[0]) if len(relaxed) else None
    document = {"options": options, "models": _identities(relaxed), "summaries": summaries}
    with atomic_output(out / "forgetting.json") as temporary:
        temporary.write_text(json.dumps(document, indent=2, default=float))


def run(args: argparse.Namespace) -> int:
    from heo_calc.forgetting import ForgettingOptions, forgetting_report
    from heo_calc.relax.cache import RelaxationCache

    cations, solutions = _cations_and_solutions(args)
    models = [name for name in args.calc.split(",") if name]
    out = Path(args.out)
    options = ForgettingOptions(
        fmax=args.fmax,
        max_steps=args.steps,
        rattle=args.rattle,
        seed=args.seed,
        min_atoms=args.min_atoms,
        bulk_moduli=not args.no_bulk_moduli,
    )
    cache = RelaxationCache(args.cache or out / "cache")
    relaxed, comparison, summaries = forgetting_report(
        models,
        args.base,
        cations,
        solid_solutions=solutions,
        options=options,
        cache=cache,
        device=args.device,
        progress=not args.quiet,
    )
    header = [
        f"# Forgetting: {', '.join(models)} against {args.base}",
        "",
        f"{len(cations)} cations: {', '.join(cations)}; solid solutions: "
        f"{', '.join('(' + ','.join(s) + ')O' for s in solutions) or 'none'}. Options: {options.key()}.",
        "",
    ]
    _write_report(out, header, relaxed, comparison, summaries, models)
    return 0
