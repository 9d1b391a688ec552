"""Tests of the one optimizer of every training loop (mfh.train.sgd): `MomentumSGD` equals
`torch.optim.SGD` step for step — with momentum and weight decay (the minibatch trainer), with
momentum alone (Algorithm 1's joint training) and plain (the ensemble trainer)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mfh.models.build import build_model
from mfh.train.sgd import MomentumSGD

pytestmark = pytest.mark.usefixtures("one_torch_thread")

C, D, H = 3, 5, 32


@pytest.mark.parametrize("momentum, weight_decay", [(0.9, 0.01), (0.9, 0.0), (0.0, 0.0)])
def test_momentum_sgd_equals_torch_optim_sgd(momentum, weight_decay):
    ours, ref = (build_model("mlp", (D,), C, hidden=H, seed=4) for _ in range(2))
    opt = MomentumSGD(list(ours.parameters()), lr=0.1, momentum=momentum, weight_decay=weight_decay)
    ref_opt = torch.optim.SGD(
        ref.parameters(), lr=0.1, momentum=momentum, weight_decay=weight_decay
    )
    for step in range(5):
        g = torch.Generator().manual_seed(step)
        x, y = torch.randn(20, D, generator=g), torch.randint(0, C, (20,), generator=g)
        opt.step(torch.autograd.grad(F.cross_entropy(ours(x), y), opt.params))
        ref_opt.zero_grad()
        F.cross_entropy(ref(x), y).backward()
        ref_opt.step()
    start = build_model("mlp", (D,), C, hidden=H, seed=4)
    for p, q, p0 in zip(ours.parameters(), ref.parameters(), start.parameters()):
        assert torch.allclose(p, q, rtol=0, atol=1e-6)
        assert not torch.equal(p, p0)  # the weights moved
