"""Small, reproducible HEO structures for examples, tests, benchmarks and screens.

* :func:`rocksalt_heo_supercell` (here): a quick random rock-salt HEO cell.
* :mod:`heo_calc.structures.parents`: the four cubic parent lattices, their supercells with
  an exactly equimolar substituted sublattice, and single-cation parent references.
* :mod:`heo_calc.structures.sqs`: Warren-Cowley short-range order and SQS searches.
* :mod:`heo_calc.structures.substituted`: equimolar supercells of any cation set, random or SQS.
* :mod:`heo_calc.structures.bonds`: first-shell cation-anion bonds, measured after relaxation.
* :mod:`heo_calc.structures.lattices`: pseudo-cubic lattice parameters.
* :mod:`heo_calc.structures.binary_oxides`: binary oxides in their usual prototype, and their
  supercells rescaled to a model's minimum.
* :mod:`heo_calc.structures.solid_solutions`: equimolar random rock-salt solid solutions.
* :mod:`heo_calc.structures.perturb`: the one rattle (and its symmetric twin).
* :mod:`heo_calc.structures.experimental`: measured lattice parameters with their citations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.build import bulk

from heo_calc.structures.experimental import EXPERIMENTAL_LATTICES, ROCKSALT_HEO
from heo_calc.structures.perturb import rattle as rattled

#: Measured rock-salt (Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O lattice parameter, Å (:mod:`heo_calc.structures.experimental`).
ROCKSALT_HEO_LATTICE_PARAMETER = EXPERIMENTAL_LATTICES[ROCKSALT_HEO].a


def rocksalt_heo_supercell(
    cations: Sequence[str] = ("Mg", "Co", "Ni", "Cu", "Zn"),
    *,
    repeat: int = 2,
    lattice_parameter: float = ROCKSALT_HEO_LATTICE_PARAMETER,
    seed: int = 0,
    rattle: float = 0.0,
) -> Atoms:
    """A random-cation rock-salt oxide supercell, e.g. 64 atoms for ``repeat=2``.

    Cations are distributed over the cation sublattice as evenly as the site count
    allows (counts differ by at most one), shuffled with ``seed``; positions are then
    displaced by Gaussian noise of ``rattle`` Å (same seed).
    """
    atoms = bulk("MgO", "rocksalt", a=lattice_parameter, cubic=True).repeat(repeat)
    cation_sites = np.flatnonzero(atoms.numbers != 8)
    rng = np.random.default_rng(seed)
    symbols = [cations[i % len(cations)] for i in range(len(cation_sites))]
    symbols = list(rng.permutation(symbols))
    chemical_symbols = atoms.get_chemical_symbols()
    for site, symbol in zip(cation_sites, symbols):
        chemical_symbols[site] = symbol
    atoms.set_chemical_symbols(chemical_symbols)
    if rattle > 0:
        atoms = rattled(atoms, rattle, rng)  # the permutation's generator, continued
    atoms.info["name"] = f"rocksalt-{''.join(cations)}-r{repeat}-s{seed}"
    return atoms
