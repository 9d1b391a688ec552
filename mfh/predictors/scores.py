"""Scoring a predictor measure against the measured KD gain: the Spearman rank correlation over
the points of the studies, with a bootstrap percentile interval that resamples training runs.

A point is one (study, setting): its predictor value and its gain are the means over the runs of
that setting. Runs are paired across the settings of a study (run r of every setting shares a
seed, a data draw, ...), so the bootstrap draws run ids with replacement once per study and
replicate and uses the same draw for every setting of that study; studies are drawn
independently. Spearman is computed as the Pearson correlation of average ranks (equal to
scipy.stats.spearmanr, ties included), for the estimate and, vectorised, for the replicates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

REQUIRED_COLUMNS = ("study", "setting", "run", "value", "gain")


def spearman_with_ci(
    points: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float, int]:
    """(spearman, ci_low, ci_high, n_points) of the predictor `value` against `gain`.

    `points` has one row per (study, setting, run), columns study, setting, run, value, gain.
    Rows with a NaN value are dropped first (the predictor could not be computed there); a
    non-finite gain, or a (study, setting, run) given twice, raises ValueError. n_points counts
    the (study, setting) pairs left. With fewer than 3 points, or constant point values or gains
    (Spearman undefined), the three floats are NaN.

    The interval is the percentile interval at `level` of `n_boot` bootstrap replicates drawn
    with numpy.random.default_rng(seed) (deterministic): per replicate, each study (in sorted
    order) draws as many run ids as it has, with replacement, from its own runs; each point's
    means are recomputed over its runs in that draw (with multiplicity), and then the Spearman.
    Replicates where the Spearman is undefined (constant values or gains), or where a point has
    none of its runs in the draw (only if its settings have different runs), are dropped; if all
    are, the interval is NaN. Each replicate's point means carry the run-to-run noise once more,
    which pulls replicate correlations towards 0: with a strong correlation and few runs the
    percentile interval can lie just below the estimate.
    """
    _check_arguments(points, n_boot, level)
    studies = _study_tables(points)
    n_points = sum(len(table.value) for table in studies)
    undefined = (float("nan"), float("nan"), float("nan"), n_points)
    if n_points < 3:
        return undefined
    values = np.concatenate([table.point_values() for table in studies])  # (n_points,)
    gains = np.concatenate([table.point_gains() for table in studies])  # (n_points,)
    estimate = float(_rank_pearson(values[None, :], gains[None, :])[0])
    if not np.isfinite(estimate):
        return undefined
    rng = np.random.default_rng(seed)
    boot_values, boot_gains = [], []
    for table in studies:
        run_counts = _resampled_run_counts(rng, n_boot, table.value.shape[1])  # (n_boot, R)
        boot_values.append(table.resampled_means(table.value, run_counts))  # (n_boot, S)
        boot_gains.append(table.resampled_means(table.gain, run_counts))  # (n_boot, S)
    replicates = _rank_pearson(np.hstack(boot_values), np.hstack(boot_gains))  # (n_boot,)
    replicates = replicates[np.isfinite(replicates)]
    if len(replicates) == 0:
        return estimate, float("nan"), float("nan"), n_points
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail])
    return estimate, float(low), float(high), n_points


class _StudyTable:
    """One study's runs as (settings, runs) matrices: value and gain, NaN where a setting lacks
    a run, and the mask of the runs present."""

    def __init__(self, rows: pd.DataFrame):
        runs = np.sort(rows["run"].unique())  # (R,)
        value = rows.pivot(index="setting", columns="run", values="value").reindex(columns=runs)
        gain = rows.pivot(index="setting", columns="run", values="gain").reindex(columns=runs)
        self.value = value.to_numpy(dtype=np.float64)  # (S, R)
        self.gain = gain.to_numpy(dtype=np.float64)  # (S, R)
        self.present = np.isfinite(self.value)  # (S, R)

    def point_values(self) -> np.ndarray:
        return np.nanmean(self.value, axis=1)  # (S,)

    def point_gains(self) -> np.ndarray:
        return np.nanmean(self.gain, axis=1)  # (S,)

    def resampled_means(self, matrix: np.ndarray, run_counts: np.ndarray) -> np.ndarray:
        """Means of `matrix` (S, R) per replicate and setting (n_boot, S), each run weighted by
        how often the replicate drew it (run_counts, (n_boot, R)); NaN where none was drawn."""
        totals = run_counts @ np.where(self.present, matrix, 0.0).T  # (n_boot, S)
        weights = run_counts @ self.present.T.astype(np.float64)  # (n_boot, S)
        return np.divide(totals, weights, out=np.full_like(totals, np.nan), where=weights > 0)


def _study_tables(points: pd.DataFrame) -> list[_StudyTable]:
    """The studies' tables in sorted order of study, after dropping the rows with a NaN value."""
    rows = points.loc[points["value"].notna(), list(REQUIRED_COLUMNS)]
    if not np.all(np.isfinite(rows["gain"].to_numpy(dtype=np.float64))):
        raise ValueError("spearman_with_ci: gain has non-finite values (NaN or inf)")
    duplicated = rows.duplicated(subset=["study", "setting", "run"])
    if duplicated.any():
        repeated = rows.loc[duplicated, ["study", "setting", "run"]]
        first = next(repeated.itertuples(index=False, name=None))  # Python scalars
        raise ValueError(
            f"spearman_with_ci: (study, setting, run) given more than once, e.g. {first}"
        )
    return [_StudyTable(study_rows) for _, study_rows in rows.groupby("study", sort=True)]


def _resampled_run_counts(rng: np.random.Generator, n_boot: int, n_runs: int) -> np.ndarray:
    """How often each of n_runs runs is drawn in each replicate (n_boot, n_runs), n_runs draws
    with replacement per replicate."""
    draws = rng.integers(0, n_runs, size=(n_boot, n_runs))  # (n_boot, n_runs) run positions
    flat = (draws + n_runs * np.arange(n_boot)[:, None]).ravel()  # (n_boot * n_runs,)
    counts = np.bincount(flat, minlength=n_boot * n_runs)
    return counts.reshape(n_boot, n_runs).astype(np.float64)


def _rank_pearson(values: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Spearman per row of values and gains (B, m): Pearson of average ranks, (B,); NaN in a row
    with a NaN entry or a constant vector."""
    result = np.full(len(values), np.nan)
    complete = np.all(np.isfinite(values), axis=1) & np.all(np.isfinite(gains), axis=1)  # (B,)
    if not complete.any():
        return result
    value_ranks = rankdata(values[complete], axis=1)  # (B', m)
    gain_ranks = rankdata(gains[complete], axis=1)  # (B', m)
    value_ranks -= value_ranks.mean(axis=1, keepdims=True)
    gain_ranks -= gain_ranks.mean(axis=1, keepdims=True)
    covariance = np.sum(value_ranks * gain_ranks, axis=1)  # (B',)
    scale = np.sqrt(np.sum(value_ranks**2, axis=1) * np.sum(gain_ranks**2, axis=1))  # (B',)
    correlation = np.divide(
        covariance, scale, out=np.full_like(covariance, np.nan), where=scale > 0
    )
    result[complete] = np.clip(correlation, -1.0, 1.0)
    return result


def _check_arguments(points: pd.DataFrame, n_boot: int, level: float) -> None:
    if not isinstance(points, pd.DataFrame):
        raise ValueError(f"spearman_with_ci: points must be a DataFrame, got {type(points)}")
    missing = [column for column in REQUIRED_COLUMNS if column not in points.columns]
    if missing:
        raise ValueError(f"spearman_with_ci: points lacks the columns {missing}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"spearman_with_ci: n_boot must be a positive integer, got {n_boot!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"spearman_with_ci: level must lie strictly between 0 and 1, got {level}")
