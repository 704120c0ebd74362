"""A cheap analytic potential for oxides, registered like a third-party calculator, for screen and cluster tests.

Cation-oxygen pairs: a Morse well of the cation's own depth and bond length, first shell only;
cation-cation and oxygen-oxygen pairs: steep Born-Mayer repulsion. Rock-salt cells are stable
local minima (the other lattices are not meant to be); size mismatch between cations gives
positive mixing energies. Cadmium always returns NaN (a model that fails); with
``TOY_IONIC_HANG_ON=Fe`` in the environment, a structure holding iron waits forever. ``toy-committee``
is the same potential reporting a constant committee force spread (``forces_std``).

:func:`register` writes a ``*.dist-info`` with an entry point ``toy-ionic`` of the group
``heo_calc.calculators`` and a copy of this module into a directory: once that directory is
on ``sys.path`` (and inherited by spawned worker processes and Dask workers), the registry
builds it by name like any installed backend.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from ase.calculators.calculator import Calculator, all_changes
from ase.data import atomic_numbers

#: Cation -> (Morse depth eV, cation-oxygen bond length Å).
MORSE = {
    "Mg": (1.20, 2.10),
    "Co": (1.00, 2.13),
    "Ni": (1.10, 2.08),
    "Cu": (0.90, 2.16),
    "Zn": (1.00, 2.15),
    "Ca": (1.30, 2.38),
    "Fe": (1.00, 2.15),
    "Mn": (1.05, 2.20),
    "Cd": (1.00, 2.35),
}
MORSE_ALPHA = 2.0  # 1/Å
#: Cation-oxygen wells are switched off between these multiples of the bond length (first shell only).
BOND_ON, BOND_OFF = 1.3, 1.5
#: Cation-cation and oxygen-oxygen repulsion A exp(-r / rho), switched off between R_ON and R_CUT.
REPULSION_A, REPULSION_RHO = 1.0e4, 0.2  # eV, Å
R_ON, R_CUT = 3.6, 4.2  # Å
FAILING = "Cd"
#: Environment variable naming an element: a structure holding it makes the calculator wait forever
#: (for tests that kill or interrupt a run at a known point).
HANG_ON_VARIABLE = "TOY_IONIC_HANG_ON"
NAME = "toy-ionic"
#: Calculators built in this process (the per-worker model cache keeps it at one).
BUILDS = 0


def _switch(r, r_on, r_off):
    """Smooth step from 1 (r <= r_on) to 0 (r >= r_off) and its derivative in r."""
    x = np.clip((r - r_on) / (r_off - r_on), 0.0, 1.0)
    return 1 - x**2 * (3 - 2 * x), -6 * x * (1 - x) / (r_off - r_on)


def _pair_terms(symbols, i, j, r):
    """Pair energy and its derivative in r, for every (i, j) of a full neighbour list."""
    oxygen = symbols == "O"
    depth = np.array([MORSE.get(s, (0.0, 1.0))[0] for s in symbols])
    length = np.array([MORSE.get(s, (0.0, 1.0))[1] for s in symbols])
    cation = np.where(oxygen[i], j, i)
    expo = np.exp(-MORSE_ALPHA * (r - length[cation]))
    bond_switch, bond_switch_d = _switch(r, BOND_ON * length[cation], BOND_OFF * length[cation])
    morse = depth[cation] * ((1 - expo) ** 2 - 1)
    morse_d = depth[cation] * 2 * (1 - expo) * MORSE_ALPHA * expo
    repulsion = REPULSION_A * np.exp(-r / REPULSION_RHO)
    switch, switch_d = _switch(r, R_ON, R_CUT)
    mixed = oxygen[i] != oxygen[j]
    phi = np.where(mixed, morse * bond_switch, repulsion * switch)
    phi_d = np.where(
        mixed,
        morse_d * bond_switch + morse * bond_switch_d,
        -repulsion / REPULSION_RHO * switch + repulsion * switch_d,
    )
    return phi, phi_d


class ToyIonicCalculator(Calculator):
    """Energy (eV), forces (eV/Å) and stress (eV/Å^3, Voigt) of the toy pair potential."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]  # noqa: RUF012

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        from ase.neighborlist import neighbor_list

        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        n = len(atoms)
        hang_on = os.environ.get(HANG_ON_VARIABLE)
        while hang_on and hang_on in atoms.get_chemical_symbols():
            time.sleep(0.05)  # a run held here until the test kills or interrupts it
        if FAILING in atoms.get_chemical_symbols():
            nan = float("nan")
            self.results = {
                "energy": nan,
                "free_energy": nan,
                "forces": np.full((n, 3), nan),
                "stress": np.full(6, nan),
            }
            return
        i, j, r, vectors = neighbor_list(
            "ijdD", atoms, max(R_CUT, BOND_OFF * max(v[1] for v in MORSE.values()))
        )
        phi, derivative = _pair_terms(np.array(atoms.get_chemical_symbols()), i, j, r)
        forces = np.zeros((n, 3))
        np.add.at(forces, i, (derivative / r)[:, None] * vectors)
        virial = 0.5 * np.einsum("p,pa,pb->ab", derivative / r, vectors, vectors) / atoms.get_volume()
        energy = 0.5 * float(phi.sum())
        self.results = {
            "energy": energy,
            "free_energy": energy,
            "forces": forces,
            "stress": virial[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]],
        }


#: Per-atom force spread (eV/Å) that ``toy-committee`` reports.
FORCE_SPREAD = 0.0123


class ToyCommitteeCalculator(ToyIonicCalculator):
    """The toy potential posing as a committee: a per-atom force spread of :data:`FORCE_SPREAD` eV/Å."""

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results["forces_std"] = np.full(len(self.atoms), FORCE_SPREAD)


def _declared(calculator: Calculator) -> Calculator:
    from heo_calc.backends.capabilities import Capabilities, declare

    global BUILDS
    BUILDS += 1
    covered = frozenset(atomic_numbers[s] for s in (*MORSE, "O"))
    capabilities = Capabilities(backend="toy", dtype="float64", covered_numbers=lambda calculator: covered)
    return declare(calculator, capabilities)


def make_toy_ionic(*, device: str = "auto", dtype: str = "float64", **kwargs) -> Calculator:
    """The registry's factory: a new :class:`ToyIonicCalculator` with its declared element coverage."""
    return _declared(ToyIonicCalculator())


def make_toy_committee(*, device: str = "auto", dtype: str = "float64", **kwargs) -> Calculator:
    """The registry's factory of ``toy-committee``: :class:`ToyCommitteeCalculator`."""
    return _declared(ToyCommitteeCalculator())


def builds_in_this_process() -> tuple[int, int]:
    """(process id, calculators built here): what a test asks every worker."""
    return os.getpid(), BUILDS


def named_cells(n: int) -> list:
    """``n`` rattled 8-atom rock-salt (Mg,Ni)O cells (seeds 0..n-1) named ``cell-0``, ``cell-1``...: stable under the toy."""
    from heo_calc.structures import rocksalt_heo_supercell

    cells = [rocksalt_heo_supercell(("Mg", "Ni"), repeat=1, seed=seed, rattle=0.08) for seed in range(n)]
    for seed, atoms in enumerate(cells):
        atoms.info["name"] = f"cell-{seed}"
    return cells


def register(directory: Path) -> Path:
    """Make ``toy-ionic`` an installed calculator for whoever has ``directory`` on ``sys.path``."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__), directory / "toy_ionic.py")
    info = directory / "heo_toy_ionic-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: heo-toy-ionic\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[heo_calc.calculators]\n{NAME} = toy_ionic:make_toy_ionic\ntoy-committee = toy_ionic:make_toy_committee\n"
    )
    return directory


@contextlib.contextmanager
def installed(directory: Path) -> Iterator[str]:
    """``toy-ionic`` registered and importable for this process and the worker processes it spawns.

    Spawned processes (``multiprocessing``, Dask's nannies) start with their parent's
    ``sys.path``; subprocesses need ``PYTHONPATH`` set to ``directory`` by the caller.
    """
    register(directory)
    sys.path.insert(0, str(directory))
    importlib.invalidate_caches()
    try:
        yield NAME
    finally:
        sys.path.remove(str(directory))
        importlib.invalidate_caches()
