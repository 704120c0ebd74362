"""The one metrics module: accuracy and geometry metrics for potentials on HEO data.

Every benchmark, model card and training report computes its numbers here. The functions
are pure (arrays or structures in, numbers out) apart from :func:`evaluate_structures`,
which runs a calculator and returns a tidy table; summaries are made from that table.

Units and conventions
---------------------
* Energies are total energies in eV; per-atom errors are in eV/atom. Functions return
  SI-free ASE units (eV, eV/atom, eV/Å, eV/Å^3); formatting into meV/atom, meV/Å or GPa
  happens where tables are written (see :data:`MEV`).
* Errors are ``predicted - reference`` (reference = DFT).
* **Force RMSE and MAE are per Cartesian component over all atoms**: the squared (or
  absolute) errors of every x, y and z component of every atom are averaged together, as
  mace-torch logs them. sevenn's training log uses the vector-norm convention (RMSE of
  ``|F_pred - F_DFT|`` over atoms), which is ``sqrt(3)`` times larger for isotropic errors;
  ``force_rmse(..., convention="vector")`` gives that number.
* Aggregates over many structures weight every atom (force components) or every structure
  (energies per atom) equally, and ignore NaN entries (failed evaluations), whose number
  summaries report as ``n_failed``.
* Geometry metrics follow matbench-discovery's conventions: StructureMatcher RMSD with
  ``stol=1.0, scale=False`` (normalised by ``(V/n)^(1/3)``, so dimensionless) and a symmetry
  match by space-group number before and after relaxation. The matbench-discovery release
  on PyPI (1.3.1) ships only stability-classification metrics and pulls wandb, plotly and
  pymatviz, so the same definitions are computed here directly with pymatgen.

Errors on HEO DFT data are heavy-tailed (a few structures carry most of the squared
error): report MAE and the median beside RMSE and list the worst structures
(:func:`summarize_errors`, :func:`accuracy_summary`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
from ase import Atoms

if TYPE_CHECKING:
    import pandas as pd
    from ase.calculators.calculator import Calculator
    from pymatgen.core import Structure

logger = logging.getLogger(__name__)

#: Multiply eV (eV/atom, eV/Å) by this for meV (meV/atom, meV/Å).
MEV: Final = 1000.0
#: Multiply eV/Å^3 by this for GPa (ase.units.GPa = 1 / 160.2...).
EV_PER_A3_TO_GPA: Final = 160.21766208

#: Atoms per conventional cubic cell of each parent lattice, for pseudo-cubic lattice parameters.
ATOMS_PER_CUBIC_CELL: Final[dict[str, int]] = {
    "rocksalt": 8,  # Fm-3m AO, 4 formula units of 2 atoms
    "spinel": 56,  # Fd-3m AB2O4, 8 formula units of 7 atoms
    "fluorite": 12,  # Fm-3m AO2, 4 formula units of 3 atoms
    "perovskite": 5,  # Pm-3m ABO3, 1 formula unit of 5 atoms
}

LatticeType = Literal["rocksalt", "spinel", "fluorite", "perovskite"]

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


def energy_per_atom_rmse(predicted, reference, n_atoms) -> float:
    """RMSE of per-atom energies in eV/atom (totals in eV, shape (n_structures,)); NaN rows ignored."""
    return rmse(energy_errors_per_atom(predicted, reference, n_atoms))


def energy_per_atom_mae(predicted, reference, n_atoms) -> float:
    """MAE of per-atom energies in eV/atom (totals in eV, shape (n_structures,)); NaN rows ignored."""
    return mae(energy_errors_per_atom(predicted, reference, n_atoms))


def energy_per_atom_median_abs_error(predicted, reference, n_atoms) -> float:
    """Median absolute per-atom energy error in eV/atom (totals in eV); NaN rows ignored."""
    return median_abs_error(energy_errors_per_atom(predicted, reference, n_atoms))


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


# ---------------------------------------------------------------------------------------
# geometry
# ---------------------------------------------------------------------------------------


def rmsd_same_order(
    atoms: Atoms, reference: Atoms, *, remove_translation: bool = True, per_atom: bool = False
) -> float | np.ndarray:
    """RMSD in Å between two structures with the same atoms in the same order (minimum image).

    Displacements are taken in fractional coordinates, wrapped to [-0.5, 0.5) (minimum
    image, exact for displacements under half a cell length) and converted to Å with the
    *reference* cell, so a homogeneous change of the cell (a relaxed lattice parameter)
    does not count as displacement; report the cell change separately
    (:func:`volume_change_percent`). With ``remove_translation`` the mean displacement is
    subtracted first (a rigid shift is not a structural change).

    Returns:
        RMSD in Å, or with ``per_atom`` the displacement length of every atom (Å, shape (n,)).
    """
    if len(atoms) != len(reference):
        raise ValueError(f"atom counts differ: {len(atoms)} and {len(reference)}")
    if not np.array_equal(atoms.numbers, reference.numbers):
        raise ValueError("the two structures do not hold the same elements in the same order")
    frac = np.linalg.solve(atoms.cell.array.T, atoms.positions.T).T
    frac_ref = np.linalg.solve(reference.cell.array.T, reference.positions.T).T
    delta = frac - frac_ref
    delta -= np.round(delta)
    if remove_translation:
        delta -= delta.mean(axis=0)
        delta -= np.round(delta)
    displacement = np.linalg.norm(delta @ reference.cell.array, axis=1)
    if per_atom:
        return displacement
    return float(np.sqrt(np.mean(displacement**2)))


def to_structure(atoms: Atoms | Structure) -> Structure:
    """A pymatgen Structure from ASE Atoms (labels dropped); Structures pass through."""
    from pymatgen.core import Lattice, Structure

    if isinstance(atoms, Structure):
        return atoms
    return Structure(
        Lattice(atoms.cell.array), atoms.get_chemical_symbols(), atoms.positions, coords_are_cartesian=True
    )


def structure_matcher_rmsd(
    atoms: Atoms | Structure,
    reference: Atoms | Structure,
    *,
    stol: float = 1.0,
    ltol: float = 0.2,
    angle_tol: float = 5.0,
    scale: bool = False,
    primitive_cell: bool = False,
) -> tuple[float, float]:
    """pymatgen ``StructureMatcher.get_rms_dist`` (matbench-discovery's geometry RMSD).

    The RMSD is **normalised by** ``(V/n)^(1/3)`` (V the mean cell volume, n the number of
    sites), so it is dimensionless; multiply by ``(V/n)^(1/3)`` for an approximate value
    in Å. ``stol=1.0, scale=False`` are matbench-discovery's settings (a loose site
    tolerance so that a poor relaxation still matches, no volume rescaling). We keep
    ``primitive_cell=False`` so that two supercells of the same size are compared as they
    are (reduction of a disordered supercell to a primitive cell fails anyway).

    Returns:
        ``(rmsd, max_distance)``, both normalised; ``(nan, nan)`` when no match is found.
    """
    from pymatgen.analysis.structure_matcher import StructureMatcher

    matcher = StructureMatcher(
        ltol=ltol, stol=stol, angle_tol=angle_tol, scale=scale, primitive_cell=primitive_cell
    )
    result = matcher.get_rms_dist(to_structure(atoms), to_structure(reference))
    if result is None:
        return float("nan"), float("nan")
    return float(result[0]), float(result[1])


def spacegroup_number(
    atoms: Atoms | Structure, *, symprec: float = 1e-2, angle_tolerance: float = 5.0
) -> int:
    """International space-group number (1-230) from spglib via pymatgen's SpacegroupAnalyzer.

    ``symprec`` (Å) is the distance tolerance (1e-2, matbench-discovery's default);
    ``angle_tolerance`` in degrees. Returns 0 when spglib finds no symmetry (broken input).
    A random-cation HEO supercell is usually P1 at tight tolerance; compare space groups
    before and after relaxation (:func:`symmetry_match`) rather than against the parent.
    """
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    try:
        return int(
            SpacegroupAnalyzer(
                to_structure(atoms), symprec=symprec, angle_tolerance=angle_tolerance
            ).get_space_group_number()
        )
    except Exception as error:  # spglib raises a variety of errors on broken cells
        logger.debug("spacegroup detection failed: %s", error)
        return 0


def symmetry_match(
    atoms: Atoms | Structure, reference: Atoms | Structure, *, symprec: float = 1e-2
) -> tuple[int, int, bool]:
    """Space-group numbers of ``atoms`` and ``reference`` and whether they are equal."""
    after = spacegroup_number(atoms, symprec=symprec)
    before = spacegroup_number(reference, symprec=symprec)
    return after, before, bool(after == before and after > 0)


def volume_change_percent(atoms: Atoms, reference: Atoms) -> float:
    """``100 (V / V_ref - 1)``: volume change of ``atoms`` relative to ``reference``, in %."""
    return 100.0 * (atoms.get_volume() / reference.get_volume() - 1.0)


def cell_distortion_percent(atoms: Atoms, reference: Atoms) -> float:
    """Change of cell *shape* from ``reference`` to ``atoms``, in % (0 for a pure volume change).

    With the deformation gradient ``F`` that maps the reference cell vectors onto the new
    ones (``cell = cell_ref @ F.T``), the Green-Lagrange strain is ``E = (F^T F - I) / 2``;
    this returns ``100 * max |eigenvalue of the deviatoric part E - tr(E) I / 3|``. It is
    invariant to rotations and to isotropic scaling, so a cubic cell that stays cubic gives
    0 and a tetragonal (e.g. Jahn-Teller) or sheared distortion gives the size of the
    distortion.
    """
    deformation = np.linalg.solve(reference.cell.array, atoms.cell.array).T
    strain = 0.5 * (deformation.T @ deformation - np.eye(3))
    deviatoric = strain - np.trace(strain) / 3.0 * np.eye(3)
    return float(100.0 * np.abs(np.linalg.eigvalsh(deviatoric)).max())


def pseudo_cubic_lattice_parameter(
    atoms: Atoms, lattice: LatticeType | None = None, *, atoms_per_cell: int | None = None
) -> float:
    """Lattice parameter (Å) of the cubic parent cell with the same volume per atom.

    ``a = (V * atoms_per_cell / n_atoms)^(1/3)``, i.e. ``a = (Z V / N_fu)^(1/3)`` with Z the
    formula units per conventional cubic cell and N_fu those in ``atoms``. Per lattice type
    (:data:`ATOMS_PER_CUBIC_CELL`): rock salt AO (Fm-3m): Z = 4, 8 atoms per cell; spinel
    AB2O4 (Fd-3m): Z = 8, 56 atoms; fluorite AO2 (Fm-3m): Z = 4, 12 atoms; cubic perovskite
    ABO3 (Pm-3m): Z = 1, 5 atoms. This compares disordered, locally distorted supercells
    (whose cell vectors drift apart, e.g. Jahn-Teller Cu2+) through their volume, as
    experiments on the average structure do. It assumes a stoichiometric cell (no vacancies).
    """
    if atoms_per_cell is None:
        if lattice not in ATOMS_PER_CUBIC_CELL:
            raise ValueError(
                f"unknown lattice {lattice!r}; choose one of {', '.join(ATOMS_PER_CUBIC_CELL)} "
                "or pass atoms_per_cell"
            )
        atoms_per_cell = ATOMS_PER_CUBIC_CELL[lattice]
    return float((atoms.get_volume() * atoms_per_cell / len(atoms)) ** (1.0 / 3.0))


# ---------------------------------------------------------------------------------------
# evaluating a calculator on labelled data: the tidy table and its summary
# ---------------------------------------------------------------------------------------

_ENERGY_KEYS: Final = ("REF_energy", "DFT_energy", "energy", "dft_energy", "total_energy")
_FORCES_KEYS: Final = ("REF_forces", "DFT_forces", "forces", "dft_forces")
_STRESS_KEYS: Final = ("REF_stress", "DFT_stress", "stress", "dft_stress")


def _label(atoms: Atoms, keys: Sequence[str], where: Literal["info", "arrays"]) -> Any:
    store = atoms.info if where == "info" else atoms.arrays
    return next((store[k] for k in keys if k in store), None)


def structure_id(atoms: Atoms, index: int) -> str:
    """A structure's label: ``info["immutable_id"]``, ``info["name"]`` or ``structure-<index>``."""
    for key in ("immutable_id", "name", "id"):
        if key in atoms.info:
            return str(atoms.info[key])
    return f"structure-{index}"


def evaluate_structures(
    calculator: Calculator,
    structures: Sequence[Atoms],
    *,
    energy_key: str | None = None,
    forces_key: str | None = None,
    stress_key: str | None = None,
    keep_arrays: bool = False,
    validate: Callable[[Atoms], None] | None = None,
) -> pd.DataFrame:
    """Evaluate ``calculator`` on labelled structures: one row per structure.

    Labels are read from ``info[energy_key]`` (total energy, eV), ``arrays[forces_key]``
    (eV/Å, (n, 3)) and ``info[stress_key]`` (Voigt 6 or 3x3, eV/Å^3); by default the first
    of ``REF_*``, ``DFT_*`` that is present. A structure whose evaluation raises or returns
    non-finite values becomes a row with ``status="failed"``, the ``error`` and NaN
    predictions; the others go on. ``validate`` (e.g. a wrapper of
    :func:`heo_calc.validation.check_structure` with the model's elements) is called on
    each structure first; what it raises fails that row.

    Columns: ``id``, ``formula`` (reduced, pymatgen), ``n_atoms``, ``energy_DFT`` and
    ``energy_pred`` (eV), ``energy_per_atom_DFT``/``_pred`` (eV/atom), ``energy_error``
    (eV/atom, pred - DFT), ``force_rmse`` and ``force_mae`` (eV/Å, per component over this
    structure's atoms), ``force_sq_error_sum`` and ``force_abs_error_sum`` (eV²/Å², eV/Å,
    over components, for exact aggregation), ``n_force_components``, ``max_force_DFT``
    (eV/Å), ``stress_rmse`` (eV/Å^3, NaN without a stress label), ``status``, ``error``,
    ``wall_time_s``; with ``keep_arrays`` also ``forces_DFT``/``forces_pred`` ((n, 3)
    arrays, for parity plots).
    """
    import pandas as pd
    from pymatgen.core import Composition

    rows = []
    for index, atoms in enumerate(structures):
        e_ref = atoms.info.get(energy_key) if energy_key else _label(atoms, _ENERGY_KEYS, "info")
        f_ref = atoms.arrays.get(forces_key) if forces_key else _label(atoms, _FORCES_KEYS, "arrays")
        s_ref = atoms.info.get(stress_key) if stress_key else _label(atoms, _STRESS_KEYS, "info")
        n = len(atoms)
        row: dict[str, Any] = {
            "id": structure_id(atoms, index),
            "formula": Composition(atoms.get_chemical_formula()).reduced_formula,
            "n_atoms": n,
            "energy_DFT": float(e_ref) if e_ref is not None else float("nan"),
            "energy_pred": float("nan"),
            "max_force_DFT": float(np.linalg.norm(f_ref, axis=1).max())
            if f_ref is not None
            else float("nan"),
            "status": "ok",
            "error": "",
        }
        predicted_forces = None
        started = time.perf_counter()
        try:
            if validate is not None:
                validate(atoms)
            evaluated = atoms.copy()
            evaluated.calc = calculator
            energy = float(evaluated.get_potential_energy())
            predicted_forces = np.asarray(evaluated.get_forces(), dtype=float)
            predicted_stress = None
            if s_ref is not None:
                predicted_stress = np.asarray(evaluated.get_stress(), dtype=float)
            if not np.isfinite(energy) or not np.isfinite(predicted_forces).all():
                raise FloatingPointError("the model returned NaN or infinite energy/forces")
            row["energy_pred"] = energy
        except Exception as error:  # one bad structure or model must not stop the table
            logger.warning("evaluation of %s failed: %s", row["id"], error)
            row.update(status="failed", error=f"{type(error).__name__}: {error}")
            predicted_forces, predicted_stress = None, None
        row["wall_time_s"] = time.perf_counter() - started
        row["energy_per_atom_DFT"] = row["energy_DFT"] / n
        row["energy_per_atom_pred"] = row["energy_pred"] / n
        row["energy_error"] = row["energy_per_atom_pred"] - row["energy_per_atom_DFT"]
        if predicted_forces is not None and f_ref is not None:
            errors = _force_errors(predicted_forces, f_ref)
            row.update(
                force_rmse=float(np.sqrt(np.mean(errors**2))),
                force_mae=float(np.mean(np.abs(errors))),
                force_sq_error_sum=float(np.sum(errors**2)),
                force_abs_error_sum=float(np.sum(np.abs(errors))),
                n_force_components=int(errors.size),
            )
        else:
            row.update(
                force_rmse=float("nan"),
                force_mae=float("nan"),
                force_sq_error_sum=float("nan"),
                force_abs_error_sum=float("nan"),
                n_force_components=0,
            )
        row["stress_rmse"] = (
            stress_rmse(predicted_stress, s_ref)
            if predicted_stress is not None and s_ref is not None
            else float("nan")
        )
        if keep_arrays:
            row["forces_DFT"] = np.asarray(f_ref, dtype=float) if f_ref is not None else None
            row["forces_pred"] = predicted_forces
        rows.append(row)
    columns = [
        "id",
        "formula",
        "n_atoms",
        "energy_DFT",
        "energy_pred",
        "energy_per_atom_DFT",
        "energy_per_atom_pred",
        "energy_error",
        "force_rmse",
        "force_mae",
        "force_sq_error_sum",
        "force_abs_error_sum",
        "n_force_components",
        "max_force_DFT",
        "stress_rmse",
        "status",
        "error",
        "wall_time_s",
    ]
    if keep_arrays:
        columns += ["forces_DFT", "forces_pred"]
    return pd.DataFrame(rows, columns=columns)


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


def accuracy_summary(table: pd.DataFrame, *, worst_k: int = 5) -> dict[str, Any]:
    """Headline accuracy numbers from an :func:`evaluate_structures` table, in meV units.

    Returns ``energy_rmse``, ``energy_mae``, ``energy_median`` (meV/atom, over structures),
    ``force_rmse`` and ``force_mae`` (meV/Å, per component over all atoms of all
    structures), ``stress_rmse`` (GPa, RMSE over structures of per-structure values, NaN
    without labels), ``n``, ``n_failed``, and ``worst_energy`` / ``worst_force``: the
    ``worst_k`` ``(id, value)`` pairs by absolute energy error (meV/atom) and by per-structure
    force RMSE (meV/Å). Also the corrected energy statistics when the table has an
    ``energy_error_corrected`` column (eV/atom; see :func:`reference_corrected_errors`).
    """
    ids = table["id"].astype(str).tolist()
    energy = summarize_errors(table["energy_error"].to_numpy(float) * MEV, ids, worst_k=worst_k)
    components = table["n_force_components"].to_numpy(float)
    ok = np.isfinite(table["force_sq_error_sum"].to_numpy(float)) & (components > 0)
    n_components = components[ok].sum()
    force_rmse_value = (
        float(np.sqrt(table["force_sq_error_sum"].to_numpy(float)[ok].sum() / n_components))
        if n_components
        else float("nan")
    )
    force_mae_value = (
        float(table["force_abs_error_sum"].to_numpy(float)[ok].sum() / n_components)
        if n_components
        else float("nan")
    )
    force = summarize_errors(table["force_rmse"].to_numpy(float) * MEV, ids, worst_k=worst_k)
    summary: dict[str, Any] = {
        "energy_rmse": energy["rmse"],
        "energy_mae": energy["mae"],
        "energy_median": energy["median"],
        "force_rmse": force_rmse_value * MEV,
        "force_mae": force_mae_value * MEV,
        "stress_rmse": rmse(table["stress_rmse"].to_numpy(float)) * EV_PER_A3_TO_GPA,
        "n": len(table),
        "n_failed": int((table["status"] != "ok").sum()),
        "worst_energy": energy["worst"],
        "worst_force": force["worst"],
    }
    if "energy_error_corrected" in table:
        corrected = summarize_errors(
            table["energy_error_corrected"].to_numpy(float) * MEV, ids, worst_k=worst_k
        )
        summary.update(
            energy_rmse_corrected=corrected["rmse"],
            energy_mae_corrected=corrected["mae"],
            energy_median_corrected=corrected["median"],
            worst_energy_corrected=corrected["worst"],
        )
    return summary
