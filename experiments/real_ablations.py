"""Ablations of the real-data MFH study: one row per deviation from the reference protocol.

Each variant changes params of one dataset (`VARIANTS`: dotted keys under `<dataset>.`) and runs
the dataset's study through the workflow itself — `snakemake` on a copy of the repository with the
changed params.yaml (only that dataset in `real_studies`), in `--workdir/<variant>`, starting
from the committed outputs so that only the jobs the change affects rerun — then reads its
mode_differences.csv and mfh_modes_summary.csv. The reference row is the committed study
(results/<dataset>/). The table goes to results/ablations/<dataset>.csv; it is outside DVC (a
run of the whole study per row), reproducible with this command:

    .venv/bin/python experiments/real_ablations.py --dataset mfeat [--variants a b ...]

A variant whose run stops (a health check: a net at chance, a diverged loss) is a row too, with
its error. Nothing here is tuned on test accuracy: the variants are the deviations the README
names, with every other setting as in params.yaml.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from mfh.pipeline.workflow_copy import copy_workflow

REPO = Path(__file__).resolve().parents[1]

# name -> (what it changes, {key under <dataset>: value}); `earlier design` is all of them at
# once: the study as it was before the reference protocol (README "Real data")
VARIANTS = {
    "w_gt 0.5, w_kd 0.5": {"distill.w_gt": 0.5, "distill.w_kd": 0.5},
    "training-mean fill": {"modes.fill": "mean"},
    "KL batchmean": {"distill.kl_reduction": "batchmean"},
    "salience on a copy of the teacher": {"teacher": "unimodal"},
    "clean AV-MNIST": {"data.image_pca_energy_removed": 0.0, "data.audio_noise_std": 0.0},
    "earlier design": {  # on the same (corrupted) data; plus its student training, below
        "teacher": "unimodal",
        "joint.batch_size": 256,
        "salience.batch_size": 256,
        "distill.w_gt": 0.5,
        "distill.w_kd": 0.5,
        "distill.kl_reduction": "batchmean",
        "modes.fill": "mean",
    },
}
# the same with the dead-channel check off, to see the numbers the check refuses to publish
for _name in ("salience on a copy of the teacher", "earlier design"):
    VARIANTS[f"{_name}, dead-channel check off"] = {
        **VARIANTS[_name],
        "health.max_dead_share": 1.0,
    }
AVMNIST_ONLY = {"clean AV-MNIST"}
# the earlier design's student epochs and lr (its `train`) and joint epochs, per dataset
EARLIER = {"avmnist": (15, 0.02, 3), "mfeat": (50, 0.05, 10)}


def variant_params(params: dict, dataset: str, name: str) -> dict:
    """params.yaml with the variant's changes to `dataset`, only that dataset built."""
    changed = copy.deepcopy(params)
    changed["real_studies"] = [dataset]
    section = changed[dataset]
    changes = dict(VARIANTS[name])
    if name.startswith("earlier design"):
        epochs, lr, joint_epochs = EARLIER[dataset]
        changes.update({"distill.epochs": epochs, "distill.lr": lr, "joint.epochs": joint_epochs})
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        node = section
        for parent in parents:
            node = node[parent]
        node[leaf] = value
    return changed


def run_variant(params: dict, dataset: str, name: str, workdir: Path, cores: int) -> str:
    """Run the study of one variant in its own copy; '' on success, else the error line."""
    dest = workdir / name.replace(" ", "_").replace(",", "")
    if dest.exists():
        shutil.rmtree(dest)
    copy_workflow(dest, variant_params(params, dataset, name), REPO)
    for done in (f"results/{dataset}", f"models/{dataset}", f"data/prepared/{dataset}"):
        # the reference's outputs, mtimes kept: Snakemake reruns only the jobs whose params
        # sections the variant changes (and what depends on them)
        shutil.copytree(REPO / done, dest / done)
    os.symlink((REPO / "data" / "raw").resolve(), dest / "data" / "raw")
    targets = [f"results/{dataset}/{t}.csv" for t in ("mode_differences", "mfh_modes_summary")]
    env = dict(os.environ, DVC_NO_ANALYTICS="1")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env["PATH"]])
    start = time.perf_counter()
    proc = subprocess.run(
        ["snakemake", *targets, "--cores", str(cores)],
        cwd=dest,
        env=env,
        capture_output=True,
        text=True,
    )
    print(f"{dataset} / {name}: {time.perf_counter() - start:.0f} s", flush=True)
    if proc.returncode == 0:
        return ""
    errors = [line for f in (dest / "logs").rglob("*.log") for line in f.read_text().splitlines()]
    failed = [line.split("failed: ", 1)[1] for line in errors if "failed: " in line]
    return failed[0] if failed else "the run failed (see its logs)"


def summarise(results: Path, name: str, error: str) -> pd.DataFrame:
    """One row per pair and ratio: the modes' student means and the paired differences."""
    if error:
        return pd.DataFrame([{"variant": name, "error": error}])
    summary = pd.read_csv(results / "mfh_modes_summary.csv")
    diffs = pd.read_csv(results / "mode_differences.csv")
    rows = []
    for (a, b, ratio), group in summary.groupby(["teacher_modality", "student_modality", "ratio"]):
        row = {"variant": name, "pair": f"{a}->{b}", "ratio": ratio}
        row["nokd"] = group["nokd_mean"].iloc[0]
        row["regular_kd"] = group["regular_kd_mean"].iloc[0]
        for mode, mean in zip(group["mode"], group["student_mean"]):
            row[f"mode{mode}"] = mean
        at = diffs[
            (diffs["teacher_modality"] == a)
            & (diffs["student_modality"] == b)
            & (diffs["ratio"] == ratio)
        ]
        for comparison, d in zip(at["comparison"], at.itertuples()):
            row[f"d{comparison}"] = d.student_diff
            row[f"d{comparison}_ci"] = f"[{d.ci_low:.1f}, {d.ci_high:.1f}]"
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True, choices=["avmnist", "mfeat"])
    parser.add_argument("--variants", nargs="*", help="names in VARIANTS (default: all)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mfh-ablations"))
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    names = args.variants or [
        n for n in VARIANTS if args.dataset == "avmnist" or n not in AVMNIST_ONLY
    ]
    frames = [summarise(REPO / "results" / args.dataset, "reference", "")]
    for name in names:
        error = run_variant(params, args.dataset, name, args.workdir / args.dataset, args.cores)
        slug = name.replace(" ", "_").replace(",", "")
        frames.append(
            summarise(args.workdir / args.dataset / slug / "results" / args.dataset, name, error)
        )
    out = REPO / "results" / "ablations" / f"{args.dataset}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():  # keep the rows of the variants not rerun now, in VARIANTS order
        rerun = {"reference", *names}
        kept = pd.read_csv(out)
        frames.append(kept[~kept["variant"].isin(rerun)])
    order = {name: i for i, name in enumerate(["reference", *VARIANTS])}
    table = pd.concat(frames, ignore_index=True)
    table = table.sort_values("variant", key=lambda v: v.map(order), kind="stable")
    table.to_csv(out, index=False, float_format="%.2f")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
