"""The output folder of ``heo-calc relax``: each structure kept as soon as it finishes, the summary rebuilt from disk.

Layout::

    <out>/relax.json                   settings, input fingerprint and model identity (compared on --resume)
    <out>/results/<NNNN>-<name>.json   one record per finished structure (its row and model key), written last
    <out>/<NNNN>-<name>.extxyz         the relaxed structure (model identity as model_* keys of its info)
    <out>/summary.json                 every finished row in input order, rebuilt from results/ after each one
    <out>/trajectories/                with --trajectory

``NNNN`` is the structure's index in the input and ``<name>`` its name reduced to a safe
file name (:func:`heo_base.labels.safe_file_stem`): no separators, no ``..``; the index keeps
equal stems apart. The original name stays in the record and the summary.

The folder mechanism (refusing a folder with another run's results unless ``--resume`` or
``--overwrite``, the settings and model identity compared on ``--resume``,
``--discard-stale``) is :class:`heo_calc.run_folder.RunFolder`, shared with the screen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ase import Atoms

from heo_base.atomic_write import atomic_output
from heo_base.json_text import dumps
from heo_base.labels import safe_file_stem
from heo_calc.provenance import flat_identity, identity_key, short_hash
from heo_calc.relax.single import RelaxOptions, RelaxResult
from heo_calc.run_folder import RunFolder

SETTINGS_FILE = "relax.json"
SUMMARY_FILE = "summary.json"
RESULTS_DIR = "results"
TRAJECTORIES_DIR = "trajectories"
#: Relaxed structure files (``0003-name.extxyz``) of a run, including an older version's.
STRUCTURE_GLOB = "[0-9][0-9][0-9][0-9]-*.extxyz"


def fingerprint(structures: Sequence[Atoms]) -> str:
    """A short hash of the input structures (names, elements, positions, cell, pbc): "the same input" on ``--resume``."""
    from heo_base.labels import structure_id

    return short_hash(
        [
            [
                structure_id(atoms, index),
                atoms.numbers.tolist(),
                atoms.positions.tolist(),
                atoms.cell.array.tolist(),
                atoms.pbc.tolist(),
            ]
            for index, atoms in enumerate(structures)
        ]
    )


@dataclass(frozen=True)
class RelaxRunSettings:
    """What decides the results of one ``heo-calc relax`` run (not where it runs).

    Attributes:
        calculator: the registry name.
        inputs: :func:`fingerprint` of the input structures.
        n_structures: how many structures the input holds.
        relax: how each structure is relaxed (``fmax`` eV/Å, ``max_steps``, ``optimizer``,
            ``relax_cell``...), the options :func:`~heo_calc.relax.relax_many` is given.
    """

    #: Records written before the settings held a :class:`RelaxOptions` lack some of its
    #: fields; those runs used the defaults (:meth:`heo_calc.run_folder.RunFolder.check`).
    implied_by_older_records: ClassVar[dict[str, Any]] = RelaxOptions().decisive()

    calculator: str
    inputs: str
    n_structures: int
    relax: RelaxOptions

    def decisive(self) -> dict[str, Any]:
        """Every field (the relaxation options flattened beside the others): all must match for ``--resume``."""
        return {
            "calculator": self.calculator,
            "inputs": self.inputs,
            "n_structures": self.n_structures,
            **self.relax.decisive(),
        }


class RelaxStore(RunFolder):
    """The output folder of one ``heo-calc relax`` run (layout in the module docstring)."""

    settings_file = SETTINGS_FILE
    noun = "structure"
    verb = "relax"
    offers_overwrite = True

    @staticmethod
    def stem(index: int, name: str) -> str:
        """``0003-name``: the file stem of structure ``index`` (a safe file name, unique by its index)."""
        return f"{index:04d}-{safe_file_stem(name)}"

    @property
    def results_dir(self) -> Path:
        return self.root / RESULTS_DIR

    def finished_paths(self) -> list[Path]:
        return sorted(self.results_dir.glob("*.json"))

    def run_files(self) -> list[Path]:
        return [
            self.root / SUMMARY_FILE,
            self.root / TRAJECTORIES_DIR,
            *sorted(self.root.glob(STRUCTURE_GLOB)),
        ]

    def unrecorded_results(self) -> list[Path]:
        summary = self.root / SUMMARY_FILE
        return [*([summary] if summary.is_file() else []), *sorted(self.root.glob(STRUCTURE_GLOB))]

    def finished(self) -> dict[int, dict[str, Any]]:
        """The records of the structures finished here, by input index."""
        records = {}
        for path in self.finished_paths():
            record = json.loads(path.read_text())
            records[int(record["index"])] = record
        return records

    def save(self, index: int, result: RelaxResult, identity: dict[str, Any]) -> dict[str, Any]:
        """Store structure ``index``: its relaxed structure (unless it failed), then its record; returns the record.

        Both writes are atomic and the record comes last, so a kill leaves no record
        without its structure.
        """
        from ase.io import write

        stem = self.stem(index, result.name)
        structure_file = None
        if result.status != "failed":
            atoms = result.atoms.copy()
            atoms.info.update(flat_identity(identity))
            structure_file = f"{stem}.extxyz"
            with atomic_output(self.root / structure_file) as temporary:
                write(temporary, atoms, format="extxyz")
        record = {
            "index": index,
            **result.as_row(),
            "file": structure_file,
            "model_key": identity_key(identity),
        }
        with atomic_output(self.results_dir / f"{stem}.json") as temporary:
            temporary.write_text(dumps(record))
        return record

    def write_summary(self, settings: RelaxRunSettings, identity: dict[str, Any]) -> dict[str, Any]:
        """Rebuild ``summary.json`` from the records on disk (input order); returns it.

        ``complete`` says whether every input structure has a record; NaN is written as ``null``.
        """
        records = self.finished()
        summary = {
            "calculator": settings.calculator,
            "model": identity,
            "fmax": settings.relax.fmax,
            "settings": settings.decisive(),
            "n_structures": settings.n_structures,
            "complete": len(records) == settings.n_structures,
            "results": [records[index] for index in sorted(records)],
        }
        with atomic_output(self.root / SUMMARY_FILE) as temporary:
            temporary.write_text(dumps(summary))
        return summary
