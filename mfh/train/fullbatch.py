"""Full-batch SGD for an ensemble of independent models (PROTOCOL §3).

An ensemble module maps x (M, d, N) to logits (M, C, N), model m seeing only x[m] (the layout
of `mfh.models`: models, then features or classes, then samples). The loss is
the *sum* of the M per-model losses, so each model's gradient is exactly the gradient it would
get if trained alone, and plain SGD (no momentum, no weight decay) on the stacked parameters
performs M independent trainings in one batched computation per step.

The SGD update is written out (`p.add_(p.grad, alpha=-lr)`, the same arithmetic as
`torch.optim.SGD` without momentum): constructing a `torch.optim` optimizer imports
torch._dynamo, which costs about 1.6 s per process here — more than a whole synthetic training.

Only the final model is evaluated: the reference scripts evaluate every epoch but report the last.
"""

from __future__ import annotations

import logging
from typing import Optional

import torch
from torch import nn

from mfh.kd import KDConfig, SoftTargets, cross_entropy, distillation_loss

log = logging.getLogger(__name__)


def train_full_batch(
    model: nn.Module,
    x: torch.Tensor,  # (M, d, N)
    y: torch.Tensor,  # (M, N) int64
    *,
    epochs: int,
    lr: float,
    teacher_logits: Optional[torch.Tensor] = None,  # (M, C, N): distil from these if given
    kd: Optional[KDConfig] = None,
    name: str = "model",
    log_every: int = 0,
) -> torch.Tensor:
    """Train in place for `epochs` full-batch SGD steps; return the final per-model loss (M,)."""
    if (teacher_logits is None) != (kd is None):
        raise ValueError("pass teacher_logits and kd together, or neither")
    targets = None if kd is None else SoftTargets.from_logits(teacher_logits, kd.temperature)
    params = [p for p in model.parameters() if p.requires_grad]
    per_model = torch.zeros(x.shape[0])
    for epoch in range(1, epochs + 1):
        logits = model(x)  # (M, C, N)
        if kd is None:
            per_model = cross_entropy(logits, y)  # (M,)
        else:
            per_model = distillation_loss(logits, targets, y, kd)  # (M,)
        grads = torch.autograd.grad(per_model.sum(), params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.add_(g, alpha=-lr)
        if log_every and (epoch % log_every == 0 or epoch == epochs):
            log.info(
                "%s: epoch %d/%d  mean loss %.4f over %d models",
                name, epoch, epochs, per_model.mean().item(), x.shape[0],
            )
    return per_model.detach()


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-model accuracy in percent: x (M, d, N), y (M, N) -> (M,) float64."""
    correct = (model(x).argmax(dim=-2) == y).sum(dim=-1)
    return correct.double() * 100.0 / y.shape[-1]
