"""The per-channel signals of the Venn analysis (`mfh.venn`): two permutation tests per input
channel, on both modalities, on held-out (test) samples.

For a channel k of modality a (b likewise, with the roles of the nets swapped):
- *decisive*: how much the teacher's (on b: the no-KD student's) cross-entropy against the labels
  grows when channel k is permuted across samples;
- *modality-general*: how much the squared distance between Algorithm 1's joint nets grows,
  |f_a(x_a with k permuted) - f_b(x_b)|^2 (mean over classes), when channel k is permuted: the
  raw Algorithm 1 distance, on held-out samples, not min-max normalised.

Why these tests have an exact null. A channel whose value is independent of everything else
of its sample (a noise channel; for the general test also an a-only channel, which f_b cannot see)
has the same joint distribution with the rest of the sample after permutation as before, so on
held-out samples, which the nets did not fit, its expected effect is exactly zero, whatever weight
the net gave it. A decisive (resp. shared) channel has a positive effect. Each effect is the mean
over the test samples of the per-sample change averaged over `repeats` permutations; its standard
error is the sd of those per-sample changes over sqrt(n). `mfh.venn` turns (effect, se) into a
one-sided test.

The nets are `LinearEnsemble`s (M models): permuting channel k adds W[:, :, k] * (x_k[perm] - x_k)
to the logits, which is computed directly instead of a forward pass per permutation.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F

from mfh.models.linear import LinearEnsemble

PerSampleLoss = Callable[[torch.Tensor], torch.Tensor]  # logits (M, C, R, n) -> (M, R, n)


class Effects(NamedTuple):
    """The effect of permuting each channel, and its standard error: both (M, d)."""

    effect: torch.Tensor
    se: torch.Tensor


def cross_entropy_loss(y: torch.Tensor) -> PerSampleLoss:
    """Per-sample cross-entropy against labels y (M, n)."""

    def loss(logits: torch.Tensor) -> torch.Tensor:  # (M, C, R, n) -> (M, R, n)
        log_p = F.log_softmax(logits, dim=1)
        index = y[:, None, None, :].expand(-1, 1, logits.shape[2], -1)
        return -log_p.gather(1, index).squeeze(1)

    return loss


def distance_loss(target: torch.Tensor) -> PerSampleLoss:
    """Per-sample mean squared difference (over classes) to the other net's logits (M, C, n)."""

    def loss(logits: torch.Tensor) -> torch.Tensor:  # (M, C, R, n) -> (M, R, n)
        return (logits - target[:, :, None, :]).square().mean(dim=1)

    return loss


def permutation_effects(
    model: LinearEnsemble,
    x: torch.Tensor,  # (M, d, n)
    loss: PerSampleLoss,
    *,
    repeats: int,
    generator: torch.Generator,
) -> Effects:
    """The effect on `loss` of permuting each channel of x across its n samples (module doc)."""
    m, d, n = x.shape
    with torch.no_grad():
        logits = model(x)  # (M, C, n)
        base = loss(logits[:, :, None, :])  # (M, 1, n)
        effect = torch.zeros(m, d, dtype=torch.float64)
        se = torch.zeros(m, d, dtype=torch.float64)
        # the same `repeats` permutations (per model) serve every channel: the channels of a
        # sample are tested one at a time, so sharing them costs nothing in validity
        perms = torch.rand(m, repeats, n, generator=generator).argsort(dim=-1).to(x.device)
        for k in range(d):
            column = x[:, k]  # (M, n)
            delta = column[:, None, :].expand(-1, repeats, -1).gather(-1, perms) - column[:, None]
            shifted = logits[:, :, None, :] + model.weight[:, :, k, None, None] * delta[:, None]
            change = (loss(shifted) - base).mean(dim=1).double().cpu()  # (M, n)
            effect[:, k] = change.mean(dim=-1)
            se[:, k] = change.std(dim=-1) / n**0.5
    return Effects(effect, se)


def tiled(model: LinearEnsemble, times: int) -> LinearEnsemble:
    """An ensemble of `times` x M models: the M models of `model` repeated `times` times (model
    s * M + r is model r), for a net shared by every setting of a run."""
    out = LinearEnsemble(
        [0] * (times * model.n_models), model.weight.shape[2], model.weight.shape[1]
    )
    with torch.no_grad():
        out.weight.copy_(model.weight.repeat(times, 1, 1))
        out.bias.copy_(model.bias.repeat(times, 1))
    return out.to(model.weight.device).requires_grad_(False)
