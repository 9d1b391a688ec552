"""The real-data points of the `predictors` study, reported apart from the synthetic ones: one
row per (real dataset, pair, seed) with the measured KD gain and every predictor's value (table
REAL_PREDICTOR_POINTS), scored like the synthetic points (`mfh.predictors.study.score_points`)
per dataset and pooled ("real").

    gain      acc/kd_<pair>_unimodal.csv (the KD student of the pair's teacher on modality a: with
              params `teacher: joint` Algorithm 1's f_a, else the unimodal net) minus the no-KD
              student's accuracy, both on the test split, per seed
    the rest  diagnose_<pair>.csv (`snakemake diagnose`, measured before any KD student): the
              teacher's accuracy, the complementarity gaps, non-target JS, rank agreement, and
              the Venn estimate on the penultimate channels (gamma, 1 - alpha, mass-based gamma)
Nothing here trains or reads a net. The KD modes are not points: their modified teachers have no
diagnosis.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from mfh.errors import DataError
from mfh.report.real.inputs import accuracy, read_seeds
from mfh.tables import REAL_DIAGNOSE, REAL_PREDICTOR_POINTS

REAL_PREDICTORS = (  # the columns of REAL_PREDICTOR_POINTS that are predictors, in report order
    "teacher_acc",
    "gamma_est",
    "one_minus_alpha_est",
    "gamma_mass_est",
    "complementarity_gauss",
    "complementarity_knn",
    "nontarget_js",
    "rank_tau",
    "top1_agreement",
)
POOLED_REAL = "real"


def pair_points(results: str | os.PathLike, dataset: str, pair: str, seeds: int) -> pd.DataFrame:
    """The points of one pair of a real dataset whose outputs are in `results`."""
    results = Path(results)
    diagnosis = read_seeds(results / f"diagnose_{pair}.csv", REAL_DIAGNOSE, seeds)
    diagnosis = diagnosis.set_index("seed").sort_index()
    kd = accuracy(results, f"kd_{pair}_unimodal", seeds)["test_acc"].sort_index()
    nokd = diagnosis["student_acc"]  # the no-KD student's test accuracy (acc/uni_<student>.csv)
    points = pd.DataFrame(
        {
            "dataset": dataset,
            "pair": pair,
            "seed": diagnosis.index,
            "gain": (kd - nokd).to_numpy(),
            "gamma_est": diagnosis["gamma"].to_numpy(),
            "one_minus_alpha_est": 1.0 - diagnosis["alpha"].to_numpy(),
            "gamma_mass_est": diagnosis["gamma_mass"].to_numpy(),
        }
    )
    for name in REAL_PREDICTORS:
        if name not in points:
            points[name] = diagnosis[name].to_numpy()
    if points["gain"].isna().any():
        raise DataError(f"{results}: no KD gain for some seed of {pair}")
    return points[REAL_PREDICTOR_POINTS.names]


def real_points(
    results: str | os.PathLike, pairs: Mapping[str, list[str]], seeds: Mapping[str, int]
) -> pd.DataFrame:
    """Table REAL_PREDICTOR_POINTS of every real dataset: `pairs` maps a dataset to its pair
    names, `seeds` to its number of seeds; results/<dataset>/ holds its outputs."""
    parts = [
        pair_points(Path(results) / dataset, dataset, pair, seeds[dataset])
        for dataset, names in pairs.items()
        for pair in names
    ]
    return REAL_PREDICTOR_POINTS.check_frame(pd.concat(parts, ignore_index=True), "real points")
