"""Committees of registry models: mean and spread against the members one by one, errors, relaxations."""

from __future__ import annotations

import numpy as np
import pytest

from heo_calc.backends.capabilities import capabilities_of, covered_atomic_numbers
from heo_calc.committee import CommitteeCalculator, CommitteeError, combine
from heo_calc.errors import ModelWeightsNotFoundError, UnknownCalculatorError
from heo_calc.relax import RelaxOptions
from heo_calc.structures import rocksalt_heo_supercell


@pytest.fixture(scope="module")
def heo_ft_member():
    from heo_calc import get_calculator

    return get_calculator("heo-ft", device="cpu")


@pytest.fixture(scope="module")
def committee(sevennet_calculator, heo_ft_member):
    """Two real small models of the same size but different weights: SevenNet-0 and heo-ft."""
    return CommitteeCalculator([sevennet_calculator, heo_ft_member])


@pytest.fixture
def cell():
    return rocksalt_heo_supercell(repeat=1, seed=1, rattle=0.05)  # 8 atoms


def _evaluate(calculator, atoms):
    atoms = atoms.copy()
    atoms.calc = calculator
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()


def test_committee_is_the_mean_of_its_members_and_its_spread_their_disagreement(
    committee, sevennet_calculator, heo_ft_member, cell
):
    e1, f1, s1 = _evaluate(sevennet_calculator, cell)
    e2, f2, s2 = _evaluate(heo_ft_member, cell)
    cell.calc = committee
    assert cell.get_potential_energy() == pytest.approx((e1 + e2) / 2, abs=1e-6)
    np.testing.assert_allclose(cell.get_forces(), (f1 + f2) / 2, atol=1e-6)
    np.testing.assert_allclose(cell.get_stress(), (s1 + s2) / 2, atol=1e-8)
    assert committee.results["energy_std"] == pytest.approx(abs(e1 - e2) / 2, abs=1e-6)
    # two members: sqrt(mean_m |F_m - F_mean|^2) = |F_1 - F_2| / 2 per atom
    spread = committee.get_property("forces_std", cell)
    assert spread.shape == (len(cell),)
    np.testing.assert_allclose(spread, np.linalg.norm(f1 - f2, axis=1) / 2, atol=1e-6)
    assert spread.max() > 1e-3  # different weights disagree


def test_spread_of_three_members_is_the_rms_deviation_from_their_mean():
    forces = [np.array([[1.0, 0, 0], [0, 0, 0]]), np.array([[0.0, 1, 0], [0, 0, 0]]), np.zeros((2, 3))]
    combined = combine([{"energy": e, "forces": f} for e, f in zip((1.0, 2.0, 3.0), forces)])
    mean = np.array([1 / 3, 1 / 3, 0])
    expected = np.sqrt(np.mean([np.sum((f[0] - mean) ** 2) for f in forces]))
    assert combined["forces_std"] == pytest.approx([expected, 0.0])
    assert combined["energy_std"] == pytest.approx(np.std([1.0, 2.0, 3.0]))
    assert "stress" not in combined  # no member gave one


def test_identical_members_have_zero_spread(sevennet_calculator, cell):
    energy, forces, _ = _evaluate(sevennet_calculator, cell)
    cell.calc = CommitteeCalculator([sevennet_calculator, sevennet_calculator])
    assert cell.get_potential_energy() == pytest.approx(energy, abs=1e-9)
    np.testing.assert_allclose(cell.get_forces(), forces, atol=1e-9)
    assert cell.calc.results["energy_std"] == 0.0
    assert np.all(cell.calc.results["forces_std"] == 0.0)


def test_committee_forces_are_minus_the_gradient_of_its_energy(committee, cell):
    cell.calc = committee
    forces = cell.get_forces()
    step = 0.01  # Å
    for atom, axis in ((0, 0), (5, 2)):
        energies = []
        for sign in (1, -1):
            displaced = cell.copy()
            displaced.positions[atom, axis] += sign * step
            energies.append(_evaluate(committee, displaced)[0])
        assert forces[atom, axis] == pytest.approx(-(energies[0] - energies[1]) / (2 * step), abs=0.02)


def test_committee_declares_what_its_members_share(committee, sevennet_calculator):
    capabilities = capabilities_of(committee)
    assert capabilities.backend == "committee" and capabilities.dtype == "float32"
    assert capabilities.computes_stress and capabilities.batch_evaluator is not None
    assert covered_atomic_numbers(committee) == covered_atomic_numbers(sevennet_calculator)


def test_the_batched_evaluator_gives_what_single_calls_give(committee, cell):
    from heo_calc.backends.capabilities import batch_evaluator_of

    [batched] = batch_evaluator_of(committee)([cell])
    cell.calc = committee
    assert batched["energy"] == pytest.approx(cell.get_potential_energy(), abs=1e-4)
    np.testing.assert_allclose(batched["forces_std"], committee.results["forces_std"], atol=1e-4)


def test_a_missing_member_is_named_at_construction(sevennet_calculator):
    with pytest.raises(ModelWeightsNotFoundError, match=r"committee member 'sevennet:/no/such/model.pth'"):
        CommitteeCalculator(["sevennet-0", "sevennet:/no/such/model.pth"], device="cpu")
    with pytest.raises(UnknownCalculatorError, match=r"committee member 'no-such-model'"):
        CommitteeCalculator([sevennet_calculator, "no-such-model"])


def test_members_covering_different_elements_are_refused(sevennet_calculator, tiny_mace_file):
    from heo_calc import get_calculator

    tiny = get_calculator(f"mace:{tiny_mace_file}", device="cpu")  # O, Mg, Co, Ni, Cu, Zn only
    with pytest.raises(CommitteeError, match=r"'mace:.*tiny.model' lacks .*Zr") as raised:
        CommitteeCalculator([sevennet_calculator, tiny])
    assert "sevennet-0" not in str(raised.value).split("lacks")[0]  # only the narrower member lacks elements


def test_a_committee_needs_two_members(sevennet_calculator):
    with pytest.raises(CommitteeError, match="at least two members"):
        CommitteeCalculator([sevennet_calculator])
    with pytest.raises(CommitteeError, match="at least two members"):
        CommitteeCalculator("heo-ft")


def test_relax_many_reports_the_final_committee_spread(committee, cell):
    from heo_calc.relax import relax_many

    [result] = relax_many([cell], committee, RelaxOptions(fmax=0.1, relax_cell=False), progress=False)
    assert result.status != "failed", result.error
    final = result.atoms.copy()
    final.calc = committee
    final.get_forces()
    assert result.max_force_spread == pytest.approx(committee.results["forces_std"].max(), abs=1e-6)
    assert "committee spread" in result.summary()


def test_evaluation_tables_carry_the_spread(committee, sevennet_calculator, cell):
    from heo_calc.evaluation import SPREAD_COLUMNS, evaluate_structures

    cell.info["REF_energy"] = -40.0
    cell.arrays["REF_forces"] = np.zeros((len(cell), 3))
    table = evaluate_structures(committee, [cell])
    assert set(SPREAD_COLUMNS) <= set(table.columns)
    assert table["force_spread_max"].iloc[0] >= table["force_spread_mean"].iloc[0] > 0
    assert not set(SPREAD_COLUMNS) & set(evaluate_structures(sevennet_calculator, [cell]).columns)
