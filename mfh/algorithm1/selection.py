"""Step 3 of Algorithm 1: normalise the salience and select channels by it.

`minmax` maps each model's salience to [0, 1] (1 = most modality-general). The studies then
keep the k most general channels (`top_k`: the modified teachers of `gauss_modify`) or remove a
ratio of the least or the most general ones (`drop_ratio`, `n_dropped`: the KD modes of the
real-data studies). Salience is (..., K), one row per model, K channels; ties rank the lower
channel index first.
"""

from __future__ import annotations

import math

import torch


def minmax(s: torch.Tensor) -> torch.Tensor:
    """Min-max normalise each model's salience to [0, 1] along the last dim: (..., K) -> (..., K).

    A constant vector maps to zeros (no division by zero).
    """
    lo = s.amin(dim=-1, keepdim=True)
    span = s.amax(dim=-1, keepdim=True) - lo
    return (s - lo) / torch.where(span > 0, span, torch.ones_like(span))


def rank_channels(s: torch.Tensor) -> torch.Tensor:
    """(M, K) -> (M, K) channel indices, most modality-general first; ties: lower index first."""
    return torch.sort(s, dim=-1, descending=True, stable=True).indices


def top_k(s: torch.Tensor, k: int) -> torch.Tensor:
    """The k most salient channels per model, (M, K) -> (M, k) int64 sorted ascending."""
    n_channels = s.shape[-1]
    if not 1 <= k <= n_channels:
        raise ValueError(f"k must be in [1, {n_channels}] (the number of channels), got {k}")
    return rank_channels(s)[..., :k].sort(dim=-1).values


def n_dropped(ratio: float, n_channels: int) -> int:
    """How many channels a ratio removes: round(ratio * K), halves rounded up."""
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    return min(n_channels, math.floor(ratio * n_channels + 0.5))


def drop_ratio(s: torch.Tensor, ratio: float, drop: str = "least") -> torch.Tensor:
    """Remove `n_dropped(ratio, K)` channels per model; return the kept ones, (M, K') ascending.

    drop="least": remove the least modality-general channels (keep the most general: the
    "modality-general KD" mode); drop="most": remove the most general ("modality-specific KD").
    Ratio 0 keeps all K channels, ratio 1 keeps none (an (M, 0) tensor).
    """
    if drop not in ("least", "most"):
        raise ValueError(f"drop must be 'least' or 'most', got {drop!r}")
    n_channels = s.shape[-1]
    n_drop = n_dropped(ratio, n_channels)
    order = rank_channels(s)  # most general first
    kept = order[..., : n_channels - n_drop] if drop == "least" else order[..., n_drop:]
    return kept.sort(dim=-1).values
