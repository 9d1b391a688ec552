"""Tests of the KD modes' channel choice (mfh.studies.real_modes.removed_channels): modes 1/2
remove the least/most modality-general channels of Algorithm 1's ranking, modes 3/4 the same
ends of the teacher-importance ranking (the control), mode 0 a seeded random draw; and the
rankings are read per seed from the salience table.
"""

from __future__ import annotations

import pytest
import torch

from mfh.kd_modes import KD_MODES, RANKINGS
from mfh.studies.real_modes import read_rankings, removed_channels
from mfh.tables import REAL_SALIENCE

SALIENCE = torch.tensor([0.9, 0.1, 0.5, 1.0, 0.0, 0.3, 0.7, 0.2])  # (H,) = 8 channels


@pytest.mark.parametrize("mode", [1, 3])
def test_modes_1_and_3_remove_the_lowest_ranked_channels(mode):
    removed = removed_channels(mode, SALIENCE, 0.5, (0, "t", "r"))
    assert removed.tolist() == [False, True, False, False, True, True, False, True]


@pytest.mark.parametrize("mode", [2, 4])
def test_modes_2_and_4_remove_the_highest_ranked_channels(mode):
    removed = removed_channels(mode, SALIENCE, 0.25, (0, "t", "r"))
    assert torch.nonzero(removed).flatten().tolist() == [0, 3]


def test_every_mode_but_random_names_a_ranking():
    assert set(RANKINGS) == set(KD_MODES) - {0}
    assert {column for column, _ in RANKINGS.values()} == {"salience", "importance"}


def test_mode_0_is_random_seeded_and_ignores_the_ranking():
    first = removed_channels(0, SALIENCE, 0.5, (0, "t", "r", 1))
    assert int(first.sum()) == 4
    assert torch.equal(first, removed_channels(0, torch.zeros(8), 0.5, (0, "t", "r", 1)))
    draws = {tuple(removed_channels(0, SALIENCE, 0.5, (0, "t", "r", i)).tolist()) for i in range(8)}
    assert len(draws) > 1


def test_rankings_are_read_per_seed_and_column(tmp_path):
    path = tmp_path / "salience.csv"
    rows = [(s, k, 0.0, 0.1 * k + s, 0.0, 1.0 - 0.1 * k) for s in range(2) for k in range(4)]
    REAL_SALIENCE.write(path, rows)
    salience = read_rankings(path, 2, "salience")  # (seeds, H)
    assert torch.allclose(salience[1], torch.tensor([1.0, 1.1, 1.2, 1.3], dtype=torch.float64))
    importance = read_rankings(path, 2, "importance")
    assert torch.allclose(importance[0], torch.tensor([1.0, 0.9, 0.8, 0.7], dtype=torch.float64))
    with pytest.raises(ValueError, match="missing"):
        read_rankings(path, 3, "salience")
