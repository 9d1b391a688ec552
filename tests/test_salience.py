"""Tests of Algorithm 1 (mfh.salience) and of the MLP ensemble (mfh.models.mlp).

On data whose shared channels are known:
- input level, linear nets (PROTOCOL Exp 3 in small): after `train_joint`, the top-xs2 channels
  by salience are the shared ones, and shared channels are far more salient than a-only or noise;
- hidden level, an MLP set by hand so that each hidden unit has a known role (copy of a shared
  channel, of an a-only channel, or of noise): the hook-based salience ranks the shared units first;
- batching: every batch counts (equality with a manual size-weighted average over batches);
- `train_joint` equals a per-model reference with `torch.optim.SGD(momentum=0.9)`;
- selection helpers on hand-made tensors, argument checks, determinism.

Layout: x (M, d, N), hidden (M, H, N), logits (M, C, N), y (M, N).
"""

from __future__ import annotations

import logging

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mfh.models.linear import LinearEnsemble
from mfh.models.mlp import MLPEnsemble
from mfh.salience import (
    _chunk_sizes,
    by_threshold,
    channel_salience,
    drop_ratio,
    joint_loss,
    minmax,
    n_dropped,
    precision_at_k,
    top_k,
    train_joint,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

XS1, XS2, D = 6, 4, 20  # a-only latent dims, shared latent dims, channels per modality
H = 16  # hidden units of the hand-built MLP
BIAS = 5.0  # keeps ReLU(x + BIAS) linear for the N(0, 1) inputs


def exp3_data(m: int, n: int, seed: int, xs1: int = XS1, xs2: int = XS2, d: int = D):
    """Exp 3 in small: y = 1[sum of the xs1 + xs2 latent dims > 0] (h = ones).

    x_a holds all latent dims in channels 0 .. xs1+xs2-1 (the first xs2 are the shared ones),
    x_b holds the first xs2 latent dims in channels 0 .. xs2-1; other channels are N(0, 1) noise.
    Returns x_a (M, d, N), x_b (M, d, N), y (M, N).
    """
    g = torch.Generator().manual_seed(seed)
    latent = torch.randn(m, xs1 + xs2, n, generator=g)
    y = (latent.sum(dim=1) > 0).long()
    x_a = torch.randn(m, d, n, generator=g)
    x_a[:, : xs1 + xs2] = latent
    x_b = torch.randn(m, d, n, generator=g)
    x_b[:, :xs2] = latent[:, :xs2]
    return x_a, x_b, y


def shared_mask(d: int = D, xs2: int = XS2) -> torch.Tensor:
    mask = torch.zeros(d, dtype=torch.bool)
    mask[:xs2] = True
    return mask


# --------------------------------------------------------------------------------------------
# Input level, linear nets
# --------------------------------------------------------------------------------------------

MEASURED: dict[str, object] = {}  # printed with pytest -s


@pytest.fixture(scope="module")
def trained_linear():
    m, n = 3, 300
    x_a, x_b, y = exp3_data(m, n, seed=0)
    f_a = LinearEnsemble([1, 2, 3], D, 2)
    f_b = LinearEnsemble([4, 5, 6], D, 2)
    train_joint(f_a, f_b, x_a, x_b, y, epochs=300)
    return f_a, f_b, x_a, x_b, y


def test_input_salience_finds_shared_channels(trained_linear):
    f_a, f_b, x_a, x_b, _ = trained_linear
    s = minmax(channel_salience(f_a, f_b, x_a, x_b, repeats=20, generator=gen(0)))  # (M, D)
    assert s.shape == (3, D)
    precision = precision_at_k(top_k(s, XS2), shared_mask())
    shared, a_only, noise = (
        s[:, :XS2].mean(),
        s[:, XS2 : XS1 + XS2].mean(),
        s[:, XS1 + XS2 :].mean(),
    )
    MEASURED["input precision@k"] = precision.tolist()
    MEASURED["input salience shared/a-only/noise"] = [shared.item(), a_only.item(), noise.item()]
    print(MEASURED)
    # measured: precision 1.0 for every model; shared 0.78, a-only 0.008, noise 0.003
    assert precision.mean() >= 0.75
    assert shared > 5 * a_only and shared > 5 * noise


def test_train_joint_loss_decreases(trained_linear):
    _, _, x_a, x_b, y = trained_linear
    f_a, f_b = LinearEnsemble([1, 2, 3], D, 2), LinearEnsemble([4, 5, 6], D, 2)
    with torch.no_grad():
        before = joint_loss(f_a(x_a), f_b(x_b), y)
    after = train_joint(f_a, f_b, x_a, x_b, y, epochs=100)
    assert after.shape == (3,)
    assert (after < before).all()
    with torch.no_grad():
        assert torch.allclose(after, joint_loss(f_a(x_a), f_b(x_b), y))


# --------------------------------------------------------------------------------------------
# train_joint against a per-model torch.optim reference
# --------------------------------------------------------------------------------------------


def test_train_joint_equals_per_model_sgd_momentum():
    m, n, epochs, lr = 2, 60, 50, 0.05
    x_a, x_b, y = exp3_data(m, n, seed=3)
    f_a, f_b = LinearEnsemble([7, 8], D, 2), LinearEnsemble([9, 10], D, 2)
    refs = []
    for i in range(m):  # per-model nn.Linear copies, (N, d) layout
        lin_a, lin_b = nn.Linear(D, 2), nn.Linear(D, 2)
        with torch.no_grad():
            for lin, ens in ((lin_a, f_a), (lin_b, f_b)):
                lin.weight.copy_(ens.weight[i])
                lin.bias.copy_(ens.bias[i])
        refs.append((lin_a, lin_b))
    train_joint(f_a, f_b, x_a, x_b, y, epochs=epochs, lr=lr, momentum=0.9)

    for i, (lin_a, lin_b) in enumerate(refs):
        params = [*lin_a.parameters(), *lin_b.parameters()]
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9)
        xa, xb, yi = x_a[i].T, x_b[i].T, y[i]  # (N, d), (N, d), (N,)
        for _ in range(epochs):
            opt.zero_grad()
            la, lb = lin_a(xa), lin_b(xb)
            loss = F.cross_entropy(la, yi) + F.cross_entropy(lb, yi) + F.mse_loss(la, lb)
            loss.backward()
            opt.step()
        for lin, ens in ((lin_a, f_a), (lin_b, f_b)):
            assert torch.allclose(lin.weight, ens.weight[i], atol=1e-5, rtol=0)
            assert torch.allclose(lin.bias, ens.bias[i], atol=1e-5, rtol=0)


def test_train_joint_checks_shapes():
    x_a, x_b, y = exp3_data(2, 10, seed=0)
    f_a, f_b = LinearEnsemble([1, 2], D, 2), LinearEnsemble([3, 4], D, 2)
    with pytest.raises(ValueError, match="same number of models"):
        train_joint(f_a, f_b, x_a, x_b[..., :5], y, epochs=1)
    with pytest.raises(ValueError, match="y must be"):
        train_joint(f_a, f_b, x_a, x_b, y[:, :5], epochs=1)


# --------------------------------------------------------------------------------------------
# Hidden level: an MLP whose hidden units have known roles
# --------------------------------------------------------------------------------------------

# Per model: the hidden units that copy shared channels, a-only channels, and noise channels.
# Model 1 shuffles the roles, so a per-model mask is needed.
ROLES = [
    {"shared": range(0, 4), "a_only": range(4, 8), "noise": range(8, 16)},
    {"shared": range(12, 16), "a_only": range(0, 4), "noise": range(4, 12)},
]
READOUT = {"shared": 1.0, "a_only": 0.5, "noise": 0.1}  # fc2 weight of each role


def hand_built_pair():
    """f_a: MLP on x_a whose unit roles are ROLES; f_b: linear on x_b computing the shared sum.

    Unit u of role r copies one input channel c: h_u = ReLU(x_c + BIAS) = x_c + BIAS (shared
    units read channels 0..3, a-only units 4..7, noise units 10..17). Logit 1 of f_a is
    sum_u READOUT[role(u)] * (h_u - BIAS), logit 0 is 0; f_b's logit 1 is sum of x_b[0..3].
    Permuting a unit that f_a reads with weight w_a from a latent x that f_b reads with weight
    w_b replaces w_a * x by w_a * x' (x' = x permuted) in the logit difference, which raises the
    expected squared difference by w_a^2 + w_b^2 - (w_a - w_b)^2 = 2 w_a w_b, i.e. the MSE over
    C = 2 logits by w_a * w_b: about 1 for a shared unit (w_a = w_b = 1) and 0 for an a-only or
    noise unit (w_b = 0), whatever its readout weight — the information only a holds does not
    count, which is the point of Algorithm 1.
    """
    m = len(ROLES)
    f_a = MLPEnsemble.from_seeds(range(m), D, H, 2)
    f_b = LinearEnsemble(range(m), D, 2)
    first_channel = {"shared": 0, "a_only": XS2, "noise": XS1 + XS2}
    with torch.no_grad():
        for p in (*f_a.parameters(), *f_b.parameters()):
            p.zero_()
        for i, roles in enumerate(ROLES):
            for role, units in roles.items():
                for j, u in enumerate(units):
                    f_a.fc1.weight[i, u, first_channel[role] + j] = 1.0
                    f_a.fc1.bias[i, u] = BIAS
                    f_a.fc2.weight[i, 1, u] = READOUT[role]
                    f_a.fc2.bias[i, 1] -= READOUT[role] * BIAS
            f_b.weight[i, 1, :XS2] = 1.0
    return f_a, f_b


def unit_masks() -> dict[str, torch.Tensor]:
    """Role -> (M, H) bool mask of the units with that role."""
    masks = {role: torch.zeros(len(ROLES), H, dtype=torch.bool) for role in READOUT}
    for i, roles in enumerate(ROLES):
        for role, units in roles.items():
            masks[role][i, list(units)] = True
    return masks


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def mlp_case():
    x_a, x_b, _ = exp3_data(len(ROLES), 250, seed=1)
    return (*hand_built_pair(), x_a, x_b)


def test_hidden_salience_ranks_shared_units_first(mlp_case):
    f_a, f_b, x_a, x_b = mlp_case
    raw = channel_salience(f_a, f_b, x_a, x_b, repeats=20, generator=gen(0), layer="hidden")
    assert raw.shape == (len(ROLES), H)
    masks = unit_masks()
    precision = precision_at_k(top_k(minmax(raw), XS2), masks["shared"])
    MEASURED["hidden precision@k"] = precision.tolist()
    assert precision.tolist() == [1.0, 1.0]
    # Raw salience = baseline MSE + the increase predicted in hand_built_pair (~1, 0, 0).
    with torch.no_grad():
        base = (f_a(x_a) - f_b(x_b)).square().mean(dim=(1, 2))  # (M,) unpermuted MSE
    increase = raw - base[:, None]  # (M, H)
    MEASURED["hidden increase shared/a-only/noise"] = [
        increase[masks[role]].mean().item() for role in ("shared", "a_only", "noise")
    ]
    print(MEASURED)
    assert increase[masks["shared"]].mean() == pytest.approx(1.0, rel=0.15)
    assert increase[masks["a_only"]].abs().max() < 0.15
    assert increase[masks["noise"]].abs().max() < 0.05


def test_layer_choice_sets_channel_count_and_hook_is_removed(mlp_case):
    f_a, f_b, x_a, x_b = mlp_case
    with torch.no_grad():
        before = f_a(x_a)
    s_in = channel_salience(f_a, f_b, x_a, x_b, repeats=5, generator=gen(0))
    s_hidden = channel_salience(f_a, f_b, x_a, x_b, repeats=5, generator=gen(0), layer="hidden")
    assert s_in.shape == (2, D) and s_hidden.shape == (2, H)
    assert not f_a.hidden._forward_hooks
    with torch.no_grad():
        assert torch.equal(f_a(x_a), before)
    # On the input, the shared channels 0..3 lead for both models.
    assert precision_at_k(top_k(s_in, XS2), shared_mask()).tolist() == [1.0, 1.0]


def test_hook_is_removed_after_an_error(mlp_case):
    f_a, f_b, x_a, x_b = mlp_case
    with pytest.raises(RuntimeError):  # f_b gets the wrong number of features
        channel_salience(f_a, f_b, x_a, x_b[:, :5], repeats=2, generator=gen(0), layer="hidden")
    assert not f_a.hidden._forward_hooks


def test_unknown_layer_and_bad_arguments(mlp_case):
    f_a, f_b, x_a, x_b = mlp_case
    with pytest.raises(ValueError, match="no submodule 'fc3'.*fc1"):
        channel_salience(f_a, f_b, x_a, x_b, repeats=2, generator=gen(0), layer="fc3")
    with pytest.raises(ValueError, match="repeats"):
        channel_salience(f_a, f_b, x_a, x_b, repeats=0, generator=gen(0))
    with pytest.raises(ValueError, match="batch_size"):
        channel_salience(f_a, f_b, x_a, x_b, repeats=2, generator=gen(0), batch_size=0)
    with pytest.raises(ValueError, match="samples"):
        channel_salience(f_a, f_b, x_a, x_b[..., :10], repeats=2, generator=gen(0))


def test_models_run_in_eval_mode_and_modes_are_restored(mlp_case):
    f_a, f_b, x_a, x_b = mlp_case
    seen = []
    handle = f_a.fc2.register_forward_hook(lambda mod, inp, out: seen.append(mod.training))
    f_a.train()
    f_b.eval()
    try:
        channel_salience(f_a, f_b, x_a, x_b, repeats=2, generator=gen(0), layer="hidden")
    finally:
        handle.remove()
    assert seen and not any(seen)
    assert f_a.training and not f_b.training


# --------------------------------------------------------------------------------------------
# Batching, chunking, determinism
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", [None, "hidden"])
def test_batch_size_n_equals_no_batching(mlp_case, layer):
    f_a, f_b, x_a, x_b = mlp_case
    n = x_a.shape[-1]
    s_none = channel_salience(f_a, f_b, x_a, x_b, repeats=4, generator=gen(5), layer=layer)
    s_full = channel_salience(
        f_a, f_b, x_a, x_b, repeats=4, generator=gen(5), layer=layer, batch_size=n
    )
    assert torch.equal(s_none, s_full)


@pytest.mark.parametrize("layer", [None, "hidden"])
def test_all_batches_count_weighted_by_size(mlp_case, layer):
    """batch_size=100 on N=250 equals the 100/100/50-weighted mean of the three batches, each
    computed alone with the same generator stream (draws go batch by batch)."""
    f_a, f_b, x_a, x_b = mlp_case
    batched = channel_salience(
        f_a, f_b, x_a, x_b, repeats=3, generator=gen(9), layer=layer, batch_size=100
    )
    g = gen(9)
    manual = sum(
        channel_salience(
            f_a, f_b, x_a[..., a:b], x_b[..., a:b], repeats=3, generator=g, layer=layer
        )
        * (b - a)
        for a, b in ((0, 100), (100, 200), (200, 250))
    )
    assert torch.allclose(batched, manual / 250, atol=1e-6, rtol=1e-6)


def test_signal_in_first_batch_only_is_not_lost(mlp_case):
    """Shared channels carry signal only in the first batch of 100 (zero afterwards): the
    shared units still lead, with about 100/250 of the full-signal increase (~0.4 instead of
    ~1); the last batch alone would show no increase at all."""
    f_a, f_b, x_a, x_b = mlp_case
    x_a, x_b = x_a.clone(), x_b.clone()
    x_a[:, :XS2, 100:] = 0.0
    x_b[:, :XS2, 100:] = 0.0
    s = channel_salience(
        f_a, f_b, x_a, x_b, repeats=20, generator=gen(2), layer="hidden", batch_size=100
    )
    masks = unit_masks()
    assert precision_at_k(top_k(s, XS2), masks["shared"]).tolist() == [1.0, 1.0]
    gain = (s[masks["shared"]] - s[masks["noise"]].mean()).mean()
    assert gain == pytest.approx(0.4, rel=0.25)


def test_batched_salience_still_ranks_correctly(mlp_case):
    f_a, f_b, x_a, x_b = mlp_case
    s = channel_salience(
        f_a, f_b, x_a, x_b, repeats=10, generator=gen(4), layer="hidden", batch_size=64
    )
    assert precision_at_k(top_k(s, XS2), unit_masks()["shared"]).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("layer", [None, "hidden"])
def test_chunking_does_not_change_the_result(mlp_case, layer):
    f_a, f_b, x_a, x_b = mlp_case
    kwargs = dict(repeats=7, layer=layer)
    whole = channel_salience(f_a, f_b, x_a, x_b, generator=gen(3), **kwargs)
    tiny = channel_salience(f_a, f_b, x_a, x_b, generator=gen(3), max_bytes=1, **kwargs)
    assert torch.allclose(whole, tiny, atol=1e-6, rtol=1e-6)


def test_chunk_sizes():
    assert _chunk_sizes(100, 93) == [50, 50]
    assert _chunk_sizes(7, 1) == [1] * 7
    assert _chunk_sizes(10, 4) == [4, 3, 3]
    assert _chunk_sizes(5, 100) == [5]


def test_same_seed_same_salience(mlp_case):
    f_a, f_b, x_a, x_b = mlp_case
    a = channel_salience(f_a, f_b, x_a, x_b, repeats=3, generator=gen(11), layer="hidden")
    b = channel_salience(f_a, f_b, x_a, x_b, repeats=3, generator=gen(11), layer="hidden")
    c = channel_salience(f_a, f_b, x_a, x_b, repeats=3, generator=gen(12), layer="hidden")
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_permutations_are_independent_per_model():
    """Two identical models on identical data get different salience noise (own permutations)."""
    x_a, x_b, _ = exp3_data(1, 50, seed=0)
    x_a, x_b = x_a.expand(2, -1, -1), x_b.expand(2, -1, -1)
    f_a, f_b = LinearEnsemble([1, 1], D, 2), LinearEnsemble([2, 2], D, 2)
    s = channel_salience(f_a, f_b, x_a, x_b, repeats=2, generator=gen(0))
    assert not torch.equal(s[0], s[1])


# --------------------------------------------------------------------------------------------
# MLPEnsemble
# --------------------------------------------------------------------------------------------


def test_mlp_forward_matches_per_model_layers():
    f = MLPEnsemble([1, 2, 3], [4, 5, 6], 5, 8, 3)
    x = torch.randn(3, 5, 11, generator=gen(0))
    out = f(x)
    assert out.shape == (3, 3, 11)
    for i in range(3):
        h = torch.relu(f.fc1.weight[i] @ x[i] + f.fc1.bias[i][:, None])  # (H, N)
        ref = f.fc2.weight[i] @ h + f.fc2.bias[i][:, None]  # (C, N)
        assert torch.allclose(out[i], ref, atol=1e-6)
    assert f.get_submodule("hidden") is f.hidden and f.n_models == 3


def test_mlp_seeding():
    a = MLPEnsemble.from_seeds([1, 2], 5, 8, 3)
    b = MLPEnsemble.from_seeds([1, 7], 5, 8, 3)
    assert torch.equal(a.fc1.weight[0], b.fc1.weight[0])  # model 0 does not depend on model 1
    assert not torch.equal(a.fc1.weight[0], a.fc1.weight[1])
    assert not torch.equal(a.fc2.weight[0, :, :5], a.fc1.weight[0, :3, :5])  # distinct streams
    with pytest.raises(ValueError, match="one seed per model"):
        MLPEnsemble([1, 2], [3], 5, 8, 3)


# --------------------------------------------------------------------------------------------
# Normalisation and selection helpers
# --------------------------------------------------------------------------------------------


def test_minmax():
    s = torch.tensor([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0], [-2.0, 0.0, 2.0]])
    out = minmax(s)
    assert torch.equal(out, torch.tensor([[0.0, 1.0, 0.5], [0.0, 0.0, 0.0], [0.0, 0.5, 1.0]]))
    assert not out.isnan().any()


def test_top_k_sorted_with_ties_to_lower_index():
    s = torch.tensor([[1.0, 1.0, 0.0, 1.0], [0.0, 0.2, 0.9, 0.5]])
    assert top_k(s, 2).tolist() == [[0, 1], [2, 3]]
    assert top_k(s, 4).tolist() == [[0, 1, 2, 3]] * 2
    assert top_k(s, 1).dtype == torch.int64
    for k in (0, 5):
        with pytest.raises(ValueError, match=r"k must be in \[1, 4\]"):
            top_k(s, k)


def test_drop_ratio():
    s = torch.tensor([[0.1, 0.9, 0.5, 0.3], [0.4, 0.3, 0.2, 0.1]])
    assert drop_ratio(s, 0.5, drop="least").tolist() == [[1, 2], [0, 1]]
    assert drop_ratio(s, 0.5, drop="most").tolist() == [[0, 3], [2, 3]]
    assert drop_ratio(s, 0.25).tolist() == [[1, 2, 3], [0, 1, 2]]  # default: drop least
    assert drop_ratio(s, 0.0, drop="most").tolist() == [[0, 1, 2, 3]] * 2
    assert drop_ratio(s, 1.0).shape == (2, 0)
    ties = torch.zeros(1, 4)  # all tied: rank order = channel order
    assert drop_ratio(ties, 0.5, drop="least").tolist() == [[0, 1]]
    assert drop_ratio(ties, 0.5, drop="most").tolist() == [[2, 3]]
    with pytest.raises(ValueError, match=r"ratio must be in \[0, 1\]"):
        drop_ratio(s, 1.5)
    with pytest.raises(ValueError, match=r"ratio must be in \[0, 1\]"):
        drop_ratio(s, -0.1)
    with pytest.raises(ValueError, match="drop must be 'least' or 'most'"):
        drop_ratio(s, 0.5, drop="random")


def test_n_dropped_rounds_half_up():
    assert n_dropped(0.75, 128) == 96
    assert n_dropped(0.5, 5) == 3
    assert n_dropped(0.3, 10) == 3
    assert n_dropped(1.0, 7) == 7 and n_dropped(0.0, 7) == 0


def test_by_threshold():
    s = torch.tensor([[0.0, 0.5, 0.49, 1.0]])
    assert by_threshold(s, 0.5).tolist() == [[False, True, False, True]]
    assert by_threshold(s, 0.0).all()
    with pytest.raises(ValueError, match="0 <= t <= 1"):
        by_threshold(s, 1.5)


def test_precision_at_k():
    selected = torch.tensor([[0, 1, 2], [1, 3, 4]])
    mask = torch.tensor([True, True, False, False, False])
    assert precision_at_k(selected, mask).tolist() == pytest.approx([2 / 3, 1 / 3])
    per_model = torch.tensor([[True] * 5, [False, False, False, True, True]])
    assert precision_at_k(selected, per_model).tolist() == pytest.approx([1.0, 2 / 3])
    with pytest.raises(ValueError, match="bool mask"):
        precision_at_k(selected, mask.long())
    with pytest.raises(ValueError, match=r"\[0, 5\)"):
        precision_at_k(torch.tensor([[0, 5]]), mask)
    with pytest.raises(ValueError, match="k >= 1"):
        precision_at_k(torch.zeros(2, 0, dtype=torch.long), mask)
    with pytest.raises(ValueError, match="M = 2"):
        precision_at_k(selected, per_model[:1])


@pytest.mark.parametrize("layer", [None, "hidden"])
def test_fresh_permutations_per_channel(mlp_case, layer):
    """common_permutations=False draws new permutations per channel: different numbers, same
    estimate (the shared units still lead), still deterministic and independent of chunking."""
    f_a, f_b, x_a, x_b = mlp_case
    kwargs = dict(repeats=10, layer=layer, common_permutations=False)
    fresh = channel_salience(f_a, f_b, x_a, x_b, generator=gen(1), **kwargs)
    common = channel_salience(f_a, f_b, x_a, x_b, generator=gen(1), repeats=10, layer=layer)
    assert not torch.equal(fresh, common)
    assert torch.equal(fresh, channel_salience(f_a, f_b, x_a, x_b, generator=gen(1), **kwargs))
    tiny = channel_salience(f_a, f_b, x_a, x_b, generator=gen(1), max_bytes=1, **kwargs)
    assert torch.allclose(fresh, tiny, atol=1e-6, rtol=1e-6)
    truth = shared_mask() if layer is None else unit_masks()["shared"]
    assert precision_at_k(top_k(fresh, XS2), truth).tolist() == [1.0, 1.0]


class SkipMLP(nn.Module):
    """The hand-built MLP plus a zero skip term that reads the input: the layers after `hidden`
    no longer see only its output, so the untiled fast path fails and the tiled fallback runs."""

    def __init__(self, mlp: MLPEnsemble):
        super().__init__()
        self.mlp = mlp

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x) + 0.0 * x[:, :2]  # (M, C, N)


@pytest.mark.parametrize("batch_size", [None, 100])
def test_tiled_fallback_equals_fast_path(mlp_case, batch_size, caplog):
    f_a, f_b, x_a, x_b = mlp_case
    kwargs = dict(repeats=6, batch_size=batch_size)
    with caplog.at_level(logging.DEBUG, logger="mfh.salience"):
        fast = channel_salience(f_a, f_b, x_a, x_b, generator=gen(8), layer="hidden", **kwargs)
        assert "tiling the input" not in caplog.text  # the MLP takes the fast path
        skip = SkipMLP(f_a)
        slow = channel_salience(skip, f_b, x_a, x_b, generator=gen(8), layer="mlp.hidden", **kwargs)
        assert "tiling the input" in caplog.text  # the skip connection forces the fallback
    assert torch.allclose(fast, slow, atol=1e-6, rtol=1e-6)
    assert not f_a.hidden._forward_hooks
