"""A screen's output folder: its settings, one file per finished composition, and the parents' cache.

Layout::

    <out>/screen.json                      settings and model identity (compared on --resume)
    <out>/compositions/<label>.json        one per finished composition, written atomically
    <out>/parents/<calculator>/...         relaxed parent references (references.py)
    <out>/results.csv, summary.csv, results.json, ranking.md, *.png   (outputs.py)

A composition's file is written (temporary file + rename) as soon as all its realizations
are relaxed, so an interrupted screen keeps every composition it finished and ``--resume``
relaxes only the others. The folder mechanism (settings record, refusal, ``--resume``,
``--discard-stale``) is the one :mod:`heo_calc.run_folder` shares with ``heo-calc relax``.

``--resume`` continues a screen only with the same settings *and the same model*: the
identity (:func:`heo_calc.provenance.identity_key`: registry name, SHA-256 of the weights,
dtype) stored in ``screen.json`` must match the calculator's. Resuming with other weights
under the same name (a retrained ``sevennet:PATH`` file, an upgraded heo-ft) stops with
:class:`ScreenOutputError` naming both identities; ``--discard-stale`` then deletes the
finished compositions and result files of the old model and screens again (the parents
are cached per identity, so the new model relaxes its own). Recomputing silently was not
chosen: a long screen should not vanish because a file changed, without being asked.
"""

from __future__ import annotations

import json
from pathlib import Path

from heo_base.atomic_write import atomic_output
from heo_calc.run_folder import OutputFolderError, RunFolder
from heo_calc.screening.records import CompositionRecord

SETTINGS_FILE = "screen.json"
#: Result files of :mod:`heo_calc.screening.outputs`, deleted with stale compositions by ``--discard-stale``.
RESULT_FILES = (
    "results.csv",
    "summary.csv",
    "results.json",
    "ranking.md",
    "mixing_energy.png",
    "lattice_vegard.png",
)


class ScreenOutputError(OutputFolderError):
    """An output folder that holds another screen, or results that ``--resume`` was not asked to continue."""


class ScreenStore(RunFolder):
    """The output folder of one screen (the shared mechanism: :class:`heo_calc.run_folder.RunFolder`)."""

    settings_file = SETTINGS_FILE
    noun = "composition"
    verb = "screen"
    stale_reason = "Mixing energies of two models are not mixed"
    error = ScreenOutputError

    @property
    def compositions_dir(self) -> Path:
        return self.root / "compositions"

    def composition_path(self, label: str) -> Path:
        return self.compositions_dir / f"{label}.json"

    def finished_paths(self) -> list[Path]:
        return sorted(self.compositions_dir.glob("*.json"))

    def run_files(self) -> list[Path]:
        return [self.root / name for name in RESULT_FILES]

    def finished(self) -> dict[str, CompositionRecord]:
        """The compositions already finished here, by label."""
        records = {}
        for path in self.finished_paths():
            record = CompositionRecord.from_dict(json.loads(path.read_text()))
            records[record.summary.composition] = record
        return records

    def save(self, record: CompositionRecord) -> Path:
        """Store a finished composition (atomically)."""
        path = self.composition_path(record.summary.composition)
        with atomic_output(path) as temporary:
            temporary.write_text(json.dumps(record.as_dict(), indent=2))
        return path
