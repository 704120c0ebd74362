"""heo_calc.screening.compositions: cation sets from lists, pools and files; cells that are exactly equimolar."""

from __future__ import annotations

import pytest

from heo_calc.errors import CompositionError
from heo_calc.screening.compositions import (
    Composition,
    check_coverage,
    choose_sites,
    parse_cations,
    pool_compositions,
    read_compositions,
    unique,
)


def test_a_composition_is_ordered_by_atomic_number_and_labels_itself():
    composition = parse_cations("Zn, Cu,Mg  Ni,Co")
    assert composition.cations == ("Mg", "Co", "Ni", "Cu", "Zn")
    assert composition.label == "Mg-Co-Ni-Cu-Zn"
    assert composition.formula("rocksalt") == "(Mg0.2Co0.2Ni0.2Cu0.2Zn0.2)O"
    assert Composition.of(["Ti", "Zr"]).formula("perovskite") == "Sr(Ti0.5Zr0.5)O3"
    assert Composition.of(["Co"]).formula("spinel") == "Co3O4"
    assert unique([parse_cations("Mg,Ni"), parse_cations("Ni,Mg")]) == [Composition(("Mg", "Ni"))]


def test_a_pool_gives_every_subset_of_the_asked_size():
    subsets = pool_compositions("Mg,Ca,Mn,Fe,Co,Ni,Cu,Zn", 5)
    assert len(subsets) == 56 and len(set(subsets)) == 56
    assert subsets[0].label == "Mg-Ca-Mn-Fe-Co"
    with pytest.raises(CompositionError, match="--n-cations 6 does not fit the pool of 3 cations"):
        pool_compositions("Mg,Co,Ni", 6)


def test_a_compositions_file_names_the_bad_line(tmp_path):
    path = tmp_path / "compositions.txt"
    path.write_text("# rock salt\nMg,Co,Ni,Cu,Zn\n\nMg Ni  # two\n")
    assert [c.label for c in read_compositions(path)] == ["Mg-Co-Ni-Cu-Zn", "Mg-Ni"]
    path.write_text("Mg,Co\nMg,Co,Mg\n")
    with pytest.raises(CompositionError, match=r"line 2: composition Mg-Co-Mg: Mg is listed more than once"):
        read_compositions(path)
    with pytest.raises(CompositionError, match="does not exist"):
        read_compositions(tmp_path / "none.txt")


def test_cells_are_sized_per_composition_or_refused_with_a_count_that_fits():
    five, three = parse_cations("Mg,Co,Ni,Cu,Zn"), parse_cations("Mg,Co,Ni")
    assert choose_sites("rocksalt", [five, three], None) == {five: 40, three: 42}
    assert choose_sites("spinel", [five], None) == {five: 60}
    assert choose_sites("rocksalt", [five, three], 30) == {five: 30, three: 30}
    with pytest.raises(CompositionError) as error:
        choose_sites("rocksalt", [five, three], 40)
    message = str(error.value)
    assert "--sites 40 cannot be equimolar for 1 composition(s): Mg-Co-Ni on rocksalt" in message
    assert "use 39 or 42 sites" in message and "A multiple of 15 suits every composition" in message


def test_elements_the_calculator_does_not_cover_are_named_with_the_fix():
    covered = frozenset({8, 12, 27, 28})  # O, Mg, Co, Ni
    check_coverage([parse_cations("Mg,Co,Ni")], "rocksalt", covered, "toy")
    with pytest.raises(CompositionError, match=r"'toy' does not cover U, in composition\(s\) Mg-U; drop U"):
        check_coverage([parse_cations("Mg,Ni"), parse_cations("Mg,U")], "rocksalt", covered, "toy")
    with pytest.raises(CompositionError, match="does not cover Sr, which every perovskite cell holds"):
        check_coverage([parse_cations("Mg")], "perovskite", covered, "toy")
