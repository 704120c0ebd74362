"""One table of measured lattice parameters, with citations, read by the forgetting report and the benchmark."""

from __future__ import annotations

import math

from benchmark_suite.tasks.substitution_cells import PARENT_LATTICES as BENCHMARK_HEOS
from heo_calc.structures import ROCKSALT_HEO_LATTICE_PARAMETER
from heo_calc.structures.experimental import (
    EXPERIMENTAL_LATTICES,
    ROCKSALT_HEO,
    experimental_lattice,
    experimental_lattice_parameter,
)


def test_every_measured_lattice_parameter_has_a_citation():
    assert EXPERIMENTAL_LATTICES
    for material, entry in EXPERIMENTAL_LATTICES.items():
        assert 3.0 < entry.a < 6.0, material
        assert entry.citation.strip(), material


def test_the_benchmark_and_the_default_rock_salt_cell_read_the_same_entry():
    assert BENCHMARK_HEOS["rocksalt"].experimental is experimental_lattice(ROCKSALT_HEO)
    assert BENCHMARK_HEOS["rocksalt"].experimental.citation == "Rost et al., Nat. Commun. 6, 8485 (2015)"
    assert ROCKSALT_HEO_LATTICE_PARAMETER == EXPERIMENTAL_LATTICES[ROCKSALT_HEO].a == 4.22
    assert all(
        BENCHMARK_HEOS[lattice].experimental is None for lattice in ("spinel", "fluorite", "perovskite")
    )


def test_a_material_without_a_record_has_no_number():
    assert experimental_lattice("ZrO2") is None
    assert math.isnan(experimental_lattice_parameter("ZrO2"))
    assert experimental_lattice_parameter("MgO") == 4.212
