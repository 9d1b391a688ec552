"""The `gauss_modify` study (paper Table 2): end to end through Snakemake, and the ensemble
steps against a plain per-model loop on the same work.

The work (params.yaml, 5 settings x 10 runs = 50 models, n_train 200, full batch, 1000 epochs):
regular teachers; Algorithm 1 = joint training of two linear nets (SGD + momentum) and
channel-permutation salience (100 repeats x 50 channels); no-KD and regular-KD students; per
mode (random, gt, alg1) a teacher retrained on its kept channels and its KD student.

1. snakemake: copies `Snakefile`, `workflow/`, `params.yaml` into a fresh temporary directory
   and times `snakemake --cores all --quiet` on this study's targets only, `--repeat` times;
   prints the per-job times of the last run from its job logs (see bench_pipeline.py).
2. in-process, 1 thread. ensemble: the functions of `mfh.studies.modify` on a dataset written
   by `mfh.studies.modify_prepare.prepare` (median of `--ens-repeat`; each call includes its
   data load and checkpoint/CSV writes). loop: what one writes without mfh: per model an
   `nn.Linear` + `torch.optim.SGD` (momentum for the joint nets), CE (+ `nn.KLDivLoss()` for
   KD: benchmarks/plain_loop.py), and salience by permuting one channel with `torch.randperm`,
   forward, `nn.MSELoss`, for each repeat and channel; only its loops are timed. It runs on
   `--loop-models` models, `--loop-epochs` epochs, `--loop-repeats` repeats and is scaled
   linearly to the full work; it is also timed at half of each, to check the linearity. The loop
   draws fresh permutations for every channel (like the reference code); `input_salience` shares
   each repeat's permutation across the channels (common random numbers,
   `mfh.algorithm1.permutation`), which saves draws.

Run:  /work/venv/bin/python benchmarks/bench_modify.py [--repeat 1] [--no-snakemake]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import job_row  # noqa: E402
from plain_loop import train_linear  # noqa: E402

from mfh.kd import KDConfig  # noqa: E402
from mfh.studies import ensemble_steps, modify  # noqa: E402
from mfh.studies.modify_prepare import prepare  # noqa: E402

REPO, STUDY, REFERENCE_S = Path(__file__).resolve().parents[1], "gauss_modify", 300.0
TARGETS = [
    f"results/{STUDY}/{f}"
    for f in ("runs.csv", "summary.csv", f"{STUDY}.png", "salience.png", "venn.csv")
]
PHASES = (
    "teachers",
    "salience: joint training",
    "salience: permutations",
    "students/KD",
    "modified teachers + KD",
)


def snakemake_once():
    work = Path(tempfile.mkdtemp(prefix="mfh-bench-modify-"))
    for f in ("Snakefile", "params.yaml"):
        shutil.copy2(REPO / f, work / f)
    for folder in ("workflow", "mfh", ".params"):  # the rules take the code and sections as inputs
        shutil.copytree(REPO / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__"))
    # targets first: --quiet takes optional values
    cmd = [str(Path(sys.executable).parent / "snakemake"), *TARGETS, "--cores", "all", "--quiet"]
    started, start = datetime.now(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0 or not all((work / t).is_file() for t in TARGETS):
        sys.exit(proc.stdout + proc.stderr + f"\nFAILED (rc {proc.returncode}; kept {work})")
    return seconds, work, started


def fit(x, y, epochs, lr, soft=None):
    """One nn.Linear trained alone, full batch; returns (model, seconds of the loop)."""
    lin = nn.Linear(x.shape[1], 2)
    return lin, train_linear(lin, x, y, epochs, lr, soft)


def kd(teacher, x_t, x, y, epochs, lr):
    start = time.perf_counter()
    with torch.no_grad():
        soft = F.softmax(teacher(x_t), dim=1)
    return fit(x, y, epochs, lr, soft)[1] + time.perf_counter() - start


def loop_work(a, grid, models, runs, epochs, repeats, cfg):
    """The study's work on `models` (flat indices s * R + r), one model at a time: {phase: s}."""
    t, mse, sc = dict.fromkeys(PHASES, 0.0), nn.MSELoss(), cfg["salience"]
    lr_t, lr_s = cfg["teacher"]["lr"], cfg["student"]["lr"]
    for m in models:
        s, r = divmod(m, runs)
        g = {k: torch.from_numpy(v[s, r]) for k, v in a.items()}  # (n, 50) / (n,)
        teacher, sec = fit(g["x_a_a"], g["y_a"], epochs, lr_t)
        t["teachers"] += sec
        fa, fb = nn.Linear(50, 2), nn.Linear(50, 2)
        opt = torch.optim.SGD(
            [*fa.parameters(), *fb.parameters()], lr=sc["lr"], momentum=sc["momentum"]
        )
        start = time.perf_counter()
        for _ in range(epochs):
            opt.zero_grad()
            la, lb = fa(g["x_a_a"]), fb(g["x_b_a"])
            (F.cross_entropy(la, g["y_a"]) + F.cross_entropy(lb, g["y_a"]) + mse(la, lb)).backward()
            opt.step()
        mid = time.perf_counter()
        sal, xa, n = torch.zeros(50), g["x_a_a"], g["x_a_a"].shape[0]
        with torch.no_grad():
            target = fb(g["x_b_a"])
            for _ in range(repeats):
                for k in range(50):
                    xp = xa.clone()
                    xp[:, k] = xa[torch.randperm(n), k]
                    sal[k] += mse(fa(xp), target).item()
        t["salience: joint training"] += mid - start
        t["salience: permutations"] += time.perf_counter() - mid
        t["students/KD"] += fit(g["x_b_b"], g["y_b"], epochs, lr_s)[1]
        t["students/KD"] += kd(teacher, g["x_a_b"], g["x_b_b"], g["y_b"], epochs, lr_s)
        xs2, rng = int(grid[s][1]), np.random.default_rng(m)
        for keep in (rng.choice(50, xs2, replace=False), np.arange(xs2), sal.topk(xs2).indices):
            keep = torch.as_tensor(keep)
            mod, sec = fit(g["x_a_b"][:, keep], g["y_b"], epochs, lr_t)
            t["modified teachers + KD"] += sec + kd(
                mod, g["x_a_b"][:, keep], g["x_b_b"], g["y_b"], epochs, lr_s
            )
    return t


def ensemble_work(cfg, seed, data, d):
    """All steps of the study through mfh.studies.modify, outputs into d: {phase: s}."""
    joint, inner, ss = [], ensemble_steps.train_joint_ensemble, (STUDY, seed)
    clock = time.perf_counter
    tc, sc, kc, p = cfg["teacher"], cfg["student"], cfg["distill"], lambda *f: [d / x for x in f]

    def timed_joint(*args, **kw):  # splits `modify.salience` into joint training and the rest
        start = clock()
        try:
            return inner(*args, **kw)
        finally:
            joint.append(clock() - start)

    ensemble_steps.train_joint_ensemble = timed_joint
    try:
        s0 = clock()
        modify.train_teachers(*ss, data, tc, *p("t.pt", "t.csv"))
        s1 = clock()
        modify.salience(*ss, data, cfg["salience"], d / "sal.csv")
        s2 = clock()
        modify.train_baselines(*ss, data, sc, *p("n.pt", "n.csv"))
        modify.distill_regular(*ss, data, d / "t.pt", sc, kc, False, *p("k.pt", "k.csv"))
        s3 = clock()
        for selection in cfg["selections"]:
            modify.retrain_teachers(
                *ss, data, selection, d / "sal.csv", tc, *p("kept", "m.pt", "m.csv")
            )
            modify.distill_modified(
                *ss, data, selection, *p("m.pt", "kept"), sc, kc, *p("mk", "mk.csv")
            )
        s4 = clock()
    finally:
        ensemble_steps.train_joint_ensemble = inner
    return dict(zip(PHASES, (s1 - s0, joint[0], s2 - s1 - joint[0], s3 - s2, s4 - s3)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", default=str(REPO / "params.yaml"))
    ap.add_argument("--repeat", type=int, default=1, help="from-scratch snakemake runs")
    ap.add_argument("--no-snakemake", action="store_true", help="skip part 1")
    ap.add_argument("--ens-repeat", type=int, default=3, help="ensemble timings (median)")
    ap.add_argument("--loop-models", type=int, default=4, help="models the loop trains")
    ap.add_argument("--loop-epochs", type=int, default=250, help="epochs per loop training")
    ap.add_argument("--loop-repeats", type=int, default=25, help="permutation repeats (loop)")
    a = ap.parse_args()
    params = yaml.safe_load(Path(a.params).read_text())
    cfg, seed = params[STUDY], params["seed"]
    assert KDConfig(**cfg["distill"]) == KDConfig() and not cfg["legacy_swap_bug"], "see loop"
    E, REP, S, R = (
        cfg["teacher"]["epochs"],
        cfg["salience"]["repeats"],
        len(cfg["data"]["grid"]),
        cfg["data"]["runs"],
    )
    assert {cfg[k]["epochs"] for k in ("teacher", "student", "salience")} == {E}

    times, rows = [], []
    for i in range(0 if a.no_snakemake else a.repeat):
        load = os.getloadavg()[0]
        seconds, work, started = snakemake_once()
        times.append(seconds)
        print(f"snakemake run {i + 1}/{a.repeat}: {seconds:.1f} s (load before {load:.2f})")
        rows = sorted(job_row(p, started) for p in (work / "logs" / STUDY).glob("*.log"))
        shutil.rmtree(work, ignore_errors=True)

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="reduction: 'mean'")  # the reference's KLDivLoss()
    d = Path(tempfile.mkdtemp(prefix="mfh-bench-modify-"))
    try:
        data = prepare(STUDY, seed, cfg["data"], d / "data.npz", d / "settings.csv")
        tiny = {
            k: {**cfg[k], "epochs": 3, "repeats": 2} for k in ("teacher", "student", "salience")
        }
        ensemble_work({**cfg, **tiny}, seed, d / "data.npz", d)  # warm-up: one-time costs
        ens = [ensemble_work(cfg, seed, d / "data.npz", d) for _ in range(a.ens_repeat)]
    finally:
        shutil.rmtree(d, ignore_errors=True)
    ens_s = {p: statistics.median(t[p] for t in ens) for p in PHASES}
    picks = lambda n: np.linspace(0, S * R - 1, n).round().astype(int).tolist()  # noqa: E731
    half = (max(1, a.loop_models // 2), a.loop_epochs // 2, a.loop_repeats // 2)
    loop_work(data.arrays, data.grid, picks(1), R, *half[1:], cfg)  # warm-up: 3 epochs was too few
    sizes, scaled = [half, (a.loop_models, a.loop_epochs, a.loop_repeats)], []
    for n, e, rp in sizes:
        t = loop_work(data.arrays, data.grid, picks(n), R, e, rp, cfg)
        scaled.append({p: t[p] * S * R / n * (REP / rp if "perm" in p else E / e) for p in PHASES})

    print(
        f"\nmfh {STUDY} benchmark: {S} settings x {R} runs = {S * R} models, n_train "
        f"{cfg['data']['n_train']}, {E} epochs, salience {REP} repeats x 50 channels"
    )
    if times:
        med = statistics.median(times)
        print(
            f"\n1. snakemake --cores all --quiet <this study's targets>, from scratch: "
            f"{', '.join(f'{s:.1f}' for s in times)} s, median {med:.1f} s\n   reference "
            f"~{REFERENCE_S:g} s single-threaded (the issue author's figure for the reference "
            f"script on this machine, not measured by us): {REFERENCE_S / med:.1f}x\n   per job, "
            "last run (step s: the log's 'mfh <step> done in'; train s: its epoch lines)"
        )
        hdr = (
            f"   {'start s':>7}  {'job':<24}{'step s':>7}{'train s':>8}{'bench s':>8}{'RSS MB':>8}"
        )
        print(hdr + "\n   " + "-" * (len(hdr) - 3))
        for st, _, job, done, train, bench, rss in rows:
            print(f"   {st:>7.1f}  {job:<24}{done:>7}{train:>8}{bench:>8}{str(rss):>8}")
    (n1, e1, r1), (n2, e2, r2) = sizes
    print(
        f"\n2. in-process, 1 thread. loop: timed on {n1} and {n2} of {S * R} models ({e1} / {e2} "
        f"epochs, {r1} / {r2} repeats), scaled linearly: full-work s = time x {S * R}/models x "
        f"{E}/epochs (permutations: x {REP}/repeats). ensemble: median of {a.ens_repeat}."
    )
    hdr = f"{'phase':<26}{f'loop s @{n1}':>11}{f'loop s @{n2}':>11}{'ensemble s':>12}{'ratio':>8}"
    print(hdr + "\n" + "-" * len(hdr))
    for p in PHASES + ("total",):
        l1, l2, es = (
            sum(x[q] for q in (PHASES if p == "total" else (p,))) for x in (*scaled, ens_s)
        )
        print(f"{p:<26}{l1:>11.1f}{l2:>11.1f}{es:>12.2f}{l2 / es:>7.1f}x")
    totals = ", ".join(f"{sum(t.values()):.2f}" for t in ens)
    print(
        f"ratio = loop s @{n2} / ensemble s; ensemble totals of the {a.ens_repeat} runs: {totals} s"
    )


if __name__ == "__main__":
    main()
