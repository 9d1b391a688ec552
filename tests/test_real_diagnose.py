"""The diagnosis' pieces on hand-made nets (mfh/studies/real_diagnose.py): the heads as an
ensemble, the Venn estimate of penultimate channels, and the per-pair summary."""

from __future__ import annotations

import math

import pandas as pd
import torch
from torch import nn

from mfh.studies.real_diagnose import diagnosis, heads, venn_estimates
from mfh.tables import DIAGNOSIS, DIAGNOSIS_VALUES, REAL_DIAGNOSE


class Net(nn.Module):
    """A penultimate layer that is the input itself (features = x), then a linear head."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.head = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.head.weight.copy_(weight)
            self.head.bias.zero_()

    def features(self, x):
        return x

    def forward(self, x):
        return self.head(x)


def test_heads_compute_each_seeds_logits():
    torch.manual_seed(0)
    nets = [Net(torch.randn(3, 5)) for _ in range(2)]
    h = torch.randn(7, 5)
    ensemble = heads(nets)
    out = ensemble(h.T[None].expand(2, -1, -1))  # (2, 3, 7)
    for s, net in enumerate(nets):
        assert torch.allclose(out[s].T, net(h), atol=1e-6)


def test_a_shared_channel_and_a_private_one_are_told_apart():
    """Labels are the sign of a latent z; x_a = (z, u, noise), x_b = (z, noise): z is shared,
    u (a second decisive latent that only a sees) is a-only. The joint nets read z and u."""
    g = torch.Generator().manual_seed(1)
    n = 4000
    z, u = torch.randn(n, generator=g), torch.randn(n, generator=g)
    y = ((z + u) > 0).long()
    x_a = torch.stack([z, u, torch.randn(n, generator=g)], dim=1)
    x_b = torch.stack([z, torch.randn(n, generator=g)], dim=1)
    f_a = Net(torch.tensor([[-3.0, -3.0, 0.0], [3.0, 3.0, 0.0]]))
    f_b = Net(torch.tensor([[-3.0, 0.0], [3.0, 0.0]]))
    rng = torch.Generator().manual_seed(2)
    cfg = {"repeats": 5, "significance": 0.05}
    (estimate,) = venn_estimates([f_a], [f_b], (x_a,), (x_b,), y, cfg, rng)
    assert (estimate["d0"], estimate["da"], estimate["db"]) == (1.0, 1, 0)
    assert math.isclose(estimate["gamma"], 0.5) and math.isclose(estimate["alpha"], 0.5)


def test_diagnosis_is_the_mean_and_sd_over_seeds(tmp_path):
    rows = [(s, *(float(s + i) for i, _ in enumerate(DIAGNOSIS_VALUES))) for s in range(3)]
    path = tmp_path / "diagnose_a-b.csv"
    REAL_DIAGNOSE.write(path, rows)
    table = diagnosis([("a-b", "a", "b")], [path])
    assert list(table.columns) == DIAGNOSIS.names
    row = table.iloc[0]
    assert row["n_seeds"] == 3 and row["teacher_acc_mean"] == 1.0 and row["teacher_acc_sd"] == 1.0
    DIAGNOSIS.write_frame(tmp_path / "diagnosis.csv", table)
    assert isinstance(DIAGNOSIS.read_frame(tmp_path / "diagnosis.csv"), pd.DataFrame)


def test_a_mutual_information_too_few_samples_estimate_is_nan_when_asked():
    import numpy as np
    import pytest

    from mfh.predictors.per_model import measure

    rng = np.random.default_rng(0)
    t, s, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)), np.array([0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError):
        measure(t, s, y)
    values = measure(t, s, y, unmeasurable_as_nan=True)
    assert math.isnan(values["mi_sy_knn"]) and math.isfinite(values["rank_tau"])
