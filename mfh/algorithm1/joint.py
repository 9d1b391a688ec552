"""Step 1 of Algorithm 1, the part both front-ends share: the joint loss and its optimizer.

f_a (on modality a) and f_b (on modality b) train together on

    L = CE(f_a(x_a), y) + CE(f_b(x_b), y) + MSE(f_a(x_a), f_b(x_b))      (MSE between logits)

so both nets receive the MSE gradient. `joint_loss` computes L per model in the ensemble layout
of `mfh.kd`, logits (M, C, N); a batch-first net's (B, C) logits enter as an ensemble of one
model, (1, C, B). `joint_optimizer` is SGD with momentum over both nets' parameters
(`mfh.train.sgd.MomentumSGD`, the arithmetic of `torch.optim.SGD`). The training loops are in
the front-ends: full batch for ensembles (`mfh.algorithm1.inputs`), shuffled minibatches for
batch-first nets (`mfh.algorithm1.penultimate`).
"""

from __future__ import annotations

import torch
from torch import nn

from mfh.kd import cross_entropy
from mfh.train.sgd import MomentumSGD


def joint_loss(logits_a: torch.Tensor, logits_b: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-model loss CE(a, y) + CE(b, y) + MSE(a, b): (M, C, N), (M, C, N), (M, N) -> (M,).

    The MSE is the mean over classes and samples, like `nn.MSELoss()` applied to each model.
    """
    mse = (logits_a - logits_b).square().flatten(1).mean(dim=-1)  # (M,)
    return cross_entropy(logits_a, y) + cross_entropy(logits_b, y) + mse


def joint_optimizer(f_a: nn.Module, f_b: nn.Module, lr: float, momentum: float) -> MomentumSGD:
    """Put both nets in train mode; SGD with momentum over their trainable parameters (f_a's
    first), which they must not share."""
    f_a.train()
    f_b.train()
    params = [p for p in (*f_a.parameters(), *f_b.parameters()) if p.requires_grad]
    if len({id(p) for p in params}) != len(params):
        raise ValueError("f_a and f_b must not share parameters")
    return MomentumSGD(params, lr=lr, momentum=momentum)
