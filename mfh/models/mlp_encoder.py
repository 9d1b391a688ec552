"""An MLP encoder for feature vectors (the mfeat views): (B, d) -> Linear(d, H) -> ReLU -> (B, H).

Wrapped by `mfh.models.fusion.EncoderClassifier`, a feature-vector net is d -> H -> H -> C with
the second hidden layer as the penultimate representation.
"""

from __future__ import annotations

from torch import nn


class MLPEncoder(nn.Sequential):
    """(B, in_features) -> (B, out_features): one linear layer and a ReLU."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__(nn.Linear(in_features, out_features), nn.ReLU())
        self.out_features = out_features
