"""How much faster do the AV-MNIST CNNs train with their convolutions' GEMMs in OpenBLAS
(`mfh.models.blas_conv.PortableConv2d`) than with torch's portable convolution? (issue: the
real-data studies within 25 min here; README "Performance").

With the portable kernels (mfh/numerics.py) torch computes a convolution as im2col + MKL's SGEMM
in `MKL_CBWR=COMPATIBLE`, MKL's one code path for every x86-64 CPU (SSE speed). numpy's OpenBLAS
pinned to its Haswell kernel (AVX2 + FMA, the same code on every AVX2 machine) is what
`PortableConv2d` uses. Side by side in one run, one thread, the portable kernels in force:

1. the GEMMs of the spectrogram CNN's three convolutions (batch 64), MKL COMPATIBLE (torch) vs
   OpenBLAS (numpy), forward shape (B*L, K) @ (K, O);
2. one SGD step (forward + backward, batch 64) of the image and spectrogram CNNs as the pipeline
   builds them (PortableConv2d) against the same nets with torch's nn.Conv2d, with the largest
   gradient difference between them;
3. im2col of the inputs the spectrogram CNN's step copies (forward and the stride-1 input
   gradients), torch.stack of the kh*kw windows vs numpy's copy of one strided view: the
   faster one per shape is what `_taps` picks (one channel: stack; more: strided);
4. one SGD step of both CNNs with their blocks in the textbook order conv -> ReLU -> pool
   (`mfh.models.cnn.relu_then_pool`) against the pipeline's conv -> pool -> ReLU (the same values
   and gradients bit for bit, checked here too).

Timings interleave the two variants and keep the fastest of --repeats calls each (a load on this
shared machine then hits both alike); ratios > 1: OpenBLAS (parts 1-3), pool -> ReLU (part 4)
faster.

Run:  .venv/bin/python benchmarks/bench_blas_conv.py [--repeats 20]
"""

import argparse
import os

from mfh import numerics

numerics.pin()  # the pipeline's portable kernels, before torch

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from mfh.models.blas_conv import PortableConv2d, blas_mm, stacked_taps, strided_taps  # noqa: E402
from mfh.models.build import build_model  # noqa: E402
from mfh.models.cnn import relu_then_pool  # noqa: E402
from timing import interleaved_min_ms  # noqa: E402  (benchmarks/timing.py)

B, C = 64, 10
SHAPES = {"image_cnn": (1, 28, 28), "audio_cnn": (1, 112, 112)}
AUDIO_TAPS = [(114, 1, 2, 56), (30, 8, 1, 28), (16, 16, 1, 14), (16, 32, 1, 14), (30, 16, 1, 28)]
AUDIO_GEMMS = [(B * 56 * 56, 9, 8), (B * 28 * 28, 72, 16), (B * 14 * 14, 144, 32)]  # (B*L, K, O)


def with_torch_convs(model: nn.Module) -> nn.Module:
    """The model with every PortableConv2d replaced by an nn.Conv2d holding the same weights."""
    for name, child in model.named_children():
        if isinstance(child, PortableConv2d):
            conv = nn.Conv2d(
                child.in_channels,
                child.out_channels,
                child.kernel_size,
                child.stride,
                child.padding,
            )
            conv.load_state_dict(child.state_dict())
            setattr(model, name, conv.to(memory_format=torch.channels_last))
        else:
            with_torch_convs(child)
    return model


def step_batch(shape) -> tuple[torch.Tensor, torch.Tensor]:
    """The seeded batch of one SGD step: inputs (B, *shape) and labels (B,)."""
    x = torch.randn(B, *shape, generator=torch.Generator().manual_seed(0))
    return x, torch.arange(B) % C


def grads(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """One SGD step's work: forward, cross-entropy and the gradient of every parameter."""
    return torch.autograd.grad(F.cross_entropy(net(x), y), list(net.parameters()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
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
        mkl, blas = interleaved_min_ms([lambda: a @ w, lambda: blas_mm(a, w)], repeats)
        print(
            f"   ({rows:6d}, {k:3d}) @ ({k:3d}, {o:2d}):",
            f"{mkl:6.2f} / {blas:6.2f} = {mkl / blas:.2f}x",
        )
    print("2. one SGD step of batch 64, forward + backward, ms (nn.Conv2d / PortableConv2d)")
    for kind, shape in SHAPES.items():
        blas_net = build_model(kind, shape, C, seed=0)
        torch_net = with_torch_convs(build_model(kind, shape, C, seed=0))
        x, y = step_batch(shape)
        pairs = zip(grads(torch_net, x, y), grads(blas_net, x, y))
        diff = max((a - b).abs().max().item() for a, b in pairs)
        slow, fast = interleaved_min_ms(
            [lambda: grads(torch_net, x, y), lambda: grads(blas_net, x, y)], repeats
        )
        print(
            f"   {kind}: {slow:6.1f} / {fast:6.1f} = {slow / fast:.2f}x",
            f"(largest gradient difference {diff:.1e})",
        )
    print("3. spectrogram CNN im2col, padded (B, Hp, Wp, C) -> cols, ms (stack / strided)")
    for size, channels, stride, out in AUDIO_TAPS:
        x = torch.rand(B, size, size, channels)
        args = (3, 3, stride, out, out)
        stack, strided = interleaved_min_ms(
            [lambda: stacked_taps(x, *args), lambda: strided_taps(x, *args)], repeats
        )
        print(
            f"   ({B}, {size:3d}, {size:3d}, {channels:2d}) stride {stride}:",
            f"{stack:5.2f} / {strided:5.2f} = {stack / strided:.2f}x",
        )
    print("4. one SGD step of batch 64, ms (conv -> ReLU -> pool / conv -> pool -> ReLU)")
    for kind, shape in SHAPES.items():
        net = build_model(kind, shape, C, seed=0)
        textbook = relu_then_pool(net)
        x, y = step_batch(shape)
        same = all(torch.equal(a, b) for a, b in zip(grads(textbook, x, y), grads(net, x, y)))
        slow, fast = interleaved_min_ms(
            [lambda: grads(textbook, x, y), lambda: grads(net, x, y)], repeats
        )
        print(
            f"   {kind}: {slow:6.1f} / {fast:6.1f} = {slow / fast:.2f}x",
            f"(gradients bit-identical: {same})",
        )


if __name__ == "__main__":
    main()
