"""Training throughput of `mfh.train.minibatch.train_minibatch` vs a bare torch loop.

Same model (same initial weights), same data, same batch size, `--epochs` epochs per timing:
- bare: what one writes without mfh —
      for rows in torch.randperm(n).split(batch_size):
          opt.zero_grad(); F.cross_entropy(model(x[rows]), y[rows]).backward(); opt.step()
  with `torch.optim.SGD(lr, momentum=0.9)` (shuffling and batch indexing included, as the trainer
  does them too);
- trainer: `train_minibatch` with a 1-sample validation split, so that it times the
  training part (its per-epoch evaluation of one sample is negligible);
- trainer+eval: the same with a realistic validation split (`--n-val` samples), i.e. including
  the per-epoch validation pass the trainer always does.
The three alternate within each repeat; the table shows medians over `--repeats` and the ratio
of samples/s to the bare loop (target >= 0.85 for the training part). Data: random tensors of
the real shapes (AV-MNIST image (1, 28, 28), audio (1, 112, 112), an mfeat view (216,)),
10 classes. One intra-op thread by default (`--threads`), as the pipeline's jobs run: on this
shared 2-core machine a second thread made every step several times slower.

Run:  /work/venv/bin/python benchmarks/bench_minibatch.py [--n 2000] [--batch-size 64]
"""

import argparse
import copy
import statistics
import time

import torch
import torch.nn.functional as F

from mfh.models.build import build_model
from mfh.train.minibatch import Split, train_minibatch

MODELS = {"image_cnn": (1, 28, 28), "audio_cnn": (1, 112, 112), "mlp": (216,)}
LR, MOMENTUM, C = 0.01, 0.9, 10


def bare_loop(model, x, y, epochs, batch_size, gen) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    start = time.perf_counter()
    for _ in range(epochs):
        for rows in torch.randperm(len(y), generator=gen).split(batch_size):
            opt.zero_grad()
            loss = F.cross_entropy(model(x[rows]), y[rows])
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def trainer(model, train, val, epochs, batch_size, gen) -> float:
    start = time.perf_counter()
    train_minibatch(
        model,
        train,
        val,
        epochs=epochs,
        batch_size=batch_size,
        lr=LR,
        momentum=MOMENTUM,
        seed_generator=gen,
        progress=False,
    )
    return time.perf_counter() - start


def bench(kind, shape, n, n_val, epochs, batch_size, repeats):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, *shape, generator=g), torch.randint(0, C, (n,), generator=g)
    x_val = torch.randn(n_val, *shape, generator=g)
    y_val = torch.randint(0, C, (n_val,), generator=g)
    train = Split((x,), y)
    tiny_val, val = Split((x_val[:1],), y_val[:1]), Split((x_val,), y_val)
    init = build_model(kind, shape, C, seed=0)
    runs = {
        "bare": lambda m, gen: bare_loop(m, x, y, epochs, batch_size, gen),
        "trainer": lambda m, gen: trainer(m, train, tiny_val, epochs, batch_size, gen),
        "trainer+eval": lambda m, gen: trainer(m, train, val, epochs, batch_size, gen),
    }
    for run in runs.values():  # warm-up (imports, allocator, first-call overheads)
        run(copy.deepcopy(init), torch.Generator().manual_seed(0))
    times = {name: [] for name in runs}
    for r in range(repeats):
        for name, run in runs.items():
            times[name].append(run(copy.deepcopy(init), torch.Generator().manual_seed(r)))
    return {name: n * epochs / statistics.median(ts) for name, ts in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--n-val", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"n={args.n} batch={args.batch_size} n_val={args.n_val} epochs={args.epochs} "
        f"repeats={args.repeats} "
        f"threads={torch.get_num_threads()} torch={torch.__version__}"
    )
    print(f"{'model':10} {'bare/s':>9} {'trainer/s':>10} {'ratio':>6} {'+eval/s':>9} {'ratio':>6}")
    for kind in args.models:
        sps = bench(
            kind, MODELS[kind], args.n, args.n_val, args.epochs, args.batch_size, args.repeats
        )
        bare = sps["bare"]
        print(
            f"{kind:10} {bare:9.0f} {sps['trainer']:10.0f} {sps['trainer'] / bare:6.2f} "
            f"{sps['trainer+eval']:9.0f} {sps['trainer+eval'] / bare:6.2f}"
        )


if __name__ == "__main__":
    main()
