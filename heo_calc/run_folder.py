"""An output folder that one run owns: its settings and model identity, finished items, and ``--resume``.

The screen (:class:`heo_calc.screening.store.ScreenStore`) and ``heo-calc relax``
(:class:`heo_calc.relax.store.RelaxStore`) share this one mechanism:

* ``<out>/<settings file>`` records the settings that decide the numbers and the model
  identity (:func:`heo_calc.provenance.identity_key`: registry name, SHA-256 of the
  weights, dtype);
* each finished item (a composition, a structure) is one file written atomically as soon
  as it is done, so a killed run keeps what it finished;
* a folder that holds finished items is refused unless ``resume`` (continue: only with the
  same settings *and* the same model) or ``overwrite`` (clear the run's files first);
* resuming on items of other weights stops with :class:`OutputFolderError` naming both
  identities; ``discard_stale`` deletes them and starts again. Recomputing silently was not
  chosen: a long run should not vanish because a file changed, without being asked.

Only the files a run writes are ever deleted (:meth:`RunFolder.run_files`), never anything
else a user keeps in the folder.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol

from heo_base.atomic_write import atomic_output
from heo_calc.errors import HEOCalcError
from heo_calc.provenance import describe_identity, identity_key

logger = logging.getLogger(__name__)


class OutputFolderError(HEOCalcError, ValueError):
    """An output folder that holds another run, results ``--resume`` was not asked to continue, or a file."""


class Decisive(Protocol):
    """Settings that say which of their fields decide the numbers (compared on ``--resume``).

    A settings class may also have ``implied_by_older_records``: for fields that records of
    older versions did not store, the value those runs used.
    """

    def decisive(self) -> dict[str, Any]: ...


class RunFolder:
    """The output folder of one run; subclasses say where finished items and result files are.

    Class attributes: ``settings_file`` (the record's name), ``noun`` (``composition``,
    ``structure``), ``verb`` (``screen``, ``relax``), ``stale_reason`` (why two models'
    results are not mixed), ``offers_overwrite`` (whether the command has ``--overwrite``)
    and ``error`` (the class raised).
    """

    settings_file: ClassVar[str]
    noun: ClassVar[str]
    verb: ClassVar[str]
    stale_reason: ClassVar[str] = "Results of two models are not mixed"
    offers_overwrite: ClassVar[bool] = False
    #: The error class raised (a subclass of :class:`OutputFolderError`).
    error: ClassVar[type[OutputFolderError]] = OutputFolderError

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # What subclasses define -------------------------------------------------------------

    def finished_paths(self) -> list[Path]:
        """The files of the items finished in this folder (one per item)."""
        raise NotImplementedError

    def run_files(self) -> list[Path]:
        """Every file and folder a run writes here besides the finished items (tables, plots, summaries)."""
        return []

    def unrecorded_results(self) -> list[Path]:
        """Results in the folder besides the finished items' records (an older version's, a run's left-overs).

        Refused like finished items without ``--resume`` or ``--overwrite``; without a settings
        record they cannot be resumed either.
        """
        return []

    # The mechanism ----------------------------------------------------------------------

    def stored(self) -> dict[str, Any]:
        """The settings record of the run in this folder (``{}`` if none)."""
        path = self.root / self.settings_file
        if not path.is_file():
            return {}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise self.error(
                f"{path} is not a readable run record ({error}); choose another --out"
                + (" or pass --overwrite" if self.offers_overwrite else "")
            ) from error

    def check(self, settings: Decisive, *, resume: bool, overwrite: bool = False) -> None:
        """Refuse a file, a folder with finished items unless ``resume`` or ``overwrite``, and resuming with other settings.

        Reads files only (no model): run before the calculator is built, for a quick error.
        """
        if self.root.exists() and not self.root.is_dir():
            raise self.error(f"--out {self.root} is a file, not a folder; choose a folder for the results")
        if resume and overwrite:
            raise self.error("--resume continues the run in --out, --overwrite replaces it: choose one")
        if overwrite:
            return
        finished = self.finished_paths()
        stored = self.stored().get("settings")
        if not resume and (finished or self.unrecorded_results()):
            held = (
                f"{len(finished)} finished {self.noun}(s)" if finished else f"results of another {self.verb}"
            )
            raise self.error(
                f"{self.root} already holds {held}; pass --resume to continue that {self.verb}"
                + (", --overwrite to replace it" if self.offers_overwrite else "")
                + ", or choose another --out"
            )
        if resume and stored is None and self._foreign():
            raise self.error(
                f"{self.root} holds results without a run record ({self.settings_file}; written by an "
                "older heo-relax or another command), which cannot be resumed; "
                + ("pass --overwrite to replace them, " if self.offers_overwrite else "")
                + "or choose another --out"
            )
        if stored is None:
            return
        stored = {**getattr(settings, "implied_by_older_records", {}), **stored}
        differing = {k: (stored.get(k), v) for k, v in settings.decisive().items() if stored.get(k) != v}
        if resume and differing:
            detail = ", ".join(f"{k}: {old!r} there, {new!r} now" for k, (old, new) in differing.items())
            raise self.error(
                f"{self.root} holds a {self.verb} with other settings ({detail}); resume with the same "
                "options, or choose another --out"
                + (
                    " (or pass --overwrite instead of --resume to replace it)"
                    if self.offers_overwrite
                    else ""
                )
            )

    def _foreign(self) -> bool:
        """Whether results exist without a settings record (:meth:`unrecorded_results`)."""
        return not (self.root / self.settings_file).is_file() and bool(self.unrecorded_results())

    def open(
        self,
        settings: Decisive,
        identity: dict[str, Any],
        *,
        resume: bool,
        discard_stale: bool = False,
        overwrite: bool = False,
    ) -> None:
        """Check the folder (:meth:`check` and the model identity), then record settings and identity in it.

        ``overwrite`` first deletes the run's files (:meth:`clear`). Finished items of another
        model identity raise :class:`OutputFolderError`, or with ``discard_stale`` are deleted
        with the result files.
        """
        self.check(settings, resume=resume, overwrite=overwrite)
        if overwrite:
            self.clear()
        stored = self.stored()
        finished = self.finished_paths()
        if resume and finished and stored.get("model_key") != identity_key(identity):
            if not discard_stale:
                raise self.error(self._stale_message(len(finished), stored.get("model"), identity))
            logger.warning(
                "discarding %d %s(s) of %s in %s (--discard-stale)",
                len(finished),
                self.noun,
                describe_identity(stored["model"]) if stored.get("model") else "an unrecorded model",
                self.root,
            )
            self.clear(keep_record=True)
        self.root.mkdir(parents=True, exist_ok=True)
        record = {"settings": settings.decisive(), "model": identity, "model_key": identity_key(identity)}
        with atomic_output(self.root / self.settings_file) as temporary:
            temporary.write_text(json.dumps(record, indent=2))

    def clear(self, *, keep_record: bool = False) -> None:
        """Delete the finished items and every file the run writes here (nothing else)."""
        paths = [*self.finished_paths(), *self.run_files(), *self.unrecorded_results()]
        if not keep_record:
            paths.append(self.root / self.settings_file)
        for path in paths:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def _stale_message(self, n_finished: int, old: Mapping[str, Any] | None, new: dict[str, Any]) -> str:
        """Why ``--resume`` stops on items of another model, naming both identities and the flag."""
        before = (
            describe_identity(dict(old))
            if old
            else "a model whose identity was not recorded (an older heo-relax)"
        )
        return (
            f"{self.root} holds {n_finished} {self.noun}(s) computed with other weights: there {before}; now "
            f"{describe_identity(new)}. {self.stale_reason}: rerun with --resume --discard-stale to delete "
            f"those results and {self.verb} again with the new weights, restore the old weights, or choose "
            "another --out"
        )
