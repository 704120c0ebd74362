"""Equimolar random rock-salt solid solutions of a few cations, such as (Mg,Ni)O or (Mg,Co,Ni,Cu,Zn)O.

The forgetting report relaxes them against the same model's rock-salt end members, started
at the model's own Vegard lattice parameter (:func:`heo_calc.mixing.vegard_lattice_parameter`).
The cations share the cation sublattice as evenly as its site count allows
(:func:`heo_calc.structures.rocksalt_heo_supercell`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ase import Atoms

from heo_calc.structures import perturb, rocksalt_heo_supercell


def solid_solution_name(cations: Sequence[str]) -> str:
    """``(Mg,Ni)O``: the cations in the order given."""
    return f"({','.join(cations)})O"


def rocksalt_solid_solution(
    cations: Sequence[str], lattice_parameter: float, *, repeat: int = 2, rattle: float = 0.0, seed: int = 0
) -> Atoms:
    """A random rock-salt cell of ``cations`` (``repeat`` 2: 64 atoms) at ``lattice_parameter`` (Å), rattled.

    ``seed`` shuffles the cations and, as a stream of its own, rattles every atom by
    ``rattle`` Å (:func:`heo_calc.structures.perturb.rattle`). ``info``: ``name``
    (:func:`solid_solution_name`), ``prototype`` (``rocksalt``), ``cations`` (comma-separated).
    """
    atoms = rocksalt_heo_supercell(cations, repeat=repeat, lattice_parameter=lattice_parameter, seed=seed)
    atoms = perturb.rattle(atoms, rattle, seed)
    atoms.info.update(name=solid_solution_name(cations), prototype="rocksalt", cations=",".join(cations))
    return atoms
