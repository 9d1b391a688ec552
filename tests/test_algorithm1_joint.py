"""Tests of Algorithm 1's joint training (step 1, mfh.algorithm1): both trainers equal a reference
loop with `nn.Linear` / the real-data nets, `F.cross_entropy + F.cross_entropy + F.mse_loss` and
`torch.optim.SGD(momentum=0.9)`:
- `train_joint_ensemble` (ensembles, full batch): model by model, per-model `nn.Linear` copies;
- `train_joint_nets` (batch-first nets, shuffled minibatches), same batch order;
and the joint loss decreases, argument checks.

Layouts: ensembles x (M, d, N), logits (M, C, N), y (M, N); nets x (N, d), logits (N, C).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mfh.algorithm1.inputs import train_joint_ensemble
from mfh.algorithm1.joint import joint_loss, joint_optimizer
from mfh.algorithm1.penultimate import train_joint_nets
from mfh.models.build import build_model
from mfh.models.linear import LinearEnsemble

pytestmark = pytest.mark.usefixtures("one_torch_thread")

D, C = 20, 10


def reference_loss(la: torch.Tensor, lb: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The joint loss written with torch.nn.functional, logits (N, C), y (N,)."""
    return F.cross_entropy(la, y) + F.cross_entropy(lb, y) + F.mse_loss(la, lb)


def ensemble_data(m: int, n: int, seed: int):
    """x_a (M, D, N), x_b (M, D, N), y (M, N): two classes from the first 10 channels of x_a."""
    g = torch.Generator().manual_seed(seed)
    x_a, x_b = torch.randn(m, D, n, generator=g), torch.randn(m, D, n, generator=g)
    x_b[:, :4] = x_a[:, :4]
    return x_a, x_b, (x_a[:, :10].sum(dim=1) > 0).long()


def test_train_joint_ensemble_equals_per_model_sgd_momentum():
    m, n, epochs, lr = 2, 60, 50, 0.05
    x_a, x_b, y = ensemble_data(m, n, seed=3)
    f_a, f_b = LinearEnsemble([7, 8], D, 2), LinearEnsemble([9, 10], D, 2)
    refs = []
    for i in range(m):  # per-model nn.Linear copies, (N, d) layout
        lin_a, lin_b = nn.Linear(D, 2), nn.Linear(D, 2)
        with torch.no_grad():
            for lin, ens in ((lin_a, f_a), (lin_b, f_b)):
                lin.weight.copy_(ens.weight[i])
                lin.bias.copy_(ens.bias[i])
        refs.append((lin_a, lin_b))
    train_joint_ensemble(f_a, f_b, x_a, x_b, y, epochs=epochs, lr=lr, momentum=0.9)

    for i, (lin_a, lin_b) in enumerate(refs):
        opt = torch.optim.SGD([*lin_a.parameters(), *lin_b.parameters()], lr=lr, momentum=0.9)
        xa, xb, yi = x_a[i].T, x_b[i].T, y[i]  # (N, d), (N, d), (N,)
        for _ in range(epochs):
            opt.zero_grad()
            reference_loss(lin_a(xa), lin_b(xb), yi).backward()
            opt.step()
        for lin, ens in ((lin_a, f_a), (lin_b, f_b)):
            assert torch.allclose(lin.weight, ens.weight[i], atol=1e-5, rtol=0)
            assert torch.allclose(lin.bias, ens.bias[i], atol=1e-5, rtol=0)


def test_train_joint_ensemble_returns_the_decreased_loss():
    x_a, x_b, y = ensemble_data(3, 300, seed=0)
    f_a, f_b = LinearEnsemble([1, 2, 3], D, 2), LinearEnsemble([4, 5, 6], D, 2)
    with torch.no_grad():
        before = joint_loss(f_a(x_a), f_b(x_b), y)
    after = train_joint_ensemble(f_a, f_b, x_a, x_b, y, epochs=100)
    assert after.shape == (3,)
    assert (after < before).all()
    with torch.no_grad():
        assert torch.allclose(after, joint_loss(f_a(x_a), f_b(x_b), y))


def test_train_joint_ensemble_checks_shapes():
    x_a, x_b, y = ensemble_data(2, 10, seed=0)
    f_a, f_b = LinearEnsemble([1, 2], D, 2), LinearEnsemble([3, 4], D, 2)
    with pytest.raises(ValueError, match="same number of models"):
        train_joint_ensemble(f_a, f_b, x_a, x_b[..., :5], y, epochs=1)
    with pytest.raises(ValueError, match="y must be"):
        train_joint_ensemble(f_a, f_b, x_a, x_b, y[:, :5], epochs=1)


def test_train_joint_nets_equals_torch_optim_reference():
    def nets():
        return build_model("mlp", (6,), C, hidden=5, seed=1), build_model("mlp", (3,), C, 5, seed=2)

    g = torch.Generator().manual_seed(0)
    x_a, x_b = torch.randn(40, 6, generator=g), torch.randn(40, 3, generator=g)
    y = torch.randint(0, C, (40,), generator=g)
    f_a, f_b = nets()
    losses = train_joint_nets(
        f_a,
        f_b,
        (x_a,),
        (x_b,),
        y,
        epochs=3,
        batch_size=16,
        lr=0.05,
        momentum=0.9,
        generator=torch.Generator().manual_seed(5),
    )
    assert len(losses) == 3 and losses[-1] < losses[0]
    r_a, r_b = nets()
    opt = torch.optim.SGD([*r_a.parameters(), *r_b.parameters()], lr=0.05, momentum=0.9)
    shuffle = torch.Generator().manual_seed(5)
    for _ in range(3):
        for rows in torch.randperm(40, generator=shuffle).split(16):
            opt.zero_grad()
            reference_loss(r_a(x_a[rows]), r_b(x_b[rows]), y[rows]).backward()
            opt.step()
    for p, q in zip([*f_a.parameters(), *f_b.parameters()], [*r_a.parameters(), *r_b.parameters()]):
        assert torch.allclose(p, q, rtol=0, atol=1e-6)


def test_the_two_nets_must_not_share_parameters():
    f_a = LinearEnsemble([1], D, 2)
    with pytest.raises(ValueError, match="must not share parameters"):
        joint_optimizer(f_a, f_a, lr=0.1, momentum=0.9)
