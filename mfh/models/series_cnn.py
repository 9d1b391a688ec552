"""A small 1-D convolutional encoder for multichannel time series (channels, time), e.g. one sensor
of BasicMotions (3, 100):

    (B, C, T) -> Conv1d(C, 32, 5, padding 2) -> ReLU -> MaxPool1d(2)    (B, 32, T // 2)
              -> Conv1d(32, 64, 5, padding 2) -> ReLU                   (B, 64, T // 2)
              -> AdaptiveAvgPool1d(1) -> flatten                        (B, 64)
              -> Linear(64, H) -> ReLU                                  (B, H)

The global average over time makes the output size independent of T (any T >= 2). Like
`mfh.models.mlp_encoder`, it ends in H features (`out_features`); wrapped by
`mfh.models.fusion.EncoderClassifier`, its `fc` (H -> H) and `penultimate` follow, whose H
channels Algorithm 1 scores.
"""

from __future__ import annotations

from typing import Sequence

from torch import nn

CHANNELS = (32, 64)  # output channels of the two convolutions
KERNEL = 5


class SeriesEncoder(nn.Sequential):
    """(B, C, T) -> (B, out_features): two conv blocks, a global average over time, a linear
    layer and a ReLU."""

    def __init__(self, sample_shape: Sequence[int], out_features: int):
        if len(sample_shape) != 2:
            raise ValueError(
                f"a series_cnn takes (channels, time) series, sample_shape (c, t); got "
                f"{tuple(sample_shape)}"
            )
        c_in, length = (int(n) for n in sample_shape)
        if c_in < 1 or length < 2:
            raise ValueError(f"series {tuple(sample_shape)} are too small (c >= 1, t >= 2)")
        c1, c2 = CHANNELS
        super().__init__(
            nn.Conv1d(c_in, c1, KERNEL, padding=KERNEL // 2),  # (B, c1, T)
            nn.ReLU(),
            nn.MaxPool1d(2),  # (B, c1, T // 2)
            nn.Conv1d(c1, c2, KERNEL, padding=KERNEL // 2),  # (B, c2, T // 2)
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),  # (B, c2, 1)
            nn.Flatten(),  # (B, c2)
            nn.Linear(c2, out_features),  # (B, H)
            nn.ReLU(),
        )
        self.out_features = out_features
