"""Several finetuned models side by side from ``heo-calc forgetting`` outputs: one row per structure.

Reads one or more ``forgetting.csv`` files (comparison rows, model - base) and prints, per
quantity (ΔE per formula unit in meV, Δa in %, ΔE_mix in meV/atom), a markdown table with one
column per model; ``--label NAME=LABEL`` shortens model names::

    PYTHONPATH=. python benchmarks/forgetting_table.py runs/forgetting-heo-ft/forgetting.csv \\
        runs/forgetting-holdon/forgetting.csv --label sevennet:runs/models-gpu2/s0-naive.pth=s0-naive
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

QUANTITIES = {
    "delta_energy_per_fu_meV": ("ΔE per formula unit, model - base (meV/f.u.)", "binary", 0),
    "delta_a_percent": ("Δa, model - base (% of the base's)", "binary", 2),
    "delta_mixing_meV_per_atom": ("ΔE_mix, model - base (meV/atom)", "solid solution", 1),
    "delta_a_percent_solutions": ("Δa of the solid solutions (%)", "solid solution", 2),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="+")
    parser.add_argument("--label", action="append", default=[], metavar="NAME=LABEL")
    args = parser.parse_args()
    from heo_base.markdown import markdown_table

    labels = dict(item.split("=", 1) for item in args.label)
    table = pd.concat([pd.read_csv(path) for path in args.tables], ignore_index=True)
    table["column"] = [
        f"{labels.get(m, m)} vs {labels.get(b, b)}" for m, b in zip(table["model"], table["base"])
    ]
    columns = list(dict.fromkeys(table["column"]))
    for key, (title, kind, digits) in QUANTITIES.items():
        quantity = key.removesuffix("_solutions")
        rows = table[table["kind"] == kind]
        if rows.empty:
            continue
        wide = rows.pivot_table(index="structure", columns="column", values=quantity, aggfunc="first")
        wide = wide.reindex(columns=[c for c in columns if c in wide.columns])
        body = [
            [structure, *("" if not np.isfinite(v) else f"{v:.{digits}f}" for v in values)]
            for structure, values in zip(wide.index, wide.to_numpy())
        ]
        body.append(["mean |Δ|", *(f"{np.nanmean(np.abs(wide[c])):.{digits}f}" for c in wide.columns)])
        print(f"**{title}**\n")
        print(markdown_table(["structure", *wide.columns], body))
        print()


if __name__ == "__main__":
    main()
