"""heo_calc.structures: exact equimolar compositions of any cation set, SQS better than random, the benchmark's cells."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from ase import Atoms

from benchmark_suite.profiles import PROFILES
from benchmark_suite.tasks.substitution_cells import PARENT_LATTICES as BENCHMARK_HEOS
from benchmark_suite.tasks.substitution_cells import substituted_structure as benchmark_structure
from heo_calc.errors import CompositionError
from heo_calc.structures import sqs
from heo_calc.structures.bonds import bond_lengths
from heo_calc.structures.parents import (
    CUBIC_PARENT_LATTICES,
    equimolar_cations,
    parent_supercell,
    single_cation_reference,
    validate_cations,
)
from heo_calc.structures.substituted import substituted_structure

QUICK_SITES = PROFILES["quick"].sizes("substitution").substitution_sites
OXYGEN_PER_SITE = {"rocksalt": 1, "fluorite": 2, "perovskite": 3, "spinel": 4 / 3}


@pytest.mark.parametrize("lattice", list(CUBIC_PARENT_LATTICES))
@pytest.mark.parametrize("arrangement", ["random", "sqs"])
def test_the_benchmark_cells_are_exactly_equimolar_and_keep_their_names(lattice, arrangement):
    generated = benchmark_structure(lattice, QUICK_SITES[lattice], arrangement=arrangement, seed=1)
    heo = BENCHMARK_HEOS[lattice]
    counts = Counter(generated.atoms.get_chemical_symbols())
    n_sites = QUICK_SITES[lattice]
    assert {c: counts[c] for c in heo.cations} == {c: n_sites // 5 for c in heo.cations}
    assert counts["O"] == round(OXYGEN_PER_SITE[lattice] * n_sites)
    if lattice == "perovskite":
        assert counts["Sr"] == n_sites
    assert set(counts) == {*heo.cations, "O", *heo.spectator}
    assert generated.atoms.info["name"] == f"{lattice}-{arrangement}-n{len(generated.atoms)}-s1"
    assert generated.atoms.info["formula_target"] == heo.formula


@pytest.mark.parametrize(
    ("lattice", "cations", "n_sites"),
    [
        ("rocksalt", ("Mg", "Ni", "Co"), 24),
        ("spinel", ("Fe", "Co"), 12),
        ("fluorite", ("Ce", "Zr", "Hf", "Y"), 16),
    ],
)
def test_any_cation_set_is_exactly_equimolar(lattice, cations, n_sites):
    generated = substituted_structure(lattice, cations, n_sites, arrangement="sqs", seed=2, sqs_trials=200)
    counts = Counter(generated.atoms.get_chemical_symbols())
    assert {c: counts[c] for c in cations} == dict.fromkeys(cations, n_sites // len(cations))
    assert counts["O"] == round(OXYGEN_PER_SITE[lattice] * n_sites)
    assert generated.cations == cations and generated.n_sites == n_sites
    assert generated.atoms.info["name"] == f"{lattice}-{'-'.join(cations)}-sqs-n{len(generated.atoms)}-s2"


def test_sixty_spinel_sites_are_exact_and_use_every_cation_site():
    spinel = benchmark_structure("spinel", 60, arrangement="random")
    counts = Counter(spinel.atoms.get_chemical_symbols())
    assert len(spinel.atoms) == 140 and counts["O"] == 80
    assert all(counts[c] == 12 for c in BENCHMARK_HEOS["spinel"].cations)


def test_site_counts_that_are_not_equimolar_are_refused_with_the_valid_counts():
    with pytest.raises(
        CompositionError, match=r"Mg-Co-Ni on rocksalt: 40 sites cannot hold 3 .* use 39 or 42 sites"
    ):
        substituted_structure("rocksalt", ("Mg", "Co", "Ni"), 40)
    with pytest.raises(CompositionError, match="use 30 or 60 sites"):
        substituted_structure("spinel", ("Co", "Cr", "Fe", "Mn", "Ni"), 40)
    with pytest.raises(CompositionError, match="not a positive multiple of 6"):
        parent_supercell("spinel", 20, a=8.3)  # 20 is not a multiple of 6 sites per primitive cell


def test_bad_cation_lists_and_lattices_are_refused_with_the_fix():
    with pytest.raises(
        CompositionError, match="Mg-Co-Mg: Mg is listed more than once; list each cation once"
    ):
        validate_cations(["Mg", "Co", "Mg"])
    with pytest.raises(CompositionError, match="Xy is not an element symbol"):
        validate_cations(["Mg", "Xy"])
    with pytest.raises(CompositionError, match="O is the anion"):
        validate_cations(["Mg", "O"])
    with pytest.raises(CompositionError, match="unknown lattice 'garnet'; choose one of rocksalt, spinel"):
        substituted_structure("garnet", ("Mg", "Co"), 10)
    assert equimolar_cations(["A", "B"], 4) == ["A", "A", "B", "B"]


def test_parent_references_are_rattled_cells_of_at_least_64_atoms():
    for lattice, parent in CUBIC_PARENT_LATTICES.items():
        cation = {"rocksalt": "Cu", "spinel": "Co", "fluorite": "Ce", "perovskite": "Ti"}[lattice]
        atoms = single_cation_reference(lattice, cation, rattle=0.05)
        assert len(atoms) >= 64
        assert Counter(atoms.get_chemical_symbols())[cation] == parent.reference_sites
        assert parent.reference_formula(cation) in atoms.info["name"]


def test_first_shell_bonds_follow_the_cell_and_see_the_distortion():
    generated = substituted_structure("rocksalt", ("Mg", "Ni"), 8, rattle=0.0, a=4.2)
    lengths = bond_lengths(generated.atoms, generated.bonds)
    assert len(lengths) == 8 * 6 and np.allclose(lengths, 2.1)
    stretched = generated.atoms.copy()
    stretched.set_cell(stretched.cell * 1.1, scale_atoms=True)
    assert np.allclose(bond_lengths(stretched, generated.bonds), 2.31)
    stretched.positions[0] += [0.1, 0.0, 0.0]
    assert bond_lengths(stretched, generated.bonds).std() > 0.01


def test_warren_cowley_by_hand_on_a_checkerboard():
    # simple-cubic sublattice (perovskite B sites), 2x2x2 cells, rock-salt ordering of A and B:
    # every first-shell neighbour of A is B -> alpha_AB = 1 - 1/0.5 = -1, alpha_AA = 1 - 0/0.5 = 1
    atoms = Atoms(
        "X8", cell=np.eye(3) * 8.0, pbc=True, scaled_positions=np.indices((2, 2, 2)).reshape(3, -1).T / 2
    )
    shells, radii = sqs.neighbour_shells(atoms, range(8), n_shells=1)
    assert radii == pytest.approx([4.0])
    species = ["A" if (i + j + k) % 2 == 0 else "B" for i, j, k in np.indices((2, 2, 2)).reshape(3, -1).T]
    alpha, kinds = sqs.warren_cowley_parameters(species, shells)
    assert kinds == ["A", "B"]
    np.testing.assert_allclose(alpha[0], [[1.0, -1.0], [-1.0, 1.0]])
    assert sqs.warren_cowley_objective(species, shells) == pytest.approx(1.0)


@pytest.mark.parametrize(("lattice", "n_sites"), [("rocksalt", 40), ("spinel", 30), ("perovskite", 20)])
def test_sqs_swap_search_lowers_the_warren_cowley_objective_below_random(lattice, n_sites):
    atoms, sites = parent_supercell(lattice, n_sites, a=4.0)
    shells, _ = sqs.neighbour_shells(atoms, sites)
    cations = equimolar_cations(BENCHMARK_HEOS[lattice].cations, n_sites)
    rng = np.random.default_rng(0)
    random_objectives = [sqs.warren_cowley_objective(rng.permutation(cations), shells) for _ in range(20)]
    order, objective = sqs.swap_search(cations, shells, seed=0, n_trials=2000)
    assert Counter(order) == Counter(cations)
    assert objective == pytest.approx(sqs.warren_cowley_objective(order, shells))
    assert objective < min(random_objectives)
    generated = benchmark_structure(lattice, n_sites, arrangement="sqs", seed=0)
    assert generated.sqs_method == "swap" and generated.wc_objective < generated.wc_objective_random


def test_sqs_is_deterministic_for_a_seed():
    first = benchmark_structure("rocksalt", 20, arrangement="sqs", seed=4)
    second = benchmark_structure("rocksalt", 20, arrangement="sqs", seed=4)
    assert first.atoms.get_chemical_symbols() == second.atoms.get_chemical_symbols()
    np.testing.assert_allclose(first.atoms.positions, second.atoms.positions)


def test_sqsgenerator_backend_keeps_the_composition():
    if not sqs.sqsgenerator_available():
        pytest.skip("sqsgenerator is not installed (optional: pip install 'heo-relax[bench]')")
    generated = benchmark_structure("rocksalt", 40, arrangement="sqs", sqs_method="sqsgenerator")
    counts = Counter(generated.atoms.get_chemical_symbols())
    assert generated.sqs_method == "sqsgenerator"
    assert all(counts[c] == 8 for c in BENCHMARK_HEOS["rocksalt"].cations)
    assert generated.wc_objective < generated.wc_objective_random
