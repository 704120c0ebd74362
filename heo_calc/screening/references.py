"""Parent references of a screen: each cation alone on the screen's lattice, relaxed once per calculator and cached.

One parent per lattice type, isostructural and of the same stoichiometry as every mixture
on that lattice, so mixing energies balance atom by atom:

* rock salt: AO in rock salt (MgO, CoO, NiO, ...);
* fluorite: AO2 in fluorite (CeO2, ZrO2, ... and fictive ones such as LaO2);
* spinel: A3O4 in spinel, the cation on both tetrahedral and octahedral sites (Co3O4,
  Fe3O4, Mn3O4 exist; Cr3O4, Ni3O4 do not). The mixtures put every cation on both sites at
  random, so there is no A/B split that AO (rock salt) + B2O3 (corundum) would need;
* perovskite: SrBO3 in cubic perovskite (SrTiO3, SrZrO3, SrHfO3, SrSnO3, SrMnO3), the Sr
  spectator kept as in the mixtures.

These are references on a fixed lattice, not ground states (ZrO2 is monoclinic, SrZrO3
orthorhombic, Mn3O4 tetragonal): ΔE_mix measures mixing on the lattice. Each parent starts
from a rattled cell of at least 64 atoms (:func:`heo_calc.structures.parents.single_cation_reference`),
so that it can leave the cubic symmetry: with SevenNet-0, rock-salt CuO relaxed from the
perfect 8-atom cell stayed cubic, 0.21 eV per formula unit above the same cell relaxed from a
rattled 64-atom start (Jahn-Teller Cu2+), which shifted every Cu-containing mixing energy
by ~20 meV/atom.

Cache: ``<out>/parents/<calculator>/<lattice>-<formula>-<key>.json`` (and the relaxed
``.extxyz``), the package's one relaxation cache (:class:`heo_calc.relax.cache.RelaxationCache`),
where the key hashes everything that decides the result: the model identity
(:func:`heo_calc.provenance.identity_key`: name, SHA-256 of the weights, dtype), cell size,
rattle, fmax, steps, optimizer. New weights under the same name (a retrained
``sevennet:PATH`` file, a new heo-ft) therefore never find the old parents. Each file
holds the full identity under ``model`` (the ``.extxyz`` its flat ``model_*`` fields in
``atoms.info``). Failed parents are not cached: the next run retries.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from heo_calc.model import ModelHandle
from heo_calc.relax import RelaxResult, relax_many
from heo_calc.relax.cache import RelaxationCache
from heo_calc.screening.records import ParentRecord, as_dict, from_dict
from heo_calc.screening.settings import ScreenSettings
from heo_calc.status import Status
from heo_calc.structures.lattices import pseudo_cubic_lattice_parameter
from heo_calc.structures.parents import parent_lattice, single_cation_reference

logger = logging.getLogger(__name__)

#: Seed of the parents' rattle (one start per parent, whatever the screen's seed).
PARENT_SEED = 0

#: What each lattice's parents are, for reports.
REFERENCE_NOTES: Final[dict[str, str]] = {
    "rocksalt": "Parents: AO in rock salt.",
    "fluorite": "Parents: AO2 in fluorite (fictive for trivalent cations such as LaO2).",
    "spinel": "Parents: A3O4 in spinel with the cation on tetrahedral and octahedral sites alike, "
    "as in the mixtures (Co3O4, Fe3O4, Mn3O4 exist; others are fictive).",
    "perovskite": "Parents: SrBO3 in cubic perovskite (Sr kept on the A site, as in the mixtures).",
}


def parent_cache(out_dir: Path) -> RelaxationCache:
    """The screen's cache of parents: ``<out_dir>/parents``."""
    return RelaxationCache(out_dir / "parents")


def _structure(settings: ScreenSettings, cation: str) -> str:
    """The parent's name in the cache: ``<lattice>-<formula>``."""
    return f"{settings.lattice}-{parent_lattice(settings.lattice).reference_formula(cation)}"


def _decisive(settings: ScreenSettings, cation: str) -> dict[str, Any]:
    """Everything besides the model identity that decides the relaxed parent of ``cation``."""
    return {
        "calculator": settings.calculator,
        "lattice": settings.lattice,
        "cation": cation,
        "sites": parent_lattice(settings.lattice).reference_sites,
        "rattle": settings.rattle,
        "seed": PARENT_SEED,
        **settings.relax.decisive(),
    }


def cache_path(out_dir: Path, settings: ScreenSettings, cation: str, model_key: str) -> Path:
    """Where the parent of ``cation`` under ``settings`` and model ``model_key`` is cached (``.json``; ``.extxyz`` beside it).

    ``model_key``: :func:`heo_calc.provenance.identity_key` of the calculator's identity.
    """
    return parent_cache(out_dir).path(
        settings.calculator, _structure(settings, cation), _decisive(settings, cation), model_key
    )


def parent_record(settings: ScreenSettings, cation: str, result: RelaxResult) -> ParentRecord:
    """The record of a relaxed (or failed) parent."""
    parent = parent_lattice(settings.lattice)
    ok = result.status != Status.FAILED
    return ParentRecord(
        lattice=settings.lattice,
        cation=cation,
        formula=parent.reference_formula(cation),
        calculator=settings.calculator,
        n_atoms=len(result.atoms),
        n_sites=parent.reference_sites,
        status=Status(result.status),
        converged=bool(result.converged),
        n_steps=int(result.n_steps),
        energy_eV=result.energy,
        energy_per_site_eV=result.energy / parent.reference_sites if ok else float("nan"),
        a_pseudo_cubic_A=pseudo_cubic_lattice_parameter(result.atoms, settings.lattice)
        if ok
        else float("nan"),
        max_force_spread_eV_per_A=result.max_force_spread,
        error=result.error or "",
    )


def relax_parents(
    cations: Sequence[str],
    settings: ScreenSettings,
    model: ModelHandle,
    out_dir: Path,
    *,
    progress: bool = True,
) -> dict[str, ParentRecord]:
    """The parent of every cation in ``cations``: from the cache of this model identity, else relaxed now (together) and cached."""
    identity = model.identity()
    cache = parent_cache(out_dir)
    records: dict[str, ParentRecord] = {}
    for cation in cations:
        cached = cache.load(
            settings.calculator, _structure(settings, cation), _decisive(settings, cation), identity
        )
        if cached is not None:
            records[cation] = from_dict(ParentRecord, cached)
    missing = [c for c in cations if c not in records]
    if missing:
        logger.info(
            "relaxing %d parent references on %s: %s", len(missing), settings.lattice, ", ".join(missing)
        )
        structures = [
            single_cation_reference(settings.lattice, c, rattle=settings.rattle, seed=PARENT_SEED)
            for c in missing
        ]
        results = relax_many(structures, model, settings.relax, progress=progress)
        for cation, result in zip(missing, results):
            records[cation] = parent_record(settings, cation, result)
            if records[cation].usable:
                cache.store(
                    settings.calculator,
                    _structure(settings, cation),
                    _decisive(settings, cation),
                    identity,
                    as_dict(records[cation]),
                    result.atoms,
                )
                if not records[cation].converged:
                    logger.warning(
                        "parent %s did not converge in %d steps",
                        records[cation].formula,
                        settings.relax.max_steps,
                    )
            else:
                logger.warning(
                    "parent %s failed to relax: %s", records[cation].formula, records[cation].error
                )
    return records


def parent_failure(parents: Sequence[ParentRecord]) -> str:
    """Why a composition cannot be referenced, naming the failed parents and the fix; ``""`` if none failed."""
    failed = [p for p in parents if not p.usable]
    if not failed:
        return ""
    reasons = "; ".join(f"{p.formula}: {p.error or p.status}" for p in failed)
    return (
        f"parent reference(s) failed to relax ({reasons}); check the calculator on these oxides "
        "(`heo-calc relax` on the cell in the parents folder) or leave the cation out. Failed parents "
        "are not cached: --resume retries them"
    )
