"""Which epoch of a SevenNet run becomes the finetuned model, and the record of why (``OUT/selection.json``).

sevenn keeps ``checkpoint_best.pth``: the epoch with the lowest validation TotalLoss, the loss as
configured (energy per atom + force weight × forces [+ stress weight × stress]). With a force
weight near 1 that loss is dominated by forces, so the "best" epoch can be one that gave up
energy accuracy for a little force. ``--energy-mae-cap`` makes the choice energy-preserving:
among the epochs whose validation energy MAE is at most the cap (meV/atom), the one with the
lowest validation force RMSE; if no epoch meets the cap, sevenn's own best is kept and the
record says so. Figures are read from sevenn's learning curves (``lc*.csv``; force RMSE there
is the RMSE of the force-vector norm, √3 × the per-component RMSE our evaluation reports).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from heo_base.atomic_write import atomic_output

SELECTION_NAME = "selection.json"


def validation_curve(train_dir: Path) -> dict[int, dict[str, float]]:
    """Per epoch: validation ``energy_mae_meV_per_atom``, ``force_rmse_vector_meV_per_A`` and ``total_loss``."""
    curve: dict[int, dict[str, float]] = {}
    for path in sorted(Path(train_dir).glob("lc*.csv")):
        with path.open(newline="") as stream:
            for row in csv.DictReader(stream):
                try:
                    curve[int(row["epoch"])] = {
                        "energy_mae_meV_per_atom": 1000.0 * float(row["validset_Energy_MAE"]),
                        "force_rmse_vector_meV_per_A": 1000.0 * float(row["validset_Force_RMSE"]),
                        "total_loss": float(row["validset_TotalLoss"]),
                    }
                except (KeyError, TypeError, ValueError):
                    continue
    return curve


def select_epoch(
    curve: dict[int, dict[str, float]], energy_mae_cap: float | None
) -> tuple[int | None, str, bool]:
    """The chosen epoch (``None``: no curve), the rule that chose it in words, and whether the cap chose it
    (otherwise it is sevenn's own best, the lowest validation TotalLoss)."""
    if not curve:
        return None, "no learning curve: sevenn's checkpoint_best.pth (lowest validation TotalLoss)", False
    lowest_loss = min(curve, key=lambda e: (curve[e]["total_loss"], e))
    if energy_mae_cap is None:
        return lowest_loss, "lowest validation TotalLoss (sevenn's own choice)", False
    within = [e for e in curve if curve[e]["energy_mae_meV_per_atom"] <= energy_mae_cap]
    if not within:
        rule = (
            f"no epoch had validation energy MAE <= {energy_mae_cap:g} meV/atom: lowest validation TotalLoss"
        )
        return lowest_loss, rule, False
    epoch = min(within, key=lambda e: (curve[e]["force_rmse_vector_meV_per_A"], e))
    return (
        epoch,
        f"lowest validation force RMSE among epochs with energy MAE <= {energy_mae_cap:g} meV/atom",
        True,
    )


def chosen_checkpoint(train_dir: Path, energy_mae_cap: float | None, record_dir: Path) -> Path:
    """The checkpoint to export (``checkpoint_<epoch>.pth`` or sevenn's best) and ``record_dir/selection.json``.

    The record holds the rule, the chosen epoch and every epoch's validation figures.
    """
    train_dir = Path(train_dir)
    curve = validation_curve(train_dir)
    epoch, rule, capped = select_epoch(curve, energy_mae_cap)
    path = train_dir / f"checkpoint_{epoch}.pth"
    if not capped or not path.is_file():
        path = train_dir / "checkpoint_best.pth"  # the same epoch without a cap, kept atomically by sevenn
    record: dict[str, Any] = {
        "rule": rule,
        "energy_mae_cap_meV_per_atom": energy_mae_cap,
        "chosen_epoch": epoch,
        "checkpoint": path.name,
        "validation": {str(e): figures for e, figures in sorted(curve.items())},
    }
    with atomic_output(Path(record_dir) / SELECTION_NAME) as temporary:
        temporary.write_text(json.dumps(record, indent=2))
    return path
