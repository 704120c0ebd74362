"""``heo-dataset report``: figures (PNG) and a markdown summary of a heo-dataset file.

Everything is made from one tidy table (:func:`structure_frame`, one row per structure),
plus the per-atom forces for the force histogram.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dataset_builder.elements import OXYGEN, cation_fractions, ideal_mixing_entropy
from heo_base.dataset_file import read_attributes, read_table, table_to_atoms
from heo_base.markdown import markdown_table
from heo_base.splits import SPLIT_NAMES
from heo_base.structure_table import StructureTable

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)


def structure_frame(table: StructureTable) -> pd.DataFrame:
    """One row per structure: ids, split, formula, n_atoms, n_elements, elements (space
    separated), energy_per_atom (eV/atom), max_force (eV/Å), cation_entropy (R), has_stress."""
    import pandas as pd
    from ase.data import chemical_symbols

    offsets = table.offsets
    rows = []
    for i in range(len(table)):
        numbers = table.numbers[offsets[i] : offsets[i + 1]]
        forces = table.forces[offsets[i] : offsets[i + 1]]
        elements, counts = np.unique(numbers, return_counts=True)
        symbols = [chemical_symbols[z] for z in elements]
        fractions = cation_fractions(dict(zip(symbols, counts.tolist())), anion=OXYGEN)
        rows.append(
            {
                "immutable_id": table.immutable_id[i],
                "source": table.source_db[i],
                "split": table.split[i],
                "functional": table.functional[i],
                "formula": table.formula[i],
                "n_atoms": int(table.n_atoms[i]),
                "n_elements": len(elements),
                "elements": " ".join(symbols),
                "energy_per_atom": float(table.energy[i]) / max(int(table.n_atoms[i]), 1),
                "max_force": float(np.linalg.norm(forces, axis=1).max()) if len(forces) else 0.0,
                "cation_entropy": ideal_mixing_entropy(fractions.values()),
                "has_stress": bool(table.has_stress[i]),
            }
        )
    return pd.DataFrame(rows)


def composition_pca(table: StructureTable) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """2-D PCA (numpy SVD) of the composition vectors (atomic fractions per element).

    Returns:
        ``(coordinates (N, 2), explained variance ratio (2,), element symbols of the columns)``.
    """
    from ase.data import chemical_symbols

    offsets = table.offsets
    elements = np.unique(table.numbers)
    column = {z: j for j, z in enumerate(elements)}
    matrix = np.zeros((len(table), len(elements)))
    owner = np.repeat(np.arange(len(table)), table.n_atoms)
    np.add.at(matrix, (owner, np.array([column[z] for z in table.numbers], dtype=np.int64)), 1.0)
    matrix /= np.maximum(np.diff(offsets), 1)[:, None]
    centred = matrix - matrix.mean(axis=0)
    if len(table) < 2 or centred.shape[1] < 2:
        return np.zeros((len(table), 2)), np.zeros(2), [chemical_symbols[z] for z in elements]
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    coordinates = centred @ vt[:2].T
    variance = singular**2
    ratio = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    if coordinates.shape[1] < 2:
        coordinates = np.pad(coordinates, ((0, 0), (0, 2 - coordinates.shape[1])))
        ratio = np.pad(ratio, (0, 2 - len(ratio)))
    return coordinates, ratio, [chemical_symbols[z] for z in elements]


def _markdown_table(frame: pd.DataFrame) -> str:
    return markdown_table(list(frame.columns), list(frame.itertuples(index=False)))


def _counts(frame: pd.DataFrame, by: str, order: list[Any] | None = None) -> pd.DataFrame:
    grouped = frame.groupby(by, sort=True).agg(
        structures=("immutable_id", "size"),
        formulas=("formula", "nunique"),
        atoms=("n_atoms", "sum"),
        with_stress=("has_stress", "sum"),
    )
    if order is not None:
        grouped = grouped.reindex([o for o in order if o in grouped.index])
    return grouped.reset_index()


@dataclass(frozen=True)
class _ReportInputs:
    """What the figures are drawn from: the structures, their tidy table
    (:func:`structure_frame`), and the number and seed of sample structures to draw."""

    table: StructureTable
    frame: pd.DataFrame
    n_samples: int
    seed: int


def _pyplot() -> Any:
    """``matplotlib.pyplot`` on the non-interactive Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _element_frequency_figure(inputs: _ReportInputs) -> Any:
    """Bar chart: number of structures containing each element, by atomic number."""
    from ase.data import atomic_numbers

    plt = _pyplot()
    element_counts = inputs.frame["elements"].str.split().explode().value_counts()
    element_counts = element_counts.reindex(sorted(element_counts.index, key=atomic_numbers.get))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.22 * len(element_counts)), 3.5))
    ax.bar(element_counts.index, element_counts.to_numpy(), color="tab:blue")
    ax.set_xlabel("element (by atomic number)")
    ax.set_ylabel("structures containing it")
    ax.tick_params(axis="x", labelsize=7, rotation=90)
    return fig


def _elements_per_structure_figure(inputs: _ReportInputs) -> Any:
    """Bar chart: number of structures per count of distinct elements (O included)."""
    plt = _pyplot()
    per_structure = inputs.frame["n_elements"].value_counts().sort_index()
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.bar(per_structure.index.astype(str), per_structure.to_numpy(), color="tab:green")
    ax.set_xlabel("distinct elements per structure (O included)")
    ax.set_ylabel("structures")
    return fig


def _composition_map_figure(inputs: _ReportInputs) -> Any:
    """Scatter plot of the first two principal components of the atomic fractions
    (:func:`composition_pca`), coloured by split."""
    plt = _pyplot()
    coordinates, ratio, _ = composition_pca(inputs.table)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for name, colour in zip(SPLIT_NAMES, ("tab:blue", "tab:orange", "tab:red")):
        mask = (inputs.frame["split"] == name).to_numpy()
        ax.scatter(coordinates[mask, 0], coordinates[mask, 1], s=6, alpha=0.6, color=colour, label=name)
    ax.set_xlabel(f"PC1 ({100 * ratio[0]:.0f}% of variance)")
    ax.set_ylabel(f"PC2 ({100 * ratio[1]:.0f}% of variance)")
    ax.set_title("compositions (PCA of atomic fractions)")
    ax.legend(markerscale=3)
    return fig


def _sample_structures_figure(inputs: _ReportInputs) -> Any:
    """Up to ``n_samples`` structures drawn at random (``seed``), four per row, each titled
    with its formula and immutable id."""
    from ase.visualize.plot import plot_atoms

    plt = _pyplot()
    table = inputs.table
    rng = np.random.default_rng(inputs.seed)
    chosen = np.sort(rng.choice(len(table), size=min(inputs.n_samples, len(table)), replace=False))
    samples = table_to_atoms(table.take(chosen))
    columns = min(len(samples), 4) or 1
    rows = int(np.ceil(len(samples) / columns)) or 1
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, atoms in zip(axes.ravel(), samples):
        plot_atoms(atoms, ax, rotation="10x,20y,0z", radii=0.5)
        ax.set_title(f"{atoms.info['formula']}\n{atoms.info['immutable_id']}", fontsize=8)
    return fig


def _energy_per_atom_figure(inputs: _ReportInputs) -> Any:
    """Histogram of the DFT total energy per atom (eV/atom)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(inputs.frame["energy_per_atom"], bins=50, color="tab:purple")
    ax.set_xlabel("DFT total energy per atom (eV/atom)")
    ax.set_ylabel("structures")
    return fig


def _force_magnitude_figure(inputs: _ReportInputs) -> Any:
    """Histogram (log scale) of the per-atom force magnitude |F| (eV/Å)."""
    plt = _pyplot()
    magnitudes = np.linalg.norm(inputs.table.forces, axis=1)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(magnitudes, bins=60, color="tab:gray")
    ax.set_yscale("log")
    ax.set_xlabel("|F| per atom (eV/Å)")
    ax.set_ylabel("atoms")
    return fig


#: File name of each report figure and the function that draws it, in report order.
_FIGURE_MAKERS: dict[str, Callable[[_ReportInputs], Any]] = {
    "element_frequency.png": _element_frequency_figure,
    "elements_per_structure.png": _elements_per_structure_figure,
    "composition_map.png": _composition_map_figure,
    "sample_structures.png": _sample_structures_figure,
    "energy_per_atom.png": _energy_per_atom_figure,
    "force_magnitude.png": _force_magnitude_figure,
}

#: The PNG files :func:`write_report` writes, in order.
FIGURES: tuple[str, ...] = tuple(_FIGURE_MAKERS)


def _plot_figures(inputs: _ReportInputs, out_dir: Path) -> list[Path]:
    """Draw every figure of :data:`FIGURES` into ``out_dir`` (PNG, 120 dpi); returns the paths."""
    plt = _pyplot()
    paths = []
    for name, make_figure in _FIGURE_MAKERS.items():
        fig = make_figure(inputs)
        fig.tight_layout()
        fig.savefig(out_dir / name, dpi=120)
        plt.close(fig)
        paths.append(out_dir / name)
    return paths


def _dropped_frame(dropped: dict[str, int]) -> pd.DataFrame:
    """Rows dropped per reason, largest first, reasons with none left out (one ``none`` row
    when nothing was dropped)."""
    import pandas as pd

    return pd.DataFrame(
        [{"reason": k, "rows": v} for k, v in sorted(dropped.items(), key=lambda kv: -kv[1]) if v]
        or [{"reason": "none", "rows": 0}]
    )


def _overview_lines(
    h5_path: str | os.PathLike, table: StructureTable, frame: pd.DataFrame, attributes: dict[str, Any]
) -> list[str]:
    """Title and bullet list of ``summary.md``: provenance, sizes, medians (eV/atom, eV/Å, R)."""
    return [
        f"# HEO dataset report: `{Path(h5_path).name}`",
        "",
        f"- source: {attributes.get('source', '?')}",
        f"- created: {attributes.get('created', '?')} with heo-relax {attributes.get('package_version', '?')} "
        f"(schema_version {attributes.get('schema_version', '?')})",
        f"- structures: {len(table)}, atoms: {len(table.numbers)}, reduced formulas: {frame['formula'].nunique()}, "
        f"elements: {frame['elements'].str.split().explode().nunique()}",
        f"- rows scanned: {attributes.get('n_scanned', '?')}, dropped: {attributes.get('n_dropped', '?')}",
        f"- energy per atom: median {frame['energy_per_atom'].median():.3f} eV/atom; "
        f"max |F| per structure: median {frame['max_force'].median():.3f} eV/Å; "
        f"cation entropy: median {frame['cation_entropy'].median():.2f} R",
        f"- licence: {attributes.get('licence', '?')}",
        "",
    ]


def _section(title: str, *body: str) -> list[str]:
    """A ``##`` section of ``summary.md``: title, blank line, body lines, blank line."""
    return [f"## {title}", "", *body, ""]


def _summary_lines(
    h5_path: str | os.PathLike,
    table: StructureTable,
    frame: pd.DataFrame,
    attributes: dict[str, Any],
    figures: list[Path],
) -> list[str]:
    """The lines of ``summary.md``: overview, count tables, dropped rows, filter settings
    (JSON) and links to ``figures``."""
    return [
        *_overview_lines(h5_path, table, frame, attributes),
        *_section("Structures per source database", _markdown_table(_counts(frame, "source"))),
        *_section(
            "Structures per split (grouped by reduced formula)",
            _markdown_table(_counts(frame, "split", order=list(SPLIT_NAMES))),
        ),
        *_section("Structures per number of elements", _markdown_table(_counts(frame, "n_elements"))),
        *_section("Dropped rows", _markdown_table(_dropped_frame(attributes.get("dropped") or {}))),
        *_section(
            "Filter settings",
            "```json",
            json.dumps(attributes.get("filter", {}), indent=2, sort_keys=True),
            "```",
        ),
        *_section("Figures", *[f"![{path.stem}]({path.name})" for path in figures]),
    ]


def write_report(
    h5_path: str | os.PathLike, out_dir: str | os.PathLike, *, n_samples: int = 4, seed: int = 0
) -> list[Path]:
    """Write the PNG figures of :data:`FIGURES` and ``summary.md`` to ``out_dir``.

    Args:
        h5_path: a heo-dataset file.
        out_dir: directory for the report (created).
        n_samples: structures drawn in ``sample_structures.png``.
        seed: seed of the choice of sample structures.

    Returns:
        The paths written (figures, then ``summary.md``).
    """
    table = read_table(h5_path)
    attributes = read_attributes(h5_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = structure_frame(table)
    inputs = _ReportInputs(table=table, frame=frame, n_samples=n_samples, seed=seed)
    paths = _plot_figures(inputs, out_dir) if len(table) else []
    summary = out_dir / "summary.md"
    summary.write_text("\n".join(_summary_lines(h5_path, table, frame, attributes, paths)))
    paths.append(summary)
    logger.info("wrote report (%d files) to %s", len(paths), out_dir)
    return paths
