"""Forgetting report: what finetuning did to simple oxides, each finetuned model against its base.

A model finetuned on HEO data may drift on the chemistry it was not trained on. ``heo-calc
forgetting`` relaxes, with each model, the same small set of simple oxides and compares the
finetuned model with its base on them:

* the binary oxide of every cation asked for (:mod:`heo_calc.structures.binary_oxides`
  prototypes: rock salt AO, fluorite AO2, anti-fluorite A2O, corundum A2O3): its
  conventional cell is first rescaled to the model's own minimum
  (:func:`~heo_calc.structures.binary_oxides.prescale_to_minimum`, an isotropic energy
  scan), then repeated to at least ``min_atoms`` atoms, rattled and relaxed (positions and
  cell, :func:`heo_calc.relax.relax_many`);
* equimolar random rock-salt solid solutions (:data:`SOLID_SOLUTIONS`, 64-atom cells, the
  cations as evenly as 32 sites allow), started at the model's own Vegard lattice parameter
  (the mean of its relaxed rock-salt end members), rattled and relaxed the same way.

Per structure and model: energy per formula unit (eV/f.u.), pseudo-cubic lattice parameter
(Å, from the volume per formula unit, 4 formula units per cubic cell; a size measure only for
corundum), residual stress, and for the solid solutions the mixing energy against the
model's own rock-salt end members (meV/atom, :func:`heo_calc.mixing.mixing_energy_mev_per_atom`).
:func:`compare_to_base` puts each finetuned model beside its base, with the measured lattice
parameters where recorded (:mod:`heo_calc.structures.experimental`).

Relaxations are cached per model in the package's relaxation cache
(:class:`heo_calc.relax.cache.RelaxationCache`, ``<cache>/<model>/<structure>-<key>.json``
and ``.extxyz``; the key hashes the structure, the options and the model identity's key,
:func:`heo_calc.provenance.identity_key`: name, SHA-256 of the weights, dtype), so a base
model shared by several comparisons is relaxed once, an interrupted report resumes, and
other weights under the same name are relaxed anew. Every row carries the model identity
as flat ``model_*`` columns (:func:`heo_calc.provenance.flat_identity`), every cached
extxyz the same keys in ``info``.

The modules, each with one job:

* :mod:`~heo_calc.forgetting.study`: what is relaxed, with which options, and the run over
  the models (:func:`relax_model`, :func:`forgetting_report`).
* :mod:`~heo_calc.forgetting.comparison`: mixing energies, each model against its base, summaries.
* :mod:`~heo_calc.forgetting.report`: the markdown tables.

The structures come from :mod:`heo_calc.structures` (:mod:`~heo_calc.structures.binary_oxides`,
:mod:`~heo_calc.structures.solid_solutions`).
"""

from heo_calc.forgetting.comparison import (
    COMPARISON_COLUMNS,
    add_mixing_energies,
    compare_to_base,
    summarize_comparison,
)
from heo_calc.forgetting.report import format_comparison, format_summaries
from heo_calc.forgetting.study import (
    SOLID_SOLUTIONS,
    ForgettingOptions,
    binary_oxide_start,
    cations_of,
    forgetting_report,
    relax_model,
    solid_solution_start,
)

__all__ = [
    "COMPARISON_COLUMNS",
    "SOLID_SOLUTIONS",
    "ForgettingOptions",
    "add_mixing_energies",
    "binary_oxide_start",
    "cations_of",
    "compare_to_base",
    "forgetting_report",
    "format_comparison",
    "format_summaries",
    "relax_model",
    "solid_solution_start",
    "summarize_comparison",
]
