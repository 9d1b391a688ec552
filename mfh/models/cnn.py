"""A small convolutional encoder for single-channel 2-D inputs (images, spectrograms).

Blocks of Conv2d(3x3, padding 1) -> MaxPool2d(2) -> ReLU, then flatten:
(B, c_in, S_h, S_w) -> (B, F). The first convolution may be strided to shrink large inputs
cheaply. Pooling before the ReLU is the usual conv -> ReLU -> pool block with its ReLU on 4x
fewer values: max and ReLU commute (relu(max(v)) = max(relu(v))), and the backward sends the
gradient to the same element (a window's first maximum is positive in both orders, or the ReLU
zeroes the window's gradient in both), so values and gradients are bit-identical
(tests/test_real_models.py, against `relu_then_pool`) and a training step is 1.05-1.11x
(spectrogram) and 1.08-1.09x (image) faster (`benchmarks/bench_blas_conv.py`, part 4).
Presets (used by `mfh.models.build`), each ending at 32 x 7 x 7 = 1568 features:
- IMAGE_CNN for AV-MNIST images (1, 28, 28): 16, 32 channels, stride 1 (28 -> 14 -> 7);
- AUDIO_CNN for AV-MNIST spectrograms (1, 112, 112): 8, 16, 32 channels, first conv stride 2
  (112 -> 56 -> 28 -> 14 -> 7).
The convolutions are `mfh.models.blas_conv.PortableConv2d`: under the portable CPU kernels their
GEMMs run in OpenBLAS' pinned kernel, 1.5x faster per training step than torch's portable
convolution (`benchmarks/bench_blas_conv.py`); elsewhere plain `nn.Conv2d`. The weights are
stored channels-last: oneDNN (native kernels) then runs the whole conv stack in NHWC, which made
a training step 1.2x (image) to 1.7x (audio) faster on this CPU for a batch of 64, and the
im2col GEMMs read them without a copy (the flattened features keep the usual (c, h, w) order).
"""

from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import nn

from mfh.models.blas_conv import PortableConv2d

IMAGE_CNN = {"channels": (16, 32), "stem_stride": 1}
AUDIO_CNN = {"channels": (8, 16, 32), "stem_stride": 2}


class ConvEncoder(nn.Sequential):
    """Conv blocks and a flatten: (B, c_in, S_h, S_w) -> (B, out_features)."""

    def __init__(self, sample_shape: Sequence[int], channels: Sequence[int], stem_stride: int = 1):
        if len(sample_shape) != 3:
            raise ValueError(f"sample_shape must be (channels, height, width), got {sample_shape}")
        c_prev, height, width = sample_shape
        layers: list[nn.Module] = []
        for i, c in enumerate(channels):
            stride = stem_stride if i == 0 else 1
            layers += [
                PortableConv2d(c_prev, c, 3, stride=stride, padding=1),
                nn.MaxPool2d(2),
                nn.ReLU(),
            ]  # parameters at the same indices (0, 3, 6) as conv -> ReLU -> pool
            height, width = _conv_pool_size(height, stride), _conv_pool_size(width, stride)
            c_prev = c
        if height < 1 or width < 1:
            raise ValueError(f"input {tuple(sample_shape)} is too small for {len(channels)} blocks")
        super().__init__(*layers, nn.Flatten())
        self.to(memory_format=torch.channels_last)
        self.out_features = c_prev * height * width


def relu_then_pool(model: nn.Module) -> nn.Module:
    """A copy of `model` whose conv blocks run conv -> ReLU -> pool, the textbook order: the
    reference that the tests and the benchmark hold the pool -> ReLU blocks against."""
    textbook = copy.deepcopy(model)
    for block in textbook.modules():
        if isinstance(block, ConvEncoder):
            keys, layers = list(block._modules), list(block._modules.values())
            for i, layer in enumerate(layers):
                if isinstance(layer, nn.MaxPool2d):
                    block._modules[keys[i]], block._modules[keys[i + 1]] = layers[i + 1], layer
    return textbook


def _conv_pool_size(size: int, stride: int) -> int:
    """Spatial size after a 3x3 conv (padding 1, `stride`) and a 2x2 max pool."""
    return ((size - 1) // stride + 1) // 2
