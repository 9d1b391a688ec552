"""The Venn analysis of the synthetic studies: estimate from Algorithm 1's salience vectors how
many of the teacher's decisive channels are modality-general (D0) and how many are seen by
modality a only (Da), hence gamma = D0 / (D0 + Da), and compare with the truth of the generator
(table VENN; its figure is `mfh.report.venn`).

The estimator is ours, not the paper's. It reads only the salience of each channel, never the
generator's `shared` / `decisive` columns. For one salience vector v (one run, or the pooled mean
of the runs of a setting; raw or min-max normalised, which gives the same result):

1. s = sqrt(minmax(v)). Salience is an MSE between logits; the square root puts it on the scale
   of the logits and compresses the long upper tail of the modality-general channels, whose
   salience varies over a factor of ten or more within one run.
2. Split 1 (general vs the rest): the exact 1-D 2-means split of s. The upper group are the
   channels called modality-general, d0 = its size.
3. Split 2 (a-only vs noise): the same on the remaining channels, min-max normalised again: the
   upper group are the decisive channels seen by a only, da = its size; the lower group is noise.
4. gamma = d0 / (d0 + da).

`threshold` (default 0.5) sets where each split cuts between its two groups: a channel joins the
upper group when its transformed salience is >= low_mean + threshold * (high_mean - low_mean),
iterated to a fixed point from the 2-means split (Lloyd); 0.5 is plain 2-means, larger values
demand more salience.

`estimate_venn` reports, per setting, the mean and sd of the per-run estimates (d0_est, da_est,
gamma_est, gamma_est_std) and the estimate from the per-channel mean of the normalised salience
over runs (d0_pooled, da_pooled, gamma_pooled). The channels of x_a have the same roles in every
run of a setting, so pooling is averaging Algorithm 1 over independent trainings.

Limits. (a) Modality b's own decisive features (Db) are invisible from the teacher's side, so the
estimate takes Db = 0, which is true of gauss_modify and gauss_alpha (beta = 0) but not of
gauss_gamma: gamma_est estimates D0 / (D0 + Da) = 1 - alpha, not D0 / (D0 + Da + Db). (b) The
scheme always finds three groups: with no a-only channels or no noise channels it still splits the
rest in two. (c) It assumes a-only channels are
much less salient than general ones, as Algorithm 1 intends: on clean vectors (general 1, a-only
c, noise 0) it is exact for c <= 0.2 but lumps the a-only channels with the general ones from
about c = 0.3 on (split 1 then falls between a-only and noise). On the reference data c is
0.004 - 0.05. (d) Within one run Algorithm 1 barely separates a-only channels from noise
(on the reference data their salience is only a few percent of the range above the floor, with
overlapping spread), so per-run counts of Da are noisy; pooling runs fixes most of it.

Estimators tried on the reference run of gauss_modify (10 runs, (xs1, xs2) = (30,10), (20,10),
(10,10), (10,20), (10,30)), mean |gamma_est - gamma_true| over the settings, per run / pooled:
3-means on the normalised salience (init min/median/max) 0.22 / 0.17 (it splits the broad group
of general channels); the same on log salience 0.13 / 0.06; a 3-component Gaussian mixture on
log salience 0.07 / 0.14; the largest gap in the sorted values 0.27; this scheme without the
square root 0.18 / 0.04; with log(s**2 + 0.01) in place of s 0.06 / 0.04, but its offset is a
knob we would have had to tune on these data; this scheme 0.10 / 0.02 (d0 exact in every setting
when pooled), chosen as the best without a tuned constant.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from mfh.errors import DataError
from mfh.table_io import read_frame_as_any
from mfh.tables import GAUSS_SETTINGS, MODIFY_SETTINGS, SALIENCE, VENN

NOISE, A_ONLY, GENERAL = 0, 1, 2
_MAX_LLOYD = 100


def _minmax(values: np.ndarray) -> np.ndarray:
    """`values` scaled to [0, 1]; all zeros when they are all equal."""
    low, span = values.min(), values.max() - values.min()
    return (values - low) / span if span > 0 else np.zeros_like(values)


def _split(values: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean mask of the upper group of a 1-D two-group split of `values` (see the module doc).

    Starts from the exact 2-means split (the contiguous split of the sorted values with the least
    within-group sum of squares), then moves the cut to low_mean + threshold * (high_mean -
    low_mean) until the groups stop changing. Fewer than two distinct values: no upper group.
    """
    n = len(values)
    if n < 2 or values.max() == values.min():
        return np.zeros(n, dtype=bool)
    ordered = np.sort(values, kind="stable")
    sums, squares = np.cumsum(ordered), np.cumsum(ordered**2)
    low_n = np.arange(1, n)
    high_n = n - low_n
    low_sse = squares[:-1] - sums[:-1] ** 2 / low_n
    high_sse = (squares[-1] - squares[:-1]) - (sums[-1] - sums[:-1]) ** 2 / high_n
    cut = int(np.argmin(low_sse + high_sse)) + 1  # size of the lower group
    upper = values >= ordered[cut]
    for _ in range(_MAX_LLOYD):
        low_mean, high_mean = values[~upper].mean(), values[upper].mean()
        moved = values >= low_mean + threshold * (high_mean - low_mean)
        if moved.all() or not moved.any() or np.array_equal(moved, upper):
            break
        upper = moved
    return upper


def classify_channels(salience: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Label each channel of one salience vector GENERAL (2), A_ONLY (1) or NOISE (0).

    Two nested splits of the square-rooted, min-max normalised salience; see the module doc.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie in (0, 1), got {threshold}")
    salience = np.asarray(salience, dtype=float)
    if salience.ndim != 1 or not np.isfinite(salience).all():
        raise ValueError("salience must be a 1-D vector of finite values")
    labels = np.full(len(salience), NOISE)
    if len(salience) == 0:
        return labels
    general = _split(np.sqrt(_minmax(salience)), threshold)
    labels[general] = GENERAL
    rest = np.flatnonzero(~general)
    if len(rest):
        a_only = _split(np.sqrt(_minmax(salience[rest])), threshold)
        labels[rest[a_only]] = A_ONLY
    return labels


def _counts(salience: np.ndarray, threshold: float) -> tuple[int, int, float]:
    """(d0, da, gamma) of one salience vector; gamma is NaN when no channel is decisive."""
    labels = classify_channels(salience, threshold)
    d0, da = int((labels == GENERAL).sum()), int((labels == A_ONLY).sum())
    return d0, da, d0 / (d0 + da) if d0 + da else math.nan


def estimate_venn(
    salience_csv: str | os.PathLike, settings_csv: str | os.PathLike, threshold: float = 0.5
) -> pd.DataFrame:
    """One row per setting (sorted by setting; table VENN): the true Venn counts of the
    generator (from settings.csv's d0, da, db: decisive dims both modalities see, a only, b only)
    next to their estimates from the salience vectors (see the module doc for the estimator).

    d0_est, da_est, gamma_est are means over runs of the per-run estimates, gamma_est_std their
    sample sd (ddof=1; NaN with one run); *_pooled come from the mean normalised salience per
    channel over runs. Uses the `salience` column only.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie in (0, 1), got {threshold}")
    salience = SALIENCE.read_frame(salience_csv)
    settings = read_frame_as_any(settings_csv, (GAUSS_SETTINGS, MODIFY_SETTINGS))
    unknown = sorted(set(salience["setting"]) - set(settings["setting"]))
    if unknown:
        raise DataError(f"{salience_csv}: setting(s) {unknown} not in {settings_csv}")
    absent = sorted(set(settings["setting"]) - set(salience["setting"]))
    if absent:
        raise DataError(f"{salience_csv}: no rows for setting(s) {absent} of {settings_csv}")
    if not np.isfinite(salience["salience"]).all():
        raise DataError(f"{salience_csv}: non-finite salience")

    rows = []
    for setting in settings.sort_values("setting").itertuples(index=False):
        data = salience[salience["setting"] == setting.setting]
        table = data.pivot(index="channel", columns="run", values="salience").sort_index()
        if table.isna().any().any():
            raise DataError(
                f"{salience_csv}: setting {setting.setting}: the runs do not cover the same "
                "channels"
            )
        per_run = np.array(
            [_counts(table[run].to_numpy(), threshold) for run in table.columns], dtype=float
        )
        normalised = table.apply(lambda column: pd.Series(_minmax(column.to_numpy()), column.index))
        d0_pooled, da_pooled, gamma_pooled = _counts(normalised.mean(axis=1).to_numpy(), threshold)
        gammas = per_run[:, 2][~np.isnan(per_run[:, 2])]
        d0, da, db = int(setting.d0), int(setting.da), int(setting.db)
        rows.append(
            {
                "setting": int(setting.setting),
                "d0_true": d0,
                "da_true": da,
                "db_true": db,
                "gamma_true": d0 / (d0 + da + db),
                "alpha_true": da / (d0 + da),
                "d0_est": per_run[:, 0].mean(),
                "da_est": per_run[:, 1].mean(),
                "gamma_est": gammas.mean() if len(gammas) else math.nan,
                "gamma_est_std": gammas.std(ddof=1) if len(gammas) > 1 else math.nan,
                "n_runs": len(per_run),
                "d0_pooled": d0_pooled,
                "da_pooled": da_pooled,
                "gamma_pooled": gamma_pooled,
            }
        )
    return pd.DataFrame(rows, columns=VENN.names)


def write_venn(df: pd.DataFrame, out_csv: str | os.PathLike) -> None:
    """Write the table of `estimate_venn` (VENN; `mfh.table_io`: atomic, byte-deterministic)."""
    VENN.write_frame(out_csv, df)
