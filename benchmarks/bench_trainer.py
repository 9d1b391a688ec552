"""Ensemble trainer vs a plain per-model training loop, on the same work.

The work is the three trainings of the `gauss_gamma` study at params.yaml's sizes: 60 teachers
on x_a (25-d), 10 no-KD students on x_b (50-d) and 60 KD students on x_b distilled from the
teachers; n_train 200, full-batch SGD. Data: `mfh.data.synthetic.build_study`, seed 0.

- ensemble: `mfh.train.fullbatch.train_full_batch` on a `LinearEnsemble` (median of 3 timings).
- loop (benchmarks/plain_loop.py): what one writes without mfh: per model an `nn.Linear`, SGD,
  `F.cross_entropy` (+ `nn.KLDivLoss()` on log_softmax/softmax for KD), full batch, starting
  from the ensemble's initial weights. It runs fewer epochs (`--loop-epochs`) and is scaled
  linearly to `--epochs` (full-batch cost per epoch is constant; timed at two epoch counts to
  check). Only training is timed (model construction and data layout are not), after a few
  warm-up steps on each side. Both run on one thread. Both sides are also run for the same
  epochs and their final weights and test accuracies compared.

Run:  /work/venv/bin/python benchmarks/bench_trainer.py [--epochs 1000] [--loop-epochs 100]
"""

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml
from torch import nn

from mfh.data.synthetic import build_study
from mfh.kd import KDConfig
from mfh.studies.ensemble import as_features, as_labels, init_ensemble
from mfh.train.fullbatch import accuracy, train_full_batch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plain_loop import train_linear  # noqa: E402

STUDY, SEED, TARGET = "gauss_gamma", 0, 20.0
PHASES = ("teachers", "nokd", "kd")


def inits(S, R, da, db):
    """Fresh initial ensembles of the three phases (the seeds of `mfh.studies.gauss`)."""
    return {
        "teachers": init_ensemble(STUDY, SEED, "teacher_init", S, R, da),
        "nokd": init_ensemble(STUDY, SEED, "student_init", 1, R, db),
        "kd": init_ensemble(STUDY, SEED, "student_init", S, R, db),
    }


def train_loop(init, x, y, epochs, lr, teacher_logits=None):
    """Train each model of `init` alone (nn.Linear + SGD); its final weights are written back
    into `init`. Returns the seconds spent training."""
    seconds = 0.0
    for i in range(init.n_models):
        lin = nn.Linear(init.weight.shape[2], init.weight.shape[1])
        with torch.no_grad():
            lin.weight.copy_(init.weight[i])
            lin.bias.copy_(init.bias[i])
        xi, yi = x[i].T.contiguous(), y[i]  # (N, d), (N,)
        start = time.perf_counter()
        soft = None if teacher_logits is None else F.softmax(teacher_logits[i].T, dim=1)  # (N, C)
        seconds += time.perf_counter() - start + train_linear(lin, xi, yi, epochs, lr, soft)
        with torch.no_grad():
            init.weight[i], init.bias[i] = lin.weight, lin.bias
    return seconds


def train_ensemble(model, x, y, epochs, lr, teacher_logits=None, kd=None):
    start = time.perf_counter()
    train_full_batch(model, x, y, epochs=epochs, lr=lr, teacher_logits=teacher_logits, kd=kd)
    return time.perf_counter() - start


def run(side, d, epochs, lr, kd):
    """The study's three trainings on one side; returns ({phase: seconds}, {phase: model})."""
    m, t = inits(d["S"], d["R"], d["xa"].shape[1], d["xb"].shape[1]), {}
    if side == "loop":
        m = {p: e.requires_grad_(False) for p, e in m.items()}
    train = train_loop if side == "loop" else train_ensemble
    t["teachers"] = train(m["teachers"], d["xa"], d["y"], epochs, lr)
    t["nokd"] = train(m["nokd"], d["xb_r"], d["y_r"], epochs, lr)
    start = time.perf_counter()
    with torch.no_grad():
        logits = m["teachers"](d["xa"])  # (M, C, N): each teacher on its own x_a
    extra = {} if side == "loop" else {"kd": kd}
    t["kd"] = (
        time.perf_counter() - start + train(m["kd"], d["xb"], d["y"], epochs, lr, logits, **extra)
    )
    return t, m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default=str(Path(__file__).resolve().parents[1] / "params.yaml"))
    ap.add_argument("--epochs", type=int, default=1000, help="epochs per model (ensemble, target)")
    ap.add_argument("--loop-epochs", type=int, default=100, help="epochs timed for the loop")
    ap.add_argument("--repeat", type=int, default=3, help="ensemble timings (median reported)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="reduction: 'mean'")  # the reference's KLDivLoss()
    cfg = yaml.safe_load(Path(a.params).read_text())[STUDY]
    dc, lr, kd = cfg["data"], cfg["teacher"]["lr"], KDConfig(**cfg["distill"])
    assert cfg["student"]["lr"] == lr, "one lr for teachers and students is assumed"
    assert kd == KDConfig(), "the loop writes the reference KD loss: CE + KLDivLoss(), T = 1"
    data = build_study(
        STUDY, dc["generator"], dc["grid"], dc["runs"], dc["n_train"], dc["n_test"], SEED
    )
    S, R = len(dc["grid"]), dc["runs"]
    d = {
        "S": S,
        "R": R,
        "xa": as_features(data.xa_train),
        "xb": as_features(data.xb_train, S),
        "y": as_labels(data.y_train, S),
        "xb_r": as_features(data.xb_train),
        "y_r": as_labels(data.y_train),
    }
    test = {
        "teachers": (as_features(data.xa_test), as_labels(data.y_test, S)),
        "nokd": (as_features(data.xb_test), as_labels(data.y_test)),
        "kd": (as_features(data.xb_test, S), as_labels(data.y_test, S)),
    }

    for side in ("ensemble", "loop"):  # warm-up: torch's one-time costs are paid here
        run(side, d, 3, lr, kd)
    ens = [run("ensemble", d, a.epochs, lr, kd)[0] for _ in range(a.repeat)]
    ens_s = {p: statistics.median(t[p] for t in ens) for p in PHASES}
    half = a.loop_epochs // 2
    loop_half, _ = run("loop", d, half, lr, kd)
    loop_full, loop_models = run("loop", d, a.loop_epochs, lr, kd)
    _, ens_models = run("ensemble", d, a.loop_epochs, lr, kd)  # as many epochs as the loop

    wdiff = max(
        max(
            (loop_models[p].weight - ens_models[p].weight).abs().max().item(),
            (loop_models[p].bias - ens_models[p].bias).abs().max().item(),
        )
        for p in PHASES
    )
    adiff = max(
        (accuracy(loop_models[p], *test[p]) - accuracy(ens_models[p], *test[p])).abs().max().item()
        for p in PHASES
    )
    scale = a.epochs / a.loop_epochs
    loop_s = {p: loop_full[p] * scale for p in PHASES}

    print(
        f"\nmfh trainer benchmark: study {STUDY}, n_train {dc['n_train']}, full batch, lr {lr}, "
        f"1 thread, {a.epochs} epochs per model"
    )
    print(
        f"loop: timed at {half} and {a.loop_epochs} epochs; its {a.epochs}-epoch seconds = "
        f"time at {a.loop_epochs} epochs x {scale:g} (linear scaling)"
    )
    print(
        f"ensemble: timed {a.repeat} times at {a.epochs} epochs; median per phase "
        "(total = sum of the medians)\n"
    )
    hdr = (
        f"{'phase':<9}{'models':>7}{f'loop ms/epoch @{half}':>19}{f'@{a.loop_epochs}':>8}"
        f"{f'loop s ({a.epochs} ep)':>18}{'ensemble s':>12}{'speed-up':>10}"
    )
    print(hdr + "\n" + "-" * len(hdr))
    models = {"teachers": S * R, "nokd": R, "kd": S * R}
    for p in PHASES + ("total",):
        ps = PHASES if p == "total" else (p,)
        lh = 1e3 * sum(loop_half[q] for q in ps) / half
        lf = 1e3 * sum(loop_full[q] for q in ps) / a.loop_epochs
        ls, es = sum(loop_s[q] for q in ps), sum(ens_s[q] for q in ps)
        print(
            f"{p:<9}{sum(models[q] for q in ps):>7}{lh:>19.2f}{lf:>8.2f}{ls:>18.2f}{es:>12.3f}"
            f"{ls / es:>9.1f}x"
        )
    print(
        "\nensemble runs (s): "
        + "; ".join(" ".join(f"{p} {t[p]:.3f}" for p in PHASES) for t in ens)
    )
    agree = wdiff < 1e-4 and adiff == 0.0
    print(
        f"results agree ({a.loop_epochs} epochs each): {'yes' if agree else 'no'} "
        f"(max |weight diff|={wdiff:.2e}, max |test acc diff|={adiff:.2f} points)"
    )
    total = sum(loop_s.values()) / sum(ens_s.values())
    print(
        f"target: total speed-up >= {TARGET:g}x -> {total:.1f}x, "
        f"{'met' if total >= TARGET else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
