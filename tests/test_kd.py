"""Tests of mfh.kd: the per-model distillation losses in the ensemble layout (..., C, N).

- `kl_divergence` equals `nn.KLDivLoss(reduction)(log_softmax(s/T), softmax(t/T))` applied to
  each model of a (3, 5) ensemble, for mean / batchmean / sum; it is 0 when student == teacher,
  >= 0 otherwise, scales with T exactly like dividing the logits by T, and for large T tends to
  Var_c(t - s) / (2 T^2) per sample (the second-order expansion of KL);
- `SoftTargets.from_logits` keeps exact zeros of the teacher's distribution finite (0 log 0 = 0);
- `KDConfig` / `kl_divergence` reject unknown reductions and T <= 0, naming what is allowed;
- `cross_entropy` and `distillation_loss` equal their torch.nn.functional counterparts per model.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mfh.kd import (
    KL_REDUCTIONS,
    KDConfig,
    SoftTargets,
    cross_entropy,
    distillation_loss,
    kl_divergence,
)

LEAD = (3, 5)  # leading ensemble dims
C, N = 4, 9

pytestmark = [
    pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning"),
    pytest.mark.usefixtures("one_torch_thread"),
]


def _logits(seed: int, scale: float = 2.0, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*LEAD, C, N, generator=g, dtype=dtype)


def _reference_kl(s: torch.Tensor, t: torch.Tensor, T: float, reduction: str) -> torch.Tensor:
    """nn.KLDivLoss on each model, in its (N, C) layout: -> LEAD."""
    kl = nn.KLDivLoss(reduction=reduction)
    out = torch.empty(LEAD, dtype=s.dtype)
    for i in range(LEAD[0]):
        for j in range(LEAD[1]):
            out[i, j] = kl(F.log_softmax(s[i, j].T / T, dim=1), F.softmax(t[i, j].T / T, dim=1))
    return out


@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
@pytest.mark.parametrize("T", [1.0, 2.5])
def test_kl_matches_kldivloss_per_model(reduction, T):
    s, t = _logits(0), _logits(1)
    got = kl_divergence(s, SoftTargets.from_logits(t, T), T, reduction)
    assert got.shape == LEAD
    torch.testing.assert_close(got, _reference_kl(s, t, T, reduction), rtol=1e-10, atol=1e-12)
    assert torch.all(got > 0)


def test_kl_reductions_relate_by_n_and_c():
    s, t = _logits(2), _logits(3)
    tg = SoftTargets.from_logits(t, 1.0)
    total = kl_divergence(s, tg, 1.0, "sum")
    torch.testing.assert_close(kl_divergence(s, tg, 1.0, "batchmean"), total / N)
    torch.testing.assert_close(kl_divergence(s, tg, 1.0, "mean"), total / (N * C))


def test_kl_float32_matches_reference():
    s, t = _logits(4, dtype=torch.float32), _logits(5, dtype=torch.float32)
    got = kl_divergence(s, SoftTargets.from_logits(t, 1.0), 1.0, "batchmean")
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, _reference_kl(s, t, 1.0, "batchmean"), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("T", [0.5, 1.0, 3.0])
def test_kl_zero_when_student_equals_teacher(T):
    s = _logits(6)
    kl = kl_divergence(s, SoftTargets.from_logits(s, T), T, "sum")
    torch.testing.assert_close(kl, torch.zeros(LEAD, dtype=kl.dtype), atol=1e-12, rtol=0)
    # a constant shift per sample leaves the softmax, hence the KL, unchanged
    shifted = s + torch.randn(
        *LEAD, 1, N, dtype=s.dtype, generator=torch.Generator().manual_seed(0)
    )
    kl = kl_divergence(shifted, SoftTargets.from_logits(s, T), T, "sum")
    torch.testing.assert_close(kl, torch.zeros(LEAD, dtype=kl.dtype), atol=1e-12, rtol=0)


@pytest.mark.parametrize("T", [0.5, 2.0, 7.0])
def test_temperature_is_dividing_the_logits(T):
    s, t = _logits(7), _logits(8)
    got = kl_divergence(s, SoftTargets.from_logits(t, T), T, "batchmean")
    plain = kl_divergence(s / T, SoftTargets.from_logits(t / T, 1.0), 1.0, "batchmean")
    torch.testing.assert_close(got, plain, rtol=1e-12, atol=1e-14)


def test_high_temperature_limit():
    """T^2 * KL(softmax(t/T) || softmax(s/T)) -> sum_n Var_c(t - s) / 2 as T grows, and the
    KL itself shrinks with T here (1 -> 4 -> 1000)."""
    s, t = _logits(9), _logits(10)
    limit = 0.5 * (t - s).var(dim=-2, unbiased=False).sum(dim=-1)
    T = 1000.0
    got = T**2 * kl_divergence(s, SoftTargets.from_logits(t, T), T, "sum")
    torch.testing.assert_close(got, limit, rtol=1e-2, atol=0)
    k1, k4, k1000 = (
        kl_divergence(s, SoftTargets.from_logits(t, x), x, "sum") for x in (1.0, 4.0, T)
    )
    assert torch.all(k1 > k4) and torch.all(k4 > k1000)


def test_soft_targets_values():
    t = _logits(11)
    tg = SoftTargets.from_logits(t, 2.0)
    torch.testing.assert_close(tg.probs, torch.softmax(t / 2.0, dim=-2))
    torch.testing.assert_close(tg.probs.sum(dim=-2), torch.ones(*LEAD, N, dtype=t.dtype))
    torch.testing.assert_close(tg.neg_entropy, (tg.probs * tg.probs.log()).sum(dim=(-2, -1)))
    assert not tg.probs.requires_grad  # teacher logits are detached


def test_soft_targets_extreme_logits_no_nan():
    """A teacher so confident that some probabilities are exactly 0 (float32 underflow)."""
    t = torch.zeros(2, 3, N)  # (M, C, N)
    t[:, 0, :] = 200.0
    t[1, 1, ::2] = 200.0  # ties: p = (.5, .5, 0) on even samples of model 1
    t[0, 2, 0] = -1e4
    tg = SoftTargets.from_logits(t, 1.0)
    assert (tg.probs == 0).any()
    assert torch.isfinite(tg.neg_entropy).all()
    s = torch.randn(2, 3, N, generator=torch.Generator().manual_seed(3), requires_grad=True)
    for reduction in KL_REDUCTIONS:
        kl = kl_divergence(s, tg, 1.0, reduction)
        assert torch.isfinite(kl).all() and torch.all(kl >= 0)
    # the value: sum over classes with p > 0 only
    kl = kl_divergence(s, tg, 1.0, "sum")
    p, log_q = tg.probs, F.log_softmax(s.detach(), dim=-2)
    mask = p > 0
    expected = torch.where(mask, p * (torch.log(torch.where(mask, p, 1.0)) - log_q), 0.0).sum(
        dim=(-2, -1)
    )
    torch.testing.assert_close(kl.detach(), expected, rtol=1e-5, atol=1e-5)
    (grad,) = torch.autograd.grad(kl.sum(), s)
    assert torch.isfinite(grad).all()
    # extreme student logits as well: log_softmax stays finite, KL is large but finite
    s_far = torch.zeros(2, 3, N)
    s_far[:, 2, :] = 1e4
    kl_far = kl_divergence(s_far, tg, 1.0, "batchmean")
    assert torch.isfinite(kl_far).all() and torch.all(kl_far > 1e3)


def test_kdconfig_defaults_are_the_reference():
    cfg = KDConfig()
    assert (cfg.temperature, cfg.w_gt, cfg.w_kd, cfg.kl_reduction, cfg.t_squared) == (
        1.0,
        1.0,
        1.0,
        "mean",
        False,
    )


@pytest.mark.parametrize("bad", ["none", "Mean", "batch_mean", ""])
def test_kdconfig_rejects_reduction(bad):
    with pytest.raises(ValueError) as err:
        KDConfig(kl_reduction=bad)
    msg = str(err.value)
    assert repr(bad) in msg
    for allowed in KL_REDUCTIONS:
        assert allowed in msg


@pytest.mark.parametrize("T", [0.0, -1.0, -0.5])
def test_kdconfig_rejects_temperature(T):
    with pytest.raises(ValueError, match=r"temperature must be > 0"):
        KDConfig(temperature=T)


def test_kdconfig_accepts_valid():
    for r in KL_REDUCTIONS:
        assert KDConfig(temperature=0.1, kl_reduction=r).kl_reduction == r


def test_kl_divergence_rejects_reduction():
    s = _logits(12)
    with pytest.raises(ValueError) as err:
        kl_divergence(s, SoftTargets.from_logits(s, 1.0), 1.0, "none")
    for allowed in KL_REDUCTIONS:
        assert allowed in str(err.value)


def test_cross_entropy_per_model():
    s = _logits(13)
    y = torch.randint(0, C, (*LEAD, N), generator=torch.Generator().manual_seed(1))
    got = cross_entropy(s, y)
    assert got.shape == LEAD
    for i in range(LEAD[0]):
        for j in range(LEAD[1]):
            torch.testing.assert_close(
                got[i, j], F.cross_entropy(s[i, j].T, y[i, j]), rtol=1e-12, atol=0
            )
    # and F.cross_entropy's own (batch, C, d1) layout, models as the batch
    flat = F.cross_entropy(s.flatten(0, 1), y.flatten(0, 1), reduction="none").mean(dim=-1)
    torch.testing.assert_close(got.flatten(), flat, rtol=1e-12, atol=0)


@pytest.mark.parametrize("reduction", KL_REDUCTIONS)
@pytest.mark.parametrize("T, t_squared", [(1.0, False), (3.0, False), (3.0, True)])
def test_distillation_loss_formula(reduction, T, t_squared):
    s, t = _logits(14), _logits(15)
    y = torch.randint(0, C, (*LEAD, N), generator=torch.Generator().manual_seed(2))
    cfg = KDConfig(temperature=T, w_gt=0.3, w_kd=1.7, kl_reduction=reduction, t_squared=t_squared)
    got = distillation_loss(s, SoftTargets.from_logits(t, T), y, cfg)
    kl = _reference_kl(s, t, T, reduction) * (T**2 if t_squared else 1.0)
    ce = torch.stack(
        [
            torch.stack([F.cross_entropy(s[i, j].T, y[i, j]) for j in range(LEAD[1])])
            for i in range(LEAD[0])
        ]
    )
    torch.testing.assert_close(got, 0.3 * ce + 1.7 * kl, rtol=1e-10, atol=1e-12)


def test_losses_are_per_model():
    """Changing model (1, 2)'s logits changes only its loss: no coupling across the ensemble."""
    s, t = _logits(16), _logits(17)
    y = torch.randint(0, C, (*LEAD, N), generator=torch.Generator().manual_seed(3))
    tg = SoftTargets.from_logits(t, 2.0)
    cfg = KDConfig(temperature=2.0)
    base = distillation_loss(s, tg, y, cfg)
    s2 = s.clone()
    s2[1, 2] += torch.randn(C, N, dtype=s.dtype, generator=torch.Generator().manual_seed(4))
    changed = distillation_loss(s2, tg, y, cfg)
    diff = changed != base
    assert diff[1, 2] and diff.sum() == 1


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum"])
@pytest.mark.parametrize("t_squared", [False, True])
def test_logit_gradient_equals_autograd(reduction, t_squared):
    from mfh.kd import logit_gradient

    g = torch.Generator().manual_seed(3)
    logits = torch.randn(4, 3, 17, generator=g, dtype=torch.float64, requires_grad=True)
    teacher = 2 * torch.randn(4, 3, 17, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (4, 17), generator=g)
    cfg = KDConfig(temperature=2.5, w_gt=0.7, w_kd=1.3, kl_reduction=reduction, t_squared=t_squared)
    targets = SoftTargets.from_logits(teacher, cfg.temperature)
    (auto,) = torch.autograd.grad(distillation_loss(logits, targets, y, cfg).sum(), logits)
    torch.testing.assert_close(logit_gradient(logits.detach(), y, targets, cfg), auto)
    (auto_ce,) = torch.autograd.grad(cross_entropy(logits, y).sum(), logits)
    torch.testing.assert_close(logit_gradient(logits.detach(), y), auto_ce)
