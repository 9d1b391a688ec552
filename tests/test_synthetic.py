"""Tests of mfh.data.synthetic: the Venn generators of PROTOCOL §2-3.

Checked structurally, from the stored arrays alone:
- `vary_gamma` / `vary_alpha`: Venn counts and alpha/beta/gamma per setting, array shapes, which
  channels of x_a carry the same latent dimensions as x_b (equal columns), which are noise, and
  that the label is a linear function of the latent dimensions the two modalities see together
  (linear-programming separability: separable with the true latent channels, not without);
- the paired design: x_b and y are stored once per run, x_a's noise is shared across the settings
  of a run, runs differ, and a run's data does not depend on the other values of the grid;
- `venn_sample` (mfh.data.venn_generator): shapes, channel layout, y = 1[sum of decisive dims
  > 0] for `ones`, errors;
- the stored truth about each channel (a_shared, ..., b_decisive) agrees with equal columns;
- determinism of `build_study` and byte-determinism of `StudyData.save`.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from scipy.optimize import linprog

from mfh.data.synthetic import (
    StudyData,
    Venn,
    build_study,
    vary_alpha_venn,
    vary_gamma_venn,
)
from mfh.data.venn_generator import venn_sample

GAMMA_GRID = list(range(11))
ALPHA_GRID = [0, 10, 20, 30, 40]
RUNS = 3
N_TRAIN, N_TEST = 60, 240


@pytest.fixture(scope="module")
def gamma_study() -> StudyData:
    return build_study("gauss_gamma", "vary_gamma", GAMMA_GRID, RUNS, N_TRAIN, N_TEST, seed=7)


@pytest.fixture(scope="module")
def alpha_study() -> StudyData:
    return build_study("gauss_alpha", "vary_alpha", ALPHA_GRID, RUNS, N_TRAIN, N_TEST, seed=7)


def _all(x_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    """Join the train and test inputs along the sample axis (-2)."""
    return np.concatenate([x_train, x_test], axis=-2)


def _equal_pairs(xa: np.ndarray, xb: np.ndarray) -> set[tuple[int, int]]:
    """(i, j) for every channel i of xa (n, da) that equals channel j of xb (n, db) exactly."""
    return {
        (i, j)
        for i in range(xa.shape[1])
        for j in range(xb.shape[1])
        if np.array_equal(xa[:, i], xb[:, j])
    }


def _separable(features: np.ndarray, y: np.ndarray) -> bool:
    """Is there h, c with (2y - 1) * (features @ h + c) >= 1 for every sample? (an LP)"""
    sign = (2 * y - 1).astype(np.float64)[:, None]
    a_ub = -sign * np.hstack([features.astype(np.float64), np.ones((len(y), 1))])
    res = linprog(
        np.zeros(a_ub.shape[1]),
        A_ub=a_ub,
        b_ub=-np.ones(len(y)),
        bounds=[(None, None)] * a_ub.shape[1],
        method="highs",
    )
    assert res.status in (0, 2), res.message  # 0 feasible, 2 infeasible
    return res.status == 0


# --- Venn proportions ----------------------------------------------------------------------------


@pytest.mark.parametrize("o", GAMMA_GRID)
def test_vary_gamma_venn(o):
    v = vary_gamma_venn(o)
    assert (v.d0, v.da, v.db) == (o, 10 - o, 10 - o)
    assert v.gamma == pytest.approx(o / (20 - o), abs=1e-15)
    assert v.alpha == pytest.approx((10 - o) / 10, abs=1e-15)
    assert v.beta == pytest.approx((10 - o) / 10, abs=1e-15)


@pytest.mark.parametrize("k", ALPHA_GRID)
def test_vary_alpha_venn(k):
    v = vary_alpha_venn(k)
    assert (v.d0, v.da, v.db) == (10, k, 0)
    assert v.alpha == pytest.approx(k / (k + 10), abs=1e-15)
    assert v.beta == 0.0
    assert v.gamma == pytest.approx(1 - k / (k + 10), abs=1e-15)


@pytest.mark.parametrize(
    "counts, expected",
    [
        ((3, 1, 2), (0.5, 0.25, 0.4)),
        ((0, 4, 6), (0.0, 1.0, 1.0)),
        ((5, 0, 0), (1.0, 0.0, 0.0)),
        ((0, 0, 5), (0.0, 0.0, 1.0)),  # alpha = 0/0: defined as 0
        ((0, 0, 0), (0.0, 0.0, 0.0)),  # every ratio 0/0
    ],
)
def test_venn_proportions(counts, expected):
    v = Venn(*counts)
    assert (v.gamma, v.alpha, v.beta) == pytest.approx(expected, abs=1e-15)


# --- Exp 1 and Exp 2: shapes and dtypes ----------------------------------------------------------


@pytest.mark.parametrize(
    "study, grid, width_a, venn_of",
    [
        ("gamma_study", GAMMA_GRID, 25, vary_gamma_venn),
        ("alpha_study", ALPHA_GRID, 50, vary_alpha_venn),
    ],
)
def test_reference_study_shapes_and_dtypes(request, study, grid, width_a, venn_of):
    d = request.getfixturevalue(study)
    S = len(grid)
    assert d.xa_train.shape == (S, RUNS, N_TRAIN, width_a)
    assert d.xa_test.shape == (S, RUNS, N_TEST, width_a)
    assert d.xb_train.shape == (RUNS, N_TRAIN, 50)
    assert d.xb_test.shape == (RUNS, N_TEST, 50)
    assert d.y_train.shape == (RUNS, N_TRAIN)
    assert d.y_test.shape == (RUNS, N_TEST)
    for a in (d.xa_train, d.xa_test, d.xb_train, d.xb_test):
        assert a.dtype == np.float32
        assert a.flags.c_contiguous
    assert d.y_train.dtype == np.int64 and set(np.unique(d.y_train)) <= {0, 1}
    assert d.grid.tolist() == grid and d.grid.dtype == np.int64
    assert d.venn == tuple(venn_of(v) for v in grid)


# --- Exp 1: vary gamma ---------------------------------------------------------------------------


@pytest.mark.parametrize("s, o", list(enumerate(GAMMA_GRID)))
def test_vary_gamma_channel_layout(gamma_study, s, o):
    """x_a channel j equals x_b channel j exactly for j in 10-o..9 (shared latent dims); every
    other x_a channel equals no x_b channel. For o = 0 no channel is shared at all."""
    d = gamma_study
    for r in range(RUNS):
        xa = _all(d.xa_train[s, r], d.xa_test[s, r])
        xb = _all(d.xb_train[r], d.xb_test[r])
        assert _equal_pairs(xa, xb) == {(j, j) for j in range(10 - o, 10)}
    shared = set(np.flatnonzero(d.a_shared[s]))
    assert shared == set(range(10 - o, 10)) == set(np.flatnonzero(d.b_shared[s]))
    assert set(np.flatnonzero(d.a_decisive[s])) == set(range(10 - o, 20 - o))
    assert set(np.flatnonzero(d.b_decisive[s])) == set(range(10))


def test_vary_gamma_window_carries_latent_dims(gamma_study):
    """Channel j of x_a, when inside the window 10-o..19-o, holds latent dim j: the same column
    in every setting whose window contains j (and that is x_b's column j for j < 10)."""
    d = gamma_study
    xa = _all(d.xa_train, d.xa_test)  # (S, R, n, 25)
    for j in range(20):
        holders = [s for s, o in enumerate(GAMMA_GRID) if 10 - o <= j < 20 - o]
        assert holders, j
        for s in holders[1:]:
            np.testing.assert_array_equal(xa[s, :, :, j], xa[holders[0], :, :, j])
        others = [s for s in range(len(GAMMA_GRID)) if s not in holders]
        for s in others:  # outside the window: noise, not the latent dim
            assert not np.any(xa[s, :, :, j] == xa[holders[0], :, :, j])


def test_vary_gamma_label_is_linear_in_the_latent(gamma_study):
    """The 20 latent dims are x_b channels 0-9 plus x_a (o = 0) channels 10-19, and y is a
    half-space of them; without x_a's dims (x_b's noise in their place) it is not separable."""
    d = gamma_study
    s0 = GAMMA_GRID.index(0)
    for r in range(RUNS):
        xb = _all(d.xb_train[r], d.xb_test[r])
        xa0 = _all(d.xa_train[s0, r], d.xa_test[s0, r])
        y = np.concatenate([d.y_train[r], d.y_test[r]])
        assert _separable(np.hstack([xb[:, :10], xa0[:, 10:20]]), y)
        assert not _separable(xb[:, :20], y)


# --- paired design -------------------------------------------------------------------------------


def test_vary_gamma_noise_shared_across_settings(gamma_study):
    """Every x_a channel outside the windows of two settings is the same noise in both."""
    d = gamma_study
    xa = _all(d.xa_train, d.xa_test)
    for s1, o1 in enumerate(GAMMA_GRID):
        for s2, o2 in enumerate(GAMMA_GRID):
            outside = [
                j
                for j in range(25)
                if not (10 - o1 <= j < 20 - o1) and not (10 - o2 <= j < 20 - o2)
            ]
            assert outside  # channels 20-24 are never in a window
            np.testing.assert_array_equal(xa[s1, ..., outside], xa[s2, ..., outside])


def test_runs_differ(gamma_study, alpha_study):
    for d in (gamma_study, alpha_study):
        xb = _all(d.xb_train, d.xb_test)
        xa = _all(d.xa_train, d.xa_test)
        y = np.concatenate([d.y_train, d.y_test], axis=1)
        for r1 in range(RUNS):
            for r2 in range(r1 + 1, RUNS):
                assert not _equal_pairs(xb[r1], xb[r2])
                for s in range(len(d.grid)):
                    assert not _equal_pairs(xa[s, r1], xa[s, r2])
                assert not np.array_equal(y[r1], y[r2])


@pytest.mark.parametrize(
    "generator, full, sub",
    [
        ("vary_gamma", [0, 2, 10], [10]),
        ("vary_gamma", [0, 2, 10], [2, 0]),
        ("vary_alpha", [0, 10, 40], [40, 10]),
    ],
)
def test_run_data_independent_of_the_rest_of_the_grid(generator, full, sub):
    """It holds: a run's draws do not depend on the grid, so a setting's x_a (and x_b, y) is the
    same whether built alone or with other settings, in any order."""
    a = build_study("st", generator, full, 2, 20, 30, seed=1)
    b = build_study("st", generator, sub, 2, 20, 30, seed=1)
    for i, v in enumerate(sub):
        s = full.index(v)
        np.testing.assert_array_equal(b.xa_train[i], a.xa_train[s])
        np.testing.assert_array_equal(b.xa_test[i], a.xa_test[s])
    for k in ("xb_train", "xb_test", "y_train", "y_test"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))


@pytest.mark.parametrize("generator, grid", [("vary_gamma", [0, 5, 10]), ("vary_alpha", [0, 20])])
def test_default_sizes_labels_balanced(generator, grid):
    """With the default sizes (n_train 200, n_test 1000, 10 runs) every run has 30-70% positives
    in both splits (h ~ N(0, I) makes P(y = 1) = 1/2)."""
    d = build_study("bal", generator, grid, 10, 200, 1000, seed=0)
    for y in (d.y_train, d.y_test):
        frac = y.mean(axis=1)
        assert np.all((frac > 0.3) & (frac < 0.7)), frac


# --- Exp 2: vary alpha ---------------------------------------------------------------------------


@pytest.mark.parametrize("s, k", list(enumerate(ALPHA_GRID)))
def test_vary_alpha_channel_layout(alpha_study, s, k):
    """x_a channels 0-9 equal x_b channels 0-9; channels 10..9+k are latent dims x_b lacks (the
    same columns as in the k = 40 setting); channels 10+k.. are noise shared with k = 0."""
    d = alpha_study
    xa = _all(d.xa_train, d.xa_test)
    s_max, s_min = ALPHA_GRID.index(40), ALPHA_GRID.index(0)
    for r in range(RUNS):
        xb = _all(d.xb_train[r], d.xb_test[r])
        assert _equal_pairs(xa[s, r], xb) == {(j, j) for j in range(10)}
        np.testing.assert_array_equal(xa[s, r, :, : 10 + k], xa[s_max, r, :, : 10 + k])
        np.testing.assert_array_equal(xa[s, r, :, 10 + k :], xa[s_min, r, :, 10 + k :])
        if k:
            assert not np.any(xa[s, r, :, 10 : 10 + k] == xa[s_min, r, :, 10 : 10 + k])


def test_vary_alpha_label_is_linear_in_the_latent(alpha_study):
    """x_a at k = 40 holds all 50 latent dims: y is a half-space of it; of x_a at k = 0 (10
    latent dims + noise) it is not."""
    d = alpha_study
    xa = _all(d.xa_train, d.xa_test)
    for r in range(RUNS):
        y = np.concatenate([d.y_train[r], d.y_test[r]])
        assert _separable(xa[ALPHA_GRID.index(40), r], y)
        assert not _separable(xa[ALPHA_GRID.index(0), r], y)


# --- venn_sample ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "counts, noise_a, noise_b", [((3, 4, 5), 6, 2), ((0, 2, 3), 0, 4), ((4, 0, 0), 1, 1)]
)
def test_venn_sample_shapes_and_layout(counts, noise_a, noise_b):
    v = Venn(*counts)
    n = 64
    x_a, x_b, y = venn_sample(np.random.default_rng(3), n, v, noise_a, noise_b)
    assert x_a.shape == (n, v.d0 + v.da + noise_a) and x_a.dtype == np.float64
    assert x_b.shape == (n, v.d0 + v.db + noise_b) and x_b.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64 and set(np.unique(y)) <= {0, 1}
    assert _equal_pairs(x_a, x_b) == {(j, j) for j in range(v.d0)}
    # all channels of a modality are distinct draws
    assert _equal_pairs(x_a, x_a) == {(j, j) for j in range(x_a.shape[1])}
    assert _equal_pairs(x_b, x_b) == {(j, j) for j in range(x_b.shape[1])}


@pytest.mark.parametrize("counts", [(3, 4, 5), (0, 2, 3), (5, 0, 0), (0, 0, 1)])
def test_venn_sample_ones_label(counts):
    """With h = 1: y = 1[shared + a-only + b-only latent sum > 0], read off the channel layout."""
    v = Venn(*counts)
    x_a, x_b, y = venn_sample(np.random.default_rng(11), 500, v, 7, 3, hyperplane="ones")
    score = x_a[:, : v.d0 + v.da].sum(axis=1) + x_b[:, v.d0 : v.d0 + v.db].sum(axis=1)
    np.testing.assert_array_equal(y, (score > 0).astype(np.int64))
    assert 0.3 < y.mean() < 0.7


def test_venn_sample_normal_label_uses_all_decisive_dims():
    """With h ~ N(0, I): y is a half-space of [shared | a-only | b-only] but not of x_a alone."""
    v = Venn(4, 6, 6)
    x_a, x_b, y = venn_sample(np.random.default_rng(5), 300, v, 5, 5, hyperplane="normal")
    latent = np.hstack([x_a[:, : v.d0 + v.da], x_b[:, v.d0 : v.d0 + v.db]])
    assert _separable(latent, y)
    assert not _separable(x_a, y)


def test_venn_sample_deterministic():
    args = (200, Venn(2, 3, 4), 5, 6)
    a = venn_sample(np.random.default_rng(9), *args)
    b = venn_sample(np.random.default_rng(9), *args)
    c = venn_sample(np.random.default_rng(10), *args)
    for u, w in zip(a, b):
        np.testing.assert_array_equal(u, w)
    assert not np.array_equal(a[0], c[0])


def test_venn_sample_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="no decisive dimension"):
        venn_sample(rng, 10, Venn(0, 0, 0), 3, 3)
    for bad in (Venn(-1, 2, 2), Venn(2, -1, 2), Venn(2, 2, -1)):
        with pytest.raises(ValueError, match=">= 0"):
            venn_sample(rng, 10, bad, 3, 3)
    with pytest.raises(ValueError, match=">= 0"):
        venn_sample(rng, 10, Venn(1, 1, 1), -1, 3)
    with pytest.raises(ValueError, match=">= 0"):
        venn_sample(rng, 10, Venn(1, 1, 1), 3, -2)
    with pytest.raises(ValueError) as err:
        venn_sample(rng, 10, Venn(1, 1, 1), 3, 3, hyperplane="uniform")
    msg = str(err.value)
    assert "'uniform'" in msg and "normal" in msg and "ones" in msg


# --- determinism and I/O -------------------------------------------------------------------------


def _assert_same(a: StudyData, b: StudyData) -> None:
    for k in ("xa_train", "xa_test", "xb_train", "xb_test", "y_train", "y_test", "grid"):
        u, w = getattr(a, k), getattr(b, k)
        assert u.dtype == w.dtype and u.shape == w.shape, k
        np.testing.assert_array_equal(u, w, err_msg=k)
    assert a.venn == b.venn


def test_build_study_deterministic(gamma_study):
    again = build_study("gauss_gamma", "vary_gamma", GAMMA_GRID, RUNS, N_TRAIN, N_TEST, seed=7)
    _assert_same(gamma_study, again)


@pytest.mark.parametrize("study, seed", [("gauss_gamma", 8), ("other_study", 7)])
def test_build_study_stream_depends_on_seed_and_study(gamma_study, study, seed):
    other = build_study(study, "vary_gamma", GAMMA_GRID, RUNS, N_TRAIN, N_TEST, seed=seed)
    for r in range(RUNS):
        assert not _equal_pairs(
            _all(other.xb_train[r], other.xb_test[r]),
            _all(gamma_study.xb_train[r], gamma_study.xb_test[r]),
        )
        assert not np.array_equal(other.xa_train[:, r], gamma_study.xa_train[:, r])


def test_build_study_run_independent_of_run_count():
    """Run r has its own stream: building fewer runs gives the same first runs."""
    many = build_study("st", "vary_alpha", [0, 20], 4, 20, 10, seed=4)
    few = build_study("st", "vary_alpha", [0, 20], 2, 20, 10, seed=4)
    for k in ("xb_train", "xb_test", "y_train", "y_test"):
        np.testing.assert_array_equal(getattr(few, k), getattr(many, k)[:2])
    np.testing.assert_array_equal(few.xa_train, many.xa_train[:, :2])
    np.testing.assert_array_equal(few.xa_test, many.xa_test[:, :2])


def test_build_study_unknown_generator():
    with pytest.raises(ValueError) as err:
        build_study("st", "vary_beta", [0], 1, 5, 5, seed=0)
    msg = str(err.value)
    assert "'vary_beta'" in msg and "vary_gamma" in msg and "vary_alpha" in msg


def test_save_load_round_trip(tmp_path, gamma_study):
    path = tmp_path / "d.npz"
    gamma_study.save(path)
    loaded = StudyData.load(path)
    _assert_same(gamma_study, loaded)
    assert all(isinstance(v, Venn) and type(v.d0) is int for v in loaded.venn)
    # the file object form (used by mfh.studies.gauss_prepare) writes the same bytes
    buf = io.BytesIO()
    gamma_study.save(buf)
    assert buf.getvalue() == path.read_bytes()


def test_save_bytes_deterministic(tmp_path, alpha_study, monkeypatch):
    """Two saves, with the wall clock an hour apart (a zip entry could carry a timestamp), give
    byte-identical files."""
    alpha_study.save(tmp_path / "a.npz")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600.0)
    alpha_study.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


@pytest.mark.parametrize(
    "generator, value", [("vary_gamma", 11), ("vary_gamma", -1), ("vary_alpha", 41)]
)
def test_build_study_rejects_grid_values_outside_the_layout(generator, value):
    with pytest.raises(ValueError, match="outside"):
        build_study("s", generator, [value], 1, 5, 5, 0)
