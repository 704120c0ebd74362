"""SevenNet calculators: SevenNet-0 and l3i5 (weights inside the sevenn wheel) and local files.

Security: sevenn 0.10.4 loads checkpoints with ``torch.load(..., weights_only=False)``,
which would run any code pickled into a file. Every checkpoint this backend hands to
sevenn is first opened by :func:`load_checkpoint` with ``weights_only=True`` and only the
few globals sevenn checkpoints need allowed, so a file that pickles anything else is
refused before sevenn sees it (also after mace-torch set ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``,
which explicit ``weights_only=True`` overrides).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator

from heo_calc.backends._common import float32_only, require_package, resolve_device
from heo_calc.backends.capabilities import BatchEvaluator, Capabilities, declare
from heo_calc.errors import ModelUnavailableError, ModelWeightsNotFoundError

#: Our names mapped to the model keywords sevenn resolves to files inside its wheel.
SEVENNET_KEYWORDS: dict[str, str] = {"sevennet-0": "7net-0", "sevennet-l3i5": "7net-l3i5"}


def import_sevenn_calculator():
    """Import ``SevenNetCalculator``, allowing exactly the ``slice`` global weights-only loading needs.

    e3nn 0.4.4 (imported by sevenn) and sevenn 0.10.4 checkpoints pickle ``slice`` objects,
    which torch >= 2.6 refuses under weights-only ``torch.load``; we allow only that builtin.
    """
    require_package("sevenn", "sevenn>=0.10.4,<0.11", "sevennet")
    import torch

    torch.serialization.add_safe_globals([slice])
    from sevenn.sevennet_calculator import SevenNetCalculator

    return SevenNetCalculator


def sevennet_pretrained_path(keyword: str) -> Path:
    """The checkpoint file inside the sevenn package of a pretrained keyword (``7net-0``, ``7net-l3i5``)."""
    import_sevenn_calculator()  # sevenn.util imports e3nn, which needs the ``slice`` global allowed
    from sevenn.util import pretrained_name_to_path

    return Path(pretrained_name_to_path(keyword))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A sevenn checkpoint (``model_state_dict``, ``config``...) loaded weights-only on the CPU.

    Allowed beyond tensors: ``slice`` and the numpy array globals sevenn's own pretrained
    checkpoints pickle in their config. Raises :class:`ModelWeightsNotFoundError` for a
    missing file and :class:`ModelUnavailableError` for a file that is not such a
    checkpoint or pickles anything else (it is never unpickled).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelWeightsNotFoundError(
            f"SevenNet checkpoint {path} does not exist; pass an existing .pth file"
        )
    import_sevenn_calculator()
    import torch

    # numpy 2 moved numpy.core to numpy._core; sevenn's pickles name the old path, a checkpoint
    # saved again under numpy 2 (e.g. weights edited with torch) the new one: the same function.
    reconstruct = (np._core.multiarray._reconstruct, "numpy.core.multiarray._reconstruct")
    numpy_globals = [
        np.ndarray,
        np.dtype,
        reconstruct,
        np._core.multiarray._reconstruct,
        type(np.dtype(np.float32)),
        type(np.dtype(np.float64)),
    ]
    try:
        with torch.serialization.safe_globals(numpy_globals):
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # UnpicklingError for foreign globals, RuntimeError for no zip file
        raise ModelUnavailableError(
            f"{path} is not a SevenNet checkpoint that loads safely: {type(error).__name__}: "
            f"{str(error).splitlines()[0]}. It was not unpickled; use a checkpoint written by sevenn or "
            "`heo-calc finetune`."
        ) from error
    if not isinstance(state, dict) or "model_state_dict" not in state or "config" not in state:
        raise ModelUnavailableError(f"{path} is not a SevenNet checkpoint (no model_state_dict and config)")
    return state


def covered_numbers(calculator: Calculator) -> frozenset[int] | None:
    """Atomic numbers of a SevenNetCalculator's species table."""
    type_map = getattr(calculator, "type_map", None)  # {Z: type index}
    return frozenset(int(z) for z in type_map) if isinstance(type_map, dict) else None


def batched_evaluator(calculator: Calculator) -> BatchEvaluator:
    """Evaluate many structures in one SevenNet model call on a batched graph.

    Returns energy (eV), forces (eV/Å) and stress (eV/Å^3, ASE's Voigt order and sign) per
    structure; ``evaluate.seconds`` accumulates the time spent building graphs and in the
    model, for the engine's log.
    """
    from sevenn import _keys as KEY
    from sevenn.atom_graph_data import AtomGraphData
    from sevenn.train.dataload import unlabeled_atoms_to_graph
    from torch_geometric.data import Batch

    from heo_calc.backends._dtype import default_dtype, parameter_dtype

    model, device, dtype = calculator.model, calculator.device, parameter_dtype(calculator)

    def evaluate(structures: Sequence[Atoms]) -> list[dict[str, Any]]:
        started = time.perf_counter()
        with default_dtype(dtype):
            graphs = [
                AtomGraphData.from_numpy_dict(unlabeled_atoms_to_graph(a, calculator.cutoff))
                for a in structures
            ]
            batch = Batch.from_data_list(graphs).to(device)
            built = time.perf_counter()
            model.set_is_batch_data(True)
            try:
                output = model(batch)
            finally:
                model.set_is_batch_data(False)
        evaluate.seconds["graphs"] += built - started
        evaluate.seconds["model"] += time.perf_counter() - built
        energies = output[KEY.PRED_TOTAL_ENERGY].detach().cpu().numpy().reshape(-1)
        forces = output[KEY.PRED_FORCE].detach().cpu().numpy()
        # sevenn's stress is (xx, yy, zz, xy, yz, zx) with the opposite sign of ASE's.
        stresses = (
            -output[KEY.PRED_STRESS].detach().cpu().numpy().reshape(len(structures), 6)[:, [0, 1, 2, 4, 5, 3]]
        )
        offsets = np.cumsum([0, *[len(a) for a in structures]])
        return [
            {
                "energy": float(energies[i]),
                "forces": forces[offsets[i] : offsets[i + 1]].astype(float),
                "stress": stresses[i].astype(float),
            }
            for i in range(len(structures))
        ]

    evaluate.seconds = {"graphs": 0.0, "model": 0.0}
    return evaluate


CAPABILITIES = Capabilities(
    backend="sevennet", dtype="float32", covered_numbers=covered_numbers, batch_evaluator=batched_evaluator
)


def make_sevennet_from_file(
    path: str | os.PathLike, *, device: str = "auto", dtype: str = "float32", **kwargs
) -> Calculator:
    """An ASE calculator for a sevenn checkpoint file (``.pth``); energies eV, forces eV/Å.

    The file is checked with a weights-only load first (:func:`load_checkpoint`).
    """
    float32_only(dtype, "sevennet")
    load_checkpoint(path)
    calculator_class = import_sevenn_calculator()
    calculator = calculator_class(str(Path(path).expanduser()), device=resolve_device(device), **kwargs)
    return declare(calculator, CAPABILITIES)


def _make_shipped(name: str):
    def factory(*, device: str = "auto", dtype: str = "float64", **kwargs) -> Calculator:
        float32_only(dtype, name)
        calculator_class = import_sevenn_calculator()
        calculator = calculator_class(SEVENNET_KEYWORDS[name], device=resolve_device(device), **kwargs)
        return declare(calculator, CAPABILITIES)

    def check_available() -> None:
        require_package("sevenn", "sevenn>=0.10.4,<0.11", name)

    factory.__doc__ = f"{name} (weights ship inside the sevenn wheel) as an ASE calculator; float32."
    factory.check_available = check_available  # type: ignore[attr-defined]
    return factory


make_sevennet_0 = _make_shipped("sevennet-0")
make_sevennet_l3i5 = _make_shipped("sevennet-l3i5")
