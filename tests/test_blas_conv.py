"""PortableConv2d (mfh.models.blas_conv): under the portable kernels its OpenBLAS im2col path gives
torch's convolution and its gradients (float64: to rounding; gradcheck), for the strides, channel
counts, memory formats and bias settings the CNNs use; elsewhere it is nn.Conv2d exactly."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mfh import numerics
from mfh.models.blas_conv import PortableConv2d, blas_path_applies, stacked_taps, strided_taps
from mfh.models.build import build_model


@pytest.fixture
def portable(monkeypatch):
    """The state `numerics.enforce()` leaves in a portable step (the flag the conv reads)."""
    monkeypatch.setattr(numerics, "_in_force", "portable")


def _conv_pair(c_in, c_out, stride, bias, seed=0):
    """A PortableConv2d and an nn.Conv2d with the same float64 weights."""
    torch.manual_seed(seed)
    ref = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=bias).double()
    fast = PortableConv2d(c_in, c_out, 3, stride=stride, padding=1, bias=bias).double()
    fast.load_state_dict(ref.state_dict())
    return fast, ref


@pytest.mark.parametrize(
    "c_in, c_out, size, stride, bias, channels_last",
    [
        (1, 8, 12, 2, True, False),  # the spectrogram CNN's stem: col2im for the input gradient
        (1, 8, 11, 2, True, False),  # odd size, stride 2
        (3, 5, 9, 1, True, True),  # stride 1: the full convolution of the gradient
        (4, 6, 7, 1, False, False),
        (2, 3, 8, 3, True, True),  # stride 3: col2im with gaps between the windows
    ],
)
def test_outputs_and_gradients_match_torch(
    portable, c_in, c_out, size, stride, bias, channels_last
):
    fast, ref = _conv_pair(c_in, c_out, stride, bias)
    x = torch.randn(3, c_in, size, size, dtype=torch.float64)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    assert blas_path_applies(fast, x)
    x_fast, x_ref = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_fast, out_ref = fast(x_fast), ref(x_ref)
    assert out_fast.shape == out_ref.shape
    torch.testing.assert_close(out_fast, out_ref, rtol=1e-12, atol=1e-12)
    weights = torch.randn_like(out_ref)  # a loss that weighs every output differently
    (out_fast * weights).sum().backward()
    (out_ref * weights).sum().backward()
    torch.testing.assert_close(x_fast.grad, x_ref.grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast.weight.grad, ref.weight.grad, rtol=1e-12, atol=1e-12)
    if bias:
        torch.testing.assert_close(fast.bias.grad, ref.bias.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("channels, size, stride", [(1, 9, 2), (3, 8, 1), (5, 11, 2), (2, 10, 3)])
def test_both_im2col_copies_are_the_same_columns(channels, size, stride):
    x = torch.randn(4, size, size, channels)  # a padded channels-last input (B, Hp, Wp, C)
    out = (size - 3) // stride + 1
    stacked = stacked_taps(x, 3, 3, stride, out, out)
    strided = strided_taps(x, 3, 3, stride, out, out)
    assert stacked.shape == (4 * out * out, 9 * channels)
    assert torch.equal(stacked, strided)
    assert torch.equal(stacked[0].view(3, 3, channels), x[0, :3, :3])  # the first window
    last = x[-1, stride * (out - 1) :, stride * (out - 1) :][:3, :3]
    assert torch.equal(stacked[-1].view(3, 3, channels), last)


def test_gradcheck(portable):
    fast, _ = _conv_pair(2, 3, 1, True)
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fast, (x,))
    x = torch.randn(2, 1, 7, 7, dtype=torch.float64, requires_grad=True)
    stem, _ = _conv_pair(1, 2, 2, True)
    assert torch.autograd.gradcheck(stem, (x,))


def test_without_the_portable_kernels_it_is_torch_s_convolution(monkeypatch):
    monkeypatch.setattr(numerics, "_in_force", "native")
    fast, ref = _conv_pair(2, 4, 1, True)
    x = torch.randn(2, 2, 6, 6, dtype=torch.float64)
    assert not blas_path_applies(fast, x)
    assert torch.equal(fast(x), ref(x))  # the very same kernel: equal bits
    monkeypatch.setattr(numerics, "_in_force", None)  # enforce() never ran: torch's kernels
    assert not blas_path_applies(fast, x)


def test_under_vmap_it_is_torch_s_convolution(portable):
    fast, ref = _conv_pair(2, 3, 1, True)
    xs = torch.randn(4, 2, 2, 6, 6, dtype=torch.float64)  # (vmapped, B, C, H, W)
    batched = torch.func.vmap(fast)(xs)  # numpy cannot read vmap's wrappers: torch's conv
    torch.testing.assert_close(batched, torch.stack([ref(x) for x in xs]), rtol=1e-12, atol=1e-12)


def test_unsupported_settings_fall_back(portable):
    x = torch.randn(1, 4, 6, 6)
    assert not blas_path_applies(PortableConv2d(4, 4, 3, groups=2), x)
    assert not blas_path_applies(PortableConv2d(4, 4, 3, dilation=2), x)
    assert not blas_path_applies(PortableConv2d(4, 4, 3, padding="same"), x)
    assert not blas_path_applies(PortableConv2d(4, 4, 3, stride=(1, 2)), x)
    assert not blas_path_applies(PortableConv2d(4, 4, 3), x.half())


def test_the_cnns_train_the_same_on_both_paths(portable, monkeypatch):
    """A step of the spectrogram CNN (float32): same loss and gradients to float32 rounding, and
    the weights keep nn.Conv2d's state dict (checkpoints load either way)."""
    net = build_model("audio_cnn", (1, 112, 112), 10, seed=0)
    assert all(type(m) is PortableConv2d for m in net.modules() if isinstance(m, nn.Conv2d))
    x, y = torch.randn(4, 1, 112, 112), torch.arange(4)

    def step():
        loss = F.cross_entropy(net(x), y)
        return loss, torch.autograd.grad(loss, list(net.parameters()))

    loss_blas, grads_blas = step()
    monkeypatch.setattr(numerics, "_in_force", "native")
    loss_torch, grads_torch = step()
    torch.testing.assert_close(loss_blas, loss_torch, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads_blas, grads_torch):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    plain = nn.Conv2d(1, 8, 3, stride=2, padding=1)
    assert plain.load_state_dict(net.encoders[0][0].state_dict()) is not None
