"""Classifiers built from encoders, and `FusionNet`, the multimodal teacher on a + b.

Every model of the real-data studies has this shape (standard layout, batch first):

    x_i (B, ...) --encoders[i]--> (B, F_i)  --concatenate over i--> (B, F)
    --fc--> (B, H) --penultimate (ReLU)--> (B, H) --head--> logits (B, C)

A unimodal net has one encoder (`mfh.models.cnn`, `mfh.models.mlp_encoder`); `FusionNet` has
two and concatenates their features. The submodule names are part of the API: Algorithm 1
(`mfh.algorithm1.penultimate`) and channel removal (`mfh.channel_removal`) reach the penultimate
representation through `model.get_submodule("penultimate")`, and everything after it is `head`
alone (`forward_from_penultimate`). Encoders expose `out_features` (F_i).
Build models through `mfh.models.build`, which also seeds their initialisation.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


class EncoderClassifier(nn.Module):
    """Encoders, concatenated -> `fc` (F -> H) -> `penultimate` (ReLU) -> `head` (H -> C)."""

    def __init__(self, encoders: Sequence[nn.Module], hidden: int, n_classes: int):
        super().__init__()
        if not encoders:
            raise ValueError("need at least one encoder")
        self.encoders = nn.ModuleList(encoders)
        self.fc = nn.Linear(sum(e.out_features for e in encoders), hidden)
        self.penultimate = nn.ReLU()
        self.head = nn.Linear(hidden, n_classes)

    @property
    def n_inputs(self) -> int:
        return len(self.encoders)

    def features(self, *xs: torch.Tensor) -> torch.Tensor:
        """The penultimate representation: one (B, ...) tensor per encoder -> (B, H)."""
        if len(xs) != len(self.encoders):
            raise ValueError(f"expected {len(self.encoders)} inputs, got {len(xs)}")
        feats = [enc(x) for enc, x in zip(self.encoders, xs)]  # each (B, F_i)
        joined = feats[0] if len(feats) == 1 else torch.cat(feats, dim=1)  # (B, F)
        return self.penultimate(self.fc(joined))

    def forward_from_penultimate(self, h: torch.Tensor) -> torch.Tensor:
        """The rest of the net after `penultimate`: h (..., H) -> logits (..., C)."""
        return self.head(h)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        """One (B, ...) tensor per encoder -> logits (B, C)."""
        return self.head(self.features(*xs))


class FusionNet(EncoderClassifier):
    """The multimodal teacher: forward(x_a, x_b) on the concatenated features of both encoders."""

    def __init__(self, encoder_a: nn.Module, encoder_b: nn.Module, n_classes: int, hidden: int):
        super().__init__([encoder_a, encoder_b], hidden, n_classes)
