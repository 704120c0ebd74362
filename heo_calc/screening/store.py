"""A screen's output folder: its settings, one file per finished composition, and the parents' cache.

Layout::

    <out>/screen.json                      settings (compared on --resume)
    <out>/compositions/<label>.json        one per finished composition, written atomically
    <out>/parents/<calculator>/...         relaxed parent references (references.py)
    <out>/results.csv, summary.csv, results.json, ranking.md, *.png   (outputs.py)

A composition's file is written (temporary file + rename) as soon as all its realizations
are relaxed, so an interrupted screen keeps every composition it finished and ``--resume``
relaxes only the others.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from heo_base.atomic_write import atomic_output
from heo_calc.errors import HEOCalcError
from heo_calc.screening.records import CompositionRecord
from heo_calc.screening.settings import ScreenSettings

logger = logging.getLogger(__name__)

SETTINGS_FILE = "screen.json"


class ScreenOutputError(HEOCalcError, ValueError):
    """An output folder that holds another screen, or results that ``--resume`` was not asked to continue."""


@dataclass
class ScreenStore:
    """The output folder of one screen."""

    root: Path

    @property
    def compositions_dir(self) -> Path:
        return self.root / "compositions"

    def composition_path(self, label: str) -> Path:
        return self.compositions_dir / f"{label}.json"

    def open(self, settings: ScreenSettings, *, resume: bool) -> None:
        """Create the folder, or check it holds the same screen when resuming; refuse to mix screens."""
        path = self.root / SETTINGS_FILE
        if path.is_file():
            stored = json.loads(path.read_text()).get("settings", {})
            finished = list(self.compositions_dir.glob("*.json"))
            if not resume and finished:
                raise ScreenOutputError(
                    f"{self.root} already holds {len(finished)} finished composition(s); pass --resume to "
                    "continue that screen, or choose another --out"
                )
            differing = {k: (stored.get(k), v) for k, v in settings.decisive().items() if stored.get(k) != v}
            if resume and differing:
                detail = ", ".join(f"{k}: {old!r} there, {new!r} now" for k, (old, new) in differing.items())
                raise ScreenOutputError(
                    f"{self.root} holds a screen with other settings ({detail}); resume with the same "
                    "options, or choose another --out"
                )
        with atomic_output(path) as temporary:
            temporary.write_text(json.dumps({"settings": settings.decisive()}, indent=2))

    def finished(self) -> dict[str, CompositionRecord]:
        """The compositions already finished here, by label."""
        records = {}
        for path in sorted(self.compositions_dir.glob("*.json")):
            record = CompositionRecord.from_dict(json.loads(path.read_text()))
            records[record.summary.composition] = record
        return records

    def save(self, record: CompositionRecord) -> Path:
        """Store a finished composition (atomically)."""
        path = self.composition_path(record.summary.composition)
        with atomic_output(path) as temporary:
            temporary.write_text(json.dumps(record.as_dict(), indent=2))
        return path
