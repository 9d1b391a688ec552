"""Algorithm 1 on the penultimate channels of batch-first nets (the real-data studies).

Models are standard layout, (B, ...) -> logits (B, C), with the interface of
`mfh.models.fusion.EncoderClassifier`: a submodule `penultimate` whose output (B, H) is the
representation, and `forward_from_penultimate(h)`, the rest of the net after it. f_a is the net
on modality a (in the reference protocol the teacher itself), f_b a net on modality b. Inputs
are one indexable (N, ...) per model input, as in `mfh.train.minibatch.Split`.

Steps 1 and 2 (then normalise with `mfh.algorithm1.selection.minmax`):
1. `train_joint_nets`: minibatch training on the joint loss, a fresh shuffle per epoch;
2. `penultimate_salience`: consecutive batches (not shuffled); `teacher_importance`, the
   control, runs the same permutations against the teacher's own logits instead of f_b's. A
   forward hook captures h, so f_a's layers before `penultimate` run once per batch, and only
   `forward_from_penultimate` runs on the H x R permuted copies, stacked along a leading axis
   (the head broadcasts over it); the first batch checks that it reproduces f_a's logits.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Sequence

import torch
from torch import nn

from mfh.algorithm1.joint import joint_loss, joint_optimizer
from mfh.algorithm1.permutation import salience_over_batches
from mfh.errors import HealthError
from mfh.train.minibatch import gather

log = logging.getLogger(__name__)

LAYER = "penultimate"  # the submodule whose output is the representation
MAX_BYTES = 64 * 2**20  # memory budget for the permuted copies of one chunk of channels


def train_joint_nets(
    f_a: nn.Module,
    f_b: nn.Module,
    inputs_a: Sequence[Any],
    inputs_b: Sequence[Any],
    y: torch.Tensor,  # (N,) int64
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    momentum: float = 0.9,
    generator: torch.Generator,
    device="cpu",
    name: str = "joint",
) -> list[float]:
    """Step 1: train f_a and f_b in place on minibatches of a fresh shuffle per epoch (from
    `generator`), one step of SGD with momentum per batch; return the mean loss per epoch."""
    inputs_a, inputs_b = tuple(inputs_a), tuple(inputs_b)
    n = len(y)
    if any(len(x) != n for x in inputs_a + inputs_b):
        raise ValueError("inputs_a, inputs_b and y must have the same number of samples")
    f_a.to(device)
    f_b.to(device)
    opt = joint_optimizer(f_a, f_b, lr, momentum)
    losses = []
    for epoch in range(1, epochs + 1):
        total = torch.zeros((), device=device)
        for rows in torch.randperm(n, generator=generator).split(batch_size):
            logits_a = f_a(*gather(inputs_a, rows, device)).T[None]  # (1, C, B)
            logits_b = f_b(*gather(inputs_b, rows, device)).T[None]  # (1, C, B)
            loss = joint_loss(logits_a, logits_b, y[rows].to(device)[None])[0]
            opt.step(torch.autograd.grad(loss, opt.params))
            total += loss.detach() * len(rows)
        losses.append(total.item() / n)
        if not math.isfinite(losses[-1]):
            raise HealthError(f"{name}: the joint loss diverged ({losses[-1]}) in epoch {epoch}")
        log.info("%s epoch %d/%d loss %.4f", name, epoch, epochs, losses[-1])
    return losses


def penultimate_salience(
    f_a: nn.Module,
    f_b: nn.Module,
    inputs_a: Sequence[Any],
    inputs_b: Sequence[Any],
    *,
    repeats: int,
    batch_size: int,
    generator: torch.Generator,
    device="cpu",
) -> torch.Tensor:
    """Step 2: raw salience (H,) of each channel of f_a's penultimate output against f_b's
    logits, `repeats` permutations per batch of `batch_size` consecutive samples
    (`mfh.algorithm1.permutation`)."""
    inputs_b = tuple(inputs_b)

    def f_b_logits(rows: torch.Tensor, logits_a: torch.Tensor) -> torch.Tensor:
        return f_b(*gather(inputs_b, rows, device))  # (B, C)

    return _permuted_mse(f_a, f_b, f_b_logits, inputs_a, repeats, batch_size, generator, device)


def teacher_importance(
    teacher: nn.Module,
    inputs: Sequence[Any],
    *,
    repeats: int,
    batch_size: int,
    generator: torch.Generator,
    device="cpu",
) -> torch.Tensor:
    """The control of Algorithm 1 (PROTOCOL §5): the same permutations of the teacher's
    penultimate channels, with the teacher's *own* logits as the target — how much the teacher
    relies on each channel, no net on the other modality. (H,)"""

    def own_logits(rows: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        return logits  # (B, C)

    return _permuted_mse(
        teacher, teacher, own_logits, inputs, repeats, batch_size, generator, device
    )


def _permuted_mse(f_a, f_b, target, inputs_a, repeats, batch_size, generator, device):
    """(H,): per channel of f_a's penultimate output, the MSE of f_a's logits with the channel
    permuted against `target(rows, f_a's logits)` (B, C), averaged over repeats and batches."""
    inputs_a = tuple(inputs_a)
    if not hasattr(f_a, "forward_from_penultimate"):
        raise TypeError(f"{type(f_a).__name__} has no forward_from_penultimate(h)")
    captured: list[torch.Tensor] = []

    def one_batch(batch: slice, perms: torch.Tensor) -> torch.Tensor:
        rows = torch.arange(batch.start, batch.stop)
        logits_a = f_a(*gather(inputs_a, rows, device))  # (B, C)
        h = captured.pop()  # (B, H)
        if batch.start == 0:
            _check_continuation(f_a, h, logits_a)
        return _batch_salience(f_a, h, target(rows, logits_a), perms[0])

    hook = f_a.get_submodule(LAYER).register_forward_hook(
        lambda mod, inp, out: captured.append(out)
    )
    try:
        return salience_over_batches(
            f_a,
            f_b,
            one_batch,
            n_samples=len(inputs_a[0]),
            n_models=1,
            repeats=repeats,
            batch_size=batch_size,
            generator=generator,
            device=device,
        )
    finally:
        hook.remove()


def _batch_salience(
    f_a: nn.Module,
    h: torch.Tensor,  # (B, H)
    target: torch.Tensor,  # (B, C): f_b's logits
    perms: torch.Tensor,  # (R, B)
) -> torch.Tensor:
    """Salience (H,) on one batch: MSE(f_a(h with channel k permuted), target) averaged over the
    repeats. A chunk of K_c channels runs as one (K_c, R*B, H) tensor where row r*B + i of slice
    j is h[i] with channel k_j replaced by h[perm_r[i], k_j]."""
    repeats, b = perms.shape
    width = h.shape[1]
    permuted = h[perms.flatten()]  # (R*B, H): every channel permuted at once
    tiled = h.repeat(repeats, 1)  # (R*B, H): the unpermuted rows, same block layout
    chunk = max(1, MAX_BYTES // (tiled.numel() * tiled.element_size()))
    out = torch.empty(width, dtype=target.dtype, device=target.device)
    for ks in torch.arange(width, device=h.device).split(chunk):
        batch = tiled.expand(len(ks), -1, -1).clone()  # (K_c, R*B, H)
        slices = torch.arange(len(ks), device=h.device)
        batch[slices, :, ks] = permuted[:, ks].T  # slice j: channel ks[j] permuted
        logits = f_a.forward_from_penultimate(batch)  # (K_c, R*B, C)
        diff = logits.unflatten(1, (repeats, b)) - target  # (K_c, R, B, C)
        out[ks] = diff.square_().flatten(1).mean(dim=1)
    return out


def _check_continuation(f_a: nn.Module, h: torch.Tensor, logits: torch.Tensor) -> None:
    """forward_from_penultimate(penultimate output) must give f_a's logits: the salience uses it."""
    if h.dim() != 2:
        raise ValueError(f"layer {LAYER!r} must output (B, H), got {tuple(h.shape)}")
    if not torch.allclose(f_a.forward_from_penultimate(h), logits, rtol=1e-4, atol=1e-5):
        raise ValueError(
            f"f_a.forward_from_penultimate does not continue from layer {LAYER!r}: "
            "its output differs from f_a's logits"
        )
