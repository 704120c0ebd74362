""":func:`relax_many`: the one relaxation entry point of every command and benchmark."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_base.labels import safe_file_stem, structure_id
from heo_calc.model import ModelHandle, open_model
from heo_calc.relax.single import RelaxOptions, RelaxResult, blas_on_one_thread
from heo_calc.relax.strategies import Jobs, Strategy, choose_strategy

logger = logging.getLogger(__name__)

#: Keywords of the old signature, kept one release with a DeprecationWarning: the fields of
#: :class:`RelaxOptions` now go in ``options``, where the model runs in :func:`open_model`.
_OPTION_KEYWORDS = frozenset(field.name for field in dataclasses.fields(RelaxOptions))
_WHERE_KEYWORDS = frozenset({"device", "executor", "workers"})


def _options_from_old_keywords(
    options: RelaxOptions | None, model: ModelHandle | str | Calculator, keywords: dict[str, Any]
) -> tuple[RelaxOptions, dict[str, Any]]:
    """``options`` (or one made of the old option keywords) and the old where-it-runs keywords."""
    unknown = set(keywords) - _OPTION_KEYWORDS - _WHERE_KEYWORDS
    if unknown:
        raise TypeError(f"relax_many() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    old_options = {k: v for k, v in keywords.items() if k in _OPTION_KEYWORDS}
    where = {k: v for k, v in keywords.items() if k in _WHERE_KEYWORDS}
    if old_options:
        if options is not None:
            raise TypeError(
                f"give the relaxation settings once: options=RelaxOptions(...) or {', '.join(old_options)}, not both"
            )
        warnings.warn(
            f"relax_many(..., {', '.join(f'{k}=' for k in old_options)}) is deprecated: pass "
            "relax_many(structures, model, RelaxOptions(...))",
            DeprecationWarning,
            stacklevel=3,
        )
        options = RelaxOptions(**old_options)
    if where:
        if isinstance(model, ModelHandle):
            raise TypeError(
                f"{', '.join(where)}: where the model runs is set by open_model(), not relax_many()"
            )
        warnings.warn(
            f"relax_many(..., {', '.join(f'{k}=' for k in where)}) is deprecated: pass "
            f"open_model(name, {', '.join(f'{k}=...' for k in where)}) as the model",
            DeprecationWarning,
            stacklevel=3,
        )
    return options if options is not None else RelaxOptions(), where


@contextlib.contextmanager
def _opened(model: ModelHandle | str | Calculator, where: dict[str, Any]) -> Iterator[ModelHandle]:
    """``model`` as a handle: a handle as it is (its owner closes it), else opened for this call and closed after."""
    if isinstance(model, ModelHandle):
        yield model
        return
    with open_model(model, **where) as handle:
        yield handle


def _trajectories(names: list[str], trajectory_dir: str | Path | None) -> list[Path | None]:
    if trajectory_dir is None:
        return [None] * len(names)
    Path(trajectory_dir).mkdir(parents=True, exist_ok=True)
    return [
        Path(trajectory_dir) / f"{index:04d}-{safe_file_stem(name)}.traj" for index, name in enumerate(names)
    ]


def relax_many(
    structures: Sequence[Atoms] | Atoms,
    model: ModelHandle | str | Calculator,
    options: RelaxOptions | None = None,
    *,
    trajectory_dir: str | Path | None = None,
    progress: bool = True,
    on_result: Callable[[RelaxResult], None] | None = None,
    strategy: str | Strategy = "auto",
    max_batch_atoms: int | None = None,
    **deprecated: Any,
) -> list[RelaxResult]:
    """Relax positions (and cell) of many structures with one model.

    Args:
        structures: periodic structures (or one ``Atoms``: a list of one result); they are
            copied, never modified.
        model: a handle of :func:`heo_calc.model.open_model` (which says where the model
            runs: this process, local worker processes, a Dask cluster), or a registry name
            (``"heo-ft"``, ``"sevennet-0"``, ``"mace:file.model"``) or an ASE calculator,
            opened here in this process for the call.
        options: how each structure is relaxed (:class:`~heo_calc.relax.single.RelaxOptions`:
            ``fmax`` in eV/Å, ``max_steps``, ``optimizer``, ``relax_cell``, ``keep_symmetry``...);
            default ``RelaxOptions()``.
        trajectory_dir: write one ASE trajectory per structure here.
        progress: show a tqdm progress bar.
        on_result: called with each result as soon as it is final.
        strategy: how the structures are spread (:mod:`heo_calc.relax.strategies`):
            ``"auto"`` (default): on the model's executor if it has one, else in this
            process: lock-step batched on a GPU for a backend that batches, one after
            another otherwise. Or ``"sequential"``, ``"lockstep"``, ``"processes"``, or a
            strategy object.
        max_batch_atoms: lock-step only: atoms evaluated in one batched call.
        **deprecated: the keywords of the old signature (``fmax=``, ``max_steps=``... and
            ``device=``, ``executor=``, ``workers=``) still work for one release, with a
            DeprecationWarning.

    Returns:
        One :class:`~heo_calc.relax.single.RelaxResult` per input structure, in input
        order. A structure that is invalid, diverges or blows apart gives
        ``status="failed"`` with the reason; the others finish.
    """
    options, where = _options_from_old_keywords(options, model, deprecated)
    if isinstance(structures, Atoms):
        structures = [structures]
    with _opened(model, where) as handle:
        return _relax_with(
            structures, handle, options, trajectory_dir, progress, on_result, strategy, max_batch_atoms
        )


def _relax_with(
    structures: Sequence[Atoms],
    model: ModelHandle,
    options: RelaxOptions,
    trajectory_dir: str | Path | None,
    progress: bool,
    on_result: Callable[[RelaxResult], None] | None,
    strategy: str | Strategy,
    max_batch_atoms: int | None,
) -> list[RelaxResult]:
    names = [structure_id(atoms, index) for index, atoms in enumerate(structures)]
    jobs = Jobs(structures, names, _trajectories(names, trajectory_dir), options)
    chosen = choose_strategy(strategy, model, max_batch_atoms=max_batch_atoms)
    logger.info("relaxing %d structures with %s on %s: %s", len(structures), model.label, model.where, chosen)
    from tqdm.auto import tqdm

    with (
        blas_on_one_thread(),
        tqdm(total=len(structures), desc="relax", unit="structure", disable=not progress) as bar,
    ):

        def finished(result: RelaxResult) -> None:
            bar.update(1)
            bar.set_postfix_str(f"{result.name}: {result.status}")
            if on_result is not None:
                on_result(result)

        return chosen.run(jobs, model, finished)
