"""Build models by name, seeded, and rebuild them from a `model_spec` (e.g. from a checkpoint).

Kinds of encoder (the input they expect, one sample):
    "image_cnn"  (c, h, w), e.g. AV-MNIST images (1, 28, 28)          `mfh.models.cnn.IMAGE_CNN`
    "audio_cnn"  (c, h, w), e.g. AV-MNIST spectrograms (1, 112, 112)  `mfh.models.cnn.AUDIO_CNN`
    "mlp"        (d,), e.g. an mfeat view                              `mfh.models.mlp_encoder`
    "series_cnn" (c, t), e.g. a BasicMotions sensor (3, 100)           `mfh.models.series_cnn`
`build_model` wraps one encoder into an `EncoderClassifier`, `build_fusion` two into a
`FusionNet`. Each model carries its spec (`model_spec(model)`, a dict of lists, ints and strs
that `torch.load(weights_only=True)` accepts) and `build_from_spec(spec)` returns an identical
fresh model — same architecture and same initial weights.

Initialisation is torch's default for `nn.Linear`, `nn.Conv1d` and `nn.Conv2d` (kaiming-uniform with
a = sqrt(5) for weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for biases), drawn from a
`torch.Generator` seeded with `seed`, layer by layer in module order. The modules are first
built on the meta device, so building a model never reads or advances the global RNG; their
tensors then get CPU storage of the same shape and strides (`_on_cpu`: `torch.empty_strided`,
not `Module.to_empty`, whose meta path imports torch.fx's symbolic shapes and sympy, 0.4 s of
every training job's start).
"""

from __future__ import annotations

import copy
import math
from typing import Callable, Sequence

import torch
from torch import nn

from mfh.models.cnn import AUDIO_CNN, IMAGE_CNN, ConvEncoder
from mfh.models.fusion import EncoderClassifier, FusionNet
from mfh.models.mlp_encoder import MLPEncoder
from mfh.models.series_cnn import SeriesEncoder

DEFAULT_HIDDEN = 128

# kind -> (sample_shape, hidden) -> encoder
ENCODERS: dict[str, Callable[[Sequence[int], int], nn.Module]] = {
    "image_cnn": lambda shape, hidden: ConvEncoder(shape, **IMAGE_CNN),
    "audio_cnn": lambda shape, hidden: ConvEncoder(shape, **AUDIO_CNN),
    "mlp": lambda shape, hidden: MLPEncoder(_feature_dim(shape), hidden),
    "series_cnn": lambda shape, hidden: SeriesEncoder(shape, hidden),
}


def build_model(
    kind: str,
    sample_shape: Sequence[int],
    n_classes: int,
    hidden: int = DEFAULT_HIDDEN,
    seed: int = 0,
) -> EncoderClassifier:
    """A unimodal classifier: forward (B, *sample_shape) -> logits (B, n_classes)."""
    spec = {
        "kind": kind,
        "sample_shape": list(sample_shape),
        "n_classes": n_classes,
        "hidden": hidden,
        "seed": seed,
    }
    return _built(
        spec, lambda: EncoderClassifier([_encoder(kind, sample_shape, hidden)], hidden, n_classes)
    )


def build_fusion(
    kind_a: str,
    shape_a: Sequence[int],
    kind_b: str,
    shape_b: Sequence[int],
    n_classes: int,
    hidden: int = DEFAULT_HIDDEN,
    seed: int = 0,
) -> FusionNet:
    """The multimodal teacher: forward(x_a (B, *shape_a), x_b (B, *shape_b)) -> (B, n_classes)."""
    spec = {
        "kind": "fusion",
        "a": {"kind": kind_a, "sample_shape": list(shape_a)},
        "b": {"kind": kind_b, "sample_shape": list(shape_b)},
        "n_classes": n_classes,
        "hidden": hidden,
        "seed": seed,
    }
    return _built(
        spec,
        lambda: FusionNet(
            _encoder(kind_a, shape_a, hidden), _encoder(kind_b, shape_b, hidden), n_classes, hidden
        ),
    )


def model_spec(model: nn.Module) -> dict:
    """The spec a model built by mfh.models.build was made from (a copy)."""
    spec = getattr(model, "spec", None)
    if spec is None:
        raise ValueError(f"{type(model).__name__} was not built by mfh.models.build")
    return copy.deepcopy(spec)


def build_from_spec(spec: dict) -> EncoderClassifier:
    """Rebuild the model of `model_spec`: same architecture, same initial weights."""
    common = {"n_classes": spec["n_classes"], "hidden": spec["hidden"], "seed": spec["seed"]}
    if spec["kind"] == "fusion":
        a, b = spec["a"], spec["b"]
        return build_fusion(a["kind"], a["sample_shape"], b["kind"], b["sample_shape"], **common)
    return build_model(spec["kind"], spec["sample_shape"], **common)


def init_weights_(model: nn.Module, seed: int) -> nn.Module:
    """Torch's default init of every Linear, Conv1d and Conv2d, drawn from one seeded generator."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d)):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=g)
                bound = 1.0 / math.sqrt(module.weight[0].numel())  # 1 / sqrt(fan_in)
                module.bias.uniform_(-bound, bound, generator=g)
    return model


def _built(spec: dict, make: Callable[[], nn.Module]) -> nn.Module:
    with torch.device("meta"):
        model = make()
    model = init_weights_(model._apply(_on_cpu), spec["seed"])
    model.spec = spec
    return model


def _on_cpu(t: torch.Tensor) -> torch.Tensor:
    """Uninitialised CPU storage for a meta tensor: same shape, strides (e.g. channels-last) and
    dtype."""
    return torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device="cpu")


def _encoder(kind: str, sample_shape: Sequence[int], hidden: int) -> nn.Module:
    if kind not in ENCODERS:
        raise ValueError(f"unknown model kind {kind!r}; known: {', '.join(ENCODERS)}")
    return ENCODERS[kind](sample_shape, hidden)


def _feature_dim(shape: Sequence[int]) -> int:
    if len(shape) != 1:
        raise ValueError(f"an mlp takes feature vectors, sample_shape (d,); got {tuple(shape)}")
    return int(shape[0])
