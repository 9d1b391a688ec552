"""Which ready real-data job Snakemake starts first: the priority of each real-data rule.

Snakemake's default scheduler (an ILP over the ready jobs) starts the jobs with the largest
summed `priority` that fit the free cores, and breaks ties arbitrarily. With equal priorities it
left a 147-s AV-MNIST student for last in `snakemake real --cores 2` after every mfeat job had
finished: one core idle for the run's last 81 s. So a job's priority here is

    its rule's level on the critical path (LEVELS: joint nets 3 -> salience 2 -> teachers 1 ->
    students 0)  +  a fraction below 1 that grows with the job's estimated length,

i.e. longest first within a level (LPT list scheduling): the short jobs are left to fill the end.
Priorities only order the jobs; they change no result.

The length is estimated from params alone (Snakemake computes priorities while it builds the DAG,
before any data is prepared): training samples x epochs x seeds x runs per seed x the summed
per-sample cost of the nets the job trains (SAMPLE_COST). Torch-free: Snakemake imports it.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

from mfh.kd_modes import mode_ratios

# relative cost of one training sample through each encoder kind, from the job times of
# `snakemake real` here (job seconds / sample-steps, spectrogram CNN = 1): the image CNN's
# students 72 s against the spectrogram CNN's 160 s; mfeat's MLPs and BasicMotions' series CNN
# (batch 8) per sample 0.03 and 0.6
SAMPLE_COST = {"audio_cnn": 1.0, "image_cnn": 0.45, "series_cnn": 0.6, "mlp": 0.03}
# training samples of a study whose params do not give `data.n_train`: BasicMotions' 40 training
# series less its 8 validation ones; for a user's npz file, a guess
UNKNOWN_N_TRAIN = 32
# each rule's level on the critical path: joint nets -> salience -> KD modes (the longest chain),
# the unimodal and fusion teachers before the students
LEVELS = {
    "real_joint": 3,
    "real_salience": 2,
    "real_unimodal": 1,
    "real_fusion": 1,
    "real_distill": 0,
    "real_modes": 0,
}


def training_work(study: Mapping, modalities: Iterable[str], epochs: int, runs: int = 1) -> float:
    """Estimated length of training the nets on `modalities` of a real-data study (params
    section `study`) for `epochs`, `runs` times per seed: sample-steps x SAMPLE_COST."""
    n_train = study["data"].get("n_train", UNKNOWN_N_TRAIN)
    cost = sum(SAMPLE_COST.get(study["models"][m], 1.0) for m in modalities)
    return float(n_train * epochs * study["seeds"] * runs * cost)


def job_work(rule: str, study: Mapping, wildcards: Mapping) -> float:
    """Estimated length of a job of `rule` (a key of LEVELS) with `wildcards`."""
    if rule == "real_unimodal":
        return training_work(study, [wildcards["modality"]], study["train"]["epochs"])
    pair = study["pairs"][wildcards["pair"]]
    both = [pair["teacher"], pair["student"]]
    if rule == "real_joint":
        return training_work(study, both, study["joint"]["epochs"])
    if rule == "real_fusion":
        return training_work(study, both, study["train"]["epochs"])
    if rule == "real_salience":  # forward passes only: about one epoch of both nets
        return training_work(study, both, 1)
    epochs = study["distill"]["epochs"]
    if rule == "real_distill":
        return training_work(study, [pair["student"]], epochs)
    if rule == "real_modes":
        ratios = mode_ratios(study["modes"])[int(wildcards["kd_mode"])]
        return training_work(study, [pair["student"]], epochs, runs=len(ratios))
    raise ValueError(f"no job order for rule {rule!r}; known: {', '.join(LEVELS)}")


def job_priority(rule: str, study: Mapping, wildcards: Mapping) -> float:
    """LEVELS[rule] + log10(1 + work) / 10 (capped at 0.99): longer jobs first within a level."""
    work = job_work(rule, study, wildcards)
    return LEVELS[rule] + min(0.99, math.log10(1.0 + work) / 10.0)
