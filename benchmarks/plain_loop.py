"""The plain per-model training loop that bench_trainer.py and bench_modify.py time mfh against:
what one writes without mfh, one `nn.Linear` at a time (full batch, `torch.optim.SGD`,
`F.cross_entropy`, plus `nn.KLDivLoss()` on log_softmax / softmax for KD)."""

import time

import torch
import torch.nn.functional as F
from torch import nn


def train_linear(lin: nn.Linear, x, y, epochs: int, lr: float, soft=None) -> float:
    """Train `lin` on x (N, d), y (N,) for `epochs` full-batch SGD steps on the cross-entropy,
    plus, when `soft` (N, C) teacher probabilities are given, `nn.KLDivLoss()` of its log-softmax
    to them. Returns the seconds of the loop (optimiser construction not included)."""
    kl, opt = nn.KLDivLoss(), torch.optim.SGD(lin.parameters(), lr=lr)
    start = time.perf_counter()
    for _ in range(epochs):
        opt.zero_grad()
        logits = lin(x)  # (N, C)
        loss = F.cross_entropy(logits, y)
        if soft is not None:
            loss = loss + kl(F.log_softmax(logits, dim=1), soft)
        loss.backward()
        opt.step()
    return time.perf_counter() - start
