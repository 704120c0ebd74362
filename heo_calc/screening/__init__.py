"""Screens of equimolar HEO compositions: mixing energy, lattice parameter and local distortion per composition.

``heo-calc screen`` runs :func:`run_screen`; the modules, each with one job:

* :mod:`~heo_calc.screening.compositions`: cation sets (lists, k-subsets of a pool, files) and cell sizes.
* :mod:`~heo_calc.screening.settings`: :class:`ScreenSettings`, what decides the numbers.
* :mod:`~heo_calc.screening.references`: the single-cation parents, relaxed once per calculator and cached.
* :mod:`~heo_calc.screening.analysis`: mixing energy and Vegard's law against the parents
  (:mod:`heo_calc.mixing`), bond-length spread, summaries.
* :mod:`~heo_calc.screening.records`: the typed records between these modules and in the files.
* where relaxations run (here, local processes, a Dask cluster): the model handle, :func:`heo_calc.model.open_model`.
* :mod:`~heo_calc.screening.store`: the output folder, one file per finished composition (``--resume``).
* :mod:`~heo_calc.screening.outputs`: CSV, JSON, markdown ranking and plots.
* :mod:`~heo_calc.screening.runner`: :func:`run_screen`.

The cells come from :mod:`heo_calc.structures.substituted` (the benchmark's builder too).
"""

from heo_calc.screening.compositions import Composition, parse_cations, pool_compositions, read_compositions
from heo_calc.screening.runner import ScreenResult, run_screen
from heo_calc.screening.settings import ScreenSettings

__all__ = [
    "Composition",
    "ScreenResult",
    "ScreenSettings",
    "parse_cations",
    "pool_compositions",
    "read_compositions",
    "run_screen",
]
