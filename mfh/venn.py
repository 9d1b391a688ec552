"""The Venn analysis of the synthetic studies: estimate from data alone how many decisive
dimensions both modalities see (D0), a only (Da) and b only (Db), hence gamma, alpha and beta,
and compare with the truth of the generator (table VENN; its figure is `mfh.report.venn`).

The estimator is ours, not the paper's. It reads the per-channel permutation tests of
channels.csv (`mfh.venn_signals`: effect and standard error of permuting each channel of x_a
and of x_b, on held-out samples), never the generator's `shared` / `decisive` columns:

1. A channel is *decisive* when the one-sided test of its decisive effect rejects zero, and
   *modality-general* when the test of its general effect does: z = effect / se above the
   normal quantile of 1 - significance / d (Bonferroni over the d channels of one model and
   test, so that `significance` bounds the chance of calling any pure-noise channel of a model
   significant). The null of zero effect is exact on held-out samples (`mfh.venn_signals`), so
   the threshold comes from the null, not from a tuned constant.
2. On side a: d0_a = decisive and general channels, da = decisive and not general; on side b
   likewise d0_b and db. D0 = (d0_a + d0_b) / 2, the two sides' counts of the same dimensions.
3. gamma = D0 / (D0 + Da + Db), alpha = Da / (Da + d0_a), beta = Db / (Db + d0_b).
4. gamma_mass weighs channels by their decisive effect instead of counting them (for hidden
   layers, where channel counts mean little): alpha_m = the share of a's decisive effect held
   by its a-only channels, beta_m likewise on b, and gamma_mass = 1 / (1/(1 - alpha_m) +
   1/(1 - beta_m) - 1), the identity gamma = 1 / (1/(1 - alpha) + 1/(1 - beta) - 1) of counts.

Per setting the table reports the mean and sd over runs of the per-run estimates.

Limits. A decisive dimension that the label barely depends on (a small hyperplane weight, with
`hyperplane: normal`) moves no loss measurably and is counted on neither side; gamma stays
right as long as such dimensions are as common among shared as among modality-specific ones.
The general test needs the joint nets to use a shared channel on both sides; a shared channel
one net ignores is counted as modality-specific.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
from scipy.stats import norm

from mfh.errors import DataError
from mfh.table_io import read_frame_as_any
from mfh.tables import CHANNELS, GAUSS_SETTINGS, MODIFY_SETTINGS, VENN


def significant(effect: np.ndarray, se: np.ndarray, significance: float) -> np.ndarray:
    """Bool mask of the channels whose one-sided test rejects a zero effect: z = effect / se
    above the normal quantile of 1 - significance / len(effect) (a zero se counts as z = +inf
    for a positive effect, else 0)."""
    if not 0.0 < significance < 1.0:
        raise ValueError(f"significance must lie in (0, 1), got {significance}")
    critical = norm.ppf(1.0 - significance / max(len(effect), 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, effect / np.where(se > 0, se, 1.0), np.where(effect > 0, np.inf, 0.0))
    return z > critical


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def run_estimate(side_a: pd.DataFrame, side_b: pd.DataFrame, significance: float) -> dict:
    """The estimate of one run from its channel tests on side a and side b (module doc)."""
    counts, mass = {}, {}
    for side, frame in (("a", side_a), ("b", side_b)):
        decisive = significant(
            frame["decisive_effect"].to_numpy(), frame["decisive_se"].to_numpy(), significance
        )
        general = significant(
            frame["general_effect"].to_numpy(), frame["general_se"].to_numpy(), significance
        )
        counts[side] = int((decisive & general).sum()), int((decisive & ~general).sum())
        weight = np.clip(frame["decisive_effect"].to_numpy(), 0.0, None)
        mass[side] = _ratio(weight[decisive & ~general].sum(), weight[decisive].sum())
    (d0_a, da), (d0_b, db) = counts["a"], counts["b"]
    d0 = (d0_a + d0_b) / 2
    alpha_m, beta_m = mass["a"], mass["b"]
    if math.isnan(alpha_m) or math.isnan(beta_m):
        gamma_mass = math.nan
    elif alpha_m >= 1.0 or beta_m >= 1.0:
        gamma_mass = 0.0
    else:
        gamma_mass = 1.0 / (1.0 / (1.0 - alpha_m) + 1.0 / (1.0 - beta_m) - 1.0)
    return {
        "d0": d0,
        "da": da,
        "db": db,
        "gamma": _ratio(d0, d0 + da + db),
        "alpha": _ratio(da, da + d0_a),
        "beta": _ratio(db, db + d0_b),
        "gamma_mass": gamma_mass,
    }


def _mean_std(values: pd.Series) -> tuple[float, float]:
    kept = values.dropna()
    mean = kept.mean() if len(kept) else math.nan
    return mean, kept.std(ddof=1) if len(kept) > 1 else math.nan


def estimate_venn(
    channels_csv: str | os.PathLike, settings_csv: str | os.PathLike, significance: float = 0.05
) -> pd.DataFrame:
    """One row per setting (sorted by setting; table VENN): the true Venn diagram of the
    generator (settings.csv's d0, da, db) next to its estimate from channels.csv."""
    channels = CHANNELS.read_frame(channels_csv)
    settings = read_frame_as_any(settings_csv, (GAUSS_SETTINGS, MODIFY_SETTINGS))
    unknown = sorted(set(channels["setting"]) - set(settings["setting"]))
    if unknown:
        raise DataError(f"{channels_csv}: setting(s) {unknown} not in {settings_csv}")
    absent = sorted(set(settings["setting"]) - set(channels["setting"]))
    if absent:
        raise DataError(f"{channels_csv}: no rows for setting(s) {absent} of {settings_csv}")
    sides = sorted(set(channels["side"]))
    if sides != ["a", "b"]:
        raise DataError(f"{channels_csv}: sides {sides}, expected a and b")

    rows = []
    for setting in settings.sort_values("setting").itertuples(index=False):
        data = channels[channels["setting"] == setting.setting]
        per_run = pd.DataFrame(
            [
                run_estimate(
                    run_rows[run_rows["side"] == "a"],
                    run_rows[run_rows["side"] == "b"],
                    significance,
                )
                for _, run_rows in data.groupby("run", sort=True)
            ]
        )
        d0, da, db = int(setting.d0), int(setting.da), int(setting.db)
        row = {
            "setting": int(setting.setting),
            "d0_true": d0,
            "da_true": da,
            "db_true": db,
            "gamma_true": d0 / (d0 + da + db),
            "alpha_true": _ratio(da, da + d0),
            "beta_true": _ratio(db, db + d0),
            "n_runs": len(per_run),
        }
        for name in ("d0", "da", "db", "gamma", "alpha", "beta", "gamma_mass"):
            mean, std = _mean_std(per_run[name])
            row[f"{name}_est" if name != "gamma_mass" else name] = mean
            row[f"{name}_std"] = std
        row["gamma_error"] = row["gamma_est"] - row["gamma_true"]
        rows.append(row)
    return pd.DataFrame(rows, columns=VENN.names)


def write_venn(df: pd.DataFrame, out_csv: str | os.PathLike) -> None:
    """Write the table of `estimate_venn` (VENN; `mfh.table_io`: atomic, byte-deterministic)."""
    VENN.write_frame(out_csv, df)
