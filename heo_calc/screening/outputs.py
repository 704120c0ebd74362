"""A screen's result files, all written atomically: tables (CSV, JSON, markdown ranking) and two plots.

* ``results.csv``: one row per composition and realization (:class:`~heo_calc.screening.records.RealizationRecord`).
* ``summary.csv``: one row per composition (:class:`~heo_calc.screening.records.CompositionSummary`).
* ``results.json``: settings, the model identity (``model``), parents, and every
  composition with its realizations.
* ``ranking.md``: compositions by mean mixing energy, lowest first, under a line naming the model.

Both CSV files end with the model identity's columns (``model_name``, ``model_file``,
``model_sha256``, ``model_dtype``, ``model_key``: :func:`heo_calc.provenance.identity_columns`).
* ``mixing_energy.png``: mixing energy by rank with the standard deviation over realizations.
* ``lattice_vegard.png``: relaxed pseudo-cubic lattice parameter against Vegard's law.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from heo_base.atomic_write import atomic_output
from heo_base.markdown import markdown_table
from heo_calc.provenance import describe_identity, identity_columns
from heo_calc.screening.records import CompositionRecord, ParentRecord, as_dict, as_row
from heo_calc.screening.references import REFERENCE_NOTES
from heo_calc.screening.settings import ScreenSettings
from heo_calc.status import Status


def ranked(records: Sequence[CompositionRecord]) -> list[CompositionRecord]:
    """Compositions by mean mixing energy, lowest first; those without one (failed) last."""

    def key(record: CompositionRecord) -> tuple[bool, float, str]:
        value = record.summary.mixing_energy_meV_per_atom_mean
        return (not math.isfinite(value), value if math.isfinite(value) else 0.0, record.summary.composition)

    return sorted(records, key=key)


def _number(value: float, digits: int) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "-"


def _pm(mean: float, std: float, digits: int) -> str:
    return _number(mean, digits) + (f" ± {std:.{digits}f}" if math.isfinite(std) else "")


def ranking_markdown(
    settings: ScreenSettings, records: Sequence[CompositionRecord], identity: dict | None = None
) -> str:
    """The ranking table with a header that says what was computed, how, and with which model."""
    header = [
        "rank", "composition", "ΔE_mix (meV/atom)", "a (Å)", "a Vegard (Å)", "Δa vs Vegard (%)",
        "σ(M-O) (Å)", "converged", "steps", "committee spread (eV/Å)", "status",
    ]  # fmt: skip
    rows = []
    for rank, record in enumerate(ranked(records), start=1):
        s = record.summary
        rows.append([
            rank, s.formula, _pm(s.mixing_energy_meV_per_atom_mean, s.mixing_energy_meV_per_atom_std, 1),
            _pm(s.a_pseudo_cubic_A_mean, s.a_pseudo_cubic_A_std, 4), _number(s.a_vegard_A, 4),
            _number(s.a_vegard_deviation_percent, 2), _pm(s.bond_length_std_A_mean, s.bond_length_std_A_std, 3),
            f"{s.n_converged}/{s.n_realizations}", _number(s.n_steps_mean, 0),
            _number(s.max_force_spread_eV_per_A_mean, 3), str(s.status) + (f": {s.error}" if s.error else ""),
        ])  # fmt: skip
    lines = [
        f"# Screen: equimolar {settings.lattice} HEOs with `{settings.calculator}`",
        "",
        *([f"Model: {describe_identity(identity)}.", ""] if identity else []),
        f"{len(records)} compositions, {settings.realizations} {settings.arrangement} realization(s) each "
        f"(seeds {settings.seed}-{settings.seed + settings.realizations - 1}), fmax {settings.relax.fmax} eV/Å, "
        f"rattle {settings.rattle} Å. Mean ± sample standard deviation over realizations; ΔE_mix against "
        f"the single-cation parents on the same lattice. {REFERENCE_NOTES[settings.lattice]}",
        "",
        "a: pseudo-cubic lattice parameter from the volume; σ(M-O): standard deviation of the "
        "first-shell cation-oxygen distances (local distortion).",
        "",
        markdown_table(header, rows),
        "",
    ]
    return "\n".join(lines)


def write_tables(
    out_dir: Path,
    settings: ScreenSettings,
    parents: dict[str, ParentRecord],
    records: Sequence[CompositionRecord],
    identity: dict | None = None,
) -> None:
    """``results.csv``, ``summary.csv``, ``results.json`` and ``ranking.md``, with the model ``identity`` where given."""
    import pandas as pd

    ordered = ranked(records)
    columns = identity_columns(identity) if identity else {}
    realizations = pd.DataFrame([as_row(r) | columns for record in ordered for r in record.realizations])
    summaries = pd.DataFrame([as_row(record.summary) | columns for record in ordered])
    for name, table in (("results.csv", realizations), ("summary.csv", summaries)):
        with atomic_output(out_dir / name) as temporary:
            table.to_csv(temporary, index=False)
    document = {
        "settings": settings.decisive(),
        "model": identity,
        "parents": [as_dict(parents[c]) for c in sorted(parents)],
        "compositions": [record.as_dict() for record in ordered],
    }
    with atomic_output(out_dir / "results.json") as temporary:
        temporary.write_text(json.dumps(document, indent=2))
    with atomic_output(out_dir / "ranking.md") as temporary:
        temporary.write_text(ranking_markdown(settings, records, identity))


def write_plots(out_dir: Path, settings: ScreenSettings, records: Sequence[CompositionRecord]) -> None:
    """``mixing_energy.png`` and ``lattice_vegard.png`` (compositions that did not fail)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r.summary for r in ranked(records) if r.summary.status != Status.FAILED]
    figure, axes = plt.subplots(figsize=(max(4.0, 0.35 * len(shown) + 2), 4))
    axes.errorbar(
        range(len(shown)), [s.mixing_energy_meV_per_atom_mean for s in shown],
        yerr=[s.mixing_energy_meV_per_atom_std if math.isfinite(s.mixing_energy_meV_per_atom_std) else 0.0 for s in shown],
        fmt="o", capsize=3,
    )  # fmt: skip
    axes.set_xticks(range(len(shown)), [s.composition for s in shown], rotation=90, fontsize=7)
    axes.set_ylabel("mixing energy (meV/atom)")
    axes.set_title(f"{settings.lattice}, {settings.calculator}: ranked (± std over realizations)", fontsize=9)
    _save(figure, out_dir / "mixing_energy.png")
    figure, axes = plt.subplots(figsize=(4.5, 4.5))
    axes.errorbar(
        [s.a_vegard_A for s in shown], [s.a_pseudo_cubic_A_mean for s in shown],
        yerr=[s.a_pseudo_cubic_A_std if math.isfinite(s.a_pseudo_cubic_A_std) else 0.0 for s in shown],
        fmt="o", capsize=3,
    )  # fmt: skip
    values = [v for s in shown for v in (s.a_vegard_A, s.a_pseudo_cubic_A_mean) if math.isfinite(v)]
    if values:
        axes.plot([min(values), max(values)], [min(values), max(values)], "k--", lw=0.8, label="Vegard's law")
        axes.legend(fontsize=8)
    axes.set_xlabel("Vegard's law from the parents (Å)")
    axes.set_ylabel("relaxed pseudo-cubic a (Å)")
    axes.set_title(f"{settings.lattice}, {settings.calculator}", fontsize=9)
    _save(figure, out_dir / "lattice_vegard.png")


def _save(figure, path: Path) -> None:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    with atomic_output(path) as temporary:
        figure.savefig(temporary, format="png", dpi=150)
    plt.close(figure)
