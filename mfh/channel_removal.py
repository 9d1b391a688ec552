"""Remove channels of a teacher's penultimate layer: the modified teacher of the KD modes
(PROTOCOL §5).

The teacher's penultimate features are computed once per split (`penultimate_features`,
(N, H)); a `ModifiedTeacher` replaces the removed channels of a batch of them by a fill value and
runs the rest of the net (`forward_from_penultimate`, the head), so a student's thousands of
teacher batches cost one encoder pass. Fill values (params `<dataset>.modes.fill`):
    batch  each removed channel's mean over the current batch: the reference code's "freeze"
           (`my_freeze_new`, utils/model.py of the authors' RAVDESS code). The teacher's logits
           then depend on the batch: KD asks for them per student batch (`logits_of_rows`).
    mean   the channel's mean over the training set
    zero   0
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence

import torch
from torch import nn

from mfh.train.minibatch import EVAL_BATCH_SIZE, gather

FILLS = ("batch", "mean", "zero")


@torch.no_grad()
def penultimate_features(
    model: nn.Module, inputs: Sequence[Any], batch_size: int = EVAL_BATCH_SIZE, device="cpu"
) -> torch.Tensor:
    """The penultimate representation (N, H) of every sample, on the CPU, in eval mode (the
    model's mode is restored afterwards). `model` has `features(*xs)` (`EncoderClassifier`)."""
    inputs = tuple(inputs)
    was_training = model.training
    model.eval()
    try:
        rows = torch.arange(len(inputs[0])).split(batch_size)
        return torch.cat([model.features(*gather(inputs, r, device)).cpu() for r in rows])
    finally:
        model.train(was_training)


class ModifiedTeacher:
    """A teacher with the `removed` channels of its penultimate layer replaced by `fill`.

    model: has `forward_from_penultimate(h)` (h (B, H) -> logits (B, C)); removed: (H,) bool;
    train_features: (N, H), the training set's features, needed by fill "mean".
    """

    def __init__(
        self,
        model: nn.Module,
        removed: torch.Tensor,
        fill: str,
        train_features: Optional[torch.Tensor] = None,
    ):
        if fill not in FILLS:
            raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
        if removed.dtype != torch.bool or removed.dim() != 1:
            raise ValueError(
                f"removed must be (H,) bool, got {tuple(removed.shape)} {removed.dtype}"
            )
        if fill == "mean" and train_features is None:
            raise ValueError('fill "mean" needs the training features')
        if train_features is not None and train_features.shape[1] != removed.numel():
            raise ValueError(
                f"removed has {removed.numel()} channels, the features {train_features.shape[1]}"
            )
        self.model, self.removed, self.fill = model, removed, fill
        self.train_mean = None if train_features is None else train_features.mean(dim=0)  # (H,)

    @torch.no_grad()
    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Features (B, H) -> logits (B, C) of the modified teacher (fill "batch": over these B)."""
        if self.fill == "batch":
            values = h.mean(dim=0)
        elif self.fill == "mean":
            values = self.train_mean.to(h.device, h.dtype)
        else:
            values = torch.zeros((), dtype=h.dtype, device=h.device)
        return self.model.forward_from_penultimate(
            torch.where(self.removed.to(h.device), values, h)
        )

    def logits_of_rows(self, features: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """The teacher of `mfh.train.minibatch.train_minibatch`: rows (B,) of `features` (N, H)
        -> logits (B, C), the fill computed on exactly those rows (the student's batch)."""
        return lambda rows: self.logits(features.index_select(0, rows))

    def accuracy(self, features: torch.Tensor, y: torch.Tensor, batch_size: int) -> float:
        """Accuracy in percent on (N, H) features, in consecutive batches of `batch_size` (the
        training batch size: fill "batch" averages over one batch)."""
        rows = torch.arange(len(y)).split(batch_size)
        pred = torch.cat([self.logits(features[r]).argmax(dim=1) for r in rows])
        return (pred == y).double().mean().item() * 100.0
