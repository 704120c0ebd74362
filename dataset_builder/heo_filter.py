"""The high-entropy-oxide (HEO) filter: which structures are kept, and why others are not.

Two entry points share one set of settings (:class:`HEOFilter`):

* :meth:`HEOFilter.composition_mask` works on a whole column of element lists with
  ``pyarrow.compute`` (the fast scan; no Python object per row);
* :meth:`HEOFilter.reject_reason` checks one structure from its per-site symbols (the
  authoritative check, including the cation-sublattice entropy and equimolarity).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from dataset_builder.elements import (
    KNOWN_ELEMENTS,
    METALS,
    METALS_SPEC,
    OXYGEN,
    cation_fractions,
    element_counts,
    ideal_mixing_entropy,
    max_equimolar_deviation,
)
from dataset_builder.errors import FilterConfigError

if TYPE_CHECKING:
    import pyarrow as pa


class DropReason(StrEnum):
    """Why a row was not kept; the values are the keys of the drop counts in the file."""

    FUNCTIONAL = "functional_mismatch"
    NO_OXYGEN = "no_oxygen"
    TOO_FEW_ELEMENTS = "too_few_elements"
    NON_METAL_CATION = "non_metal_cation"
    EXCLUDED_ELEMENT = "excluded_element"
    TOO_FEW_CATIONS = "too_few_cations"
    LOW_ENTROPY = "low_config_entropy"
    NOT_EQUIMOLAR = "not_equimolar"
    INCONSISTENT_SITES = "inconsistent_sites"
    MISSING_FORCES = "missing_forces"
    FORCES_SITE_MISMATCH = "forces_site_mismatch"
    MISSING_ENERGY = "missing_energy"
    NON_FINITE = "non_finite_values"
    DUPLICATE = "duplicate_across_databases"


@dataclass(frozen=True, kw_only=True)
class HEOFilter:
    """Settings of the HEO filter.

    A structure is kept when it contains oxygen, has at least ``min_elements`` distinct
    elements (oxygen included), every other element is a metal
    (:data:`dataset_builder.elements.METALS`), and the optional criteria hold.

    Attributes:
        min_elements: minimum number of distinct elements, oxygen included (default 5).
        min_cations: minimum number of distinct cation (non-O) elements (default 0: only
            ``min_elements`` applies).
        min_config_entropy: minimum ideal mixing entropy of the cation sublattice,
            ``-sum x ln x`` over cation site fractions, in units of R (None: no limit;
            HEOs are usually >= 1.5 R).
        equimolar_tol: maximum ``|x_i - 1/n_cations|`` of any cation site fraction
            (None: no limit).
        exclude_elements: elements that disqualify a structure (e.g. Ru Rh Pd Ag Os Ir Pt Au).
        functional: keep only this functional (case-insensitive, e.g. ``"pbe"``); None keeps all.
    """

    min_elements: int = 5
    min_cations: int = 0
    min_config_entropy: float | None = None
    equimolar_tol: float | None = None
    exclude_elements: tuple[str, ...] = field(default=())
    functional: str | None = None

    def __post_init__(self) -> None:
        if self.min_elements < 2:
            raise FilterConfigError(
                f"--min-elements must be at least 2 (O and a metal), got {self.min_elements}"
            )
        if self.min_cations < 0:
            raise FilterConfigError(f"--min-cations must be non-negative, got {self.min_cations}")
        if self.min_config_entropy is not None and self.min_config_entropy < 0:
            raise FilterConfigError(
                f"--min-config-entropy is in units of R and must be >= 0, got {self.min_config_entropy}"
            )
        if self.equimolar_tol is not None and not 0 <= self.equimolar_tol <= 1:
            raise FilterConfigError(f"--equimolar-tol must lie in [0, 1], got {self.equimolar_tol}")
        unknown = sorted(set(self.exclude_elements) - KNOWN_ELEMENTS)
        if unknown:
            raise FilterConfigError(
                f"--exclude-elements: unknown element symbol(s) {', '.join(unknown)} "
                "(symbols are case-sensitive, e.g. Pt not PT)"
            )
        if OXYGEN in self.exclude_elements:
            raise FilterConfigError("--exclude-elements cannot exclude O: every HEO contains oxygen")
        object.__setattr__(self, "exclude_elements", tuple(sorted(set(self.exclude_elements))))

    def to_dict(self) -> dict[str, Any]:
        """Settings as a JSON-serialisable dict (stored in the HDF5 file attributes)."""
        settings = asdict(self)
        settings["exclude_elements"] = list(self.exclude_elements)
        settings["metals"] = METALS_SPEC
        settings["requires_forces"] = True
        return settings

    # -- vectorised pre-filter ------------------------------------------------------------

    def composition_mask(
        self, elements: pa.Array | pa.ChunkedArray, functional: pa.Array | pa.ChunkedArray | None = None
    ) -> tuple[np.ndarray, Counter[str]]:
        """Element-level HEO test on a column of element lists, vectorised with pyarrow.

        Args:
            elements: list<string> column, the distinct elements of each row (length N).
            functional: string column of functionals (length N); required when
                :attr:`functional` is set.

        Returns:
            ``(mask, dropped)``: a boolean array of shape (N,), True for rows that may be
            HEOs, and the number of rejected rows per :class:`DropReason` value (the first
            failing criterion in the order of :class:`DropReason`). Criteria that need
            site counts (entropy, equimolarity) are left to :meth:`reject_reason`.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(elements, pa.ChunkedArray):
            elements = elements.combine_chunks()
        n_rows = len(elements)
        flat = pc.list_flatten(elements)
        parents = pc.list_parent_indices(elements).to_numpy()

        def per_row(flags: pa.Array) -> np.ndarray:
            values = np.asarray(pc.fill_null(flags, False).to_numpy(zero_copy_only=False), dtype=bool)
            return np.bincount(parents, weights=values, minlength=n_rows)

        is_oxygen = pc.equal(flat, OXYGEN)
        is_metal = pc.is_in(flat, value_set=pa.array(sorted(METALS), pa.string()))
        n_elements = np.asarray(
            pc.fill_null(pc.list_value_length(elements), 0).to_numpy(zero_copy_only=False), dtype=np.int64
        )
        n_oxygen = per_row(is_oxygen)
        n_metals = per_row(is_metal)
        n_non_metal_cations = n_elements - n_oxygen - n_metals
        if self.exclude_elements:
            n_excluded = per_row(pc.is_in(flat, value_set=pa.array(self.exclude_elements, pa.string())))
        else:
            n_excluded = np.zeros(n_rows)

        failures: list[tuple[DropReason, np.ndarray]] = []
        if self.functional is not None:
            if functional is None:
                raise FilterConfigError("--functional needs a 'functional' column in the source")
            if isinstance(functional, pa.ChunkedArray):
                functional = functional.combine_chunks()
            same = pc.equal(pc.utf8_lower(functional), self.functional.lower())
            failures.append(
                (DropReason.FUNCTIONAL, ~np.asarray(pc.fill_null(same, False).to_numpy(zero_copy_only=False)))
            )
        failures += [
            (DropReason.NO_OXYGEN, n_oxygen == 0),
            (DropReason.TOO_FEW_ELEMENTS, n_elements < self.min_elements),
            (DropReason.NON_METAL_CATION, n_non_metal_cations > 0),
            (DropReason.EXCLUDED_ELEMENT, n_excluded > 0),
            (DropReason.TOO_FEW_CATIONS, n_metals < self.min_cations),
        ]
        keep = np.ones(n_rows, dtype=bool)
        dropped: Counter[str] = Counter()
        for reason, failed in failures:
            newly = keep & failed
            if newly.any():
                dropped[reason.value] += int(newly.sum())
                keep &= ~failed
        return keep, dropped

    # -- per-structure check ----------------------------------------------------------------

    def reject_reason(self, symbols: Sequence[str], functional: str | None = None) -> DropReason | None:
        """Full HEO test of one structure from its per-site chemical symbols.

        Args:
            symbols: one chemical symbol per site (length n_sites).
            functional: the structure's functional, checked when :attr:`functional` is set.

        Returns:
            None when the structure is an HEO by these settings, else the first failing
            :class:`DropReason`.
        """
        if self.functional is not None and (functional or "").lower() != self.functional.lower():
            return DropReason.FUNCTIONAL
        counts = element_counts(symbols)
        if OXYGEN not in counts:
            return DropReason.NO_OXYGEN
        if len(counts) < self.min_elements:
            return DropReason.TOO_FEW_ELEMENTS
        cations = [element for element in counts if element != OXYGEN]
        if any(element not in METALS for element in cations):
            return DropReason.NON_METAL_CATION
        if any(element in counts for element in self.exclude_elements):
            return DropReason.EXCLUDED_ELEMENT
        if len(cations) < self.min_cations:
            return DropReason.TOO_FEW_CATIONS
        fractions = list(cation_fractions(counts).values())
        if self.min_config_entropy is not None and ideal_mixing_entropy(fractions) < self.min_config_entropy:
            return DropReason.LOW_ENTROPY
        if self.equimolar_tol is not None and max_equimolar_deviation(fractions) > self.equimolar_tol + 1e-12:
            return DropReason.NOT_EQUIMOLAR
        return None
