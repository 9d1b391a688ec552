"""Tests of the real-data models (mfh.models.cnn, mlp_encoder, series_cnn, fusion, build).

Standard layout: inputs (B, ...) -> logits (B, C); the `penultimate` submodule outputs (B, H)
and `forward_from_penultimate` continues from it. Checks: shapes of every kind and of the
fusion net, the penultimate interface, the CNN blocks' pool -> ReLU order against conv -> ReLU ->
pool (bit-identical), seeded initialisation (same seed -> same weights, the
global RNG untouched), the `model_spec` round trip, and argument errors.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mfh import numerics
from mfh.models.build import build_from_spec, build_fusion, build_model, model_spec
from mfh.models.cnn import relu_then_pool
from mfh.models.fusion import FusionNet

pytestmark = pytest.mark.usefixtures("one_torch_thread")

C, H, B = 10, 32, 3
SHAPES = {
    "image_cnn": (1, 28, 28),
    "audio_cnn": (1, 112, 112),
    "mlp": (76,),
    "series_cnn": (3, 100),
}


def batch(shape, seed=0):
    return torch.randn(B, *shape, generator=torch.Generator().manual_seed(seed))


def penultimate_output(model, *xs):
    captured = []
    handle = model.penultimate.register_forward_hook(lambda m, i, out: captured.append(out))
    logits = model(*xs)
    handle.remove()
    return captured[0], logits


@pytest.mark.parametrize("kind", SHAPES)
def test_forward_and_penultimate_shapes(kind):
    model = build_model(kind, SHAPES[kind], C, hidden=H, seed=1)
    h, logits = penultimate_output(model, batch(SHAPES[kind]))
    assert logits.shape == (B, C)
    assert h.shape == (B, H)
    assert torch.allclose(model.forward_from_penultimate(h), logits)
    assert torch.equal(model.features(batch(SHAPES[kind])), h)


def test_fusion_net_forward_shapes():
    model = build_fusion("image_cnn", SHAPES["image_cnn"], "audio_cnn", SHAPES["audio_cnn"], C, H)
    assert isinstance(model, FusionNet) and model.n_inputs == 2
    x_a, x_b = batch(SHAPES["image_cnn"]), batch(SHAPES["audio_cnn"])
    h, logits = penultimate_output(model, x_a, x_b)
    assert logits.shape == (B, C) and h.shape == (B, H)
    assert model.fc.in_features == 2 * 32 * 7 * 7  # both conv encoders end at 32 x 7 x 7
    with pytest.raises(ValueError, match="expected 2 inputs"):
        model(x_a)


def test_fusion_of_feature_views():
    model = build_fusion("mlp", (76,), "mlp", (6,), C, hidden=H)
    assert model(batch((76,)), batch((6,))).shape == (B, C)
    assert model.fc.in_features == 2 * H


@pytest.mark.parametrize("kind", SHAPES)
def test_same_seed_same_weights_and_global_rng_untouched(kind):
    state = torch.random.get_rng_state()
    a = build_model(kind, SHAPES[kind], C, H, seed=7)
    b = build_model(kind, SHAPES[kind], C, H, seed=7)
    c = build_model(kind, SHAPES[kind], C, H, seed=8)
    assert torch.equal(torch.random.get_rng_state(), state)
    for (name, pa), pb, pc in zip(a.state_dict().items(), b.state_dict().values(), c.parameters()):
        assert torch.equal(pa, pb), name
        assert not torch.equal(pa, pc), name


def test_init_has_torch_default_scale():
    """Weights and biases lie in U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and fill most of it."""
    model = build_model("mlp", (400,), C, hidden=H, seed=0)
    bound = 400**-0.5
    w = model.encoders[0][0].weight
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound


@pytest.mark.parametrize(
    "build",
    [
        lambda: build_model("audio_cnn", (1, 112, 112), C, hidden=H, seed=3),
        lambda: build_model("mlp", (47,), 4, hidden=16, seed=2**40),
        lambda: build_fusion("image_cnn", (1, 28, 28), "mlp", (6,), C, hidden=H, seed=5),
        lambda: build_fusion("series_cnn", (3, 100), "series_cnn", (3, 100), 4, hidden=H, seed=6),
    ],
)
def test_model_spec_round_trip(build, tmp_path):
    model = build()
    spec = model_spec(model)
    torch.save(spec, tmp_path / "spec.pt")  # what a checkpoint stores
    spec = torch.load(tmp_path / "spec.pt", weights_only=True)
    rebuilt = build_from_spec(spec)
    assert model_spec(rebuilt) == spec
    assert type(rebuilt) is type(model)
    for (name, p), q in zip(model.state_dict().items(), rebuilt.state_dict().values()):
        assert torch.equal(p, q), name


def test_argument_errors():
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model("resnet", (1, 28, 28), C)
    with pytest.raises(ValueError, match="feature vectors"):
        build_model("mlp", (1, 28, 28), C)
    with pytest.raises(ValueError, match="channels, height, width"):
        build_model("image_cnn", (784,), C)
    with pytest.raises(ValueError, match="too small"):
        build_model("audio_cnn", (1, 4, 4), C)
    with pytest.raises(ValueError, match=r"\(channels, time\) series.*got \(1, 28, 28\)"):
        build_model("series_cnn", (1, 28, 28), C)
    with pytest.raises(ValueError, match=r"got \(300,\)"):
        build_model("series_cnn", (300,), C)
    with pytest.raises(ValueError, match="too small"):
        build_model("series_cnn", (3, 1), C)
    with pytest.raises(ValueError, match="not built by"):
        model_spec(torch.nn.Linear(2, 2))


def test_series_cnn_layers_and_any_length():
    """Two Conv1d blocks, a global average over time: (B, C, T) -> (B, H) for any T >= 2; the
    Conv1d layers get the seeded torch-default init too."""
    model = build_model("series_cnn", (3, 100), 4, hidden=H, seed=0)
    encoder = model.encoders[0]
    convs = [m for m in encoder if isinstance(m, torch.nn.Conv1d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (3, 32, (5,)),
        (32, 64, (5,)),
    ]
    assert encoder.out_features == H and model.fc.in_features == H
    for t in (2, 37, 100):
        assert encoder(batch((3, t))).shape == (B, H)
    assert model(batch((3, 100))).shape == (B, 4)
    bound = (3 * 5) ** -0.5  # 1 / sqrt(fan_in) of the first convolution
    assert bound * 0.9 < convs[0].weight.abs().max() <= bound
    assert convs[0].bias.abs().max() <= bound
    same = build_from_spec(model_spec(model))
    assert torch.equal(same(batch((3, 100))), model(batch((3, 100))))


def test_model_kinds_agree_with_the_encoders_and_the_schema():
    """The torch-free list the params checks use, the builders and params.yaml's schema name
    the same encoder kinds."""
    import yaml

    from mfh.config import DEFAULT_SCHEMA
    from mfh.models.build import ENCODERS
    from mfh.models.kinds import SAMPLE_SHAPES

    schema = yaml.safe_load(open(DEFAULT_SCHEMA))
    assert set(SAMPLE_SHAPES) == set(ENCODERS) == set(schema["$defs"]["encoder"]["enum"])


@pytest.mark.parametrize("kernels", ["portable", "native"])
@pytest.mark.parametrize("kind", ["image_cnn", "audio_cnn"])
def test_pool_then_relu_is_bit_identical_to_relu_then_pool(kind, kernels, monkeypatch):
    """Values and every gradient equal bit for bit, also with ties in the pooling windows: a
    blank half of each input makes each conv output its bias over whole windows (positive ties
    for some channels, non-positive for others)."""
    monkeypatch.setattr(numerics, "_in_force", kernels)
    model = build_model(kind, SHAPES[kind], C, hidden=H, seed=0)
    textbook = relu_then_pool(model)
    assert [type(m) for m in model.encoders[0]][1:3] == [nn.MaxPool2d, nn.ReLU]
    assert [type(m) for m in textbook.encoders[0]][1:3] == [nn.ReLU, nn.MaxPool2d]
    x = batch(SHAPES[kind])
    x[:, :, : x.shape[2] // 2] = 0.0  # windows of equal values
    y = torch.arange(B) % C
    results = []
    for net in (model, textbook):
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        results.append([logits, *torch.autograd.grad(loss, list(net.parameters()))])
    for ours, reference in zip(*results):
        assert torch.equal(ours, reference)
