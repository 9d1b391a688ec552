"""Algorithm 1 of the MFH paper on real nets: salience of each channel of the teacher's
penultimate layer (PROTOCOL §4, §5).

1. `train_joint_nets`: minibatch-train f_a (on modality a; typically a copy of the trained
   teacher, so that its channels are the teacher's) and f_b (a fresh net on modality b) together
   on L = CE(f_a(x_a), y) + CE(f_b(x_b), y) + MSE(f_a(x_a), f_b(x_b)), MSE between logits —
   `mfh.salience.joint_loss` — with SGD with momentum (`mfh.train.sgd.MomentumSGD`).
2. `penultimate_salience`: for each channel k of f_a's penultimate output (B, H), permute column
   k across the samples of a batch, run the rest of f_a and measure MSE(f_a(permuted), f_b(x_b)),
   averaged over `repeats` permutations and over all batches (weighted by batch size; the
   reference code keeps only its last batch). Returns the raw salience (H,); normalise with
   `mfh.salience.minmax` and select with `mfh.salience.drop_ratio`.

Models are standard layout (B, ...) -> (B, C) with the interface of
`mfh.models.fusion.EncoderClassifier`: a submodule `penultimate` and `forward_from_penultimate(h)`,
the rest of the net after it (here `head` alone). The salience relies on that: f_a's layers
before `penultimate` run once per batch, and only `forward_from_penultimate` runs on the
H x repeats permuted copies; the first batch checks that it reproduces f_a's logits.
Within a batch all channels share the same `repeats` permutations (common random numbers, like
`mfh.salience.channel_salience`'s default), drawn from `generator` batch by batch.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import torch
from torch import nn

from mfh.salience import joint_loss
from mfh.train.minibatch import gather
from mfh.train.sgd import MomentumSGD

log = logging.getLogger(__name__)

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
    """Train f_a and f_b together in place (step 1); return the mean training loss per epoch.

    `inputs_a` / `inputs_b`: one indexable (N, ...) per input of f_a / f_b. Batches are a fresh
    shuffle per epoch from `generator`; one optimizer over both nets' parameters.
    """
    inputs_a, inputs_b = tuple(inputs_a), tuple(inputs_b)
    n = len(y)
    if any(len(x) != n for x in inputs_a + inputs_b):
        raise ValueError("inputs_a, inputs_b and y must have the same number of samples")
    f_a.to(device).train()
    f_b.to(device).train()
    params = [p for p in (*f_a.parameters(), *f_b.parameters()) if p.requires_grad]
    if len({id(p) for p in params}) != len(params):
        raise ValueError("f_a and f_b must not share parameters")
    opt = MomentumSGD(params, lr=lr, momentum=momentum)
    losses = []
    for epoch in range(1, epochs + 1):
        total = torch.zeros((), device=device)
        for rows in torch.randperm(n, generator=generator).split(batch_size):
            logits_a = f_a(*gather(inputs_a, rows, device))  # (B, C)
            logits_b = f_b(*gather(inputs_b, rows, device))  # (B, C)
            yb = y[rows].to(device)
            loss = joint_loss(logits_a.T[None], logits_b.T[None], yb[None])[0]
            opt.step(torch.autograd.grad(loss, params))
            total += loss.detach() * len(rows)
        losses.append(total.item() / n)
        log.info("%s epoch %d/%d loss %.4f", name, epoch, epochs, losses[-1])
    return losses


@torch.no_grad()
def penultimate_salience(
    f_a: nn.Module,
    f_b: nn.Module,
    inputs_a: Sequence[Any],
    inputs_b: Sequence[Any],
    *,
    layer: str = "penultimate",
    repeats: int,
    batch_size: int,
    generator: torch.Generator,
    device="cpu",
) -> torch.Tensor:
    """Raw salience (H,) of each channel of f_a's `layer` output (step 2). Both nets run in
    eval mode; their modes are restored afterwards. Batches are consecutive (not shuffled)."""
    inputs_a, inputs_b = tuple(inputs_a), tuple(inputs_b)
    if repeats < 1 or batch_size < 1:
        raise ValueError(f"need repeats >= 1 and batch_size >= 1, got {repeats}, {batch_size}")
    if not hasattr(f_a, "forward_from_penultimate"):
        raise TypeError(f"{type(f_a).__name__} has no forward_from_penultimate(h)")
    module = f_a.get_submodule(layer)
    n = len(inputs_a[0])
    modes = (f_a.training, f_b.training)
    f_a.eval()
    f_b.eval()
    captured: list[torch.Tensor] = []
    handle = module.register_forward_hook(lambda mod, inp, out: captured.append(out))
    try:
        total = None
        for i, rows in enumerate(torch.arange(n).split(batch_size)):
            logits_a = f_a(*gather(inputs_a, rows, device))  # (B, C)
            h = captured.pop()  # (B, H)
            if i == 0:
                _check_continuation(f_a, h, logits_a, layer)
            target = f_b(*gather(inputs_b, rows, device))  # (B, C)
            s = _batch_salience(f_a, h, target, repeats, generator) * len(rows)  # (H,)
            total = s if total is None else total.add_(s)
        return total / n
    finally:
        handle.remove()
        f_a.train(modes[0])
        f_b.train(modes[1])


def _batch_salience(
    f_a: nn.Module,
    h: torch.Tensor,  # (B, H)
    target: torch.Tensor,  # (B, C)
    repeats: int,
    generator: torch.Generator,
) -> torch.Tensor:
    """Salience (H,) on one batch: MSE(f_a(h with channel k permuted), target) averaged over the
    repeats. A chunk of K_c channels runs as one (K_c, R*B, H) tensor where row r*B + i of slice
    j is h[i] with channel k_j replaced by h[perm_r[i], k_j]."""
    b, width = h.shape
    keys = torch.rand(repeats, b, generator=generator, device=generator.device)
    perms = keys.argsort(dim=1)  # (R, B): one permutation of the batch per repeat
    permuted = h[perms.flatten().to(h.device)]  # (R*B, H): every channel permuted at once
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


def _check_continuation(f_a: nn.Module, h: torch.Tensor, logits: torch.Tensor, layer: str):
    """forward_from_penultimate(layer output) must give f_a's logits (the salience uses it)."""
    if h.dim() != 2:
        raise ValueError(f"layer {layer!r} must output (B, H), got {tuple(h.shape)}")
    if not torch.allclose(f_a.forward_from_penultimate(h), logits, rtol=1e-4, atol=1e-5):
        raise ValueError(
            f"f_a.forward_from_penultimate does not continue from layer {layer!r}: "
            "its output differs from f_a's logits"
        )
