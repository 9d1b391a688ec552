"""Tests of Algorithm 1's permutation salience (step 2, mfh.algorithm1) on data whose shared
channels are known:
- input channels of an ensemble (PROTOCOL Exp 3 in small): after the joint training, the
  top-xs2 channels by salience are the shared ones, far more salient than a-only or noise;
- penultimate channels of a hand-built net: the shared channels rank first, with the values of
  the linear theory (permuting channel k raises the MSE by 2 w_a,k . w_b,k Var / C);
- every batch counts: equality with a direct per-batch, per-channel, per-repeat computation with
  the same draws;
- a dead channel (constant on every sample) scores the
  unpermuted MSE;
- chunking, determinism, independent permutations per model, eval mode, argument checks.

Layouts: ensembles x (M, d, N), logits (M, C, N); nets x (N, d), penultimate (N, H), logits (N, C).
"""

from __future__ import annotations

import pytest
import torch

from mfh.algorithm1.inputs import _chunk_sizes, input_salience, train_joint_ensemble
from mfh.algorithm1.penultimate import penultimate_salience, teacher_importance
from mfh.algorithm1.selection import minmax, top_k
from mfh.models.build import build_fusion, build_model
from mfh.models.linear import LinearEnsemble

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def precision(selected: torch.Tensor, truly_shared: torch.Tensor) -> torch.Tensor:
    """Share of the selected channels (M, k) that are truly shared ((K,) bool), per model."""
    return truly_shared.expand(len(selected), -1).gather(-1, selected).double().mean(dim=-1)


# --------------------------------------------------------------------------------------------
# Input channels of an ensemble
# --------------------------------------------------------------------------------------------

XS1, XS2, D = 6, 4, 20  # a-only latent dims, shared latent dims, channels per modality
SHARED_INPUTS = torch.arange(D) < XS2


def exp3_data(m: int, n: int, seed: int):
    """Exp 3 in small: y = 1[sum of the XS1 + XS2 latent dims > 0].

    x_a holds all latent dims in channels 0 .. XS1+XS2-1 (the first XS2 are the shared ones),
    x_b holds the first XS2 latent dims in channels 0 .. XS2-1; other channels are N(0, 1) noise.
    Returns x_a (M, D, N), x_b (M, D, N), y (M, N).
    """
    g = gen(seed)
    latent = torch.randn(m, XS1 + XS2, n, generator=g)
    y = (latent.sum(dim=1) > 0).long()
    x_a = torch.randn(m, D, n, generator=g)
    x_a[:, : XS1 + XS2] = latent
    x_b = torch.randn(m, D, n, generator=g)
    x_b[:, :XS2] = latent[:, :XS2]
    return x_a, x_b, y


@pytest.fixture(scope="module")
def trained_linear():
    x_a, x_b, y = exp3_data(3, 300, seed=0)
    f_a, f_b = LinearEnsemble([1, 2, 3], D, 2), LinearEnsemble([4, 5, 6], D, 2)
    train_joint_ensemble(f_a, f_b, x_a, x_b, y, epochs=300)
    return f_a, f_b, x_a, x_b


def test_input_salience_finds_shared_channels(trained_linear):
    f_a, f_b, x_a, x_b = trained_linear
    s = minmax(input_salience(f_a, f_b, x_a, x_b, repeats=20, generator=gen(0)))  # (M, D)
    assert s.shape == (3, D)
    shared, a_only, noise = s[:, :XS2], s[:, XS2 : XS1 + XS2], s[:, XS1 + XS2 :]
    print("input salience shared/a-only/noise", shared.mean(), a_only.mean(), noise.mean())
    # measured: precision 1.0 for every model; shared 0.78, a-only 0.008, noise 0.003
    assert precision(top_k(s, XS2), SHARED_INPUTS).tolist() == [1.0, 1.0, 1.0]
    assert shared.mean() > 5 * a_only.mean() and shared.mean() > 5 * noise.mean()


def test_chunking_does_not_change_the_result(trained_linear):
    f_a, f_b, x_a, x_b = trained_linear
    whole = input_salience(f_a, f_b, x_a, x_b, repeats=7, generator=gen(3))
    tiny = input_salience(f_a, f_b, x_a, x_b, repeats=7, generator=gen(3), max_bytes=1)
    assert torch.allclose(whole, tiny, atol=1e-6, rtol=1e-6)


def test_chunk_sizes():
    assert _chunk_sizes(100, 93) == [50, 50]
    assert _chunk_sizes(7, 1) == [1] * 7
    assert _chunk_sizes(10, 4) == [4, 3, 3]
    assert _chunk_sizes(5, 100) == [5]


def test_same_seed_same_salience(trained_linear):
    f_a, f_b, x_a, x_b = trained_linear
    a, b, c = (
        input_salience(f_a, f_b, x_a, x_b, repeats=3, generator=gen(seed)) for seed in (11, 11, 12)
    )
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_permutations_are_independent_per_model():
    """Two identical models on identical data get different salience noise (own permutations)."""
    x_a, x_b, _ = exp3_data(1, 50, seed=0)
    x_a, x_b = x_a.expand(2, -1, -1), x_b.expand(2, -1, -1)
    f_a, f_b = LinearEnsemble([1, 1], D, 2), LinearEnsemble([2, 2], D, 2)
    s = input_salience(f_a, f_b, x_a, x_b, repeats=2, generator=gen(0))
    assert not torch.equal(s[0], s[1])


def test_nets_run_in_eval_mode_and_modes_are_restored(trained_linear):
    f_a, f_b, x_a, x_b = trained_linear
    seen = []
    hooks = [
        f.register_forward_hook(lambda mod, i, o: seen.append(mod.training)) for f in (f_a, f_b)
    ]
    f_a.train()
    f_b.eval()
    try:
        input_salience(f_a, f_b, x_a, x_b, repeats=2, generator=gen(0))
    finally:
        for hook in hooks:
            hook.remove()
    assert seen and not any(seen)
    assert f_a.training and not f_b.training


def test_input_salience_checks_arguments(trained_linear):
    f_a, f_b, x_a, x_b = trained_linear
    with pytest.raises(ValueError, match="repeats"):
        input_salience(f_a, f_b, x_a, x_b, repeats=0, generator=gen(0))
    with pytest.raises(ValueError, match="samples"):
        input_salience(f_a, f_b, x_a, x_b[..., :10], repeats=2, generator=gen(0))


# --------------------------------------------------------------------------------------------
# Penultimate channels of batch-first nets
# --------------------------------------------------------------------------------------------

C, SHARED, A_ONLY, N = 10, 4, 4, 400
OFFSET = 5.0  # keeps ReLU(z + OFFSET) linear for the clamped N(0, 1) latents


def hand_built_mlp(w_head: torch.Tensor):
    """An mlp net d -> d -> d -> C with penultimate = x + OFFSET and logits = w_head @ x."""
    d = w_head.shape[1]
    model = build_model("mlp", (d,), C, hidden=d)
    with torch.no_grad():
        for lin in (model.encoders[0][0], model.fc):
            lin.weight.copy_(torch.eye(d))
            lin.bias.zero_()
        model.encoders[0][0].bias.fill_(OFFSET)
        model.head.weight.copy_(w_head)
        model.head.bias.copy_(-OFFSET * w_head.sum(dim=1))
    return model


def known_roles(n: int = N):
    """f_a sees all latents z (N, 8), f_b the first SHARED; both use the same head weights."""
    g = gen(0)
    z = torch.randn(n, SHARED + A_ONLY, generator=g).clamp(-4, 4)
    w = torch.randn(C, SHARED + A_ONLY, generator=g)
    w = w / w.norm(dim=0)  # unit column norms: every channel weighs the same in f_a
    return hand_built_mlp(w), hand_built_mlp(w[:, :SHARED]), z, z[:, :SHARED], w


def test_shared_channels_rank_first_with_theory_values():
    f_a, f_b, x_a, x_b, w = known_roles()
    raw = penultimate_salience(f_a, f_b, (x_a,), (x_b,), repeats=5, batch_size=64, generator=gen(1))
    assert raw.shape == (SHARED + A_ONLY,)
    shared = torch.arange(SHARED + A_ONLY) < SHARED
    assert precision(top_k(minmax(raw)[None], SHARED), shared).item() == 1.0
    with torch.no_grad():
        base = (f_a(x_a) - f_b(x_b)).square().mean()  # the unpermuted MSE
    var = x_a.var(dim=0)
    expected = base + 2 * (w * w).sum(dim=0) * var / C * shared  # a-only: no increase
    assert torch.allclose(raw, expected, atol=0.03)


def direct_salience(f_a, f_b, x_a, x_b, repeats, batch_size, seed):
    """The definition, loop by loop, with the same draws (per batch: R permutations)."""
    g = gen(seed)
    with torch.no_grad():
        h_all, target_all = f_a.features(x_a), f_b(x_b)
    total = torch.zeros(h_all.shape[1])
    for rows in torch.arange(len(x_a)).split(batch_size):
        h, target = h_all[rows], target_all[rows]
        perms = torch.rand(repeats, len(rows), generator=g).argsort(dim=1)
        for k in range(h.shape[1]):
            for perm in perms:
                permuted = h.clone()
                permuted[:, k] = h[perm, k]
                mse = (f_a.head(permuted) - target).square().mean()
                total[k] += mse.item() * len(rows) / repeats
    return total / len(x_a)


def test_every_batch_counts():
    f_a = build_model("mlp", (6,), C, hidden=5, seed=1)
    f_b = build_model("mlp", (3,), C, hidden=5, seed=2)
    g = gen(3)
    x_a, x_b = torch.randn(50, 6, generator=g), torch.randn(50, 3, generator=g)
    got = penultimate_salience(f_a, f_b, (x_a,), (x_b,), repeats=3, batch_size=16, generator=gen(4))
    expected = direct_salience(f_a, f_b, x_a, x_b, repeats=3, batch_size=16, seed=4)
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_fusion_teacher_as_f_a():
    f_a = build_fusion("mlp", (4,), "mlp", (3,), C, hidden=6, seed=0)
    f_b = build_model("mlp", (3,), C, hidden=5, seed=1)
    x_a, x_b = torch.randn(20, 4), torch.randn(20, 3)
    raw = penultimate_salience(
        f_a, f_b, (x_a, x_b), (x_b,), repeats=2, batch_size=8, generator=gen(0)
    )
    assert raw.shape == (6,) and (raw > 0).all()


def test_rejects_a_head_that_does_not_continue_from_penultimate():
    f_a, f_b, x_a, x_b, _ = known_roles(40)
    f_a.forward_from_penultimate = lambda h: f_a.head(h) + 1.0
    with pytest.raises(ValueError, match="does not continue from layer 'penultimate'"):
        penultimate_salience(f_a, f_b, (x_a,), (x_b,), repeats=1, batch_size=8, generator=gen(0))
    assert not f_a.penultimate._forward_hooks  # the hook is removed after the error


def test_penultimate_salience_checks_arguments():
    f_a, f_b, x_a, x_b, _ = known_roles(40)
    with pytest.raises(ValueError, match="batch_size"):
        penultimate_salience(f_a, f_b, (x_a,), (x_b,), repeats=1, batch_size=0, generator=gen(0))
    with pytest.raises(TypeError, match="forward_from_penultimate"):
        penultimate_salience(
            LinearEnsemble([1], 4, 2),
            f_b,
            (x_a,),
            (x_b,),
            repeats=1,
            batch_size=8,
            generator=gen(0),
        )


def test_dead_channels_have_no_salience_increase():
    """Permuting a constant channel changes nothing: every dead channel (its ReLU never on)
    scores the unpermuted MSE, against f_b and against the teacher itself (importance 0)."""
    f_a, f_b, x_a, x_b, _ = known_roles(64)
    mask = torch.tensor([True, False, False, False, True, False, False, False])
    with torch.no_grad():
        f_a.fc.weight[mask] = 0.0
        f_a.fc.bias[mask] = -1.0  # channels 0 and 4 output 0 for every sample
    raw = penultimate_salience(f_a, f_b, (x_a,), (x_b,), repeats=2, batch_size=64, generator=gen(0))
    importance = teacher_importance(f_a, (x_a,), repeats=2, batch_size=64, generator=gen(0))
    with torch.no_grad():
        base = (f_a(x_a) - f_b(x_b)).square().mean()
    assert torch.allclose(raw[mask], base.expand(2), rtol=1e-5)
    assert torch.equal(importance[mask], torch.zeros(2))
    assert (importance[~mask] > 0).all()
