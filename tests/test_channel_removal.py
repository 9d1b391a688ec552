"""Tests of channel removal (mfh.channel_removal), the modified teacher of the real-data KD
modes: no channel removed = same logits; mean and zero fills equal a manual computation; the
original model is untouched.
Layout: standard, batch first — x (N, ...), penultimate (N, H), logits (N, C).
"""

from __future__ import annotations

import pytest
import torch

from mfh.channel_removal import channel_means, remove_channels
from mfh.models.build import build_fusion

pytestmark = pytest.mark.usefixtures("one_torch_thread")

C = 10


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


def test_removal_argument_errors():
    model, train, _ = fusion_teacher()
    with pytest.raises(ValueError, match="fill"):
        remove_channels(model, "penultimate", torch.zeros(6, dtype=torch.bool), "median", train)
    with pytest.raises(ValueError, match="needs train_inputs"):
        remove_channels(model, "penultimate", torch.zeros(6, dtype=torch.bool), "mean")
    with pytest.raises(ValueError, match="channels"):
        remove_channels(model, "penultimate", torch.zeros(5, dtype=torch.bool), "mean", train)
