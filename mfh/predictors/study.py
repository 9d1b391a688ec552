"""The `predictors` study (PROTOCOL §6): which criterion, computed before distillation, foretells
the crossmodal KD gain? Every setting of every synthetic study, and every teacher of
gauss_modify (regular, random, gt, alg1), is a point (predictor value, measured gain), both
means over runs. Each predictor is scored by its Spearman correlation with the gain, per study
and pooled over all synthetic points ("synthetic"), with a bootstrap 95 % interval that
resamples runs (`mfh.predictors.scores`). Also scored: the Venn estimate's gamma against the
truth (`venn_fit`).

    results/predictors/points.csv    PREDICTOR_POINTS   (`mfh.predictors.points`)
    results/predictors/scores.csv    PREDICTOR_SCORES
    results/predictors/venn_fit.csv  VENN_FIT
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from mfh.predictors.points import PREDICTORS
from mfh.predictors.real_points import POOLED_REAL, REAL_PREDICTORS
from mfh.predictors.scores import spearman_with_ci
from mfh.tables import PREDICTOR_SCORES, VENN, VENN_FIT

POOLED = "synthetic"
N_BOOT = 1000


def score_points(points: pd.DataFrame, *, n_boot: int = N_BOOT, seed: int = 0) -> pd.DataFrame:
    """Table PREDICTOR_SCORES: every predictor, per study and pooled. A point is one (study,
    setting, teacher); the bootstrap draws runs per study (`spearman_with_ci`)."""
    keyed = points.assign(point=points["setting"].astype(str) + "/" + points["teacher"])
    return _scores(keyed, PREDICTORS, POOLED, n_boot, seed)


def score_real_points(points: pd.DataFrame, *, n_boot: int = N_BOOT, seed: int = 0) -> pd.DataFrame:
    """Table PREDICTOR_SCORES of the real-data points (REAL_PREDICTOR_POINTS): per dataset and
    pooled ("real"); a point is one (dataset, pair), the bootstrap draws seeds per dataset."""
    keyed = points.rename(columns={"dataset": "study", "pair": "point", "seed": "run"})
    return _scores(keyed, REAL_PREDICTORS, POOLED_REAL, n_boot, seed)


def _scores(keyed: pd.DataFrame, predictors, pooled: str, n_boot: int, seed: int) -> pd.DataFrame:
    """keyed: columns study, point, run, gain and `predictors`."""
    scopes = [(study, keyed[keyed["study"] == study]) for study in keyed["study"].unique()]
    scopes.append((pooled, keyed))
    rows = []
    for predictor in predictors:
        for scope, frame in scopes:
            data = frame[["study", "point", "run", "gain"]].assign(value=frame[predictor])
            data = data.rename(columns={"point": "setting"})
            spearman, low, high, n = spearman_with_ci(data, n_boot=n_boot, seed=seed)
            rows.append((predictor, scope, n, spearman, low, high))
    return pd.DataFrame(rows, columns=PREDICTOR_SCORES.names)


def _fit_row(study: str, venn: pd.DataFrame) -> tuple:
    error = (venn["gamma_est"] - venn["gamma_true"]).abs()
    rho = spearmanr(venn["gamma_true"], venn["gamma_est"]).statistic if len(venn) > 2 else math.nan
    return study, len(venn), error.mean(), error.max(), float(rho)


def venn_fit(venns: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Table VENN_FIT: per study and pooled, the mean and largest |gamma_est - gamma_true| over
    settings and the Spearman between estimate and truth over settings."""
    frames = {study: VENN.check_frame(frame, f"{study} venn.csv") for study, frame in venns.items()}
    rows = [_fit_row(study, frame) for study, frame in frames.items()]
    rows.append(_fit_row("pooled", pd.concat(frames.values(), ignore_index=True)))
    fit = pd.DataFrame(rows, columns=VENN_FIT.names)
    fit["spearman"] = fit["spearman"].astype(float).where(np.isfinite(fit["spearman"]))
    return fit
