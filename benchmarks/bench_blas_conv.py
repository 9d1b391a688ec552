"""Would the AV-MNIST CNNs train faster with their GEMMs in OpenBLAS instead of MKL's portable
branch? (issue: the real-data studies within 25 min here; README "Performance").

With the portable kernels (mfh/numerics.py) a convolution is im2col + MKL's SGEMM in
`MKL_CBWR=COMPATIBLE`, MKL's one code path for every x86-64 CPU, which is SSE-speed. numpy's
wheel ships OpenBLAS, whose kernel is chosen by CPU core type and can be pinned
(`OPENBLAS_CORETYPE=Haswell`: AVX2 + FMA, the same code on every AVX2 machine, like
`ATEN_CPU_CAPABILITY=avx2`). This benchmark measures, side by side in one run, one thread:

1. the GEMMs of the spectrogram CNN's three convolutions (batch 64), MKL COMPATIBLE (torch) vs
   OpenBLAS (numpy), forward shape (B*L, K) @ (K, O);
2. one SGD step (forward + backward, batch 64) of the image and spectrogram CNNs: torch's
   portable convolution vs `BlasConv2d` below — im2col on channels-last tensors (9 shifted
   views stacked), one GEMM each for the output, the weight gradient and the input gradient
   through numpy, col2im as 9 shifted adds — with the largest gradient difference between them.

It prints ratios (> 1: OpenBLAS faster). The pipeline does not use `BlasConv2d` (yet): adopting
it needs the bit-identity of OpenBLAS' pinned kernel across CPUs shown first, and it changes
every real-data result in the last bits.

Run:  .venv/bin/python benchmarks/bench_blas_conv.py [--repeats 15]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")

from mfh import numerics  # noqa: E402

numerics.pin()  # the pipeline's portable kernels, before torch

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from mfh.models.build import build_model  # noqa: E402

B, C = 64, 10
SHAPES = {"image_cnn": (1, 28, 28), "audio_cnn": (1, 112, 112)}
AUDIO_GEMMS = [(B * 56 * 56, 9, 8), (B * 28 * 28, 72, 16), (B * 14 * 14, 144, 32)]  # (B*L, K, O)


def _mm(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b for 2-D float32 tensors (transposed views allowed) through numpy's OpenBLAS."""
    return torch.from_numpy(np.matmul(a.numpy(), b.numpy()))


def _window(k: int, stride: int, n_out: int) -> slice:
    return slice(k, k + stride * (n_out - 1) + 1, stride)


class _BlasConvFunction(torch.autograd.Function):
    """conv2d (square kernel, symmetric padding) with its three GEMMs in OpenBLAS."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride: int, padding: int):
        b, c, h, w = x.shape  # x (B, C, H, W), any memory format
        o, _, kh, kw = weight.shape
        ho, wo = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
        xp = F.pad(x.permute(0, 2, 3, 1), (0, 0, padding, padding, padding, padding))  # NHWC
        views = [
            xp[:, _window(i, stride, ho), _window(j, stride, wo)]
            for i in range(kh)
            for j in range(kw)
        ]
        cols = torch.stack(views, dim=3).reshape(b * ho * wo, kh * kw * c)  # (B*L, K)
        w2 = weight.permute(0, 2, 3, 1).reshape(o, kh * kw * c)  # (O, K), K ordered (kh, kw, C)
        out = _mm(cols, w2.t()) + bias  # (B*L, O)
        ctx.save_for_backward(cols, w2)
        ctx.geometry = (b, c, h, w, ho, wo, kh, kw, stride, padding)
        return out.view(b, ho, wo, o).permute(0, 3, 1, 2)  # (B, O, Ho, Wo), channels-last

    @staticmethod
    def backward(ctx, grad):
        cols, w2 = ctx.saved_tensors
        b, c, h, w, ho, wo, kh, kw, stride, p = ctx.geometry
        o = w2.shape[0]
        g = grad.permute(0, 2, 3, 1).reshape(b * ho * wo, o)  # (B*L, O)
        grad_w = _mm(g.t(), cols).view(o, kh, kw, c).permute(0, 3, 1, 2)  # (O, C, kh, kw)
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_cols = _mm(g, w2).view(b, ho, wo, kh * kw, c)
            padded = torch.zeros(b, h + 2 * p, w + 2 * p, c)
            for k, (i, j) in enumerate((i, j) for i in range(kh) for j in range(kw)):
                padded[:, _window(i, stride, ho), _window(j, stride, wo)] += grad_cols[:, :, :, k]
            grad_x = padded[:, p : p + h, p : p + w].permute(0, 3, 1, 2)
        return grad_x, grad_w, g.sum(0), None, None


class BlasConv2d(nn.Conv2d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _BlasConvFunction.apply(x, self.weight, self.bias, self.stride[0], self.padding[0])


def with_blas_convs(model: nn.Module) -> nn.Module:
    """The model with every nn.Conv2d replaced by a BlasConv2d holding the same weights."""
    for name, child in model.named_children():
        if type(child) is nn.Conv2d:
            blas = BlasConv2d(
                child.in_channels,
                child.out_channels,
                child.kernel_size,
                child.stride,
                child.padding,
            )
            blas.load_state_dict(child.state_dict())
            setattr(model, name, blas)
        else:
            with_blas_convs(child)
    return model


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    repeats = parser.parse_args().repeats
    numerics.enforce()
    torch.set_num_threads(1)
    print(
        f"OpenBLAS kernel {os.environ['OPENBLAS_CORETYPE']}, MKL branch {numerics.mkl_branch()},",
        "one thread",
    )
    print("1. spectrogram CNN GEMMs, forward (B*L, K) @ (K, O), ms (MKL / OpenBLAS = ratio)")
    for rows, k, o in AUDIO_GEMMS:
        a, w = torch.rand(rows, k), torch.rand(k, o)
        mkl, blas = median_ms(lambda: a @ w, repeats), median_ms(lambda: _mm(a, w), repeats)
        print(
            f"   ({rows:6d}, {k:3d}) @ ({k:3d}, {o:2d}):",
            f"{mkl:6.2f} / {blas:6.2f} = {mkl / blas:.2f}x",
        )
    print("2. one SGD step of batch 64, forward + backward, ms (torch / BlasConv2d = ratio)")
    for kind, shape in SHAPES.items():
        torch_net = build_model(kind, shape, C, seed=0)
        blas_net = with_blas_convs(build_model(kind, shape, C, seed=0))
        x, y = (
            torch.randn(B, *shape, generator=torch.Generator().manual_seed(0)),
            torch.arange(B) % C,
        )

        def grads(net):
            return torch.autograd.grad(F.cross_entropy(net(x), y), list(net.parameters()))

        diff = max((a - b).abs().max().item() for a, b in zip(grads(torch_net), grads(blas_net)))
        slow, fast = median_ms(lambda: grads(torch_net), repeats), median_ms(
            lambda: grads(blas_net), repeats
        )
        print(
            f"   {kind}: {slow:6.1f} / {fast:6.1f} = {slow / fast:.2f}x",
            f"(largest gradient difference {diff:.1e})",
        )


if __name__ == "__main__":
    main()
