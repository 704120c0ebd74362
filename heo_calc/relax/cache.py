"""The relaxation cache: relaxed structures on disk, found again only by the same model and settings.

One class, :class:`RelaxationCache`, serves every study that relaxes the same structure
more than once: the screen's single-cation parents (:mod:`heo_calc.screening.references`)
and the forgetting report's binary oxides and solid solutions (:mod:`heo_calc.forgetting`).

An entry is one relaxed structure: a JSON record (whatever the study keeps, plus the full
model identity under ``model``) and the relaxed ``.extxyz`` beside it (the identity's flat
``model_*`` fields in ``atoms.info``)::

    <directory>/<model name>/<structure>-<key>.json
    <directory>/<model name>/<structure>-<key>.extxyz

``key`` (:func:`heo_calc.provenance.short_hash`) hashes the study's settings that decide
the result together with the model identity's key (:func:`heo_calc.provenance.identity_key`:
registry name, SHA-256 of the weights, dtype). Other weights under the same name (a
retrained ``sevennet:PATH`` file, a new heo-ft) or other settings therefore never find the
entry; the same weights on another device or at another path do. Both files are written
atomically, the record last, so an interrupted write leaves no entry that looks complete.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ase import Atoms

from heo_base.atomic_write import atomic_output
from heo_calc.provenance import flat_identity, identity_key, short_hash

#: The field of a stored record that holds the model identity.
IDENTITY_FIELD = "model"


def safe_name(text: str) -> str:
    """``text`` with every run of characters other than letters, digits, ``_``, ``.`` and ``-`` as one ``_``."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


class RelaxationCache:
    """Relaxed structures under ``directory``, one entry per model name, structure, settings and model identity.

    ``settings``: a JSON-able mapping of everything besides the model that decides the
    relaxed structure (cell, rattle, seed, fmax, steps, optimizer, ...). The record of an
    entry must not use the field ``model`` (:data:`IDENTITY_FIELD`): it holds the identity.
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)

    def path(self, model: str, structure: str, settings: Mapping[str, Any], model_key: str) -> Path:
        """The record's path (``.json``; the ``.extxyz`` beside it) for ``model_key`` (:func:`~heo_calc.provenance.identity_key`)."""
        key = short_hash({**settings, IDENTITY_FIELD: model_key})
        return self.directory / safe_name(model) / f"{safe_name(structure)}-{key}.json"

    def load(
        self, model: str, structure: str, settings: Mapping[str, Any], identity: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The record stored for this model identity and these settings (without the identity), or ``None``."""
        path = self.path(model, structure, settings, identity_key(identity))
        if not path.is_file():
            return None
        record = json.loads(path.read_text())
        record.pop(IDENTITY_FIELD, None)
        return record

    def store(
        self,
        model: str,
        structure: str,
        settings: Mapping[str, Any],
        identity: dict[str, Any],
        record: Mapping[str, Any],
        atoms: Atoms,
    ) -> Path:
        """Write the relaxed ``atoms`` and then ``record`` with the full ``identity``; returns the record's path."""
        if IDENTITY_FIELD in record:
            raise ValueError(f"a cached record's {IDENTITY_FIELD!r} field is the model identity; rename it")
        from ase.io import write

        path = self.path(model, structure, settings, identity_key(identity))
        relaxed = atoms.copy()
        relaxed.info.update(flat_identity(identity))
        with atomic_output(path.with_suffix(".extxyz")) as temporary:
            write(temporary, relaxed, format="extxyz")
        with atomic_output(path) as temporary:
            temporary.write_text(json.dumps({**record, IDENTITY_FIELD: identity}, indent=2, default=float))
        return path
