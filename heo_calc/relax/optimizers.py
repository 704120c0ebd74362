"""L-BFGS whose initial inverse Hessian follows the curvature it has measured.

ASE's :class:`~ase.optimize.LBFGS` keeps its initial inverse Hessian at ``1/alpha`` for the
whole run. The textbook L-BFGS (Nocedal & Wright, *Numerical Optimization*, 2nd ed.,
Springer 2006, eq. 7.20; also what SciPy's L-BFGS-B does) rescales it before every step to
``(s·y)/(y·y)``, the inverse curvature along the last step ``s`` with gradient change ``y``.
ASE has no option for it, so :class:`ScaledLBFGS` adds exactly that to ASE's optimizer and
keeps everything else of it (two-loop recursion, ``maxstep``, trajectories, logging,
filters). Measured with SevenNet-0 and FrechetCellFilter to fmax 0.05 eV/Å
(docs/relaxation.md): fewer force calls than ASE's L-BFGS with the same first step.
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
from ase.optimize import BFGS, FIRE, LBFGS
from ase.optimize.optimize import Optimizer
from scipy.sparse import coo_array


class ScaledLBFGS(LBFGS):
    """ASE's L-BFGS with the initial inverse Hessian rescaled to ``(s·y)/(y·y)`` every step.

    ``alpha`` (eV/Å²) is the curvature assumed for the first step only, before any has
    been measured. Steps along which the energy is not convex (``s·y <= 0``) leave the
    previous scale in place. Needs ASE >= 3.29 (its L-BFGS keeps its history in
    ``self.state``).
    """

    def update(
        self, pos: np.ndarray, forces: np.ndarray, r0: np.ndarray | None, f0: np.ndarray | None
    ) -> None:
        """ASE's history update (``r0``/``f0`` are ``None`` before the first step), then the rescaling."""
        super().update(pos, forces, r0, f0)
        if not self.state.s:
            return
        step, gradient_change = self.state.s[-1], self.state.y[-1]
        curvature = float(np.dot(step, gradient_change))
        if curvature <= 0:
            return
        inverse_curvature = curvature / float(np.dot(gradient_change, gradient_change))
        n_dofs = step.size
        diagonal = np.arange(n_dofs)
        self.state.H0 = coo_array(
            (np.full(n_dofs, inverse_curvature), (diagonal, diagonal)), shape=(n_dofs, n_dofs)
        )


#: ``lbfgs`` is ASE's L-BFGS with the textbook rescaled initial Hessian
#: (:class:`ScaledLBFGS`); ``ase-lbfgs`` is ASE's as it comes.
OPTIMIZERS: Final[dict[str, type[Optimizer]]] = {
    "lbfgs": ScaledLBFGS,
    "ase-lbfgs": LBFGS,
    "bfgs": BFGS,
    "fire": FIRE,
}
OptimizerName = Literal["lbfgs", "ase-lbfgs", "bfgs", "fire"]
#: Chosen by measurement (docs/relaxation.md): fewest force calls to fmax 0.05 eV/Å.
DEFAULT_OPTIMIZER: Final = "lbfgs"
#: Curvature (eV/Å²) L-BFGS and BFGS assume before their first step (ASE's ``alpha``).
#: ASE's default, 70 eV/Å², is far stiffer than HEO oxides near their minima; 15 took the
#: fewest steps on ten HEO cells (docs/relaxation.md, ``benchmarks/bench_optimizers.py``).
INITIAL_HESSIAN_EV_PER_A2: Final = 15.0
#: Optimizers that take the initial Hessian guess (as ASE's ``alpha``).
QUASI_NEWTON: Final = frozenset({"lbfgs", "ase-lbfgs", "bfgs"})
