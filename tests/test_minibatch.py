"""Tests of the minibatch trainer (mfh.train.minibatch).

- determinism: the same seeds give identical weights and history;
- best-epoch selection: the model ends holding the weights of the best validation epoch
  (ties: the earliest), with that epoch's accuracies (validation accuracies scripted);
- the KD path distils from the teacher's logits (w_gt = 0: labels do not matter, the student moves
  toward the teacher);
- inputs that are not tensors, the fusion net's two inputs, evaluation helpers, logging.
Tiny MLPs on Gaussian blobs: fast on one thread.
"""

from __future__ import annotations

import logging

import pytest
import torch
import torch.nn.functional as F

import mfh.train.minibatch as minibatch
from mfh.errors import HealthError
from mfh.kd import KDConfig
from mfh.models.build import build_fusion, build_model
from mfh.train.minibatch import Split, TeacherLogits, accuracy, predict_logits, train_minibatch

pytestmark = pytest.mark.usefixtures("one_torch_thread")

C, D, H = 3, 5, 32


def blobs(n: int, seed: int, d: int = D):
    """Gaussian blobs: x (N, d) around one random mean per class, y (N,)."""
    g = torch.Generator().manual_seed(seed)
    means = torch.randn(C, d, generator=torch.Generator().manual_seed(99)) * 2
    y = torch.randint(0, C, (n,), generator=g)
    return means[y] + torch.randn(n, d, generator=g), y


def split(n: int, seed: int) -> Split:
    x, y = blobs(n, seed)
    return Split((x,), y)


def train(model, data: tuple[Split, Split] | None = None, **kw):
    """`train_minibatch` with the tests' settings (3 epochs, batches of 16, lr 0.02, momentum 0.9,
    shuffle seed 0) on `data`, (train, val), by default the blobs split(100, 1) and split(60, 2),
    and tested on split(60, 3); `kw` overrides any of them."""
    args = dict(epochs=3, batch_size=16, lr=0.02, momentum=0.9, progress=False)
    args.update(kw)
    args.setdefault("seed_generator", torch.Generator().manual_seed(0))
    args.setdefault("test", split(60, 3))
    train_split, val_split = data or (split(100, 1), split(60, 2))
    return train_minibatch(model, train_split, val_split, **args)


def test_same_seeds_same_weights():
    a, b = (build_model("mlp", (D,), C, hidden=H, seed=1) for _ in range(2))
    res_a, res_b = train(a), train(b)
    for p, q in zip(a.state_dict().values(), b.state_dict().values()):
        assert torch.equal(p, q)
    strip = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]  # noqa
    assert strip(res_a.history) == strip(res_b.history)
    c = build_model("mlp", (D,), C, hidden=H, seed=1)
    train(c, seed_generator=torch.Generator().manual_seed(1))  # another shuffle
    assert not torch.equal(c.fc.weight, a.fc.weight)


def test_trains_to_high_accuracy_and_history():
    model = build_model("mlp", (D,), C, hidden=H, seed=0)
    res = train(model, epochs=5)
    assert [row["epoch"] for row in res.history] == [1, 2, 3, 4, 5]
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]
    assert res.val_acc > 85 and res.test_acc > 85
    best = max(res.history, key=lambda row: row["val_acc"])
    assert res.val_acc == best["val_acc"]
    # the test accuracy is the one of the best epoch's weights, which the model holds
    assert res.test_acc == accuracy(model, split(60, 3))


def test_best_epoch_is_kept_ties_earliest(monkeypatch):
    """Scripted validation accuracies 50, 70, 70, 60: best epoch 2, whose weights are those of a
    2-epoch run with the same seeds."""
    scripted = iter([50.0, 70.0, 70.0, 60.0])
    monkeypatch.setattr(minibatch, "accuracy", lambda *a, **k: next(scripted))
    model = build_model("mlp", (D,), C, hidden=H, seed=2)
    res = train(model, epochs=4, test=None)
    assert (res.best_epoch, res.val_acc, res.test_acc) == (2, 70.0, None)
    monkeypatch.undo()
    two = build_model("mlp", (D,), C, hidden=H, seed=2)
    train(two, epochs=2)
    for (name, p), q, r in zip(
        model.state_dict().items(), two.state_dict().values(), res.best_state.values()
    ):
        assert torch.equal(p, q) and torch.equal(p, r), name


def test_kd_uses_teacher_logits_not_labels():
    """w_gt = 0, w_kd = 1: the labels do not matter (true or all zero: same weights), and the
    student learns what the teacher (confident and right) predicts."""
    train_split = split(100, 1)
    x, y = train_split.inputs[0], train_split.y
    teacher_logits = 5.0 * F.one_hot(y, C).float()  # (N, C)
    kd = KDConfig(temperature=2.0, w_gt=0.0, w_kd=1.0, kl_reduction="batchmean")
    models, results = [], []
    for labels in (y, torch.zeros_like(y)):
        model = build_model("mlp", (D,), C, hidden=H, seed=3)
        data = Split((x,), labels), split(60, 2)
        res = train(model, data, epochs=5, test=None, teacher=TeacherLogits(teacher_logits), kd=kd)
        models.append(model)
        results.append(res)
    for p, q in zip(models[0].parameters(), models[1].parameters()):
        assert torch.equal(p, q)
    assert results[1].val_acc > 85  # learnt from the teacher: the labels were all 0


def test_teacher_and_kd_go_together():
    with pytest.raises(ValueError, match="together"):
        train(build_model("mlp", (D,), C, hidden=H), kd=KDConfig())
    with pytest.raises(ValueError, match="together"):
        train(build_model("mlp", (D,), C, hidden=H), teacher=TeacherLogits(torch.zeros(7, C)))


def test_a_diverged_loss_stops_the_run():
    """A learning rate far too large: the loss overflows, and the run stops with HealthError
    (instead of training on NaN and reporting its accuracy)."""
    with pytest.raises(HealthError, match="diverged"):
        train(build_model("mlp", (D,), C, hidden=H), lr=1e6, epochs=3)


class Indexable:
    """A non-tensor input: len, [rows] and shape only (like a lazily loaded dataset)."""

    def __init__(self, x: torch.Tensor):
        self._x = x
        self.shape = x.shape

    def __len__(self):
        return len(self._x)

    def __getitem__(self, rows):
        return self._x[rows]


def test_indexable_inputs_match_tensors():
    a, b = (build_model("mlp", (D,), C, hidden=H, seed=5) for _ in range(2))
    train(a)
    tr, va = split(100, 1), split(60, 2)
    wrap = lambda s: Split((Indexable(s.inputs[0]),), s.y)  # noqa: E731
    train(b, (wrap(tr), wrap(va)), test=wrap(split(60, 3)))
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)


def test_fusion_net_trains_on_two_inputs():
    def two(n, seed):
        x, y = blobs(n, seed)
        return Split((x[:, :3], x[:, 3:]), y)

    model = build_fusion("mlp", (3,), "mlp", (2,), C, hidden=H, seed=0)
    res = train(model, (two(100, 1), two(60, 2)), epochs=5, test=None)
    assert res.val_acc > 80 and res.test_acc is None


def test_predict_logits_and_accuracy():
    model = build_model("mlp", (D,), C, hidden=H, seed=0)
    s = split(50, 4)
    model.train()
    logits = predict_logits(model, s.inputs, batch_size=7)
    assert logits.shape == (50, C) and model.training
    assert torch.allclose(logits, model(s.inputs[0]))
    expected = (logits.argmax(1) == s.y).double().mean().item() * 100
    assert accuracy(model, s, batch_size=7) == pytest.approx(expected)


def test_split_checks():
    with pytest.raises(ValueError, match="lengths"):
        Split((torch.zeros(4, 2),), torch.zeros(5, dtype=torch.int64))
    with pytest.raises(ValueError, match="int64"):
        Split((torch.zeros(4, 2),), torch.zeros(4))


def test_logs_one_line_per_epoch(caplog):
    with caplog.at_level(logging.INFO, logger="mfh.train.minibatch"):
        train(build_model("mlp", (D,), C, hidden=H), name="teacher", epochs=2)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[1].startswith("teacher epoch 2/2 loss ") and "% (best " in lines[1]
