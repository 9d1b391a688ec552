"""Acceptance tests of the ensemble trainer (mfh.train.fullbatch, mfh.models.linear).

The key property: training a `LinearEnsemble` of M models with `train_full_batch` computes the
same function as training each model alone as a `torch.nn.Linear` with `torch.optim.SGD`,
full-batch, on its own data, with `F.cross_entropy` (no KD) or with the reference KD loss
`w_gt * F.cross_entropy + w_kd * nn.KLDivLoss(reduction)(log_softmax(s/T), softmax(t/T))`
(times T^2 with `t_squared`). Final weights must agree to 1e-5 and held-out accuracies exactly
(the same number of correct predictions; the percentages to 1e-9).

Layouts: per model (N, d) inputs and (N, C) logits for nn.Linear; (M, d, N) and (M, C, N) in
the ensemble.

Also: `LinearEnsemble` initialisation equals `nn.Linear`'s default (same seed, same numbers),
determinism, the kd/teacher_logits argument check and the returned per-model loss.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mfh.kd import KDConfig
from mfh.models.linear import LinearEnsemble
from mfh.train.fullbatch import accuracy, train_full_batch

pytestmark = pytest.mark.usefixtures("one_torch_thread")

M, D, N, N_TEST = 4, 7, 30, 200
EPOCHS = 150
SEEDS = [11, 2**40 + 3, 987654321, 5]
WEIGHT_ATOL = 1e-5

# the largest |ensemble - single| weight difference seen, printed at the end (pytest -s)
MAX_DIFF: dict[str, float] = {}


def _data(C: int, seed: int):
    """M different problems: x (M, d, N), y (M, N), and a held-out set; labels from a per-model
    random linear rule plus noise (so not separable: the weights stay bounded)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(M, D, N + N_TEST, generator=g) * torch.linspace(0.5, 2.0, M)[:, None, None]
    w = torch.randn(M, C, D, generator=g)
    y = (torch.bmm(w, x) + 1.5 * torch.randn(M, C, N + N_TEST, generator=g)).argmax(dim=1)
    return (
        x[..., :N].contiguous(),
        y[:, :N].contiguous(),
        x[..., N:].contiguous(),
        y[:, N:].contiguous(),
    )


def _single(ens: LinearEnsemble, m: int) -> nn.Linear:
    """A fresh nn.Linear holding model m's current weights (weight[m] is (out, in) already)."""
    out_f, in_f = ens.weight.shape[1:]
    lin = nn.Linear(in_f, out_f)
    with torch.no_grad():
        lin.weight.copy_(ens.weight[m])
        lin.bias.copy_(ens.bias[m])
    return lin


def _train_single(lin: nn.Linear, x: torch.Tensor, y: torch.Tensor, lr: float, loss_fn) -> float:
    """x (N, d), y (N,): full-batch torch.optim.SGD; returns the loss of the trained model."""
    opt = torch.optim.SGD(lin.parameters(), lr=lr)
    for _ in range(EPOCHS):
        opt.zero_grad()
        loss = loss_fn(lin(x), y)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return loss_fn(lin(x), y).item()


def _single_correct(lin: nn.Linear, x: torch.Tensor, y: torch.Tensor) -> int:
    """Number of correct predictions of one model: x (N, d), y (N,)."""
    with torch.no_grad():
        return int((lin(x).argmax(dim=1) == y).sum())


def _compare(key: str, ens, singles, ref_losses, losses, x_test, y_test) -> None:
    diffs = []
    for m, lin in enumerate(singles):
        dw = (ens.weight[m] - lin.weight).abs().max().item()
        db = (ens.bias[m] - lin.bias).abs().max().item()
        diffs.append(max(dw, db))
        torch.testing.assert_close(
            ens.weight[m].detach(), lin.weight.detach(), atol=WEIGHT_ATOL, rtol=0
        )
        torch.testing.assert_close(
            ens.bias[m].detach(), lin.bias.detach(), atol=WEIGHT_ATOL, rtol=0
        )
    MAX_DIFF[key] = max(diffs)
    # the weights must have moved: the comparison is not of two untouched initialisations
    init = LinearEnsemble(SEEDS, ens.weight.shape[2], ens.weight.shape[1])
    assert (ens.weight - init.weight).abs().max().item() > 0.05
    torch.testing.assert_close(losses, torch.tensor(ref_losses), atol=1e-5, rtol=1e-5)
    acc = accuracy(ens, x_test, y_test)
    assert acc.dtype == torch.float64 and acc.shape == (M,)
    ref_correct = [_single_correct(lin, x_test[m].T, y_test[m]) for m, lin in enumerate(singles)]
    n_test = y_test.shape[-1]
    # the same predictions: exactly the same number correct on the held-out set, in percent
    assert [round(a * n_test / 100.0) for a in acc.tolist()] == ref_correct
    torch.testing.assert_close(
        acc, torch.tensor(ref_correct, dtype=torch.float64) * 100.0 / n_test, atol=1e-9, rtol=0
    )


@pytest.mark.parametrize("closed_form", [True, False], ids=["closed-form", "autograd"])
@pytest.mark.parametrize("C", [2, 3])
def test_ensemble_equals_single_models_ce(C, closed_form):
    x, y, x_test, y_test = _data(C, seed=C)
    ens = LinearEnsemble(SEEDS, D, C)
    singles = [_single(ens, m) for m in range(M)]
    ref_losses = [
        _train_single(lin, x[m].T, y[m], 0.1, F.cross_entropy) for m, lin in enumerate(singles)
    ]
    losses = train_full_batch(ens, x, y, epochs=EPOCHS, lr=0.1, closed_form=closed_form)
    _compare(
        f"ce C={C} closed_form={closed_form}", ens, singles, ref_losses, losses, x_test, y_test
    )


# every reduction x T in (1, 4), C = 2 and 3 for each reduction, T^2 scaling on for two of the
# T = 4 cases. lr keeps the effective step comparable: `sum` does not divide by N, T^2 multiplies.
KD_CASES = [
    # reduction, T, t_squared, C, lr
    ("mean", 1.0, False, 3, 0.1),
    ("mean", 4.0, False, 2, 0.1),
    ("batchmean", 1.0, False, 2, 0.1),
    ("batchmean", 4.0, True, 3, 0.02),
    ("sum", 1.0, False, 3, 0.004),
    ("sum", 4.0, True, 2, 0.001),
]


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")
@pytest.mark.parametrize("closed_form", [True, False], ids=["closed-form", "autograd"])
@pytest.mark.parametrize("reduction, T, t_squared, C, lr", KD_CASES)
def test_ensemble_equals_single_models_kd(reduction, T, t_squared, C, lr, closed_form):
    w_gt, w_kd = 0.5, 2.0
    x, y, x_test, y_test = _data(C, seed=10 + C)
    teacher = 3.0 * torch.randn(M, C, N, generator=torch.Generator().manual_seed(99))
    ens = LinearEnsemble(SEEDS, D, C)
    singles = [_single(ens, m) for m in range(M)]
    kl = nn.KLDivLoss(reduction=reduction)
    scale = T**2 if t_squared else 1.0
    ref_losses = []
    for m, lin in enumerate(singles):
        t = teacher[m].T  # (N, C)

        def loss_fn(s, target, t=t):
            return w_gt * F.cross_entropy(s, target) + w_kd * scale * kl(
                F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1)
            )

        ref_losses.append(_train_single(lin, x[m].T, y[m], lr, loss_fn))
    cfg = KDConfig(temperature=T, w_gt=w_gt, w_kd=w_kd, kl_reduction=reduction, t_squared=t_squared)
    losses = train_full_batch(
        ens, x, y, epochs=EPOCHS, lr=lr, teacher_logits=teacher, kd=cfg, closed_form=closed_form
    )
    _compare(
        f"kd C={C} T={T} {reduction} t2={t_squared} closed_form={closed_form}",
        ens,
        singles,
        ref_losses,
        losses,
        x_test,
        y_test,
    )


def test_report_max_weight_difference():
    """Runs last (file order): print the largest ensemble-vs-single difference (pytest -s)."""
    if not MAX_DIFF:
        pytest.skip("the comparison tests did not run")
    worst = max(MAX_DIFF, key=MAX_DIFF.get)
    print(f"\nmax |ensemble - single| weight/bias difference: {MAX_DIFF[worst]:.3g} ({worst})")
    assert MAX_DIFF[worst] <= WEIGHT_ATOL


# --- initialisation ------------------------------------------------------------------------------


def test_init_equals_nn_linear_default():
    """Model m of the ensemble is exactly what nn.Linear draws after torch.manual_seed(seed_m)."""
    ens = LinearEnsemble(SEEDS, D, 3)
    assert ens.weight.shape == (M, 3, D) and ens.bias.shape == (M, 3)
    assert ens.n_models == M
    for m, seed in enumerate(SEEDS):
        torch.manual_seed(seed)
        lin = nn.Linear(D, 3)
        torch.testing.assert_close(ens.weight[m].detach(), lin.weight.detach(), atol=0, rtol=0)
        torch.testing.assert_close(ens.bias[m].detach(), lin.bias.detach(), atol=0, rtol=0)


def test_init_bounds_and_spread():
    """U(-1/sqrt(in), 1/sqrt(in)) for weight and bias: within the bound, and filling it."""
    in_f = 25
    ens = LinearEnsemble(list(range(200)), in_f, 2)
    bound = 1 / math.sqrt(in_f)
    for p in (ens.weight, ens.bias):
        assert p.abs().max().item() <= bound
        assert p.max().item() > 0.97 * bound and p.min().item() < -0.97 * bound
        assert abs(p.mean().item()) < 0.05 * bound
        assert p.var().item() == pytest.approx(bound**2 / 3, rel=0.1)


def test_init_deterministic_and_per_model():
    a = LinearEnsemble(SEEDS, D, 2)
    b = LinearEnsemble(SEEDS, D, 2)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    # model m depends on its own seed only
    c = LinearEnsemble([SEEDS[2], 12345], D, 2)
    assert torch.equal(c.weight[0], a.weight[2]) and torch.equal(c.bias[0], a.bias[2])
    assert not torch.equal(c.weight[1], a.weight[3])
    # distinct seeds give distinct models
    for i in range(M):
        for j in range(i + 1, M):
            assert not torch.equal(a.weight[i], a.weight[j])


def test_forward_layout():
    """logits[m] = weight[m] @ x[m] + bias[m][:, None]: (M, d, N) -> (M, C, N)."""
    ens = LinearEnsemble(SEEDS, D, 3)
    x = torch.randn(M, D, N, generator=torch.Generator().manual_seed(0))
    out = ens(x)
    assert out.shape == (M, 3, N)
    for m in range(M):
        lin = _single(ens, m)
        torch.testing.assert_close(out[m].T, lin(x[m].T), atol=1e-6, rtol=1e-6)


# --- train_full_batch contract --------------------------------------------------------------------


def test_kd_arguments_must_come_together():
    x, y, _, _ = _data(2, seed=0)
    ens = LinearEnsemble(SEEDS, D, 2)
    before = ens.weight.detach().clone()
    with pytest.raises(ValueError, match="together"):
        train_full_batch(ens, x, y, epochs=3, lr=0.1, teacher_logits=torch.zeros(M, 2, N))
    with pytest.raises(ValueError, match="together"):
        train_full_batch(ens, x, y, epochs=3, lr=0.1, kd=KDConfig())
    assert torch.equal(ens.weight, before)  # rejected before any step


@pytest.mark.parametrize("kd", [False, True])
def test_returned_loss_shape_and_decrease(kd):
    from mfh.kd import SoftTargets, cross_entropy, distillation_loss

    C = 3
    x, y, _, _ = _data(C, seed=4)
    ens = LinearEnsemble(SEEDS, D, C)
    teacher = torch.randn(M, C, N, generator=torch.Generator().manual_seed(1))
    cfg = KDConfig(temperature=2.0, kl_reduction="batchmean") if kd else None
    with torch.no_grad():
        if kd:
            initial = distillation_loss(ens(x), SoftTargets.from_logits(teacher, 2.0), y, cfg)
        else:
            initial = cross_entropy(ens(x), y)
    losses = train_full_batch(
        ens, x, y, epochs=50, lr=0.1, teacher_logits=teacher if kd else None, kd=cfg
    )
    assert losses.shape == (M,)
    assert not losses.requires_grad
    assert torch.all(losses < initial - 1e-3), (losses, initial)


def test_zero_epochs_leaves_model_untouched():
    x, y, _, _ = _data(2, seed=0)
    ens = LinearEnsemble(SEEDS, D, 2)
    before = ens.weight.detach().clone()
    losses = train_full_batch(ens, x, y, epochs=0, lr=0.1)
    assert torch.equal(ens.weight, before)
    assert losses.shape == (M,)
