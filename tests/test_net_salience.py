"""Tests of Algorithm 1 on real nets (mfh.net_salience) and of channel removal
(mfh.channel_removal).

- a hand-built pair of nets whose penultimate channels have known roles: channels 0-3 of f_a
  copy latents that x_b also holds (and f_b uses with the same weights), channels 4-7 copy
  latents only x_a holds. The salience must rank the shared channels first (precision 1.0), and
  match the linear-theory values: permuting channel k raises the MSE by 2 w_a,k . w_b,k Var / C;
- every batch counts: equality with a direct per-batch, per-channel, per-repeat computation;
- the `forward_from_penultimate` check rejects a layer it does not continue from;
- `train_joint_nets` equals a reference loop with `torch.optim.SGD(momentum=0.9)`;
- channel removal: no channel removed = same logits; mean and zero fills equal a manual
  computation; the original model is untouched.
Layout: standard, batch first — x (N, ...), penultimate (N, H), logits (N, C).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mfh.channel_removal import channel_means, remove_channels
from mfh.models.build import build_fusion, build_model
from mfh.net_salience import penultimate_salience, train_joint_nets
from mfh.salience import minmax, precision_at_k, top_k

pytestmark = pytest.mark.usefixtures("one_torch_thread")

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
    g = torch.Generator().manual_seed(0)
    z = torch.randn(n, SHARED + A_ONLY, generator=g).clamp(-4, 4)
    w = torch.randn(C, SHARED + A_ONLY, generator=g)
    w = w / w.norm(dim=0)  # unit column norms: every channel weighs the same in f_a
    return hand_built_mlp(w), hand_built_mlp(w[:, :SHARED]), z, z[:, :SHARED], w


def test_shared_channels_rank_first_with_theory_values():
    f_a, f_b, x_a, x_b, w = known_roles()
    gen = torch.Generator().manual_seed(1)
    raw = penultimate_salience(f_a, f_b, (x_a,), (x_b,), repeats=5, batch_size=64, generator=gen)
    assert raw.shape == (SHARED + A_ONLY,)
    shared = torch.arange(SHARED + A_ONLY) < SHARED
    assert precision_at_k(top_k(minmax(raw)[None], SHARED), shared).item() == 1.0
    with torch.no_grad():
        base = (f_a(x_a) - f_b(x_b)).square().mean()  # the unpermuted MSE
    var = x_a.var(dim=0)
    expected = base + 2 * (w * w).sum(dim=0) * var / C * shared  # a-only: no increase
    assert torch.allclose(raw, expected, atol=0.03)


def direct_salience(f_a, f_b, x_a, x_b, repeats, batch_size, seed):
    """The definition, loop by loop, with the same draws (per batch: R permutations)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        h_all, target_all = f_a.features(x_a), f_b(x_b)
    total = torch.zeros(h_all.shape[1])
    for rows in torch.arange(len(x_a)).split(batch_size):
        h, target = h_all[rows], target_all[rows]
        perms = torch.rand(repeats, len(rows), generator=gen).argsort(dim=1)
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
    g = torch.Generator().manual_seed(3)
    x_a, x_b = torch.randn(50, 6, generator=g), torch.randn(50, 3, generator=g)
    got = penultimate_salience(
        f_a,
        f_b,
        (x_a,),
        (x_b,),
        repeats=3,
        batch_size=16,
        generator=torch.Generator().manual_seed(4),
    )
    expected = direct_salience(f_a, f_b, x_a, x_b, repeats=3, batch_size=16, seed=4)
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_fusion_teacher_as_f_a():
    f_a = build_fusion("mlp", (4,), "mlp", (3,), C, hidden=6, seed=0)
    f_b = build_model("mlp", (3,), C, hidden=5, seed=1)
    x_a, x_b = torch.randn(20, 4), torch.randn(20, 3)
    raw = penultimate_salience(
        f_a, f_b, (x_a, x_b), (x_b,), repeats=2, batch_size=8, generator=torch.Generator()
    )
    assert raw.shape == (6,) and (raw > 0).all()


def test_rejects_a_layer_forward_from_penultimate_does_not_continue():
    f_a, f_b, x_a, x_b, _ = known_roles(40)
    with torch.no_grad():
        f_a.fc.bias.fill_(-OFFSET)  # fc output now negative in places: ReLU matters
    with pytest.raises(ValueError, match="does not continue from layer 'fc'"):
        penultimate_salience(
            f_a,
            f_b,
            (x_a,),
            (x_b,),
            layer="fc",
            repeats=1,
            batch_size=8,
            generator=torch.Generator(),
        )


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
            la, lb = r_a(x_a[rows]), r_b(x_b[rows])
            loss = F.cross_entropy(la, y[rows]) + F.cross_entropy(lb, y[rows]) + F.mse_loss(la, lb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for p, q in zip([*f_a.parameters(), *f_b.parameters()], [*r_a.parameters(), *r_b.parameters()]):
        assert torch.allclose(p, q, rtol=0, atol=1e-6)


def fusion_teacher():
    model = build_fusion("mlp", (4,), "mlp", (3,), C, hidden=6, seed=0)
    g = torch.Generator().manual_seed(1)
    train = (torch.randn(30, 4, generator=g), torch.randn(30, 3, generator=g))
    test = (torch.randn(9, 4, generator=g), torch.randn(9, 3, generator=g))
    return model, train, test


def test_removing_no_channel_keeps_logits():
    model, train, test = fusion_teacher()
    same = remove_channels(model, "penultimate", torch.zeros(6, dtype=torch.bool), "mean", train)
    assert torch.equal(same(*test), model(*test))


@pytest.mark.parametrize("fill", ["mean", "zero"])
def test_fill_equals_manual_computation(fill):
    model, train, test = fusion_teacher()
    mask = torch.tensor([True, False, True, True, False, False])
    modified = remove_channels(model, "penultimate", mask, fill, train, batch_size=7)
    with torch.no_grad():
        means = model.features(*train).mean(dim=0)  # (H,)
        h = model.features(*test)  # (9, H)
        h[:, mask] = means[mask] if fill == "mean" else 0.0
        expected = model.head(h)
        assert torch.allclose(modified(*test), expected, atol=1e-6)
        assert torch.allclose(channel_means(model, "penultimate", train, 4), means, atol=1e-6)
        # the original is untouched, and the modified copy's penultimate shows the fill
        assert isinstance(model.penultimate, torch.nn.ReLU)
        assert torch.allclose(modified.features(*test), h, atol=1e-6)


def test_removed_channels_have_no_salience_increase():
    """Permuting a constant channel changes nothing: every removed channel scores the
    unpermuted MSE, and the hook still finds the (wrapped) layer."""
    f_a, f_b, x_a, x_b, _ = known_roles(64)
    mask = torch.tensor([True, False, False, False, True, False, False, False])
    modified = remove_channels(f_a, "penultimate", mask, "mean", (x_a,))
    raw = penultimate_salience(
        modified, f_b, (x_a,), (x_b,), repeats=2, batch_size=64, generator=torch.Generator()
    )
    with torch.no_grad():
        base = (modified(x_a) - f_b(x_b)).square().mean()
    assert torch.allclose(raw[mask], base.expand(2), rtol=1e-5)


def test_removal_argument_errors():
    model, train, _ = fusion_teacher()
    with pytest.raises(ValueError, match="fill"):
        remove_channels(model, "penultimate", torch.zeros(6, dtype=torch.bool), "median", train)
    with pytest.raises(ValueError, match="needs train_inputs"):
        remove_channels(model, "penultimate", torch.zeros(6, dtype=torch.bool), "mean")
    with pytest.raises(ValueError, match="channels"):
        remove_channels(model, "penultimate", torch.zeros(5, dtype=torch.bool), "mean", train)
