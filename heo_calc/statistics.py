"""Pure error statistics of potentials against DFT labels: arrays in, numbers out.

Every accuracy number of the project (``heo-calc evaluate``, the model card, the benchmark)
is computed here; :mod:`heo_calc.evaluation` runs calculators and feeds these functions,
the benchmark (:mod:`benchmark_suite.statistics`) puts confidence intervals on them.

Units and conventions
---------------------
* Energies are total energies in eV; per-atom errors are in eV/atom. Functions return ASE
  units (eV, eV/atom, eV/Å, eV/Å^3); formatting into meV or GPa happens where tables are
  written (:mod:`heo_base.units`).
* Errors are ``predicted - reference`` (reference = DFT).
* **Force RMSE and MAE are per Cartesian component over all atoms**: the squared (or
  absolute) errors of every x, y and z component of every atom are averaged together, as
  mace-torch logs them. sevenn's training log uses the vector-norm convention (RMSE of
  ``|F_pred - F_DFT|`` over atoms), which is ``sqrt(3)`` times larger for isotropic errors;
  ``force_rmse(..., convention="vector")`` gives that number.
* Aggregates ignore NaN entries (failed evaluations); summaries report their number.

Errors on HEO DFT data are heavy-tailed (a few structures carry most of the squared
error): report MAE and the median beside RMSE and list the worst structures
(:func:`summarize_errors`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from ase import Atoms

# ---------------------------------------------------------------------------------------
# error statistics
# ---------------------------------------------------------------------------------------


def _finite(values: Iterable[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    return array[np.isfinite(array)]


def rmse(errors: Iterable[float] | np.ndarray) -> float:
    """Root-mean-square of ``errors`` (any shape, flattened), ignoring NaN; NaN if none is finite."""
    finite = _finite(errors)
    return float(np.sqrt(np.mean(finite**2))) if finite.size else float("nan")


def mae(errors: Iterable[float] | np.ndarray) -> float:
    """Mean absolute value of ``errors`` (any shape, flattened), ignoring NaN; NaN if none is finite."""
    finite = _finite(errors)
    return float(np.mean(np.abs(finite))) if finite.size else float("nan")


def median_abs_error(errors: Iterable[float] | np.ndarray) -> float:
    """Median absolute value of ``errors`` (any shape, flattened), ignoring NaN; NaN if none is finite."""
    finite = _finite(errors)
    return float(np.median(np.abs(finite))) if finite.size else float("nan")


# ---------------------------------------------------------------------------------------
# energies
# ---------------------------------------------------------------------------------------


def energy_errors_per_atom(
    predicted: Sequence[float] | np.ndarray,
    reference: Sequence[float] | np.ndarray,
    n_atoms: Sequence[int] | np.ndarray,
) -> np.ndarray:
    """Per-atom energy errors ``(E_pred - E_ref) / N`` in eV/atom.

    Args:
        predicted: total energies, eV, shape (n_structures,).
        reference: total DFT energies, eV, shape (n_structures,).
        n_atoms: atoms per structure, shape (n_structures,).

    Returns:
        Errors in eV/atom, shape (n_structures,); NaN where either energy is NaN.
    """
    predicted = np.asarray(predicted, dtype=float)
    reference = np.asarray(reference, dtype=float)
    n_atoms = np.asarray(n_atoms, dtype=float)
    if not predicted.shape == reference.shape == n_atoms.shape:
        raise ValueError(
            f"shapes differ: predicted {predicted.shape}, reference {reference.shape}, n_atoms {n_atoms.shape}"
        )
    return (predicted - reference) / n_atoms


# ---------------------------------------------------------------------------------------
# per-element linear reference fit
# ---------------------------------------------------------------------------------------


def composition_matrix(
    structures: Sequence[Atoms | Mapping[str, float]], elements: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Atom counts per element: matrix of shape (n_structures, n_elements) and the element order.

    Args:
        structures: ASE Atoms, or mappings element -> count.
        elements: column order; by default every element present, sorted by atomic number.
            Elements of a structure that are not in ``elements`` are dropped.
    """
    from ase.data import atomic_numbers

    counts: list[dict[str, float]] = []
    for item in structures:
        if isinstance(item, Atoms):
            symbols, numbers = np.unique(item.get_chemical_symbols(), return_counts=True)
            counts.append(dict(zip(symbols.tolist(), numbers.astype(float).tolist())))
        else:
            counts.append({str(k): float(v) for k, v in item.items()})
    if elements is None:
        elements = sorted({e for c in counts for e in c}, key=lambda e: atomic_numbers.get(e, 999))
    column = {element: j for j, element in enumerate(elements)}
    matrix = np.zeros((len(counts), len(elements)))
    for i, c in enumerate(counts):
        for element, n in c.items():
            if element in column:
                matrix[i, column[element]] = n
    return matrix, list(elements)


def fit_elemental_offsets(
    composition: np.ndarray,
    energy_differences: np.ndarray,
    *,
    huber_delta: float | None = None,
    max_iterations: int = 50,
) -> np.ndarray:
    """Least-squares per-element energy offsets (eV per atom of that element).

    Solves ``composition @ offsets ≈ energy_differences`` where ``composition`` holds atom
    counts (n_structures, n_elements) and ``energy_differences`` are total energy
    differences ``E_pred - E_DFT`` in eV (n_structures,). Rows with a NaN difference are
    left out. An element absent from every fitted row gets offset 0 (the minimum-norm
    solution), so the correction never invents an offset it has no data for.

    With ``huber_delta`` (eV/atom) the fit minimises the Huber loss of the per-atom
    residuals ``(ΔE_i - c_i · offsets) / N_i`` by iteratively reweighted least squares:
    residuals beyond ``delta`` count linearly, so the few structures with 0.2-0.7 eV/atom
    errors in HEO data (different DFT settings between source databases) do not drag every
    offset. Without it: plain least squares on total energies.
    """
    composition = np.asarray(composition, dtype=float)
    energy_differences = np.asarray(energy_differences, dtype=float)
    keep = np.isfinite(energy_differences)
    if not keep.any():
        return np.zeros(composition.shape[1])
    matrix, target = composition[keep], energy_differences[keep]
    offsets, *_ = np.linalg.lstsq(matrix, target, rcond=None)
    if huber_delta is None:
        return offsets
    n_atoms = np.maximum(matrix.sum(axis=1), 1.0)
    weights = 1.0 / n_atoms
    for _ in range(max_iterations):
        offsets, *_ = np.linalg.lstsq(matrix * weights[:, None], target * weights, rcond=None)
        residuals = np.abs(target - matrix @ offsets) / n_atoms
        new_weights = np.sqrt(np.minimum(1.0, huber_delta / np.maximum(residuals, 1e-12))) / n_atoms
        if np.allclose(new_weights, weights, rtol=1e-6, atol=0.0):
            break
        weights = new_weights
    return offsets


def reference_corrected_errors(
    predicted: Sequence[float] | np.ndarray,
    reference: Sequence[float] | np.ndarray,
    composition: np.ndarray,
    *,
    fit_composition: np.ndarray | None = None,
    fit_predicted: Sequence[float] | np.ndarray | None = None,
    fit_reference: Sequence[float] | np.ndarray | None = None,
    huber_delta: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom energy errors after removing a per-element linear reference (eV/atom).

    Models trained on differently referenced energies (CHGNet predicts MP2020-corrected
    energies, offset by ~-0.6 eV/atom on oxides) differ from DFT by roughly a constant per
    atom of each element. This fits those constants by least squares of the atom-count
    matrix against ``E_pred - E_DFT`` and returns the residual errors per atom.

    Args:
        predicted, reference: total energies in eV, shape (n,).
        composition: atom counts, shape (n, n_elements) (:func:`composition_matrix`).
        fit_composition, fit_predicted, fit_reference: the set to fit the offsets on, with
            the same element columns; by default the evaluated set itself. Fitting on the
            evaluated set absorbs part of the real error (one parameter per element), so
            prefer a disjoint fit set when there are few structures per element.
        huber_delta: robust fit, see :func:`fit_elemental_offsets` (eV/atom).

    Returns:
        ``(errors, offsets)``: corrected errors in eV/atom, shape (n,), NaN where an energy
        is NaN; and the fitted offsets in eV per atom of each element, shape (n_elements,).
    """
    predicted = np.asarray(predicted, dtype=float)
    reference = np.asarray(reference, dtype=float)
    composition = np.asarray(composition, dtype=float)
    if fit_composition is None:
        fit_composition, fit_predicted, fit_reference = composition, predicted, reference
    elif fit_predicted is None or fit_reference is None:
        raise ValueError("pass fit_predicted and fit_reference together with fit_composition")
    fit_composition = np.asarray(fit_composition, dtype=float)
    if fit_composition.shape[1] != composition.shape[1]:
        raise ValueError(
            f"fit set has {fit_composition.shape[1]} element columns, evaluated set {composition.shape[1]}"
        )
    offsets = fit_elemental_offsets(
        fit_composition,
        np.asarray(fit_predicted, dtype=float) - np.asarray(fit_reference, dtype=float),
        huber_delta=huber_delta,
    )
    n_atoms = composition.sum(axis=1)
    corrected = (predicted - reference - composition @ offsets) / n_atoms
    return corrected, offsets


# ---------------------------------------------------------------------------------------
# forces and stress
# ---------------------------------------------------------------------------------------


def _force_errors(predicted: np.ndarray, reference: np.ndarray) -> np.ndarray:
    predicted = np.asarray(predicted, dtype=float)
    reference = np.asarray(reference, dtype=float)
    if predicted.shape != reference.shape or predicted.shape[-1:] != (3,):
        raise ValueError(
            f"forces must both have shape (n_atoms, 3), got {predicted.shape} and {reference.shape}"
        )
    return predicted.reshape(-1, 3) - reference.reshape(-1, 3)


def force_rmse(
    predicted: np.ndarray,
    reference: np.ndarray,
    *,
    convention: Literal["component", "vector"] = "component",
) -> float:
    """Force RMSE in eV/Å.

    Args:
        predicted, reference: forces in eV/Å, shape (n_atoms, 3) (concatenate structures
            to aggregate over a set; every atom then weighs the same).
        convention: ``"component"`` (default, as mace-torch logs it):
            ``sqrt(mean over atoms and x, y, z of ΔF_c^2)``; ``"vector"`` (sevenn's log):
            ``sqrt(mean over atoms of |ΔF|^2)``, sqrt(3) times the component value.

    Atoms with a NaN component are ignored.
    """
    errors = _force_errors(predicted, reference)
    errors = errors[np.isfinite(errors).all(axis=1)]
    if errors.size == 0:
        return float("nan")
    if convention == "component":
        return float(np.sqrt(np.mean(errors**2)))
    if convention == "vector":
        return float(np.sqrt(np.mean(np.sum(errors**2, axis=1))))
    raise ValueError(f"convention must be 'component' or 'vector', got {convention!r}")


def force_error_sums(predicted: np.ndarray, reference: np.ndarray) -> tuple[float, float, int]:
    """Sums over every force component of the squared and absolute errors, and their number.

    ``(sum ΔF_c^2 in (eV/Å)^2, sum |ΔF_c| in eV/Å, n_components)`` for forces of shape
    (n_atoms, 3); atoms with a NaN component are left out. Summed over structures and
    divided by the summed counts they give the per-component RMSE and MAE of a whole set
    exactly, every atom weighing the same (:func:`aggregate_force_errors`).
    """
    errors = _force_errors(predicted, reference)
    errors = errors[np.isfinite(errors).all(axis=1)]
    return float(np.sum(errors**2)), float(np.sum(np.abs(errors))), int(errors.size)


def aggregate_force_errors(
    squared_sums: Sequence[float] | np.ndarray,
    absolute_sums: Sequence[float] | np.ndarray,
    counts: Sequence[int] | np.ndarray,
) -> tuple[float, float]:
    """Per-component force (RMSE, MAE) in eV/Å of a set from per-structure :func:`force_error_sums`.

    Structures with a NaN sum or no components are left out; ``(nan, nan)`` if none is left.
    """
    squared = np.asarray(squared_sums, dtype=float)
    absolute = np.asarray(absolute_sums, dtype=float)
    n = np.asarray(counts, dtype=float)
    usable = np.isfinite(squared) & np.isfinite(absolute) & (n > 0)
    total = n[usable].sum()
    if not total:
        return float("nan"), float("nan")
    return float(np.sqrt(squared[usable].sum() / total)), float(absolute[usable].sum() / total)


def force_mae(predicted: np.ndarray, reference: np.ndarray) -> float:
    """Force MAE per Cartesian component over all atoms, eV/Å (shapes (n_atoms, 3))."""
    return mae(_force_errors(predicted, reference))


def stress_rmse(predicted: np.ndarray, reference: np.ndarray) -> float:
    """Stress RMSE per Voigt component, in the input unit (eV/Å^3 in ASE; × 160.2 for GPa).

    Args:
        predicted, reference: stresses of shape (6,) or (n_structures, 6), Voigt order
            xx yy zz yz xz xy, or full (…, 3, 3) tensors (converted to Voigt 6). Using six
            components weights the off-diagonal ones once, not twice as a 3x3 norm would.
    """

    def voigt(stress: np.ndarray) -> np.ndarray:
        stress = np.asarray(stress, dtype=float)
        if stress.shape[-2:] == (3, 3):
            i, j = np.array([0, 1, 2, 1, 0, 0]), np.array([0, 1, 2, 2, 2, 1])
            return stress[..., i, j]
        if stress.shape[-1] != 6:
            raise ValueError(f"stress must have shape (..., 6) or (..., 3, 3), got {stress.shape}")
        return stress

    return rmse(voigt(predicted) - voigt(reference))


def summarize_errors(
    errors: Sequence[float] | np.ndarray,
    ids: Sequence[str] | None = None,
    *,
    worst_k: int = 5,
) -> dict[str, Any]:
    """RMSE, MAE, median and max absolute error of ``errors``, NaN-tolerant, with the worst entries.

    Returns a dict with ``rmse``, ``mae``, ``median``, ``max`` (input units), ``n`` (finite
    entries), ``n_failed`` (NaN entries) and ``worst``: up to ``worst_k`` ``(id, error)``
    pairs with the largest absolute error, largest first.
    """
    values = np.asarray(errors, dtype=float).ravel()
    ids = list(ids) if ids is not None else [str(i) for i in range(len(values))]
    finite = np.isfinite(values)
    order = [i for i in np.argsort(-np.abs(np.where(finite, values, 0.0)), kind="stable") if finite[i]]
    return {
        "rmse": rmse(values),
        "mae": mae(values),
        "median": median_abs_error(values),
        "max": float(np.max(np.abs(values[finite]))) if finite.any() else float("nan"),
        "n": int(finite.sum()),
        "n_failed": int((~finite).sum()),
        "worst": [(ids[i], float(values[i])) for i in order[:worst_k]],
    }
