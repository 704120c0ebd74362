"""Synthetic LeMat-Bulk-schema parquet data for tests and the build benchmark (not real DFT).

The schema follows LeMat-Bulk ``compatible_pbe`` (the columns this package reads plus the
usual extra ones, so that a reader that takes every column pays for them).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from ase.data import chemical_symbols

from dataset_builder.elements import reduced_formula

_VECTORS = pa.list_(pa.list_(pa.float64()))

LEMAT_SCHEMA = pa.schema(
    [
        ("elements", pa.list_(pa.string())),
        ("nsites", pa.int32()),
        ("chemical_formula_anonymous", pa.string()),
        ("chemical_formula_reduced", pa.string()),
        ("chemical_formula_descriptive", pa.string()),
        ("nelements", pa.int8()),
        ("dimension_types", pa.list_(pa.int8())),
        ("nperiodic_dimensions", pa.int8()),
        ("lattice_vectors", _VECTORS),
        ("immutable_id", pa.string()),
        ("cartesian_site_positions", _VECTORS),
        ("species", pa.string()),
        ("species_at_sites", pa.list_(pa.string())),
        ("last_modified", pa.string()),
        ("elements_ratios", pa.list_(pa.float64())),
        ("stress_tensor", _VECTORS),
        ("energy", pa.float64()),
        ("energy_corrected", pa.float64()),
        ("magnetic_moments", pa.list_(pa.float64())),
        ("forces", _VECTORS),
        ("total_magnetization", pa.float64()),
        ("dos_ef", pa.float64()),
        ("functional", pa.string()),
        ("cross_compatibility", pa.bool_()),
        ("entalpic_fingerprint", pa.string()),
    ]
)

_SKIP = {"He", "Ne", "Ar", "Kr", "Xe", "Rn", "O"}
#: Elements drawn for ordinary (mostly non-HEO) rows: H to Bi without noble gases and O.
GENERIC_POOL: tuple[str, ...] = tuple(s for s in chemical_symbols[1:84] if s not in _SKIP)
#: Non-metals and metalloids put into most generic rows with five or more elements.
NON_METALS: tuple[str, ...] = ("H", "B", "C", "N", "F", "Si", "P", "S", "Cl", "Se", "Br", "I")
#: The metals the HEO rule accepts as cations, written out here by hand, apart from the
#: implementation's :data:`dataset_builder.elements.METALS` (which expands ranges of atomic
#: numbers), so the reference below checks the rule instead of repeating it. Source: the
#: groups of the IUPAC periodic table (IUPAC, 2022 table; Red Book 2005, IR-3.5): the alkali
#: and alkaline-earth metals of periods 2-6 (Fr, Ra left out), the p-block metals Al, Ga,
#: In, Tl, Sn, Pb, Bi, the d-block of periods 4-6 (groups 3-12), the lanthanoids and the
#: actinoids. The six elements usually counted as metalloids (B, Si, Ge, As, Sb, Te) are
#: not metals here, nor are Po, At and the elements after Lr.
REFERENCE_METALS: frozenset[str] = frozenset(
    """
    Li Be Na Mg K Ca Rb Sr Cs Ba
    Al Ga In Tl Sn Pb Bi
    Sc Ti V Cr Mn Fe Co Ni Cu Zn
    Y Zr Nb Mo Tc Ru Rh Pd Ag Cd
    Hf Ta W Re Os Ir Pt Au Hg
    La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu
    Ac Th Pa U Np Pu Am Cm Bk Cf Es Fm Md No Lr
    """.split()  # noqa: SIM905 - rows of the table read better than a list of 76 strings
)
#: Cations drawn for HEO rows (metals up to Bi).
METAL_POOL: tuple[str, ...] = tuple(s for s in chemical_symbols[1:84] if s in REFERENCE_METALS)


def lemat_row(
    immutable_id: str,
    species: Sequence[str],
    *,
    rng: np.random.Generator | None = None,
    forces: Any = "random",
    energy: float | None = None,
    stress: Any = None,
    functional: str = "pbe",
    positions: Any = None,
    elements: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One LeMat-Bulk-schema row. ``forces="random"`` draws (n, 3) forces in eV/Å;
    pass None, [] or a list to make decoys. ``stress`` is 3x3 in kBar (LeMat) or None."""
    rng = rng or np.random.default_rng(abs(hash(immutable_id)) % 2**32)
    n_sites = len(species)
    counts = Counter(species)
    element_list = sorted(counts) if elements is None else list(elements)
    length = 4.0 + 0.6 * n_sites ** (1 / 3)
    cell = (np.eye(3) * length + rng.normal(0, 0.05, (3, 3))).tolist()
    if positions is None:
        positions = (rng.random((n_sites, 3)) @ np.asarray(cell)).tolist()
    if isinstance(forces, str) and forces == "random":
        forces = rng.normal(0, 0.05, (n_sites, 3)).tolist()
    formula = reduced_formula(counts)
    return {
        "elements": element_list,
        "nsites": n_sites,
        "chemical_formula_anonymous": "A" * len(counts),
        "chemical_formula_reduced": formula,
        "chemical_formula_descriptive": " ".join(f"{e}{n}" for e, n in sorted(counts.items())),
        "nelements": len(counts),
        "dimension_types": [1, 1, 1],
        "nperiodic_dimensions": 3,
        "lattice_vectors": cell,
        "immutable_id": immutable_id,
        "cartesian_site_positions": positions,
        "species": str([{"name": e} for e in sorted(counts)]),
        "species_at_sites": list(species),
        "last_modified": "2024-10-01",
        "elements_ratios": [counts[e] / n_sites for e in sorted(counts)],
        "stress_tensor": stress,
        "energy": float(-5.0 * n_sites + rng.normal()) if energy is None else energy,
        "energy_corrected": float(-5.1 * n_sites),
        "magnetic_moments": rng.normal(0, 1, n_sites).tolist(),
        "forces": forces,
        "total_magnetization": 0.0,
        "dos_ef": 1.0,
        "functional": functional,
        "cross_compatibility": True,
        "entalpic_fingerprint": f"fp-{immutable_id}",
    }


def lemat_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """A pyarrow table with :data:`LEMAT_SCHEMA` from row dicts (see :func:`lemat_row`)."""
    return pa.Table.from_pylist(list(rows), schema=LEMAT_SCHEMA)


def write_lemat_parquet(table: pa.Table, path: str | os.PathLike, *, row_group_size: int = 10_000) -> None:
    """Write ``table`` as one parquet shard (snappy, ``row_group_size`` rows per group)."""
    pq.write_table(table, path, row_group_size=row_group_size)


def _list_array(offsets: np.ndarray, values: pa.Array, null_mask: np.ndarray | None = None) -> pa.Array:
    mask = None if null_mask is None else pa.array(null_mask)
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), values, mask=mask)


def _vectors(offsets: np.ndarray, values: np.ndarray, null_mask: np.ndarray | None = None) -> pa.Array:
    """(M, 3) values split into rows by ``offsets`` -> list<list<double>>."""
    inner = pa.ListArray.from_arrays(
        pa.array(np.arange(0, 3 * len(values) + 1, 3, dtype=np.int32)), pa.array(values.ravel())
    )
    return _list_array(offsets, inner, null_mask)


def synthetic_lemat_table(
    n_rows: int, *, heo_fraction: float = 0.0002, decoy_fraction: float = 0.0002, seed: int = 0
) -> pa.Table:
    """A LeMat-Bulk-schema table of ``n_rows`` random structures, built with numpy.

    About ``heo_fraction`` of the rows are HEOs (O + 4 to 6 metals, ~3% of them without
    forces) and ``decoy_fraction`` look like HEOs but have a metalloid (Si) cation; the
    rest have 1-6 elements drawn from H-Bi (O in ~40%; 99% of those with 5 or more
    elements hold a non-metal), so a few more HEOs arise by chance: with the defaults about
    0.03% of rows are HEOs, close to LeMat-Bulk compatible_pbe (~1,300 of ~5.3 million
    rows pass the default filter). 1 to ~30 sites per row, mean ~11.

    The helpers below draw from one generator in a fixed order, so a seed always gives the
    same table.
    """
    rng = np.random.default_rng(seed)
    kind, n_elements, has_oxygen = _draw_row_kinds(rng, n_rows, heo_fraction, decoy_fraction)
    element_rows = _draw_element_rows(rng, kind, n_elements, has_oxygen)
    n_elements = np.array([len(e) for e in element_rows])
    flat_elements = np.array([e for row in element_rows for e in row])
    element_offsets = np.concatenate([[0], np.cumsum(n_elements)])
    n_sites, site_element = _draw_sites(rng, n_elements, element_offsets)
    site_offsets = np.concatenate([[0], np.cumsum(n_sites)])
    columns = {
        **_composition_columns(flat_elements, element_offsets, n_sites, site_offsets, site_element),
        **_geometry_columns(rng, n_sites, site_offsets),
        **_force_stress_columns(rng, n_sites, site_offsets),
        **_provenance_columns(rng, n_rows),
        **_energy_magnetic_columns(rng, n_sites, site_offsets),
    }
    return pa.Table.from_arrays([columns[f.name] for f in LEMAT_SCHEMA], schema=LEMAT_SCHEMA)


def _draw_row_kinds(
    rng: np.random.Generator, n_rows: int, heo_fraction: float, decoy_fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: kind (0 ordinary, 1 HEO, 2 decoy), number of distinct elements and whether
    O is one of them (HEOs and decoys: 5 to 7 elements, O always)."""
    kind = rng.choice(3, size=n_rows, p=[1 - heo_fraction - decoy_fraction, heo_fraction, decoy_fraction])
    n_elements = rng.choice(np.arange(1, 7), size=n_rows, p=[0.03, 0.25, 0.4, 0.22, 0.07, 0.03])
    has_oxygen = rng.random(n_rows) < 0.4
    special = kind > 0
    n_elements[special] = rng.integers(5, 8, size=int(special.sum()))
    has_oxygen[special] = True
    return kind, np.maximum(n_elements, has_oxygen + 1), has_oxygen


def _draw_element_rows(
    rng: np.random.Generator, kind: np.ndarray, n_elements: np.ndarray, has_oxygen: np.ndarray
) -> list[list[str]]:
    """The sorted element symbols of each row: O (when present) plus distinct draws from
    :data:`METAL_POOL` (HEOs, decoys) or :data:`GENERIC_POOL` (ordinary rows)."""
    n_rows = len(kind)
    special = kind > 0
    element_rows: list[list[str]] = []
    generic = np.array(GENERIC_POOL)
    metals = np.array(METAL_POOL)
    order_generic = np.argsort(rng.random((n_rows, len(generic)), dtype=np.float32), axis=1)[:, :7]
    order_metals = np.argsort(rng.random((n_rows, len(metals)), dtype=np.float32), axis=1)[:, :7]
    n_drawn = n_elements - has_oxygen
    anion_draw = rng.random(n_rows)
    for i in range(n_rows):
        drawn = (
            metals[order_metals[i, : n_drawn[i]]] if special[i] else generic[order_generic[i, : n_drawn[i]]]
        ).tolist()
        if kind[i] == 2:  # decoy: a metalloid cation (the metal pool holds no Si)
            drawn[-1] = "Si"
        elif kind[i] == 0 and n_elements[i] >= 5 and anion_draw[i] < 0.99 and drawn[-1] not in NON_METALS:
            # most many-element materials hold a non-metal besides O (sulfates, phosphates, ...)
            drawn[-1] = NON_METALS[int(anion_draw[i] * 1000) % len(NON_METALS)]
            drawn = list(dict.fromkeys(drawn))
        element_rows.append(sorted([*drawn, "O"] if has_oxygen[i] else drawn))
    return element_rows


def _draw_sites(
    rng: np.random.Generator, n_elements: np.ndarray, element_offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sites per row (at least one per element, 1 + Poisson(10) otherwise) and, for every
    site, the index of its element in the flat element list (each element on >= 1 site)."""
    n_rows = len(n_elements)
    n_sites = np.maximum(n_elements, 1 + rng.poisson(10, n_rows))
    site_offsets = np.concatenate([[0], np.cumsum(n_sites)])
    site_row = np.repeat(np.arange(n_rows), n_sites)
    site_pos = np.arange(int(site_offsets[-1])) - site_offsets[site_row]
    choice = np.where(site_pos < n_elements[site_row], site_pos, rng.integers(0, n_elements[site_row]))
    return n_sites, element_offsets[site_row] + choice


def _composition_columns(
    flat_elements: np.ndarray,
    element_offsets: np.ndarray,
    n_sites: np.ndarray,
    site_offsets: np.ndarray,
    site_element: np.ndarray,
) -> dict[str, pa.Array]:
    """Elements, site species, formulas and element ratios of every row (no random draws)."""
    n_rows = len(n_sites)
    n_elements = np.diff(element_offsets)
    counts = np.bincount(site_element, minlength=len(flat_elements))
    flat_list, count_list = flat_elements.tolist(), counts.tolist()
    formulas, descriptive, species_text = [], [], []
    for i in range(n_rows):
        a, b = element_offsets[i], element_offsets[i + 1]
        row_counts = dict(zip(flat_list[a:b], count_list[a:b]))
        formulas.append(reduced_formula(row_counts))
        descriptive.append(" ".join(f"{e}{n}" for e, n in row_counts.items()))
        species_text.append(
            str([{"name": e, "chemical_symbols": [e], "concentration": [1]} for e in row_counts])
        )
    return {
        "elements": _list_array(element_offsets, pa.array(flat_elements)),
        "nsites": pa.array(n_sites.astype(np.int32)),
        "chemical_formula_anonymous": pa.array(["A" * int(k) for k in n_elements]),
        "chemical_formula_reduced": pa.array(formulas),
        "chemical_formula_descriptive": pa.array(descriptive),
        "nelements": pa.array(n_elements.astype(np.int8)),
        "species": pa.array(species_text),
        "species_at_sites": _list_array(site_offsets, pa.array(flat_elements[site_element])),
        "elements_ratios": _list_array(
            element_offsets, pa.array(counts / n_sites[np.repeat(np.arange(n_rows), n_elements)])
        ),
    }


def _geometry_columns(
    rng: np.random.Generator, n_sites: np.ndarray, site_offsets: np.ndarray
) -> dict[str, pa.Array]:
    """Cells (near-cubic, edge 4 + 0.6 n_sites^(1/3) Å), Cartesian positions (Å) uniform in
    the cell, and 3-D periodicity."""
    n_rows = len(n_sites)
    site_row = np.repeat(np.arange(n_rows), n_sites)
    lengths = 4.0 + 0.6 * np.cbrt(n_sites)
    cells = np.eye(3)[None] * lengths[:, None, None] + rng.normal(0, 0.05, (n_rows, 3, 3))
    positions = np.einsum("ij,ijk->ik", rng.random((int(site_offsets[-1]), 3)), cells[site_row])
    return {
        "dimension_types": _list_array(
            np.arange(0, 3 * n_rows + 1, 3), pa.array(np.ones(3 * n_rows, np.int8))
        ),
        "nperiodic_dimensions": pa.array(np.full(n_rows, 3, np.int8)),
        "lattice_vectors": _vectors(np.arange(0, 3 * n_rows + 1, 3), cells.reshape(-1, 3)),
        "cartesian_site_positions": _vectors(site_offsets, positions),
    }


def _force_stress_columns(
    rng: np.random.Generator, n_sites: np.ndarray, site_offsets: np.ndarray
) -> dict[str, pa.Array]:
    """Forces (eV/Å, N(0, 0.05) per component; ~3% of rows null) and stress (3x3 kBar,
    N(0, 5); ~50% of rows null)."""
    n_rows = len(n_sites)
    forces = rng.normal(0, 0.05, (int(site_offsets[-1]), 3))
    no_forces = rng.random(n_rows) < 0.03
    stress = rng.normal(0, 5, (n_rows, 3, 3))
    no_stress = rng.random(n_rows) < 0.5
    return {
        "forces": _vectors(site_offsets, forces, no_forces),
        "stress_tensor": _vectors(np.arange(0, 3 * n_rows + 1, 3), stress.reshape(-1, 3), no_stress),
    }


def _provenance_columns(rng: np.random.Generator, n_rows: int) -> dict[str, pa.Array]:
    """Ids with a random source-database prefix (``mp-``, ``agm00``, ``oqmd-``), functional,
    dates and fingerprints."""
    prefixes = np.array(["mp-", "agm00", "oqmd-"])[rng.integers(0, 3, n_rows)]
    return {
        "immutable_id": pa.array([f"{p}{i}" for p, i in zip(prefixes.tolist(), range(n_rows))]),
        "last_modified": pa.array(["2024-10-01"] * n_rows),
        "functional": pa.array(["pbe"] * n_rows),
        "cross_compatibility": pa.array(np.ones(n_rows, bool)),
        "entalpic_fingerprint": pa.array([f"{i * 2654435761 % 2**64:016x}" for i in range(n_rows)]),
    }


def _energy_magnetic_columns(
    rng: np.random.Generator, n_sites: np.ndarray, site_offsets: np.ndarray
) -> dict[str, pa.Array]:
    """Total energies (eV, -4.5 eV per site + N(0, 1)), corrected energies (0.1 eV per site
    lower), magnetic moments (μB) and DOS at the Fermi level (random, unused by the filter)."""
    n_rows = len(n_sites)
    energy = -4.5 * n_sites + rng.normal(0, 1, n_rows)
    return {
        "energy": pa.array(energy),
        "energy_corrected": pa.array(energy - 0.1 * n_sites),
        "magnetic_moments": _list_array(site_offsets, pa.array(rng.normal(0, 1, int(site_offsets[-1])))),
        "total_magnetization": pa.array(rng.normal(0, 1, n_rows)),
        "dos_ef": pa.array(rng.normal(0, 1, n_rows)),
    }


def expected_heo_ids(table: pa.Table) -> set[str]:
    """Ids the default HEO filter must keep, computed row by row in plain Python with the hand-written
    :data:`REFERENCE_METALS` (a reference independent of the implementation)."""
    kept = set()
    for row in table.to_pylist():
        species = row["species_at_sites"]
        counts = Counter(species)
        forces = row["forces"]
        if (
            "O" in counts
            and len(counts) >= 5
            and all(e in REFERENCE_METALS for e in counts if e != "O")
            and forces
            and len(forces) == row["nsites"]
            and all(f is not None and len(f) == 3 and all(math.isfinite(x) for x in f) for f in forces)
            and row["energy"] is not None
            and math.isfinite(row["energy"])
        ):
            kept.add(row["immutable_id"])
    return kept


__all__ = [
    "LEMAT_SCHEMA",
    "REFERENCE_METALS",
    "expected_heo_ids",
    "lemat_row",
    "lemat_table",
    "synthetic_lemat_table",
    "write_lemat_parquet",
]
