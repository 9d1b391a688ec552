"""The real-data points of the predictors study (`mfh.predictors.real_points`): gains from the KD
and diagnosis files of each pair, scores per dataset and pooled, clear errors on a missing seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mfh.errors import DataError
from mfh.predictors.real_points import POOLED_REAL, REAL_PREDICTORS, real_points
from mfh.predictors.study import score_real_points
from mfh.report.predictors import plot_real_predictors
from mfh.tables import DIAGNOSIS_VALUES, REAL_ACC, REAL_DIAGNOSE

SEEDS = 3
PAIRS = {"alpha": ["a-b", "b-a"], "beta": ["x-y", "y-x"]}


def _write_pair(folder, pair: str, nokd: list[float], kd: list[float], gamma: list[float]):
    rng = np.random.default_rng(len(folder.name) + len(pair))
    rows = []
    for seed in range(SEEDS):
        values = dict(zip(DIAGNOSIS_VALUES, rng.uniform(0.1, 0.9, len(DIAGNOSIS_VALUES))))
        values.update(teacher_acc=90.0, student_acc=nokd[seed], gamma=gamma[seed], alpha=0.25)
        rows.append((seed, *(values[name] for name in DIAGNOSIS_VALUES)))
    REAL_DIAGNOSE.write(folder / f"diagnose_{pair}.csv", rows)
    REAL_ACC.write(
        folder / f"acc/kd_{pair}_unimodal.csv", [(s, 1, 0.0, kd[s]) for s in range(SEEDS)]
    )


@pytest.fixture
def results(tmp_path):
    gains = {"a-b": 1.0, "b-a": -4.0, "x-y": 3.0, "y-x": -1.0}
    for dataset, pairs in PAIRS.items():
        (tmp_path / dataset / "acc").mkdir(parents=True)
        for pair in pairs:
            nokd = [70.0, 71.0, 72.0]
            kd = [acc + gains[pair] + 0.1 * s for s, acc in enumerate(nokd)]
            gamma = [0.5 + gains[pair] / 10] * SEEDS  # a predictor that ranks the pairs as the gain
            _write_pair(tmp_path / dataset, pair, nokd, kd, gamma)
    return tmp_path


def test_points_hold_the_gain_and_the_diagnosis_of_every_pair_and_seed(results):
    points = real_points(results, PAIRS, {"alpha": SEEDS, "beta": SEEDS})
    assert len(points) == 4 * SEEDS
    ab = points[points["pair"] == "a-b"].sort_values("seed")
    np.testing.assert_allclose(ab["gain"], [1.0, 1.1, 1.2])
    np.testing.assert_allclose(ab["one_minus_alpha_est"], 0.75)
    assert set(REAL_PREDICTORS) <= set(points.columns)


def test_scores_per_dataset_and_pooled(results, tmp_path):
    points = real_points(results, PAIRS, {"alpha": SEEDS, "beta": SEEDS})
    scores = score_real_points(points, n_boot=200).set_index(["predictor", "scope"])
    pooled = scores.loc[("gamma_est", POOLED_REAL)]
    assert pooled["n_points"] == 4 and pooled["spearman"] == pytest.approx(1.0)
    assert pooled["ci_low"] <= 1.0 <= pooled["ci_high"] + 1e-12
    per_dataset = scores.loc[("gamma_est", "alpha")]  # two pairs: no Spearman
    assert per_dataset["n_points"] == 2 and pd.isna(per_dataset["spearman"])
    assert pd.isna(scores.loc[("teacher_acc", POOLED_REAL), "spearman"])  # constant teacher_acc
    plot_real_predictors(points, score_real_points(points, n_boot=50), tmp_path / "real.png")
    assert (tmp_path / "real.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_missing_seed_names_the_file(results):
    with pytest.raises(DataError, match=r"diagnose_a-b.csv: missing seed\(s\) \[3\]"):
        real_points(results, PAIRS, {"alpha": SEEDS + 1, "beta": SEEDS})


def test_a_pair_without_a_venn_estimate_is_scored_without_it(results):
    """The diagnosis' Venn columns are NaN where it found no decisive channel: the point keeps
    its other predictors, and the Venn predictors are scored over the pairs that have them."""
    path = results / "alpha/diagnose_a-b.csv"
    frame = REAL_DIAGNOSE.read_frame(path)
    frame[["gamma", "alpha", "gamma_mass"]] = np.nan
    REAL_DIAGNOSE.write_frame(path, frame)
    points = real_points(results, PAIRS, {"alpha": SEEDS, "beta": SEEDS})
    assert points.loc[points["pair"] == "a-b", "gamma_est"].isna().all()
    scores = score_real_points(points, n_boot=50).set_index(["predictor", "scope"])
    assert scores.loc[("gamma_est", POOLED_REAL), "n_points"] == 3
    assert scores.loc[("rank_tau", POOLED_REAL), "n_points"] == 4
