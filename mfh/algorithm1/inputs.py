"""Algorithm 1 on the input channels of an ensemble of models (the synthetic studies).

Layout (the ensemble convention of `mfh.models`): M independent models in one module; x is
(M, d, N), logits (M, C, N), labels (M, N) — models first, channels/classes second, samples
last. The salience is (M, d). Everything is full batch: the joint training takes `epochs` steps
on all N samples, and the salience treats the N samples as one batch.

Step 1 is `train_joint_ensemble`, step 2 `input_salience`; `mfh.studies.ensemble_steps.salience`
runs them, and the min-max normalisation, with a study's `salience` params.

The salience kernel runs the R repeats of one channel in a single forward pass: the samples are
tiled R times along the last axis, (M, d, R*n), and block r (columns r*n ... r*n+n-1) holds
channel k permuted by the r-th permutation; the MSE is then computed per block. Repeats are split
into chunks when the tiled tensors would exceed `max_bytes` (about 200 MB by default); the
permutations are drawn all at once before chunking, so the result does not depend on the chunk
size.
"""

from __future__ import annotations

import logging
import math

import torch
from torch import nn

from mfh.algorithm1.joint import joint_loss, joint_optimizer
from mfh.algorithm1.permutation import salience_over_batches

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 200 * 2**20  # memory budget for one chunk of tiled repeats


def train_joint_ensemble(
    f_a: nn.Module,
    f_b: nn.Module,
    x_a: torch.Tensor,  # (M, d_a, N)
    x_b: torch.Tensor,  # (M, d_b, N)
    y: torch.Tensor,  # (M, N) int64
    *,
    epochs: int,
    lr: float = 0.01,
    momentum: float = 0.9,
    name: str = "joint",
    log_every: int = 0,
) -> torch.Tensor:
    """Step 1: train f_a and f_b in place, `epochs` full-batch steps of SGD with momentum on the
    *sum* of the per-model `joint_loss`es, so each model of the ensemble trains exactly as it
    would alone. Returns the final loss (M,); logs the mean loss every `log_every` epochs."""
    _check_pair(x_a, x_b)
    if y.shape != (x_a.shape[0], x_a.shape[-1]):
        raise ValueError(
            f"y must be (M, N) = {(x_a.shape[0], x_a.shape[-1])}, got {tuple(y.shape)}"
        )
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    opt = joint_optimizer(f_a, f_b, lr, momentum)
    for epoch in range(1, epochs + 1):
        loss = joint_loss(f_a(x_a), f_b(x_b), y).sum()
        opt.step(torch.autograd.grad(loss, opt.params))
        if log_every and (epoch % log_every == 0 or epoch == epochs):
            with torch.no_grad():
                mean = joint_loss(f_a(x_a), f_b(x_b), y).mean().item()
            log.info(
                "%s: epoch %d/%d  mean loss %.4f over %d models",
                name,
                epoch,
                epochs,
                mean,
                x_a.shape[0],
            )
    with torch.no_grad():
        return joint_loss(f_a(x_a), f_b(x_b), y)


def input_salience(
    f_a: nn.Module,
    f_b: nn.Module,
    x_a: torch.Tensor,  # (M, d_a, N)
    x_b: torch.Tensor,  # (M, d_b, N)
    *,
    repeats: int,
    generator: torch.Generator,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> torch.Tensor:
    """Step 2: raw salience (M, d_a) of each input channel of x_a, `repeats` permutations per
    model, the N samples as one batch (`mfh.algorithm1.permutation`)."""
    _check_pair(x_a, x_b)
    m, _, n = x_a.shape

    def one_batch(batch: slice, perms: torch.Tensor) -> torch.Tensor:
        target = f_b(x_b[..., batch])  # (M, C, n)
        return _batch_salience(f_a, x_a[..., batch], target, perms, max_bytes)

    return salience_over_batches(
        f_a,
        f_b,
        one_batch,
        n_samples=n,
        n_models=m,
        repeats=repeats,
        batch_size=n,
        generator=generator,
        device=x_a.device,
    )


def _batch_salience(
    f_a: nn.Module,
    x: torch.Tensor,  # (M, d, n)
    target: torch.Tensor,  # (M, C, n): f_b's logits
    perms: torch.Tensor,  # (M, R, n)
    max_bytes: int,
) -> torch.Tensor:
    """Salience (M, d) on one batch, averaged over the R repeats."""
    m, d, _ = x.shape
    repeats = perms.shape[1]
    # per repeat: the tiled input, the logits and their difference with the target
    per_repeat = x.numel() + 3 * target.numel()
    chunks = _chunk_sizes(repeats, max(1, max_bytes // (per_repeat * x.element_size())))
    blocks = [_block_index(p) for p in perms.split(chunks, dim=1)]  # each (M, R_c * n)
    tiled = {r: _tile(x, r) for r in set(chunks)}  # R_c -> (M, d, R_c * n)
    salience = torch.zeros(m, d, dtype=target.dtype, device=target.device)
    for k in range(d):
        for r, idx in zip(chunks, blocks):
            xt = tiled[r]
            column = xt[:, k].clone()  # (M, R_c * n): channel k, unpermuted
            xt[:, k] = column.gather(-1, idx)  # block j: permuted by the j-th permutation
            salience[:, k] += _block_mse(f_a(xt), target, r).sum(dim=-1)
            xt[:, k] = column
    return salience / repeats


def _block_index(perm: torch.Tensor) -> torch.Tensor:
    """(M, R, n) within-block permutations -> (M, R*n) indices into the tiled axis."""
    r, n = perm.shape[1:]
    offsets = torch.arange(r, device=perm.device).mul_(n).view(1, r, 1)
    return (perm + offsets).flatten(1)


def _tile(x: torch.Tensor, r: int) -> torch.Tensor:
    """(M, d, n) -> (M, d, r*n): block j of the last axis is a copy of x."""
    return x.repeat(1, 1, r)


def _block_mse(out: torch.Tensor, target: torch.Tensor, r: int) -> torch.Tensor:
    """Per model and block MSE: out (M, C, r*n), target (M, C, n) -> (M, r)."""
    diff = out.unflatten(-1, (r, target.shape[-1])) - target.unsqueeze(-2)  # (M, C, r, n)
    return diff.square_().movedim(-2, 1).flatten(2).mean(dim=-1)


def _chunk_sizes(repeats: int, max_chunk: int) -> list[int]:
    """Split `repeats` into the fewest chunks of at most `max_chunk`, sizes as equal as possible."""
    n_chunks = math.ceil(repeats / max_chunk)
    base, extra = divmod(repeats, n_chunks)
    return [base + 1] * extra + [base] * (n_chunks - extra)


def _check_pair(x_a: torch.Tensor, x_b: torch.Tensor) -> None:
    if x_a.dim() != 3 or x_b.dim() != 3:
        raise ValueError(
            f"x_a and x_b must be (M, d, N); got {tuple(x_a.shape)} and {tuple(x_b.shape)}"
        )
    if x_a.shape[0] != x_b.shape[0] or x_a.shape[-1] != x_b.shape[-1]:
        raise ValueError(
            "x_a and x_b need the same number of models (dim 0) and samples (last dim); got "
            f"{tuple(x_a.shape)} and {tuple(x_b.shape)}"
        )
