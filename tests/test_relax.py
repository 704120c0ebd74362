"""The relaxation engine: same minima as the plain ASE loop, robust to bad structures."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes

from heo_calc import RelaxOptions, open_model, relax_many
from heo_calc.structures import rocksalt_heo_supercell


def _small_cells(n: int = 3):
    return [rocksalt_heo_supercell(repeat=1, seed=seed, rattle=0.08) for seed in range(n)]


def test_fast_path_reaches_the_fire_minimum(sevennet_calculator):
    structures = _small_cells(3)
    plain = relax_many(
        structures,
        sevennet_calculator,
        RelaxOptions(fmax=0.02, optimizer="fire"),
        strategy="sequential",
        progress=False,
    )
    fast = relax_many(structures, sevennet_calculator, RelaxOptions(fmax=0.02), progress=False)
    for reference, result, atoms in zip(plain, fast, structures):
        assert reference.converged and result.converged
        assert result.energy < result.initial_energy
        difference_mev_per_atom = 1000 * abs(result.energy - reference.energy) / len(atoms)
        assert difference_mev_per_atom < 2.0
    assert np.median([r.n_steps for r in fast]) < np.median([r.n_steps for r in plain])


def test_lockstep_batches_agree_with_sequential_step_for_step(sevennet_calculator):
    structures = _small_cells(3)
    sequential = relax_many(structures, sevennet_calculator, strategy="sequential", progress=False)
    lockstep = relax_many(structures, sevennet_calculator, strategy="lockstep", progress=False)
    for a, b in zip(sequential, lockstep):
        assert a.n_steps == b.n_steps
        assert a.energy == pytest.approx(b.energy, abs=1e-4)


def test_worker_processes_agree_with_sequential():
    structures = _small_cells(3)
    sequential = relax_many(structures, "sevennet-0", strategy="sequential", progress=False)
    with open_model("sevennet-0", workers=2) as model:
        parallel = relax_many(structures, model, progress=False)
        assert model.where == "2 local worker processes"
    assert [r.name for r in parallel] == [r.name for r in sequential]
    for a, b in zip(sequential, parallel):
        assert a.n_steps == b.n_steps
        assert a.energy == pytest.approx(b.energy, abs=1e-4)


def test_processes_need_a_registry_name(sevennet_calculator):
    with pytest.raises(ValueError, match="need the calculator as a registry name"):
        relax_many(_small_cells(2), sevennet_calculator, strategy="processes")


@pytest.mark.parametrize("strategy", ["lockstep", "sequential"])
def test_bad_structures_are_flagged_and_the_rest_finish(sevennet_calculator, strategy):
    good = _small_cells(2)
    overlapping = good[0].copy()
    overlapping.positions[1] = overlapping.positions[0] + 0.05
    broken = good[1].copy()
    broken.positions[3, 0] = np.nan
    results = relax_many(
        [good[0], overlapping, broken, good[1]], sevennet_calculator, strategy=strategy, progress=False
    )
    assert [r.status for r in results] == ["ok", "failed", "failed", "ok"]
    assert "overlapping" in results[1].error
    assert "NaN" in results[2].error


class _ExplodingCalculator(Calculator):
    """Returns NaN forces after a few calls, like a model leaving its training domain."""

    implemented_properties = ["energy", "forces", "stress"]  # noqa: RUF012

    def __init__(self):
        super().__init__()
        self.calls = 0

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.calls += 1
        forces = np.full((len(self.atoms), 3), np.nan) if self.calls > 3 else np.ones((len(self.atoms), 3))
        self.results = {"energy": -float(self.calls), "forces": forces, "stress": np.zeros(6)}


def test_a_diverging_model_gives_failed_rows_not_an_exception():
    results = relax_many(_small_cells(2), _ExplodingCalculator(), strategy="sequential", progress=False)
    assert all(r.status == "failed" for r in results)
    assert all("NaN" in r.error for r in results)


def test_results_carry_the_relaxed_structure_and_trajectory(sevennet_calculator, tmp_path):
    from ase.io import read

    (result,) = relax_many(_small_cells(1), sevennet_calculator, trajectory_dir=tmp_path, progress=False)
    assert result.converged and result.max_force < 0.05
    assert result.atoms.get_potential_energy() == pytest.approx(result.energy)
    assert result.volume_change_percent == pytest.approx(
        100 * (result.atoms.get_volume() / _small_cells(1)[0].get_volume() - 1)
    )
    frames = read(next(tmp_path.glob("*.traj")), index=":")
    assert len(frames) == result.n_steps + 1


def test_invalid_arguments_are_rejected(sevennet_calculator):
    with pytest.raises(ValueError, match="unknown optimizer 'newton'"):
        relax_many(_small_cells(1), sevennet_calculator, RelaxOptions(optimizer="newton"))
    with pytest.raises(ValueError, match="fmax must be > 0"):
        relax_many(_small_cells(1), sevennet_calculator, RelaxOptions(fmax=0))
    with pytest.raises(ValueError, match="fmax must be > 0 eV/Å and finite"):
        relax_many(_small_cells(1), sevennet_calculator, RelaxOptions(fmax=float("inf")))


def test_a_broken_worker_pool_falls_back_to_the_sequential_loop(monkeypatch, caplog):
    from concurrent.futures import Executor

    class BrokenExecutor(Executor):
        def submit(self, *args, **kwargs):
            raise OSError("cannot start processes here")

    results = relax_many(_small_cells(2), open_model("sevennet-0", executor=BrokenExecutor()), progress=False)
    assert [r.status for r in results] == ["ok", "ok"]
    assert "the executor failed (OSError: cannot start processes here); 2 structures left" in caplog.text


class _HarmonicCalculator(Calculator):
    """E = ½ Σ k (r - r0)² (eV) around fixed sites r0: an exactly known Hessian.

    ``stiffness`` k (eV/Å²) is one number, or one per atom (shape (N, 1)) or per degree of
    freedom (shape (N, 3)).
    """

    implemented_properties = ["energy", "forces", "stress"]  # noqa: RUF012

    def __init__(self, sites: np.ndarray, stiffness: float | np.ndarray):
        super().__init__()
        self.sites, self.stiffness = sites, stiffness

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        displacement = self.atoms.positions - self.sites
        self.results = {
            "energy": 0.5 * float((self.stiffness * displacement**2).sum()),
            "forces": -self.stiffness * displacement,
            "stress": np.zeros(6),
        }


@pytest.mark.parametrize("optimizer", ["lbfgs", "ase-lbfgs", "bfgs"])
def test_the_initial_hessian_guess_is_what_the_quasi_newton_optimizers_start_from(optimizer):
    """With the true curvature equal to the guess, the first quasi-Newton step lands on the minimum."""
    from heo_calc.relax import INITIAL_HESSIAN_EV_PER_A2

    atoms = rocksalt_heo_supercell(repeat=1, seed=0, rattle=0.0)
    sites = atoms.positions.copy()
    atoms.positions += np.random.default_rng(0).normal(scale=0.03, size=sites.shape)
    exact = _HarmonicCalculator(sites, stiffness=INITIAL_HESSIAN_EV_PER_A2)
    (result,) = relax_many(
        [atoms],
        exact,
        RelaxOptions(fmax=1e-06, optimizer=optimizer, relax_cell=False),
        strategy="sequential",
        progress=False,
    )
    assert result.converged and result.n_steps == 1
    assert np.abs(result.atoms.positions - sites).max() < 1e-9
    # a stiffer true curvature than the guess takes more steps: the guess matters
    stiff = _HarmonicCalculator(sites, stiffness=7 * INITIAL_HESSIAN_EV_PER_A2)
    (slower,) = relax_many(
        [atoms],
        stiff,
        RelaxOptions(fmax=1e-06, optimizer=optimizer, relax_cell=False),
        strategy="sequential",
        progress=False,
    )
    assert slower.n_steps > 1


def test_the_default_lbfgs_rescales_its_initial_hessian_to_the_measured_curvature():
    """On a quadratic whose curvatures (30-300 eV/Å² per degree of freedom) are all stiffer
    than the first-step guess, the rescaled L-BFGS adapts within a few steps; ASE's L-BFGS,
    which keeps 1/alpha, overshoots step after step."""
    atoms = rocksalt_heo_supercell(repeat=2, seed=0, rattle=0.0)
    sites = atoms.positions.copy()
    atoms.positions += np.random.default_rng(0).normal(scale=0.03, size=sites.shape)
    stiffness = np.random.default_rng(1).uniform(30, 300, size=sites.shape)
    steps = {}
    for optimizer in ("lbfgs", "ase-lbfgs"):
        (result,) = relax_many(
            [atoms],
            _HarmonicCalculator(sites, stiffness),
            RelaxOptions(fmax=0.0001, max_steps=200, optimizer=optimizer, relax_cell=False),
            strategy="sequential",
            progress=False,
        )
        steps[optimizer] = result.n_steps
        if optimizer == "lbfgs":
            assert result.converged
            assert np.abs(result.atoms.positions - sites).max() < 1e-5
    assert steps["lbfgs"] < 40 < steps["ase-lbfgs"]


def test_scaled_lbfgs_uses_the_inverse_curvature_of_its_last_step():
    """After one step on a harmonic potential of stiffness k, the guess is exactly 1/k."""
    from ase.optimize import LBFGS

    from heo_calc.relax import ScaledLBFGS

    atoms = rocksalt_heo_supercell(repeat=1, seed=0, rattle=0.0)
    sites = atoms.positions.copy()
    atoms.positions += np.random.default_rng(0).normal(scale=0.03, size=sites.shape)
    atoms.calc = _HarmonicCalculator(sites, stiffness=42.0)
    for optimizer, expected in ((ScaledLBFGS, 1 / 42.0), (LBFGS, 1 / 15.0)):
        moved = atoms.copy()
        moved.calc = atoms.calc
        dynamics = optimizer(moved, alpha=15.0, logfile=None)
        dynamics.run(fmax=1e-12, steps=2)
        np.testing.assert_allclose(dynamics.state.H0.diagonal(), expected, rtol=1e-9)


def test_the_cell_filters_logm_accuracy_warnings_do_not_reach_the_user(monkeypatch, recwarn):
    """scipy warns about 1e-13 errors of the deformation's logarithm at every step: silenced, nothing else."""
    import warnings

    import scipy.linalg

    original, calls = scipy.linalg.logm, []

    def noisy_logm(matrix, *args, **kwargs):
        calls.append(1)
        warnings.warn("logm result may be inaccurate, approximate err = 7e-13", RuntimeWarning, stacklevel=2)
        return original(matrix, *args, **kwargs)

    monkeypatch.setattr(scipy.linalg, "logm", noisy_logm)  # FrechetCellFilter imports it when built
    atoms = rocksalt_heo_supercell(repeat=1, seed=0, rattle=0.0)
    sites = atoms.positions.copy()
    atoms.positions += np.random.default_rng(1).normal(scale=0.03, size=sites.shape)
    (result,) = relax_many(
        [atoms],
        _HarmonicCalculator(sites, stiffness=20.0),
        RelaxOptions(fmax=0.001),
        strategy="sequential",
        progress=False,
    )
    assert result.converged and calls  # the filter did take logarithms
    assert not [w for w in recwarn if "logm" in str(w.message)]
    warnings.warn("an unrelated RuntimeWarning", RuntimeWarning, stacklevel=1)
    assert [str(w.message) for w in recwarn] == ["an unrelated RuntimeWarning"]
