"""Does training the seeds of one step together pay on this machine? (issue: "train the seeds of
one step together where it pays, e.g. torch.func stacked parameters + vmap, or grouped
convolutions").

For each encoder of the real-data studies (the mfeat MLP, the AV-MNIST image and audio CNNs) and
S seeds, one SGD step on a batch of 64 per seed, timed three ways, side by side in one run:
- loop:    the per-seed loop the pipeline runs (S models, one after the other);
- vmap:    `torch.func.stack_module_state` + `vmap(grad(loss))` over the S stacked models;
- grouped: (CNNs) one network whose convolutions are grouped by seed (groups = S), features
           split per seed into batched matmuls for the linear layers.
Prints ms per step of all S seeds (median of --repeats) and the ratio loop / stacked (> 1: the
stacked version is faster). The pipeline adopts a stacked version only where it pays for the
encoders that dominate the run time (the CNNs; README "Real data: speed").

Run:  .venv/bin/python benchmarks/bench_stacked_seeds.py [--seeds 5] [--repeats 7]
      (MFH_CPU_KERNELS=native ... for the machine's own kernels; the pipeline's are portable)
"""

import argparse
import copy

from mfh import numerics

numerics.pin()  # the pipeline's kernels (portable unless MFH_CPU_KERNELS=native), before torch

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.func import functional_call, grad, stack_module_state, vmap  # noqa: E402

from mfh.models.build import build_model  # noqa: E402
from mfh.models.cnn import AUDIO_CNN, IMAGE_CNN  # noqa: E402
from timing import median_ms  # noqa: E402  (benchmarks/timing.py)

SHAPES = {"mlp": (216,), "image_cnn": (1, 28, 28), "audio_cnn": (1, 112, 112)}
PRESETS = {"image_cnn": IMAGE_CNN, "audio_cnn": AUDIO_CNN}
B, C, HIDDEN = 64, 10, 128


def loop_step(models, x, y):
    def step():
        for model, xs, ys in zip(models, x, y):
            loss = F.cross_entropy(model(xs), ys)
            grads = torch.autograd.grad(loss, list(model.parameters()))
            with torch.no_grad():
                for p, g in zip(model.parameters(), grads):
                    p.sub_(0.01 * g)

    return step


def vmap_step(models, x, y):
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def loss(p, b, xs, ys):
        return F.cross_entropy(functional_call(base, (p, b), (xs,)), ys)

    grads_of = vmap(grad(loss))

    def step():
        grads = grads_of(params, buffers, x, y)
        with torch.no_grad():
            for name in params:
                params[name].sub_(0.01 * grads[name])

    return step


def grouped_step(kind: str, seeds: int, x, y):
    """One grouped-convolution net for all seeds: input (B, S, h, w), channel s = seed s's batch."""
    preset = PRESETS[kind]
    chans, strides = (1, *preset["channels"]), [preset["stem_stride"]] + [1] * (
        len(preset["channels"]) - 1
    )
    weights = [
        (0.1 * torch.randn(seeds * co, ci, 3, 3)).requires_grad_()
        for ci, co in zip(chans[:-1], chans[1:])
    ]
    biases = [torch.zeros(seeds * co, requires_grad=True) for co in chans[1:]]
    features = build_model(kind, SHAPES[kind], C, HIDDEN).fc.in_features
    fc = (0.02 * torch.randn(seeds, features, HIDDEN)).requires_grad_()
    head = (0.1 * torch.randn(seeds, HIDDEN, C)).requires_grad_()
    params = [*weights, *biases, fc, head]
    inputs = x[:, :, 0].transpose(0, 1).contiguous(memory_format=torch.channels_last)

    def step():
        h = inputs  # (B, S, h, w)
        for w, b, stride in zip(weights, biases, strides):
            h = F.max_pool2d(F.relu(F.conv2d(h, w, b, stride=stride, padding=1, groups=seeds)), 2)
        h = h.reshape(B, seeds, -1).transpose(0, 1)  # (S, B, F)
        logits = torch.bmm(F.relu(torch.bmm(h, fc)), head)  # (S, B, C)
        loss = F.cross_entropy(logits.reshape(-1, C), y.reshape(-1)) * seeds
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.sub_(0.01 * g)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    kernels = numerics.enforce()
    torch.set_num_threads(args.threads)
    print(f"{args.seeds} seeds, batch {B}, {args.threads} thread(s), {kernels} CPU kernels")
    print("ms per step of all seeds")
    print(f"{'encoder':10s} {'loop':>8s} {'vmap':>8s} {'grouped':>8s}  loop/vmap loop/grouped")
    for kind, shape in SHAPES.items():
        g = torch.Generator().manual_seed(0)
        x = torch.randn(args.seeds, B, *shape, generator=g)
        y = torch.randint(0, C, (args.seeds, B), generator=g)
        models = [build_model(kind, shape, C, HIDDEN, seed=s) for s in range(args.seeds)]
        loop = median_ms(loop_step(models, x, y), args.repeats)
        stacked = median_ms(vmap_step(models, x, y), args.repeats)
        grouped = (
            median_ms(grouped_step(kind, args.seeds, x, y), args.repeats)
            if kind in PRESETS
            else None
        )
        cells = f"{grouped:8.1f}" if grouped else f"{'-':>8s}"
        ratio = f"{loop / grouped:11.2f}" if grouped else f"{'-':>11s}"
        print(f"{kind:10s} {loop:8.1f} {stacked:8.1f} {cells}  {loop / stacked:9.2f} {ratio}")


if __name__ == "__main__":
    main()
