"""Fast portable 2-D convolutions on the CPU: im2col on channels-last tensors + OpenBLAS' SGEMM.

With the portable kernels (`mfh.numerics`), torch's own CPU convolution is im2col + MKL's SGEMM
in `MKL_CBWR=COMPATIBLE`, MKL's one code path for every x86-64 CPU, which runs at SSE speed.
numpy's OpenBLAS, pinned to its Haswell kernel (`OPENBLAS_CORETYPE=Haswell`, one thread: AVX2 +
FMA, the same instructions in the same order on every AVX2 CPU, like `ATEN_CPU_CAPABILITY=avx2`),
runs the same GEMMs 2.8-5.5x faster (`benchmarks/bench_blas_conv.py`). So while the portable
kernels are in force on the CPU, `PortableConv2d` computes its three GEMMs there:

    forward      cols (B*L, K) @ W (K, O) + bias -> (B*L, O)      K = kh*kw*C, L = Ho*Wo
    grad weight  grad (O, B*L) @ cols (B*L, K)
    grad input   stride 1: the "full" convolution of the padded grad with the flipped weight
                 (again im2col + one GEMM); other strides: grad @ W^T, then col2im as kh*kw
                 shifted adds

im2col copies the kh*kw shifted windows of the zero-padded input (B, H, W, C), so cols is ordered
(b, ho, wo | kh, kw, c). Everywhere else (native kernels, CUDA, `torch.func`) `PortableConv2d`
is an `nn.Conv2d`: the same parameters, state dict and initialisation.
Supported: groups 1, dilation 1, zero padding (what `mfh.models.cnn` builds); other settings
fall back to torch's convolution.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mfh import numerics


def blas_mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a (M, K) @ b (K, N) for 2-D CPU tensors (transposed views allowed) through numpy's
    OpenBLAS: (M, N), a new contiguous tensor."""
    return torch.from_numpy(np.matmul(a.detach().numpy(), b.detach().numpy()))


def _taps(x: torch.Tensor, kh: int, kw: int, stride: int, ho: int, wo: int) -> torch.Tensor:
    """im2col of a padded channels-last input x (B, Hp, Wp, C) -> (B*Ho*Wo, kh*kw*C).

    Two copies of the same values, whichever is faster for the shape (`bench_blas_conv.py`, 3.):
    one channel, torch's stack of the kh*kw windows; more, numpy's copy of one strided view."""
    if x.shape[3] == 1:
        return stacked_taps(x, kh, kw, stride, ho, wo)
    return strided_taps(x, kh, kw, stride, ho, wo)


def stacked_taps(x: torch.Tensor, kh: int, kw: int, stride: int, ho: int, wo: int) -> torch.Tensor:
    """`_taps` as torch.stack of the kh*kw shifted windows (B, Ho, Wo, C) of x (B, Hp, Wp, C)."""
    b, c = x.shape[0], x.shape[3]
    views = [
        x[:, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride]
        for i in range(kh)
        for j in range(kw)
    ]  # kh*kw views (B, Ho, Wo, C)
    return torch.stack(views, dim=3).reshape(b * ho * wo, kh * kw * c)


def strided_taps(x: torch.Tensor, kh: int, kw: int, stride: int, ho: int, wo: int) -> torch.Tensor:
    """`_taps` as numpy's copy of the strided view (B, Ho, Wo, kh, kw, C) of x (B, Hp, Wp, C)."""
    b, c = x.shape[0], x.shape[3]
    padded = x.detach().contiguous().numpy()
    sb, sh, sw, sc = padded.strides
    windows = np.lib.stride_tricks.as_strided(
        padded, (b, ho, wo, kh, kw, c), (sb, stride * sh, stride * sw, sh, sw, sc)
    )  # (B, Ho, Wo, kh, kw, C), a view into x
    return torch.from_numpy(np.ascontiguousarray(windows).reshape(b * ho * wo, kh * kw * c))


def _nhwc_padded(x: torch.Tensor, pad_h: int, pad_w: int) -> torch.Tensor:
    """(B, C, H, W), any memory format -> zero-padded channels-last (B, H+2p, W+2p, C)."""
    return F.pad(x.permute(0, 2, 3, 1), (0, 0, pad_w, pad_w, pad_h, pad_h))


class _BlasConv2dFunction(torch.autograd.Function):
    """conv2d(x, weight, bias, stride, padding) with its GEMMs in OpenBLAS (see the module)."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride: tuple, padding: tuple):
        b, c, h, w = x.shape  # (B, C, H, W)
        o, _, kh, kw = weight.shape  # (O, C, kh, kw)
        (sh, sw), (ph, pw) = stride, padding
        ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
        cols = _taps(_nhwc_padded(x, ph, pw), kh, kw, sh, ho, wo)  # (B*L, K)
        w2 = weight.permute(0, 2, 3, 1).reshape(o, kh * kw * c)  # (O, K), K ordered (kh, kw, C)
        out = blas_mm(cols, w2.t())  # (B*L, O)
        if bias is not None:
            out += bias
        ctx.save_for_backward(cols, weight)
        ctx.geometry = (b, c, h, w, ho, wo, sh, ph, pw, bias is not None)
        return out.view(b, ho, wo, o).permute(0, 3, 1, 2)  # (B, O, Ho, Wo), channels-last

    @staticmethod
    def backward(ctx, grad):
        cols, weight = ctx.saved_tensors
        b, c, h, w, ho, wo, stride, ph, pw, has_bias = ctx.geometry
        o, _, kh, kw = weight.shape
        g = grad.permute(0, 2, 3, 1).reshape(b * ho * wo, o)  # (B*L, O)
        grad_w = blas_mm(g.t(), cols).view(o, kh, kw, c).permute(0, 3, 1, 2)  # (O, C, kh, kw)
        grad_x = None
        if ctx.needs_input_grad[0]:
            if stride == 1 and ph <= kh - 1 and pw <= kw - 1:
                grad_x = _full_convolution(grad, weight, h, w, ph, pw)
            else:
                grad_x = _col2im(blas_mm(g, weight.permute(0, 2, 3, 1).reshape(o, -1)), ctx)
        grad_b = g.sum(0) if has_bias else None
        return grad_x, grad_w, grad_b, None, None


def _full_convolution(grad, weight, h: int, w: int, ph: int, pw: int) -> torch.Tensor:
    """The input gradient of a stride-1 convolution: grad (B, O, Ho, Wo) padded by k - 1 - p,
    convolved with the flipped weight (C, O, kh, kw) -> (B, C, H, W), channels-last."""
    o, c, kh, kw = weight.shape
    b = grad.shape[0]
    cols = _taps(_nhwc_padded(grad, kh - 1 - ph, kw - 1 - pw), kh, kw, 1, h, w)  # (B*H*W, kh*kw*O)
    flipped = weight.flip(2, 3).permute(2, 3, 0, 1).reshape(kh * kw * o, c)  # (kh*kw*O, C)
    return blas_mm(cols, flipped).view(b, h, w, c).permute(0, 3, 1, 2)


def _col2im(grad_cols: torch.Tensor, ctx) -> torch.Tensor:
    """grad of the im2col columns (B*L, kh*kw*C) -> input gradient (B, C, H, W), channels-last:
    each tap's window added back where `_taps` took it."""
    b, c, h, w, ho, wo, s, ph, pw, _ = ctx.geometry
    kh, kw = ctx.saved_tensors[1].shape[2:]
    per_tap = grad_cols.view(b, ho, wo, kh * kw, c)
    padded = torch.zeros(b, h + 2 * ph, w + 2 * pw, c, dtype=grad_cols.dtype)
    for k in range(kh * kw):
        i, j = divmod(k, kw)
        padded[:, i : i + s * (ho - 1) + 1 : s, j : j + s * (wo - 1) + 1 : s] += per_tap[:, :, :, k]
    return padded[:, ph : ph + h, pw : pw + w].permute(0, 3, 1, 2)


def blas_path_applies(conv: nn.Conv2d, x: torch.Tensor) -> bool:
    """Whether `PortableConv2d` computes with OpenBLAS: the portable kernels in force, a CPU
    float tensor, and a convolution the im2col code supports."""
    return (
        numerics.in_force() == "portable"
        and x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.float64)
        and x.dim() == 4
        and conv.groups == 1
        and conv.dilation == (1, 1)
        and conv.padding_mode == "zeros"
        and not isinstance(conv.padding, str)
        and conv.stride[0] == conv.stride[1]
        # vmap/grad wrappers have no storage numpy can read; torch has no public test for them
        # (torch 2.13), so this private one is pinned by tests/test_blas_conv.py
        and not torch._C._functorch.is_functorch_wrapped_tensor(x)
    )


class PortableConv2d(nn.Conv2d):
    """An `nn.Conv2d` whose CPU forward and backward run on OpenBLAS under the portable kernels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not blas_path_applies(self, x):
            return super().forward(x)
        return _BlasConv2dFunction.apply(x, self.weight, self.bias, self.stride, self.padding)
