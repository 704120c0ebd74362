"""benchmark_suite.substitution: exact equimolar compositions and SQS better than random."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from ase import Atoms

from benchmark_suite import substitution
from benchmark_suite.profiles import PROFILES
from benchmark_suite.substitution import PARENT_LATTICES, substituted_structure

QUICK_SITES = PROFILES["quick"].substitution_sites


@pytest.mark.parametrize("lattice", list(PARENT_LATTICES))
@pytest.mark.parametrize("arrangement", ["random", "sqs"])
def test_generated_composition_is_exactly_equimolar(lattice, arrangement):
    generated = substituted_structure(lattice, QUICK_SITES[lattice], arrangement=arrangement, seed=1)
    parent = PARENT_LATTICES[lattice]
    counts = Counter(generated.atoms.get_chemical_symbols())
    n_sites = QUICK_SITES[lattice]
    assert {c: counts[c] for c in parent.cations} == {c: n_sites // 5 for c in parent.cations}
    n_cells = {"rocksalt": n_sites, "fluorite": n_sites, "perovskite": n_sites, "spinel": n_sites // 3}[
        lattice
    ]
    expected_oxygen = {"rocksalt": 1, "fluorite": 2, "perovskite": 3, "spinel": 4}[lattice] * n_cells
    assert counts["O"] == expected_oxygen
    if lattice == "perovskite":
        assert counts["Sr"] == n_sites
    assert set(counts) == {*parent.cations, "O", *parent.spectator}
    assert generated.atoms.info["name"] == f"{lattice}-{arrangement}-n{len(generated.atoms)}-s1"


def test_full_profile_sizes_are_exact_and_spinel_uses_every_cation_site():
    spinel = substituted_structure(
        "spinel", PROFILES["full"].substitution_sites["spinel"], arrangement="random"
    )
    counts = Counter(spinel.atoms.get_chemical_symbols())
    assert len(spinel.atoms) == 140 and counts["O"] == 80
    assert all(counts[c] == 12 for c in PARENT_LATTICES["spinel"].cations)


def test_site_counts_that_are_not_equimolar_are_refused():
    with pytest.raises(ValueError, match="multiple of 5"):
        substitution.parent_supercell("rocksalt", 12)
    with pytest.raises(ValueError, match="multiple of 5"):
        substitution.parent_supercell("spinel", 20)  # 20 is not a multiple of 6 sites per primitive cell


def test_warren_cowley_by_hand_on_a_checkerboard():
    # simple-cubic sublattice (perovskite B sites), 2x2x2 cells, rock-salt ordering of A and B:
    # every first-shell neighbour of A is B -> alpha_AB = 1 - 1/0.5 = -1, alpha_AA = 1 - 0/0.5 = 1
    atoms = Atoms(
        "X8", cell=np.eye(3) * 8.0, pbc=True, scaled_positions=np.indices((2, 2, 2)).reshape(3, -1).T / 2
    )
    shells, radii = substitution.neighbour_shells(atoms, range(8), n_shells=1)
    assert radii == pytest.approx([4.0])
    species = ["A" if (i + j + k) % 2 == 0 else "B" for i, j, k in np.indices((2, 2, 2)).reshape(3, -1).T]
    alpha, kinds = substitution.warren_cowley_parameters(species, shells)
    assert kinds == ["A", "B"]
    np.testing.assert_allclose(alpha[0], [[1.0, -1.0], [-1.0, 1.0]])
    assert substitution.warren_cowley_objective(species, shells) == pytest.approx(1.0)


@pytest.mark.parametrize(("lattice", "n_sites"), [("rocksalt", 40), ("spinel", 30), ("perovskite", 20)])
def test_sqs_swap_search_lowers_the_warren_cowley_objective_below_random(lattice, n_sites):
    atoms, sites = substitution.parent_supercell(lattice, n_sites)
    shells, _ = substitution.neighbour_shells(atoms, sites)
    cations = substitution.equimolar_cations(PARENT_LATTICES[lattice].cations, n_sites)
    rng = np.random.default_rng(0)
    random_objectives = [
        substitution.warren_cowley_objective(rng.permutation(cations), shells) for _ in range(20)
    ]
    order, objective = substitution.swap_search(cations, shells, seed=0, n_trials=2000)
    assert Counter(order) == Counter(cations)
    assert objective == pytest.approx(substitution.warren_cowley_objective(order, shells))
    assert objective < min(random_objectives)
    generated = substituted_structure(lattice, n_sites, arrangement="sqs", seed=0)
    assert generated.sqs_method == "swap" and generated.wc_objective < generated.wc_objective_random


def test_sqs_is_deterministic_for_a_seed():
    first = substituted_structure("rocksalt", 20, arrangement="sqs", seed=4)
    second = substituted_structure("rocksalt", 20, arrangement="sqs", seed=4)
    assert first.atoms.get_chemical_symbols() == second.atoms.get_chemical_symbols()
    np.testing.assert_allclose(first.atoms.positions, second.atoms.positions)


def test_sqsgenerator_backend_keeps_the_composition():
    if not substitution.sqsgenerator_available():
        pytest.skip("sqsgenerator is not installed (optional: pip install 'heo-relax[bench]')")
    generated = substituted_structure("rocksalt", 40, arrangement="sqs", sqs_method="sqsgenerator")
    counts = Counter(generated.atoms.get_chemical_symbols())
    assert generated.sqs_method == "sqsgenerator"
    assert all(counts[c] == 8 for c in PARENT_LATTICES["rocksalt"].cations)
    assert generated.wc_objective < generated.wc_objective_random
