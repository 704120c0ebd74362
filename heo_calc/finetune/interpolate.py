"""Weight-space interpolation of two SevenNet checkpoints of one architecture (``heo-calc interpolate``).

θ(α) = θ_base + α (θ_finetuned − θ_base), parameter by parameter: α = 0 is the base, α = 1 the
finetuned model. Between the two, a finetune's gains on its own data and the base's knowledge
elsewhere trade off without any training (issue #28: half way, most of heo-ft 0.3.0's force gain
stayed and most of its energy loss went; the "WiSE-FT" recipe of Wortsman et al., CVPR 2022).
Only two checkpoints of the same architecture and the same species list can be mixed; the
result names both parents (file name, sha256) and α in its ``heo_interpolation`` entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import torch

from heo_base.atomic_write import atomic_output
from heo_calc.errors import ModelUnavailableError

#: Config keys that must agree between the two parents: the architecture and the species list.
ARCHITECTURE_KEYS: Final = (
    "chemical_species",
    "cutoff",
    "channel",
    "lmax",
    "lmax_edge",
    "lmax_node",
    "is_parity",
    "num_convolution_layer",
    "radial_basis",
    "cutoff_function",
    "irreps_manual",
    "self_connection_type",
    "interaction_type",
)

#: Key of the provenance record stored in the interpolated checkpoint.
PROVENANCE_KEY: Final = "heo_interpolation"


def resolve_sevennet_checkpoint(name_or_path: str) -> Path:
    """The checkpoint file of a registry name (``sevennet-0``, ``heo-ft``...), ``sevennet:PATH`` or a ``.pth`` path."""
    from heo_calc.backends.heo_ft import SHIPPED_MODELS, heo_ft_weights_path
    from heo_calc.backends.sevennet import SEVENNET_KEYWORDS, sevennet_pretrained_path

    if name_or_path in SEVENNET_KEYWORDS:
        return sevennet_pretrained_path(SEVENNET_KEYWORDS[name_or_path])
    if name_or_path in SHIPPED_MODELS:
        return Path(heo_ft_weights_path(name_or_path))
    path = Path(name_or_path.removeprefix("sevennet:"))
    if not path.is_file():
        raise FileNotFoundError(
            f"{name_or_path} is neither a SevenNet registry name (sevennet-0, sevennet-l3i5, "
            f"{', '.join(sorted(SHIPPED_MODELS))}) nor an existing .pth file"
        )
    return path


def _differs(first: Any, second: Any) -> bool:
    """Whether two config values differ; for dicts only on the keys both hold (sevenn fills defaults
    differently across versions, e.g. ``poly_cut_p_value`` of a cutoff that does not use it)."""
    if isinstance(first, dict) and isinstance(second, dict):
        return any(_differs(first[key], second[key]) for key in set(first) & set(second))
    return repr(first) != repr(second)


def check_same_architecture(base: dict[str, Any], finetuned: dict[str, Any]) -> None:
    """Raise :class:`ModelUnavailableError` naming the first difference in architecture, species or tensors."""
    for key in ARCHITECTURE_KEYS:
        first, second = base["config"].get(key), finetuned["config"].get(key)
        if _differs(first, second):
            raise ModelUnavailableError(
                f"the two checkpoints differ in {key} ({repr(first)[:60]} vs {repr(second)[:60]}): only two "
                "checkpoints of one architecture and one species list can be interpolated; pass a model "
                "finetuned from the other"
            )
    states = base["model_state_dict"], finetuned["model_state_dict"]
    if set(states[0]) != set(states[1]):
        missing = sorted(set(states[0]) ^ set(states[1]))[0]
        raise ModelUnavailableError(
            f"the two checkpoints hold different parameters (e.g. {missing}); not one architecture"
        )
    for name, tensor in states[0].items():
        if tensor.shape != states[1][name].shape:
            raise ModelUnavailableError(
                f"parameter {name} has shape {tuple(tensor.shape)} in one checkpoint and "
                f"{tuple(states[1][name].shape)} in the other; not one architecture"
            )


def interpolate_checkpoints(base: str, finetuned: str, alpha: float, out: Path) -> Path:
    """Write θ_base + ``alpha`` (θ_finetuned − θ_base) as a SevenNet checkpoint to ``out`` (atomically).

    ``base`` and ``finetuned``: registry names or ``.pth`` files (:func:`resolve_sevennet_checkpoint`).
    ``alpha`` is a finite number, usually in [0, 1] (outside it: extrapolation, allowed). The
    config and everything else come from ``finetuned``, without optimizer state. Raises
    :class:`ModelUnavailableError` for two architectures or species lists, ``ValueError`` for a
    non-finite ``alpha``, before anything is written.
    """
    import math

    from heo_calc.backends.sevennet import load_checkpoint
    from heo_calc.finetune.sevennet import portable_config
    from heo_calc.provenance import sha256_of_file

    if not math.isfinite(alpha):
        raise ValueError(f"--alpha must be a finite number (0 = base, 1 = finetuned), got {alpha}")
    paths = resolve_sevennet_checkpoint(base), resolve_sevennet_checkpoint(finetuned)
    states = load_checkpoint(paths[0]), load_checkpoint(paths[1])
    check_same_architecture(*states)
    mixed = {}
    for name, start in states[0]["model_state_dict"].items():
        end = states[1]["model_state_dict"][name]
        if torch.is_floating_point(start):
            mixed[name] = start + alpha * (end.to(start.dtype) - start)
        elif torch.equal(start, end):
            mixed[name] = start.clone()
        else:
            raise ModelUnavailableError(
                f"integer buffer {name} differs between the checkpoints; cannot mix it"
            )
    result = {
        key: value
        for key, value in states[1].items()
        if key not in {"optimizer_state_dict", "scheduler_state_dict"}
    }
    result["model_state_dict"] = mixed
    if isinstance(result.get("config"), dict):
        result["config"] = portable_config(result["config"])
    result[PROVENANCE_KEY] = {
        "alpha": float(alpha),
        "base": {
            "name": base if base in {"sevennet-0", "sevennet-l3i5"} else paths[0].name,
            "sha256": sha256_of_file(paths[0]),
        },
        "finetuned": {"name": Path(finetuned).name, "sha256": sha256_of_file(paths[1])},
        "formula": "theta_base + alpha * (theta_finetuned - theta_base)",
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out) as temporary:
        torch.save(result, temporary)
    return out
