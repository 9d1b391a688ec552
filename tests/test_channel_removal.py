"""Tests of channel removal (mfh.channel_removal), the modified teacher of the real-data KD
modes: no channel removed = the teacher's logits; the batch, mean and zero fills equal a manual
computation; the batch fill uses exactly the rows a student batch asks for; bad arguments fail.
Layout: standard, batch first — x (N, ...), penultimate features (N, H), logits (N, C).
"""

from __future__ import annotations

import pytest
import torch

from mfh.channel_removal import ModifiedTeacher, penultimate_features
from mfh.models.build import build_fusion

pytestmark = pytest.mark.usefixtures("one_torch_thread")

C, H = 10, 6


def fusion_teacher():
    model = build_fusion("mlp", (4,), "mlp", (3,), C, hidden=H, seed=0).eval()
    g = torch.Generator().manual_seed(1)
    train = (torch.randn(30, 4, generator=g), torch.randn(30, 3, generator=g))
    return model, train


def test_features_are_the_penultimate_layer_and_no_removal_keeps_logits():
    model, train = fusion_teacher()
    h = penultimate_features(model, train, batch_size=7)  # (30, H)
    with torch.no_grad():
        assert torch.allclose(model.forward_from_penultimate(h), model(*train), atol=1e-6)
        for fill in ("batch", "mean", "zero"):
            same = ModifiedTeacher(model, torch.zeros(H, dtype=torch.bool), fill, h)
            assert torch.allclose(same.logits(h), model(*train), atol=1e-6)


@pytest.mark.parametrize("fill", ["batch", "mean", "zero"])
def test_fills_equal_a_manual_computation(fill):
    model, train = fusion_teacher()
    h = penultimate_features(model, train)
    removed = torch.tensor([True, False, True, False, False, False])
    teacher = ModifiedTeacher(model, removed, fill, h)
    batch = h[5:17]
    expected = batch.clone()
    value = {"batch": batch.mean(0), "mean": h.mean(0), "zero": torch.zeros(H)}[fill]
    expected[:, removed] = value[removed]
    with torch.no_grad():
        assert torch.allclose(teacher.logits(batch), model.head(expected), atol=1e-6)


def test_batch_fill_depends_on_the_batch_and_uses_the_rows_asked_for():
    model, train = fusion_teacher()
    h = penultimate_features(model, train)
    teacher = ModifiedTeacher(model, torch.tensor([True] * 3 + [False] * 3), "batch", h)
    rows = torch.tensor([3, 9, 20, 21])
    of_rows = teacher.logits_of_rows(h)(rows)
    assert torch.equal(of_rows, teacher.logits(h[rows]))
    # sample 3 in another batch gets other logits: the fill is that batch's mean
    assert not torch.allclose(of_rows[0], teacher.logits_of_rows(h)(torch.tensor([3, 4]))[0])


def test_accuracy_counts_in_batches():
    model, train = fusion_teacher()
    h = penultimate_features(model, train)
    teacher = ModifiedTeacher(model, torch.zeros(H, dtype=torch.bool), "zero")
    y = model(*train).argmax(1).detach()
    assert teacher.accuracy(h, y, batch_size=7) == 100.0
    y[:3] = (y[:3] + 1) % C
    assert teacher.accuracy(h, y, batch_size=7) == pytest.approx(90.0)


def test_bad_arguments_fail():
    model, train = fusion_teacher()
    h = penultimate_features(model, train)
    with pytest.raises(ValueError, match="fill"):
        ModifiedTeacher(model, torch.zeros(H, dtype=torch.bool), "median", h)
    with pytest.raises(ValueError, match="training features"):
        ModifiedTeacher(model, torch.zeros(H, dtype=torch.bool), "mean")
    with pytest.raises(ValueError, match="channels"):
        ModifiedTeacher(model, torch.zeros(H - 1, dtype=torch.bool), "batch", h)
    with pytest.raises(ValueError, match="bool"):
        ModifiedTeacher(model, torch.zeros(H), "zero")
