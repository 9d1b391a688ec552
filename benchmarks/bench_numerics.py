"""What portable CPU kernels cost: portable vs native (`MFH_CPU_KERNELS`, see mfh.numerics).

Measured side by side in one run, each timing in a fresh process (the kernels are chosen before
torch is imported), the two modes alternating within each repeat; medians over `--repeat`:
- teachers: one synthetic training step, the gauss_gamma teachers at params.yaml's sizes
  (a `LinearEnsemble` of grid x runs linear models, full-batch SGD, `--epochs` epochs);
- image_cnn, audio_cnn: one epoch of `train_minibatch` (batch 64, momentum SGD, a 1-sample
  validation split) of the AV-MNIST CNNs on `--n` random samples of the real shapes
  (1, 28, 28) and (1, 112, 112), 10 classes;
- workflow (`--workflow-repeat`, default 1, 0 skips): `snakemake --cores all --forceall
  --quiet` of the default target in a scratch copy of the workflow (never the repository's).
One intra-op thread, as the pipeline's jobs run. The ratio is portable / native seconds.

Run:  .venv/bin/python benchmarks/bench_numerics.py [--repeat 3] [--n 2000] [--workflow-repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODES = ("portable", "native")
STUDY, SEED = "gauss_gamma", 0


def worker(a: argparse.Namespace) -> None:
    """In a fresh process: pin the kernels of $MFH_CPU_KERNELS, time each item, print JSON."""
    from mfh import numerics

    numerics.pin()
    import torch
    import yaml

    from mfh.data.synthetic import build_study
    from mfh.models.build import build_model
    from mfh.studies.ensemble import as_features, as_labels, init_ensemble
    from mfh.train.fullbatch import train_full_batch
    from mfh.train.minibatch import Split, train_minibatch

    numerics.enforce()
    torch.set_num_threads(1)
    times = {}
    cfg = yaml.safe_load((REPO / "params.yaml").read_text())[STUDY]
    dc = cfg["data"]
    data = build_study(
        STUDY, dc["generator"], dc["grid"], dc["runs"], dc["n_train"], dc["n_test"], SEED
    )
    x, y = as_features(data.xa_train), as_labels(data.y_train, len(dc["grid"]))
    model = init_ensemble(STUDY, SEED, "teacher_init", len(dc["grid"]), dc["runs"], x.shape[1])
    start = time.perf_counter()
    train_full_batch(model, x, y, epochs=a.epochs, lr=cfg["teacher"]["lr"])
    times["teachers"] = time.perf_counter() - start

    g = torch.Generator().manual_seed(0)
    for kind, shape in {"image_cnn": (1, 28, 28), "audio_cnn": (1, 112, 112)}.items():
        net = build_model(kind, shape, 10, 128, seed=0)
        train = Split((torch.randn(a.n, *shape, generator=g),), torch.randint(0, 10, (a.n,)))
        val = Split((torch.randn(1, *shape, generator=g),), torch.zeros(1, dtype=torch.long))
        start = time.perf_counter()
        shuffle = torch.Generator().manual_seed(1)
        train_minibatch(
            net, train, val, epochs=1, batch_size=64, lr=0.02, momentum=0.9, seed_generator=shuffle
        )
        times[kind] = time.perf_counter() - start
    print(json.dumps({"record": numerics.record(), "times": times}))


def run_worker(mode: str, a: argparse.Namespace) -> dict:
    env = {**os.environ, "MFH_CPU_KERNELS": mode}
    command = [sys.executable, __file__, "--worker", "--n", str(a.n), "--epochs", str(a.epochs)]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        sys.exit(f"worker ({mode}) failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_workflow(mode: str) -> float:
    """`snakemake --cores all --forceall` of the default target in a scratch copy: seconds."""
    work = Path(tempfile.mkdtemp(prefix="mfh-bench-numerics-"))
    try:
        for name in ("Snakefile", "params.yaml"):
            shutil.copy2(REPO / name, work / name)
        skip = shutil.ignore_patterns("__pycache__")
        for folder in ("workflow", "mfh", ".params"):  # the rules' inputs: code and sections
            shutil.copytree(REPO / folder, work / folder, ignore=skip)
        bindir = str(Path(sys.executable).parent)
        path = bindir + os.pathsep + os.environ["PATH"]
        env = {**os.environ, "MFH_CPU_KERNELS": mode, "PATH": path}
        command = [str(Path(bindir) / "snakemake"), "--cores", "all", "--forceall", "--quiet"]
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"snakemake ({mode}) failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
        return seconds
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="worker runs per mode (median)")
    ap.add_argument("--n", type=int, default=2000, help="training samples of each CNN epoch")
    ap.add_argument("--epochs", type=int, default=1000, help="epochs of the synthetic teachers")
    ap.add_argument("--workflow-repeat", type=int, default=1, help="snakemake runs per mode")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker(a)

    times: dict[str, dict[str, list[float]]] = {m: {} for m in MODES}
    records = {}
    for _ in range(a.repeat):
        for mode in MODES:
            out = run_worker(mode, a)
            records[mode] = out["record"]
            for item, seconds in out["times"].items():
                times[mode].setdefault(item, []).append(seconds)
    for _ in range(a.workflow_repeat):
        for mode in MODES:
            times[mode].setdefault("workflow", []).append(run_workflow(mode))

    for mode in MODES:
        print(f"{mode:>8}: {json.dumps(records[mode], sort_keys=True)}")
    print(f"\n{'item':<12} {'portable s':>11} {'native s':>9} {'ratio':>6}   (median of runs)")
    for item in times["native"]:
        p, n = (statistics.median(times[m][item]) for m in MODES)
        runs = len(times["native"][item])
        print(f"{item:<12} {p:>11.2f} {n:>9.2f} {p / n:>6.2f}   ({runs})")


if __name__ == "__main__":
    main()
