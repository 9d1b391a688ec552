"""Tests of Algorithm 1's normalisation and selection (step 3, mfh.algorithm1.selection) on
hand-made salience tensors (M, K): values, tie order, rounding and argument checks."""

from __future__ import annotations

import pytest
import torch

from mfh.algorithm1.selection import drop_ratio, minmax, n_dropped, top_k


def test_minmax():
    s = torch.tensor([[1.0, 3.0, 2.0], [5.0, 5.0, 5.0], [-2.0, 0.0, 2.0]])
    out = minmax(s)
    assert torch.equal(out, torch.tensor([[0.0, 1.0, 0.5], [0.0, 0.0, 0.0], [0.0, 0.5, 1.0]]))
    assert torch.equal(minmax(s[0]), out[0])  # one model's (K,) vector


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
