"""What a finetune run was started with, so that ``heo-calc finetune --resume`` goes on only with the same.

A fresh run writes ``OUT/run_identity.json`` before training:

* ``base``: the base model, by name and SHA-256 of its checkpoint file (a foundation name such
  as ``sevennet-0`` is resolved to the file inside its package, whose version is recorded too);
* ``data``: SHA-256 of the prepared training and validation files (``OUT/data/*.extxyz``,
  after outlier dropping, base replay and zero-stress labels, i.e. what the trainer reads);
* ``recipe``: every field of the training recipe except those a resumed run may change:
  ``epochs`` (to train on for longer) and ``device`` (to go on on another machine).

``--resume`` compares the record with the run it is asked to continue and raises
:class:`~heo_calc.errors.ResumeMismatchError`, one line naming what changed (old then, new
now), as ``heo-calc screen --resume`` refuses a screen of another model. Hashes use the one
hashing helper of the package (:func:`heo_calc.provenance.sha256_of_file`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any, Final

from heo_base.atomic_write import atomic_output
from heo_calc.errors import ResumeMismatchError
from heo_calc.provenance import SHORT, package_versions, sha256_of_file

logger = logging.getLogger(__name__)

#: The record's file name in the run's output folder.
IDENTITY_FILE: Final = "run_identity.json"
#: Recipe fields a resumed run may change.
RESUMABLE_CHANGES: Final = frozenset({"epochs", "device"})


def base_identity(base: str) -> dict[str, Any]:
    """``{"name", "sha256"[, "package", "version"]}`` of a base: a foundation name or a checkpoint path."""
    from heo_calc.backends.sevennet import SEVENNET_KEYWORDS, sevennet_pretrained_path

    if base in SEVENNET_KEYWORDS:
        file = sevennet_pretrained_path(SEVENNET_KEYWORDS[base])
        version = package_versions(("sevenn",)).get("sevenn")
        return {"name": base, "sha256": sha256_of_file(file), "package": "sevenn", "version": version}
    return {"name": Path(base).name, "sha256": sha256_of_file(base)}


def run_identity(base: str, train_file: Path, valid_file: Path | None, recipe: Any) -> dict[str, Any]:
    """The record of a run (fields in the module docstring); ``recipe`` is a dataclass instance."""
    data = {"train": sha256_of_file(train_file)}
    if valid_file is not None:
        data["valid"] = sha256_of_file(valid_file)
    recipe_fields = {
        key: value for key, value in dataclasses.asdict(recipe).items() if key not in RESUMABLE_CHANGES
    }
    return {"base": base_identity(base), "data": data, "recipe": recipe_fields}


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    def base(record: dict[str, Any]) -> str:
        return f"{record.get('name')} (sha256 {str(record.get('sha256'))[:SHORT]})"

    changed = []
    if (old.get("base") or {}).get("sha256") != new["base"]["sha256"]:
        changed.append(f"base {base(old.get('base') or {})} then, {base(new['base'])} now")
    for split, sha in new["data"].items():
        before = (old.get("data") or {}).get(split)
        if before != sha:
            changed.append(f"{split} data sha256 {str(before)[:SHORT]} then, {sha[:SHORT]} now")
    old_recipe = old.get("recipe") or {}
    for key in sorted(set(old_recipe) | set(new["recipe"])):
        if old_recipe.get(key) != new["recipe"].get(key):
            changed.append(f"{key} {old_recipe.get(key)!r} then, {new['recipe'].get(key)!r} now")
    return changed


def record_or_check_run_identity(
    out_dir: Path, base: str, train_file: Path, valid_file: Path | None, recipe: Any, *, resume: bool
) -> None:
    """Write ``out_dir/run_identity.json`` for a new run; on ``resume``, refuse a run of another base, data or recipe.

    A run from before this record existed is resumed with a warning (nothing to compare), and
    gets a record from now on.
    """
    path = Path(out_dir) / IDENTITY_FILE
    current = json.loads(json.dumps(run_identity(base, train_file, valid_file, recipe), default=str))
    if resume and path.is_file():
        changed = _differences(json.loads(path.read_text(encoding="utf-8")), current)
        if changed:
            raise ResumeMismatchError(
                f"--resume: the run in {out_dir} was started with other settings ({'; '.join(changed)}); "
                "resume with the same base, data and options, or start over in a new --out folder"
            )
        return
    if resume:
        logger.warning(
            "%s holds no %s (an older run): its base and data cannot be checked", out_dir, IDENTITY_FILE
        )
    with atomic_output(path) as temporary:
        temporary.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
