"""Tests of mfh.data.venn_generator: the general Venn family (params `data.generator: venn`):
C-class labels, one setting per [D0, Da, Db] triple at fixed widths, the stored truth about each
channel (checked against equal columns of x_a and x_b), determinism, and the refusal of triples
no study can run."""

from __future__ import annotations

import io

import numpy as np
import pytest

from mfh.data.synthetic import StudyData, Venn
from mfh.data.venn_generator import build_venn_study, check_venn_data, venn_sample
from mfh.seeding import numpy_rng

GRID = [[0, 4, 2], [3, 1, 6], [5, 0, 0]]  # includes Db > Da


def _cfg(**over) -> dict:
    cfg = dict(
        grid=GRID,
        noise_a=3,
        noise_b=4,
        hyperplane="normal",
        classes=4,
        runs=2,
        n_train=50,
        n_test=80,
    )
    return cfg | over


@pytest.fixture(scope="module")
def study() -> StudyData:
    return build_venn_study("toy", _cfg(), seed=3)


def test_shapes_fixed_widths_and_labels(study):
    width_a = max(d0 + da for d0, da, _ in GRID) + 3  # 5 + 3
    width_b = max(d0 + db for d0, _, db in GRID) + 4  # 9 + 4
    assert study.xa_train.shape == (3, 2, 50, width_a)
    assert study.xb_test.shape == (3, 2, 80, width_b)
    assert study.y_train.shape == (3, 2, 50) and study.b_per_setting
    assert study.classes == 4 and set(np.unique(study.y_test)) == {0, 1, 2, 3}
    assert study.venn == tuple(Venn(*t) for t in GRID)


@pytest.mark.parametrize("s", range(len(GRID)))
def test_truth_matches_equal_columns(study, s):
    d0, da, db = GRID[s]
    xa = np.concatenate([study.xa_train[s, 0], study.xa_test[s, 0]])
    xb = np.concatenate([study.xb_train[s, 0], study.xb_test[s, 0]])
    equal = {
        (i, j)
        for i in range(xa.shape[1])
        for j in range(xb.shape[1])
        if np.array_equal(xa[:, i], xb[:, j])
    }
    assert equal == {(j, j) for j in range(d0)}
    assert np.flatnonzero(study.a_shared[s]).tolist() == list(range(d0))
    assert np.flatnonzero(study.b_shared[s]).tolist() == list(range(d0))
    assert np.flatnonzero(study.a_decisive[s]).tolist() == list(range(d0 + da))
    assert np.flatnonzero(study.b_decisive[s]).tolist() == list(range(d0 + db))


def test_label_is_argmax_of_hyperplanes_over_decisive_dims():
    """With C = 3 the label depends on the decisive dims only: refitting the argmax rule by
    least squares on them gives back the labels of most samples, and noise channels are not in it.
    """
    x_a, x_b, y = venn_sample(numpy_rng(0, "t", "d"), 4000, Venn(2, 2, 2), 5, 5, classes=3)
    assert set(np.unique(y)) == {0, 1, 2}
    latent = np.concatenate([x_a[:, :4], x_b[:, 2:4]], axis=1)  # shared | a-only | b-only
    onehot = np.eye(3)[y]
    coef, *_ = np.linalg.lstsq(np.c_[latent, np.ones(len(y))], onehot, rcond=None)
    fitted = (np.c_[latent, np.ones(len(y))] @ coef).argmax(axis=1)
    assert (fitted == y).mean() > 0.8
    noise = np.concatenate([x_a[:, 4:], x_b[:, 4:]], axis=1)
    coef_noise, *_ = np.linalg.lstsq(np.c_[noise, np.ones(len(y))], onehot, rcond=None)
    assert ((np.c_[noise, np.ones(len(y))] @ coef_noise).argmax(axis=1) == y).mean() < 0.45


def test_deterministic_bytes():
    a, b = io.BytesIO(), io.BytesIO()
    build_venn_study("toy", _cfg(), seed=3).save(a)
    build_venn_study("toy", _cfg(), seed=3).save(b)
    assert a.getvalue() == b.getvalue()
    assert StudyData.load(io.BytesIO(a.getvalue())).classes == 4


@pytest.mark.parametrize(
    "grid, classes, hyperplane, key, words",
    [
        ([[0, 0, 3]], 2, "normal", ("grid", 0), "D0 + Da >= 1"),
        ([[0, 3, 0]], 2, "normal", ("grid", 0), "D0 + Db >= 1"),
        ([[1, -1, 0]], 2, "normal", ("grid", 0), "counts >= 0"),
        ([[1, 1]], 2, "normal", ("grid", 0), "three counts"),
        ([[1, 1, 1]], 3, "ones", ("hyperplane",), "every class would tie"),
    ],
)
def test_bad_data_refused(grid, classes, hyperplane, key, words):
    problems = check_venn_data(grid, classes, hyperplane)
    assert [k for k, _ in problems] == [key] and words in problems[0][1]
    with pytest.raises(ValueError, match="toy.data." + ".".join(map(str, key))):
        build_venn_study("toy", _cfg(grid=grid, classes=classes, hyperplane=hyperplane), seed=0)


def test_good_data_passes():
    assert check_venn_data(GRID, 4, "normal") == []
