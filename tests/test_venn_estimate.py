"""Tests of the Venn analysis: the per-channel permutation tests (`mfh.venn_signals`: the shift
shortcut equals a forward pass on permuted inputs; pure-noise channels have no effect beyond
chance, decisive ones a large one) and the estimator (`mfh.venn`: exact counts from clean
tests, blind to the generator's truth columns, errors that name the file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from mfh.errors import DataError
from mfh.models.linear import LinearEnsemble
from mfh.tables import CHANNELS, GAUSS_SETTINGS
from mfh.venn import estimate_venn, run_estimate, significant
from mfh.venn_signals import cross_entropy_loss, distance_loss, permutation_effects, tiled


def _linear(weights: torch.Tensor) -> LinearEnsemble:
    model = LinearEnsemble([0] * weights.shape[0], weights.shape[2], weights.shape[1])
    with torch.no_grad():
        model.weight.copy_(weights)
        model.bias.zero_()
    return model.requires_grad_(False)


def test_shift_shortcut_equals_forward_pass_on_permuted_inputs():
    torch.manual_seed(0)
    model = _linear(torch.randn(2, 3, 4))
    x, y = torch.randn(2, 4, 50), torch.randint(0, 3, (2, 50))
    loss = cross_entropy_loss(y)
    effects = permutation_effects(
        model, x, loss, repeats=3, generator=torch.Generator().manual_seed(1)
    )
    # brute force with the same permutations (drawn once, shared by the channels)
    perms = torch.rand(2, 3, 50, generator=torch.Generator().manual_seed(1)).argsort(dim=-1)
    base = loss(model(x)[:, :, None, :])
    for k in range(4):
        changes = []
        for r in range(3):
            xp = x.clone()
            xp[:, k] = x[:, k].gather(-1, perms[:, r])
            changes.append(loss(model(xp)[:, :, None, :]) - base)
        change = torch.cat(changes, dim=1).mean(dim=1).double()
        torch.testing.assert_close(effects.effect[:, k], change.mean(dim=-1))
        torch.testing.assert_close(effects.se[:, k], change.std(dim=-1) / 50**0.5)


def test_noise_channels_have_no_effect_decisive_ones_do():
    """Channel 0 decides the label, channel 1 is noise the model still weighs heavily: on fresh
    samples the noise channel's effect is within chance, the decisive one's far above it."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, 2000, generator=gen)
    y = (x[:, 0] > 0).long()
    weights = torch.tensor([[-2.0, -1.0], [2.0, 1.0]]).expand(40, 2, 2).clone()
    effects = permutation_effects(
        _linear(weights), x, cross_entropy_loss(y), repeats=10, generator=gen
    )
    z = effects.effect / effects.se
    assert (z[:, 0] > 20).all()
    assert (
        z[:, 1].abs().mean() < 1.5
        and (significant(effects.effect[:, 1].numpy(), effects.se[:, 1].numpy(), 0.05)).mean() < 0.2
    )
    # the general test: the other net sees channel 0 only, so channel 1 carries nothing shared
    target = _linear(torch.tensor([[-2.0, 0.0], [2.0, 0.0]]).expand(40, 2, 2).clone())(x)
    general = permutation_effects(
        _linear(weights), x, distance_loss(target), repeats=10, generator=gen
    )
    z = general.effect / general.se
    assert (z[:, 0] > 20).all() and z[:, 1].abs().mean() < 1.5


def test_tiled_repeats_models_per_setting():
    model = _linear(torch.randn(3, 2, 4))
    big = tiled(model, 2)
    assert big.n_models == 6
    torch.testing.assert_close(big.weight[4], model.weight[1])


def _channels(counts: dict[int, tuple[int, int, int]], runs: int, width: int) -> list[tuple]:
    """Clean tests: per setting (d0, da, db), decisive and general effects of 1 (se 0.01) where
    true, 0 (se 0.01) elsewhere; the truth columns are all 0, so reading them would fail."""
    rows = []
    for s, (d0, da, db) in counts.items():
        for r in range(runs):
            for side, own in (("a", da), ("b", db)):
                for k in range(width):
                    decisive = 1.0 if k < d0 + own else 0.0
                    general = 1.0 if k < d0 else 0.0
                    rows.append((s, r, side, k, decisive, 0.01, general, 0.01, 0, 0))
    return rows


def _settings(path: Path, counts) -> None:
    rows = []
    for s, (d0, da, db) in counts.items():
        total = d0 + da + db
        rows.append((s, s, d0 / total, da / (da + d0), db / (db + d0), d0, da, db))
    GAUSS_SETTINGS.write(path, rows)


def test_estimate_recovers_clean_counts(tmp_path: Path):
    counts = {0: (4, 6, 2), 1: (10, 0, 0), 2: (1, 3, 9)}
    CHANNELS.write(tmp_path / "channels.csv", _channels(counts, runs=3, width=20))
    _settings(tmp_path / "settings.csv", counts)
    venn = estimate_venn(tmp_path / "channels.csv", tmp_path / "settings.csv")
    assert venn[["d0_est", "da_est", "db_est"]].to_numpy().tolist() == [
        list(c) for c in counts.values()
    ]
    np.testing.assert_allclose(venn["gamma_est"], venn["gamma_true"])
    np.testing.assert_allclose(venn["gamma_mass"], venn["gamma_true"])
    assert (venn["gamma_std"] == 0).all() and (venn["n_runs"] == 3).all()


def test_mass_gamma_follows_the_identity():
    side = lambda effects, general: pd.DataFrame(  # noqa: E731
        {
            "decisive_effect": effects,
            "decisive_se": 0.01,
            "general_effect": general,
            "general_se": 0.01,
        }
    )
    a = side([3.0, 1.0, 0.0], [1.0, 0.0, 0.0])  # alpha_m = 1/4
    b = side([1.0, 1.0, 0.0], [1.0, 0.0, 0.0])  # beta_m = 1/2
    estimate = run_estimate(a, b, 0.05)
    assert estimate["gamma_mass"] == pytest.approx(1 / (4 / 3 + 2 - 1))
    assert estimate["gamma"] == pytest.approx(1 / 3)


def test_estimate_errors_name_the_file(tmp_path: Path):
    counts = {0: (4, 6, 2), 1: (10, 0, 0)}
    CHANNELS.write(tmp_path / "channels.csv", _channels({0: counts[0]}, runs=1, width=12))
    _settings(tmp_path / "settings.csv", counts)
    with pytest.raises(DataError, match=r"channels.csv: no rows for setting\(s\) \[1\]"):
        estimate_venn(tmp_path / "channels.csv", tmp_path / "settings.csv")
    with pytest.raises(ValueError, match="significance"):
        significant(np.ones(3), np.ones(3), 1.5)
