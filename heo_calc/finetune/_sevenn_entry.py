"""Run sevenn's own command line (``sevenn input.yaml``) with three additions of ours.

sevenn 0.10.4's trainer is used as it is; this entry point only wraps it:

* **Loadable checkpoints.** sevenn stores Python ``slice`` objects in its checkpoints, which
  torch >= 2.6's weights-only ``torch.load`` rejects. We allow exactly that builtin and
  sevenn's own graph container (its preprocessed datasets), nothing else.
* **Atomic checkpoints.** ``Trainer.write_checkpoint`` writes to a temporary file and
  renames it, so a run stopped at any moment never leaves a half-written
  ``checkpoint_best.pth``.
* **A deadline** (:data:`DEADLINE_ENV`, Unix time in seconds): no epoch starts that would
  end after it, judged by the duration of the epoch before; the run then stops cleanly
  between epochs, with the best checkpoint so far, and exits with
  :data:`DEADLINE_EXIT_STATUS`.
* **A weight anchor** (:data:`ANCHOR_STRENGTH_ENV` λ and :data:`ANCHOR_CHECKPOINT_ENV`): the
  training loss gains ``λ Σ_i (θ_i − θ0_i)²`` over the trainable parameters, θ0 those of
  the base checkpoint (the L2-SP penalty of Li et al., ICML 2018), which holds the
  finetuned model near what the base knew. Validation (and so the choice of the best
  checkpoint) is unchanged: sevenn's error recorder computes its TotalLoss from the data
  terms only.
* **Missing labels are masked.** sevenn's loss takes the mean over every label of a batch;
  a structure without a stress label (stress NaN, as ``heo-calc finetune
  --zero-stress-below`` writes for off-minimum structures) would make it NaN. Its
  criteria (``sevenn.train.optim.loss_dict``, shared by the training loss and the
  validation TotalLoss) are wrapped to average over the finite reference values only,
  and to give zero for a batch that has none. Energies and forces are always finite, so
  their terms are unchanged. A batch without any stress label counts as zero stress error
  in the validation TotalLoss, the same in every epoch, so the choice of the best epoch
  is unaffected by it.
* **A learning-rate warm-up** (:data:`WARMUP_STEPS_ENV`): sevenn steps its scheduler once per
  epoch, so after an optimizer reset the full rate acts on Adam's empty moments for a whole
  epoch. For the first N optimizer steps of this run the rate of every group is scaled by
  (k + 1)/N (k = step index), set before and restored after each step, so the epoch scheduler
  sees its own rates untouched.
* **Training part of the model** (:data:`TRAIN_ONLY_ENV`, ``last-block`` or ``readout``):
  sevenn has no option to freeze layers, but its trainer optimizes only the parameters with
  ``requires_grad``; the others are switched off before the trainer is built and so keep their
  weights bit for bit (:data:`TRAINABLE_PREFIXES`).
"""

from __future__ import annotations

import os
import sys
import time

import torch

#: Environment variable: Unix time (s) after which no new epoch may end.
DEADLINE_ENV = "HEO_CALC_TRAIN_DEADLINE"
#: Environment variable: λ of the weight anchor (1/eV² units of the loss per parameter²).
ANCHOR_STRENGTH_ENV = "HEO_CALC_ANCHOR_STRENGTH"
#: Environment variable: checkpoint (path or sevenn pretrained name) whose weights anchor training.
ANCHOR_CHECKPOINT_ENV = "HEO_CALC_ANCHOR_CHECKPOINT"
#: Environment variable: optimizer steps of the linear learning-rate warm-up (0 or unset: none).
WARMUP_STEPS_ENV = "HEO_CALC_LR_WARMUP_STEPS"
#: Environment variable: which part of the model trains (unset: all of it).
TRAIN_ONLY_ENV = "HEO_CALC_TRAIN_ONLY"
#: Parameter-name prefixes that stay trainable, per ``--train-only`` choice (SevenNet's module
#: names: interaction blocks ``0_``...``4_`` of SevenNet-0, readout ``reduce_*``). ``last-block``
#: means the last interaction block of the model, found by its index.
TRAINABLE_PREFIXES = {"readout": ("reduce_input_to_hidden", "reduce_hidden_to_energy")}
#: Exit status of a run that stopped at its deadline (a success: the best checkpoint is kept).
DEADLINE_EXIT_STATUS = 3


class DeadlineReached(Exception):
    """Raised between epochs when the next epoch would not finish before the deadline."""


def _install_atomic_checkpoints(trainer_class) -> None:
    write = trainer_class.write_checkpoint

    def write_checkpoint_atomically(self, path: str, **extra) -> None:
        temporary = f"{path}.{os.getpid()}.tmp"
        write(self, temporary, **extra)
        os.replace(temporary, path)

    trainer_class.write_checkpoint = write_checkpoint_atomically


def _install_deadline(trainer_class, deadline: float, *, clock=time.time) -> None:
    """Wrap ``trainer_class.run_one_epoch``: raise :class:`DeadlineReached` before a training epoch
    that would end after ``deadline``, judged by the previous one; ``clock()`` gives the time (s)."""
    run_one_epoch = trainer_class.run_one_epoch
    state = {"previous_start": None, "epochs": 0}

    def run_one_epoch_before_deadline(self, loader, is_train=False, *args, **kwargs):
        if is_train:
            now = clock()
            previous = state["previous_start"]
            epoch_seconds = now - previous if previous is not None else 0.0
            if state["epochs"] and now + epoch_seconds > deadline:
                raise DeadlineReached(
                    f"time limit reached after {state['epochs']} epoch(s) of this run "
                    f"(one epoch takes {epoch_seconds:.0f} s); the best checkpoint so far is kept"
                )
            state["previous_start"] = now
            state["epochs"] += 1
        return run_one_epoch(self, loader, is_train, *args, **kwargs)

    trainer_class.run_one_epoch = run_one_epoch_before_deadline


class WeightAnchor:
    """``λ Σ (θ − θ0)²`` over the trainable parameters that the anchor checkpoint also holds."""

    name = "WeightAnchor"

    def __init__(self, strength: float, anchor_state: dict[str, torch.Tensor]) -> None:
        self.strength = strength
        self.anchor_state = anchor_state
        self._anchors: list[tuple[torch.nn.Parameter, torch.Tensor]] | None = None

    def get_loss(self, batch_data, model=None):
        if self._anchors is None:
            module = getattr(model, "module", model)  # DDP wraps the model
            self._anchors = [
                (parameter, self.anchor_state[name].to(parameter.device, parameter.dtype))
                for name, parameter in module.named_parameters()
                if parameter.requires_grad and name in self.anchor_state
            ]
        penalty = sum(((parameter - anchor) ** 2).sum() for parameter, anchor in self._anchors)
        return self.strength * penalty


def _anchor_state(checkpoint: str) -> dict[str, torch.Tensor]:
    from sevenn.util import pretrained_name_to_path

    from heo_calc.backends.sevennet import load_checkpoint

    path = checkpoint if os.path.isfile(checkpoint) else pretrained_name_to_path(checkpoint)
    return dict(load_checkpoint(path)["model_state_dict"])


def _install_weight_anchor(trainer_class, strength: float, checkpoint: str) -> None:
    from_config = trainer_class.from_config
    anchor = WeightAnchor(strength, _anchor_state(checkpoint))

    def from_config_with_anchor(model, config):
        trainer = from_config(model, config)
        trainer.loss_functions = [*trainer.loss_functions, (anchor, 1.0)]
        return trainer

    trainer_class.from_config = staticmethod(from_config_with_anchor)


def trainable_prefixes(parameter_names: list[str], part: str) -> tuple[str, ...]:
    """Name prefixes of the parameters that train for ``part`` (``last-block`` or ``readout``)."""
    readout = TRAINABLE_PREFIXES["readout"]
    if part == "readout":
        return readout
    if part == "last-block":
        blocks = {name.split("_", 1)[0] for name in parameter_names if name.split("_", 1)[0].isdigit()}
        if not blocks:
            raise ValueError(
                "the model has no numbered interaction blocks; --train-only last-block needs them"
            )
        return (f"{max(int(block) for block in blocks)}_", *readout)
    raise ValueError(f"--train-only must be last-block or readout, got {part!r}")


def freeze_all_but(model: torch.nn.Module, part: str) -> int:
    """Switch ``requires_grad`` off for every parameter outside ``part``; return how many stay trainable."""
    names = [name for name, _ in model.named_parameters()]
    keep = trainable_prefixes(names, part)
    trainable = 0
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name.startswith(keep))
        trainable += parameter.numel() if parameter.requires_grad else 0
    return trainable


def install_warmup(optimizer: torch.optim.Optimizer, steps: int) -> None:
    """Scale every group's rate by (k + 1)/``steps`` during optimizer step k < ``steps``, restoring it after."""
    state = {"step": 0, "saved": []}

    def before(optimizer, args, kwargs) -> None:
        factor = min(1.0, (state["step"] + 1) / steps)
        state["saved"] = [group["lr"] for group in optimizer.param_groups]
        for group in optimizer.param_groups:
            group["lr"] = group["lr"] * factor

    def after(optimizer, args, kwargs) -> None:
        for group, rate in zip(optimizer.param_groups, state["saved"]):
            group["lr"] = rate
        state["step"] += 1

    optimizer.register_step_pre_hook(before)
    optimizer.register_step_post_hook(after)


def _install_trainer_setup(trainer_class, *, train_only: str | None, warmup_steps: int) -> None:
    from_config = trainer_class.from_config

    def from_config_with_setup(model, config):
        if train_only:
            trainable = freeze_all_but(model, train_only)
            print(f"heo-calc finetune: training {train_only} only ({trainable} parameters)", flush=True)
        trainer = from_config(model, config)
        if warmup_steps > 0:
            install_warmup(trainer.optimizer, warmup_steps)
        return trainer

    trainer_class.from_config = staticmethod(from_config_with_setup)


class IgnoreMissingLabels(torch.nn.Module):
    """A loss criterion over the entries whose reference is finite (zero if none is)."""

    def __init__(self, criterion: torch.nn.Module) -> None:
        super().__init__()
        self.criterion = criterion

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        # sevenn passes (prediction, reference) to the loss and (reference, prediction) to
        # its recorder: mask on both, predictions are always finite.
        keep = torch.isfinite(first) & torch.isfinite(second)
        if bool(keep.all()):
            return self.criterion(first, second)
        if bool(keep.any()):
            return self.criterion(first[keep], second[keep])
        return (torch.nan_to_num(first) * 0.0).sum()


def _install_label_masking() -> None:
    from sevenn.train.optim import loss_dict

    for name, criterion_class in list(loss_dict.items()):

        def masked(criterion_class=criterion_class, **parameters):
            return IgnoreMissingLabels(criterion_class(**parameters))

        loss_dict[name] = masked


def main() -> None:
    torch.serialization.add_safe_globals([slice])
    from sevenn.atom_graph_data import AtomGraphData
    from sevenn.main.sevenn import main as sevenn_main
    from sevenn.train.trainer import Trainer

    torch.serialization.add_safe_globals([AtomGraphData])
    _install_atomic_checkpoints(Trainer)
    _install_label_masking()
    if os.environ.get(DEADLINE_ENV):
        _install_deadline(Trainer, float(os.environ[DEADLINE_ENV]))
    train_only = os.environ.get(TRAIN_ONLY_ENV) or None
    warmup_steps = int(os.environ.get(WARMUP_STEPS_ENV) or 0)
    if train_only or warmup_steps > 0:
        _install_trainer_setup(Trainer, train_only=train_only, warmup_steps=warmup_steps)
    strength = float(os.environ.get(ANCHOR_STRENGTH_ENV) or 0.0)
    if strength > 0:
        _install_weight_anchor(Trainer, strength, os.environ[ANCHOR_CHECKPOINT_ENV])

    sys.argv[0] = "sevenn"
    try:
        sevenn_main()
    except DeadlineReached as stop:
        print(f"heo-calc finetune: {stop}", flush=True)
        sys.exit(DEADLINE_EXIT_STATUS)


if __name__ == "__main__":
    main()
