"""A screen's output folder: its settings, one file per finished composition, and the parents' cache.

Layout::

    <out>/screen.json                      settings and model identity (compared on --resume)
    <out>/compositions/<label>.json        one per finished composition, written atomically
    <out>/parents/<calculator>/...         relaxed parent references (references.py)
    <out>/results.csv, summary.csv, results.json, ranking.md, *.png   (outputs.py)

A composition's file is written (temporary file + rename) as soon as all its realizations
are relaxed, so an interrupted screen keeps every composition it finished and ``--resume``
relaxes only the others.

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
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heo_base.atomic_write import atomic_output
from heo_calc.errors import HEOCalcError
from heo_calc.provenance import describe_identity, identity_key
from heo_calc.screening.records import CompositionRecord
from heo_calc.screening.settings import ScreenSettings

logger = logging.getLogger(__name__)

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

    def _stored(self) -> dict[str, Any]:
        path = self.root / SETTINGS_FILE
        return json.loads(path.read_text()) if path.is_file() else {}

    def check(self, settings: ScreenSettings, *, resume: bool) -> None:
        """Refuse a folder with finished compositions unless ``resume``, and resuming with other settings.

        Reads files only (no model): run before the calculator is built, for a quick error.
        """
        stored = self._stored().get("settings")
        if stored is None:
            return
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

    def open(
        self,
        settings: ScreenSettings,
        identity: dict[str, Any],
        *,
        resume: bool,
        discard_stale: bool = False,
    ) -> None:
        """Check the folder (:meth:`check` and the model identity), then record settings and identity in it.

        Finished compositions of another model identity (see the module docstring) raise
        :class:`ScreenOutputError`, or with ``discard_stale`` are deleted with the result files.
        """
        self.check(settings, resume=resume)
        stored = self._stored()
        finished = list(self.compositions_dir.glob("*.json"))
        if resume and finished and stored.get("model_key") != identity_key(identity):
            if not discard_stale:
                raise ScreenOutputError(
                    _stale_message(self.root, len(finished), stored.get("model"), identity)
                )
            logger.warning(
                "discarding %d composition(s) of %s in %s (--discard-stale)",
                len(finished),
                describe_identity(stored["model"]) if stored.get("model") else "an unrecorded model",
                self.root,
            )
            for path in [*finished, *(self.root / name for name in RESULT_FILES)]:
                path.unlink(missing_ok=True)
        self.root.mkdir(parents=True, exist_ok=True)
        record = {"settings": settings.decisive(), "model": identity, "model_key": identity_key(identity)}
        with atomic_output(self.root / SETTINGS_FILE) as temporary:
            temporary.write_text(json.dumps(record, indent=2))

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


def _stale_message(root: Path, n_finished: int, old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """Why ``--resume`` stops on compositions of another model, naming both identities and the flag."""
    before = describe_identity(old) if old else "a model whose identity was not recorded (an older heo-relax)"
    return (
        f"{root} holds {n_finished} composition(s) computed with other weights: there {before}; now "
        f"{describe_identity(new)}. Mixing energies of two models are not mixed: rerun with --resume "
        "--discard-stale to delete those results and screen again with the new weights, restore the old "
        "weights, or choose another --out"
    )
