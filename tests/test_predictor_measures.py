"""The predictor measures of mfh.predictors: the MI estimators (information.py) against exact
values of Gaussian and mixture data, and the logit comparisons (logits.py) against hand-computed
values and scipy's Kendall tau-b, with their error cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import digamma
from scipy.stats import kendalltau

from mfh.predictors.information import gaussian_mi, gaussian_mi_labels, knn_mi, knn_mi_labels
from mfh.predictors.logits import nontarget_js, rank_agreement

LN2 = np.log(2.0)


def correlated_pair(rho: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A bivariate standard Gaussian sample with correlation rho: x (n,), z (n,)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    z = rho * x + np.sqrt(1.0 - rho**2) * rng.standard_normal(n)
    return x, z


def exact_mi(rho: float) -> float:
    return -0.5 * np.log(1.0 - rho**2)


def separated_mixture(n: int, seed: int, half_gap: float = 6.0):
    """Two balanced classes at -half_gap and +half_gap in 2-D, unit noise: x (n, 2), y (n,)."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)  # (n,)
    centres = np.where(y[:, None] == 1, half_gap, -half_gap) * np.array([1.0, 0.5])  # (n, 2)
    return centres + rng.standard_normal((n, 2)), y


@pytest.mark.parametrize("rho", [0.3, 0.8, -0.9])
def test_gaussian_mi_matches_the_bivariate_closed_form(rho):
    x, z = correlated_pair(rho, 20000, seed=1)
    assert gaussian_mi(x, z) == pytest.approx(exact_mi(rho), rel=0.05)


def test_gaussian_mi_adds_independent_canonical_pairs_and_ignores_linear_maps():
    x1, z1 = correlated_pair(0.6, 20000, seed=2)
    x2, z2 = correlated_pair(0.4, 20000, seed=3)
    x = np.c_[x1, x2, np.random.default_rng(4).standard_normal(20000)]  # (n, 3)
    z = np.c_[z1, z2]  # (n, 2)
    expected = exact_mi(0.6) + exact_mi(0.4)
    assert gaussian_mi(x, z) == pytest.approx(expected, rel=0.05)
    mixing = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0], [0.0, 1.0, 1.0]])  # invertible
    assert gaussian_mi(x @ mixing + 7.0, z) == pytest.approx(gaussian_mi(x, z), rel=1e-6)


def test_gaussian_mi_is_near_zero_for_independent_data():
    rng = np.random.default_rng(5)
    assert 0.0 <= gaussian_mi(rng.standard_normal((20000, 3)), rng.standard_normal((20000, 2)))
    assert gaussian_mi(rng.standard_normal((20000, 3)), rng.standard_normal((20000, 2))) < 2e-3


def test_gaussian_mi_stays_finite_on_duplicate_and_constant_columns():
    x, z = correlated_pair(0.7, 5000, seed=6)
    assert np.isfinite(gaussian_mi(x, x)) and gaussian_mi(x, x) > 8.0  # identical: large
    near_duplicate = np.c_[x, x + 1e-13 * z, np.full_like(x, 3.0)]  # (n, 3), one constant
    assert gaussian_mi(near_duplicate, z) == pytest.approx(gaussian_mi(x, z), rel=1e-6)
    assert gaussian_mi(np.full_like(x, 2.0), z) == 0.0  # only a constant column: no information


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_knn_mi_matches_the_bivariate_closed_form(rho):
    x, z = correlated_pair(rho, 5000, seed=7)
    assert knn_mi(x, z, k=3) == pytest.approx(exact_mi(rho), abs=0.05)


def test_knn_mi_is_near_zero_for_independent_data_and_deterministic():
    rng = np.random.default_rng(8)
    x, z = rng.standard_normal((3000, 2)), rng.standard_normal(3000)
    assert abs(knn_mi(x, z)) < 0.03
    assert knn_mi(x, z) == knn_mi(x, z)
    # Standardisation: rescaling a column changes nothing.
    assert knn_mi(x * [1.0, 1000.0], z) == pytest.approx(knn_mi(x, z), abs=1e-12)


def test_knn_mi_sees_nonlinear_dependence_that_the_gaussian_form_misses():
    rng = np.random.default_rng(9)
    x = rng.standard_normal(4000)
    z = x**2 + 0.1 * rng.standard_normal(4000)  # uncorrelated with x, but a function of it
    assert gaussian_mi(x, z) < 0.01
    assert knn_mi(x, z) > 0.5


def max_norm_distances(points: np.ndarray) -> np.ndarray:
    """Pairwise max-norm distances (n, n) of standardised columns, inf on the diagonal."""
    standard = (points - points.mean(axis=0)) / points.std(axis=0)  # (n, d)
    distances = np.max(np.abs(standard[:, None, :] - standard[None, :, :]), axis=2)  # (n, n)
    np.fill_diagonal(distances, np.inf)
    return distances


def test_knn_mi_equals_a_brute_force_ksg_with_ties_in_a_marginal():
    rng = np.random.default_rng(17)
    x = rng.integers(0, 6, (300, 1)).astype(float)  # many exact ties in x
    z = x + rng.standard_normal((300, 1))  # continuous: no joint ties
    k, n = 4, 300
    dx, dz = max_norm_distances(x), max_norm_distances(z)
    eps = np.sort(np.maximum(dx, dz), axis=1)[:, k - 1]  # (n,) k-th joint neighbour
    n_x = np.sum(dx < eps[:, None], axis=1)  # strictly closer
    n_z = np.sum(dz < eps[:, None], axis=1)
    expected = digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_z + 1))
    assert knn_mi(x, z, k=k) == pytest.approx(expected, abs=1e-12)


def test_knn_mi_labels_equals_a_brute_force_ross_estimate():
    rng = np.random.default_rng(18)
    y = rng.integers(0, 3, 240)
    x = rng.standard_normal((240, 2)) + y[:, None] * [0.8, 0.0]
    k = 3
    distances = max_norm_distances(x)
    same_class = y[:, None] == y[None, :]
    kth_in_class = np.sort(np.where(same_class, distances, np.inf), axis=1)[:, k - 1]  # (n,)
    m = np.sum(distances <= kth_in_class[:, None], axis=1)  # the k-th neighbour included
    class_sizes = np.bincount(y)[y]
    expected = digamma(240) - np.mean(digamma(class_sizes)) + digamma(k) - np.mean(digamma(m))
    assert knn_mi_labels(x, y, k=k) == pytest.approx(expected, abs=1e-12)


def test_label_estimators_on_well_separated_classes():
    x, y = separated_mixture(4000, seed=10)
    assert knn_mi_labels(x, y, k=3) == pytest.approx(LN2, abs=0.02)
    # The linear-Gaussian form is -1/2 log(within / total variance) along the class axis, here
    # 1/2 log(1 + 6^2 + 3^2) = 1.91 nats: above H(Y) = ln 2, as its docstring says.
    assert gaussian_mi_labels(x, y) == pytest.approx(0.5 * np.log(1.0 + 36.0 + 9.0), rel=0.05)
    assert gaussian_mi_labels(x, y) > LN2


def test_label_estimators_near_zero_for_independent_labels():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4000, 2))
    y = rng.integers(0, 3, 4000)
    assert abs(knn_mi_labels(x, y)) < 0.03
    assert 0.0 <= gaussian_mi_labels(x, y) < 3e-3


def test_label_estimators_accept_string_labels_and_one_class():
    x, y = separated_mixture(400, seed=12)
    names = np.where(y == 1, "cat", "dog")
    assert knn_mi_labels(x, names) == knn_mi_labels(x, y)
    assert gaussian_mi_labels(x, names) == pytest.approx(gaussian_mi_labels(x, y), rel=1e-9)
    assert knn_mi_labels(x, np.zeros(400, int)) == pytest.approx(0.0, abs=1e-12)
    assert gaussian_mi_labels(x, np.zeros(400, int)) == 0.0


def test_information_error_cases():
    x = np.random.default_rng(13).standard_normal((50, 2))
    y = np.repeat([0, 1], 25)
    with pytest.raises(ValueError, match="mismatched numbers of samples: x has 50, z has 49"):
        gaussian_mi(x, x[:49])
    with pytest.raises(ValueError, match="mismatched numbers of samples"):
        knn_mi_labels(x, y[:49])
    with pytest.raises(ValueError, match="at least 5 samples"):
        knn_mi(x[:4], x[:4], k=3)
    with pytest.raises(ValueError, match="at least 5 samples"):
        knn_mi_labels(x[:4], [0, 0, 0, 0], k=3)
    with pytest.raises(ValueError, match="more samples than non-constant columns"):
        gaussian_mi(x[:3], x[:3, ::-1])
    bad = x.copy()
    bad[3, 1] = np.nan
    for estimator in (gaussian_mi, knn_mi):
        with pytest.raises(ValueError, match="x has non-finite values"):
            estimator(bad, x)
    with pytest.raises(ValueError, match="y has non-finite values"):
        gaussian_mi_labels(x, np.r_[y[:-1], np.nan])
    with pytest.raises(ValueError, match="class 7 has 3 samples, fewer than k \\+ 1 = 4"):
        knn_mi_labels(x, np.r_[np.zeros(47, int), [7, 7, 7]], k=3)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        knn_mi(x, x, k=0)


def test_nontarget_js_of_identical_logits_is_zero_and_it_is_symmetric():
    rng = np.random.default_rng(14)
    teacher, student = rng.normal(0, 3, (100, 5)), rng.normal(0, 3, (100, 5))
    y = rng.integers(0, 5, 100)
    assert nontarget_js(teacher, teacher, y) == pytest.approx(0.0, abs=1e-15)
    assert nontarget_js(teacher, student, y) == pytest.approx(nontarget_js(student, teacher, y))
    assert 0.0 < nontarget_js(teacher, student, y) < LN2
    # The target logit is ignored: changing it changes nothing.
    shifted = teacher.copy()
    shifted[np.arange(100), y] += 50.0
    assert nontarget_js(shifted, student, y) == pytest.approx(nontarget_js(teacher, student, y))


def test_nontarget_js_approaches_ln2_for_disjoint_distributions():
    teacher = np.array([[0.0, 200.0, -200.0, -200.0], [3.0, 0.0, 0.0, 900.0]])
    student = np.array([[0.0, -200.0, 200.0, -200.0], [3.0, 900.0, 0.0, 0.0]])
    assert nontarget_js(teacher, student, [0, 0]) == pytest.approx(LN2, abs=1e-12)


def test_nontarget_js_hand_computed_three_classes():
    # Target 0. Teacher non-target logits (0, 0): P = (1/2, 1/2). Student (ln 3, 0): Q = (3/4, 1/4).
    # M = (5/8, 3/8); JS = 1/2 [1/2 ln(4/5) + 1/2 ln(4/3)] + 1/2 [3/4 ln(6/5) + 1/4 ln(2/3)].
    expected = 0.25 * (np.log(0.8) + np.log(4 / 3)) + 0.5 * (
        0.75 * np.log(1.2) + 0.25 * np.log(2 / 3)
    )
    assert expected == pytest.approx(0.0338220755686052, rel=1e-12)
    value = nontarget_js([[9.0, 0.0, 0.0]], [[-4.0, np.log(3.0), 0.0]], [0])
    assert value == pytest.approx(expected, rel=1e-12)


def test_nontarget_js_error_cases():
    logits = np.zeros((4, 3))
    with pytest.raises(ValueError, match="at least 3 classes, got C = 2"):
        nontarget_js(np.zeros((4, 2)), np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(ValueError, match="y must lie in 0..2"):
        nontarget_js(logits, logits, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="mismatched numbers of samples"):
        nontarget_js(logits, logits, [0, 1, 2])
    with pytest.raises(ValueError, match="mismatched numbers of classes"):
        nontarget_js(logits, np.zeros((4, 4)), [0, 1, 2, 0])
    with pytest.raises(ValueError, match="teacher_logits has non-finite values"):
        nontarget_js(np.full((4, 3), np.inf), logits, [0, 1, 2, 0])
    with pytest.raises(ValueError, match="integer class indices"):
        nontarget_js(logits, logits, [0.0, 1.0, 2.0, 0.0])


def test_rank_agreement_identical_and_reversed():
    rng = np.random.default_rng(15)
    logits = rng.standard_normal((50, 6))
    assert rank_agreement(logits, logits) == (1.0, 1.0)
    tau, same_argmax = rank_agreement(logits, -logits)
    assert tau == pytest.approx(-1.0) and same_argmax == 0.0


def test_rank_agreement_hand_computed_with_a_tie():
    # Sample 1: t = (1, 2, 2), s = (1, 2, 3). Pairs (0,1) and (0,2) concordant, (1,2) tied in t:
    # tau_b = 2 / sqrt(2 * 3). argmax 1 (first of the tie) vs 2: different.
    # Sample 2: t constant: tau 0 by convention; argmax 0 vs 0: same.
    teacher = np.array([[1.0, 2.0, 2.0], [5.0, 5.0, 5.0]])
    student = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    tau, same_argmax = rank_agreement(teacher, student)
    assert tau == pytest.approx((2 / np.sqrt(6) + 0.0) / 2)
    assert same_argmax == 0.5
    assert kendalltau(teacher[0], student[0]).statistic == pytest.approx(2 / np.sqrt(6))


def test_rank_agreement_equals_scipys_tau_b_with_many_ties():
    rng = np.random.default_rng(16)
    teacher = rng.integers(0, 3, (300, 4)).astype(float)
    student = rng.integers(0, 3, (300, 4)).astype(float)
    with np.errstate(invalid="ignore"):
        per_sample = [kendalltau(t, s).statistic for t, s in zip(teacher, student)]
    tau, _ = rank_agreement(teacher, student)
    assert tau == pytest.approx(np.mean(np.nan_to_num(per_sample, nan=0.0)), abs=1e-12)


def test_rank_agreement_error_cases():
    with pytest.raises(ValueError, match="at least 2 classes"):
        rank_agreement(np.zeros((3, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="must be \\(n, C\\)"):
        rank_agreement(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="mismatched numbers of samples"):
        rank_agreement(np.zeros((3, 4)), np.zeros((2, 4)))
