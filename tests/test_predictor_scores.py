"""Scoring a predictor against the KD gain (mfh/predictors/scores.py): the Spearman over the
(study, setting) points, its bootstrap interval, which resamples runs jointly across the settings
of a study and independently between studies, and the undefined and error cases."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from mfh.predictors.scores import spearman_with_ci


def table(study_settings: dict, n_runs: int, value, gain) -> pd.DataFrame:
    """Rows for every (study, setting, run): value(study, setting, run), gain(...) give floats."""
    rows = [
        {
            "study": study,
            "setting": setting,
            "run": run,
            "value": value(study, setting, run),
            "gain": gain(study, setting, run),
        }
        for study, settings in study_settings.items()
        for setting in settings
        for run in range(n_runs)
    ]
    return pd.DataFrame(rows)


def noisy_points(seed: int, n_studies: int = 4, n_settings: int = 10, n_runs: int = 10):
    """A predictor that explains part of the gain, with run noise on both: (points, frame)."""
    rng = np.random.default_rng(seed)
    rows = []
    for study in range(n_studies):
        for setting in range(n_settings):
            for run in range(n_runs):
                value = rng.normal(0.2 * setting, 1.0)
                rows.append(
                    {
                        "study": f"study{study}",
                        "setting": f"s{setting}",
                        "run": run,
                        "value": value,
                        "gain": 0.2 * value + rng.normal(0.0, 1.0),
                    }
                )
    return pd.DataFrame(rows)


def test_perfectly_monotone_points_give_one_and_an_interval_reaching_one():
    points = table(
        {"a": range(5), "b": range(5, 10)},
        n_runs=4,
        value=lambda study, setting, run: setting + 0.01 * run,
        gain=lambda study, setting, run: np.exp(setting) + 0.01 * run,
    )
    rho, low, high, n_points = spearman_with_ci(points)
    assert (rho, low, high, n_points) == (1.0, 1.0, 1.0, 10)


def test_estimate_is_scipys_spearman_of_the_point_means_and_inside_the_interval():
    points = noisy_points(seed=1)
    rho, low, high, n_points = spearman_with_ci(points)
    means = points.groupby(["study", "setting"])[["value", "gain"]].mean()
    assert n_points == 40 == len(means)
    assert rho == pytest.approx(spearmanr(means["value"], means["gain"]).statistic, abs=1e-12)
    assert -1.0 <= low < rho < high <= 1.0
    assert high - low > 0.05  # a real interval, not a point


def test_ties_in_the_point_means_rank_as_scipy_ranks_them():
    points = table(
        {"a": range(6)},
        n_runs=3,
        value=lambda study, setting, run: float(setting // 2),  # tied in pairs
        gain=lambda study, setting, run: float((setting * 7) % 5) + run,
    )
    means = points.groupby("setting")[["value", "gain"]].mean()
    expected = spearmanr(means["value"], means["gain"]).statistic
    assert spearman_with_ci(points)[0] == pytest.approx(expected, abs=1e-12)


def test_a_fixed_seed_is_deterministic_and_seeds_differ():
    points = noisy_points(seed=2)
    first = spearman_with_ci(points, seed=7)
    assert spearman_with_ci(points, seed=7) == first
    shuffled = points.sample(frac=1.0, random_state=0)  # row order does not matter
    assert spearman_with_ci(shuffled, seed=7) == pytest.approx(first, abs=1e-12)
    other = spearman_with_ci(points, seed=8)
    assert other[0] == first[0] and other[1:3] != first[1:3]


def test_level_widens_the_interval():
    points = noisy_points(seed=3)
    _, low_90, high_90, _ = spearman_with_ci(points, level=0.90)
    _, low_99, high_99, _ = spearman_with_ci(points, level=0.99)
    assert low_99 < low_90 and high_90 < high_99


def test_runs_are_resampled_jointly_across_the_settings_of_a_study():
    # Every setting's gain carries the same large run effect: a joint draw of runs shifts all
    # points of the study alike and never changes their order, so every replicate is 1. Runs
    # drawn independently per setting would scramble the order (the effects dwarf the spacing).
    run_effect = np.random.default_rng(4).normal(0.0, 1.0, 10)
    points = table(
        {"only": range(8)},
        n_runs=10,
        value=lambda study, setting, run: float(setting),
        gain=lambda study, setting, run: 0.01 * setting + run_effect[run],
    )
    assert spearman_with_ci(points, n_boot=500) == (1.0, 1.0, 1.0, 8)


def test_studies_are_resampled_independently():
    # The same run effect in two studies whose points interleave in gain only through the run
    # means: one shared draw for both would keep spearman 1 in every replicate; independent
    # draws move the two studies apart and break the order in many replicates.
    run_effect = np.random.default_rng(5).normal(0.0, 1.0, 10)
    points = table(
        {"a": range(5), "b": range(5, 10)},
        n_runs=10,
        value=lambda study, setting, run: float(setting),
        gain=lambda study, setting, run: 0.01 * setting + run_effect[run],
    )
    rho, low, high, _ = spearman_with_ci(points, n_boot=500)
    assert rho == 1.0 and high == 1.0
    assert low < 0.9


def test_settings_with_missing_runs_and_nan_values():
    points = noisy_points(seed=6, n_studies=2, n_settings=6, n_runs=8)
    with_holes = points.copy()
    with_holes.loc[(with_holes["setting"] == "s1") & (with_holes["run"] < 5), "value"] = np.nan
    with_holes.loc[with_holes["setting"] == "s2", "value"] = np.nan  # the whole setting
    rho, low, high, n_points = spearman_with_ci(with_holes)
    assert n_points == 10  # 2 studies x 5 settings left
    kept = with_holes.dropna(subset=["value"])
    means = kept.groupby(["study", "setting"])[["value", "gain"]].mean()
    assert rho == pytest.approx(spearmanr(means["value"], means["gain"]).statistic, abs=1e-12)
    assert np.isfinite(low) and low <= high
    assert spearman_with_ci(kept) == spearman_with_ci(with_holes)  # NaN rows are just dropped


def test_undefined_cases_give_nan():
    def nan_floats(result):
        return all(np.isnan(result[:3]))

    constant_values = table(
        {"a": range(5)}, 3, lambda *_: 1.0, lambda study, setting, run: float(setting)
    )
    assert (
        nan_floats(spearman_with_ci(constant_values)) and spearman_with_ci(constant_values)[3] == 5
    )
    constant_gains = table(
        {"a": range(5)}, 3, lambda study, setting, run: float(setting), lambda *_: 0.5
    )
    assert nan_floats(spearman_with_ci(constant_gains))
    two_points = table({"a": [0, 1]}, 3, lambda s, setting, r: float(setting), lambda *_: 0.0)
    assert nan_floats(spearman_with_ci(two_points)) and spearman_with_ci(two_points)[3] == 2
    all_nan = constant_values.assign(value=np.nan)
    assert nan_floats(spearman_with_ci(all_nan)) and spearman_with_ci(all_nan)[3] == 0


def test_error_cases():
    points = noisy_points(seed=7, n_studies=1, n_settings=4, n_runs=3)
    with pytest.raises(ValueError, match="lacks the columns \\['gain'\\]"):
        spearman_with_ci(points.drop(columns="gain"))
    with pytest.raises(ValueError, match="given more than once, e.g. \\('study0', 's0', 0\\)"):
        spearman_with_ci(pd.concat([points, points.iloc[:1]]))
    with pytest.raises(ValueError, match="gain has non-finite values"):
        spearman_with_ci(points.assign(gain=np.r_[np.nan, points["gain"].iloc[1:]]))
    with pytest.raises(ValueError, match="level must lie strictly between 0 and 1"):
        spearman_with_ci(points, level=95)
    with pytest.raises(ValueError, match="n_boot must be a positive integer"):
        spearman_with_ci(points, n_boot=0)


def test_a_thousand_replicates_of_forty_points_take_well_under_a_second():
    points = noisy_points(seed=8)  # 40 points x 10 runs
    start = time.perf_counter()
    spearman_with_ci(points, n_boot=1000)
    assert time.perf_counter() - start < 1.0
