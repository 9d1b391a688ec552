"""The points of the `predictors` study: one row per (study, setting, teacher, run) with the
measured KD gain and every predictor's value (table PREDICTOR_POINTS), from the committed outputs
of the synthetic studies. No predictor reads a KD student; only `gain` does.

    gain                   KD student accuracy - no-KD student accuracy (points), from runs.csv
    teacher_acc            the teacher's test accuracy (the naive criterion MFH argues against)
    gamma_true             the generator's gamma of the teacher's modality pair; for a modified
                           teacher of gauss_modify, of the channels it keeps: D0' = kept shared,
                           Da' = kept a-only, Db' = shared channels it dropped (x_b still sees
                           them)
    gamma_est              the Venn estimate of the run (`mfh.venn.run_estimate`)
    one_minus_alpha_est    1 - alpha of that estimate: the teacher side only
    complementarity_*      I(h_T; h_S) - I(h_S; Y), Gaussian and kNN estimates
    nontarget_js, rank_tau, top1_agreement   see `mfh.predictors.per_model`
The Venn estimate is of the regular teacher's modality; gauss_modify's modified teachers have
none (NaN), their gamma_true is known.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from mfh.tables import CHANNELS, GAUSS_RUNS, KEPT, MODIFY_RUNS, PREDICTOR_POINTS, RUN_PREDICTORS
from mfh.venn import run_estimate

PREDICTORS = (  # the columns of PREDICTOR_POINTS that are predictors, in report order
    "teacher_acc",
    "gamma_true",
    "gamma_est",
    "one_minus_alpha_est",
    "complementarity_gauss",
    "complementarity_knn",
    "nontarget_js",
    "rank_tau",
    "top1_agreement",
)


def venn_by_run(channels_csv: str | os.PathLike, significance: float) -> pd.DataFrame:
    """gamma_est and one_minus_alpha_est per setting x run from channels.csv."""
    channels = CHANNELS.read_frame(channels_csv)
    rows = []
    for (setting, run), frame in channels.groupby(["setting", "run"], sort=True):
        side_a, side_b = frame[frame["side"] == "a"], frame[frame["side"] == "b"]
        estimate = run_estimate(side_a, side_b, significance)
        rows.append((setting, run, estimate["gamma"], 1.0 - estimate["alpha"]))
    return pd.DataFrame(rows, columns=["setting", "run", "gamma_est", "one_minus_alpha_est"])


def _with_measures(points: pd.DataFrame, predictors_csv, venn: pd.DataFrame) -> pd.DataFrame:
    """`points` joined with the run predictor values and the per-run Venn estimate."""
    measures = RUN_PREDICTORS.read_frame(predictors_csv)
    measures["complementarity_gauss"] = measures["mi_ts_gauss"] - measures["mi_sy_gauss"]
    measures["complementarity_knn"] = measures["mi_ts_knn"] - measures["mi_sy_knn"]
    keys = ["setting", "run", "teacher"]
    merged = points.merge(measures, on=keys, how="left", validate="one_to_one")
    if merged["rank_tau"].isna().any():
        raise ValueError(f"{predictors_csv}: no predictor values for some (setting, run, teacher)")
    return merged.merge(venn, on=["setting", "run"], how="left", validate="many_to_one")


def study_points(study: str, results: str | os.PathLike, significance: float) -> pd.DataFrame:
    """The points of a study of the `studies` list (one teacher per setting x run)."""
    results = Path(results)
    runs = GAUSS_RUNS.read_frame(results / "runs.csv")
    points = runs.assign(
        study=study,
        teacher="regular",
        gain=runs["kd_acc"] - runs["nokd_acc"],
        gamma_true=runs["gamma"],
    )[["study", "setting", "teacher", "run", "gain", "teacher_acc", "gamma_true"]]
    venn = venn_by_run(results / "channels.csv", significance)
    merged = _with_measures(points, results / "predictors.csv", venn)
    return merged[PREDICTOR_POINTS.names]


def _kept_gamma(kept_csv, grid: pd.DataFrame) -> pd.DataFrame:
    """gamma_true of a modified teacher per setting x run from its kept channels."""
    kept = KEPT.read_frame(kept_csv).merge(grid, on="setting", validate="many_to_one")
    gammas = []
    for row in kept.itertuples(index=False):
        channels = np.array(list(map(int, row.channels.split())))
        d0 = int((channels < row.xs2).sum())
        da = int(((channels >= row.xs2) & (channels < row.xs1 + row.xs2)).sum())
        db = row.xs2 - d0
        gammas.append(d0 / (d0 + da + db))
    return kept[["setting", "run"]].assign(gamma_true=gammas)


def modify_points(
    results: str | os.PathLike, selections, significance: float, study: str = "gauss_modify"
) -> pd.DataFrame:
    """The points of gauss_modify: per setting x run its regular teacher and the modified teacher
    of each selection."""
    results = Path(results)
    runs = MODIFY_RUNS.read_frame(results / "runs.csv")
    first = runs[runs["mode"] == selections[0]]
    regular = first.assign(
        teacher="regular",
        gain=first["regular_kd_acc"] - first["nokd_acc"],
        gamma_true=first["gamma"],
    )
    parts = [regular[["setting", "teacher", "run", "gain", "teacher_acc", "gamma_true"]]]
    grid = runs[["setting", "xs1", "xs2"]].drop_duplicates()
    for selection in selections:
        rows = runs[runs["mode"] == selection]
        modified = rows.assign(
            teacher=selection,
            gain=rows["mod_kd_acc"] - rows["nokd_acc"],
            teacher_acc=rows["mod_teacher_acc"],
        ).merge(_kept_gamma(results / f"kept_{selection}.csv", grid), on=["setting", "run"])
        parts.append(modified[["setting", "teacher", "run", "gain", "teacher_acc", "gamma_true"]])
    points = pd.concat(parts, ignore_index=True).assign(study=study)
    venn = venn_by_run(results / "channels.csv", significance)
    merged = _with_measures(points, results / "predictors.csv", venn)
    modified = merged["teacher"] != "regular"
    merged.loc[modified, ["gamma_est", "one_minus_alpha_est"]] = np.nan
    return merged[PREDICTOR_POINTS.names]
