"""Mutual information estimators, in nats, between a representation x and a second variable: a
continuous z (another representation, another modality) or the class labels y.

Two families, each in a continuous and a labelled form:

- `gaussian_mi`, `gaussian_mi_labels`: the Gaussian closed form through canonical correlations,
  I = -1/2 * sum_i log(1 - rho_i^2). Exact for jointly Gaussian data, fast, and a function of the
  second moments only (so it sees linear dependence only). For labels it is the linear-Gaussian
  approximation: the same closed form between x and the one-hot coding of y.
- `knn_mi`, `knn_mi_labels`: the nonparametric k-nearest-neighbour estimators of Kraskov,
  Stoegbauer and Grassberger (2004, algorithm 1) and of Ross (2014), with max-norm distances on
  column-standardised data. They see any dependence but are biased in high dimension.

All four are deterministic (no random jitter): see each function for how ties are counted.
Constant columns carry no information and are dropped; if x (or z) has only constant columns
the estimate is 0. Inputs may be (n,) arrays, read as one column. Every function raises
ValueError on mismatched numbers of samples, too few samples or non-finite values.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

from mfh.predictors.validation import (
    as_label_vector,
    as_sample_matrix,
    check_min_samples,
    check_neighbour_count,
    check_same_n,
)

# Added to the eigenvalues of each (unit-diagonal) correlation matrix before whitening, so that
# duplicate or near-duplicate columns give a large finite MI instead of inf or NaN. It shrinks
# every canonical correlation by a relative ~1e-10: far below the sampling error at any n.
CORRELATION_RIDGE = 1e-10
MAX_RHO_SQUARED = 1.0 - 1e-12  # rho^2 is clipped here: the MI of one canonical pair is <= 13.8
# kNN radii are scaled by (1 -/+ this) to count strictly-inside (KSG) or up-to-and-including
# (Ross) neighbours robustly; distances are of standardised data, so O(1).
RADIUS_TOLERANCE = 1e-10


def gaussian_mi(x, z) -> float:
    """I(x; z) in nats under the Gaussian closed form, x (n, p) and z (n, q) continuous.

    Columns are centred and standardised (constant ones dropped), the canonical correlations
    rho_i (min(p, q) of them) are the singular values of Rxx^-1/2 Rxz Rzz^-1/2 with
    CORRELATION_RIDGE added to the eigenvalues of Rxx and Rzz, rho_i^2 is clipped to at most
    1 - 1e-12, and I = -1/2 * sum_i log(1 - rho_i^2). Needs n > p + q (after dropping constant
    columns): with fewer samples the sample canonical correlations are 1 whatever the data.
    """
    caller = "gaussian_mi"
    x = as_sample_matrix(x, "x", caller)
    z = as_sample_matrix(z, "z", caller)
    return _gaussian_mi(x, z, caller)


def gaussian_mi_labels(x, y) -> float:
    """I(x; Y) in nats for class labels y (n,): the linear-Gaussian approximation.

    The Gaussian closed form of `gaussian_mi` between x (n, p) and the one-hot coding of y with
    one class column dropped (n, C - 1): the columns are linearly dependent otherwise. This is
    -1/2 log of Wilks' lambda, det(within-class covariance) / det(total covariance), i.e. it
    treats x given Y as Gaussian with a covariance shared by the classes and x itself as Gaussian.
    It is not bounded by H(Y): for Gaussian classes it is an upper bound on the true MI (x is not
    Gaussian, and a Gaussian has the largest entropy for its covariance), and for well separated
    classes it exceeds H(Y), growing like 1/2 log(1 + separation^2). With one class it is 0.
    """
    caller = "gaussian_mi_labels"
    x = as_sample_matrix(x, "x", caller)
    y = as_label_vector(y, "y", caller)
    n = check_same_n(caller, x=x, y=y)
    check_min_samples(n, 3, caller, "a covariance needs several samples")
    classes, class_index = np.unique(y, return_inverse=True)  # (C,), (n,) in 0..C-1
    one_hot = np.eye(len(classes))[class_index][:, 1:]  # (n, C - 1): the first class dropped
    if one_hot.shape[1] == 0:
        return 0.0
    return _gaussian_mi(x, one_hot, caller)


def knn_mi(x, z, k: int = 3) -> float:
    """I(x; z) in nats by the KSG estimator (algorithm 1, max-norm), x (n, p), z (n, q).

    Columns of x and z are standardised (constant ones dropped). For each sample i, eps_i is the
    max-norm distance to its k-th nearest neighbour in the joint space (x, z); n_x(i) and n_z(i)
    count the other samples strictly closer than eps_i in x and in z; then
    I = psi(k) + psi(n) - mean_i [psi(n_x(i) + 1) + psi(n_z(i) + 1)].
    Ties: "strictly closer" is counted as distance <= eps_i * (1 - 1e-10), so samples at exactly
    eps_i never count; where eps_i = 0 (k + 1 identical joint samples) that counts the exact
    duplicates of sample i in the marginal. The estimate may be slightly negative at independence
    and is not clipped. Needs n >= k + 2.
    """
    caller = "knn_mi"
    k = check_neighbour_count(k, caller)
    x = as_sample_matrix(x, "x", caller)
    z = as_sample_matrix(z, "z", caller)
    n = check_same_n(caller, x=x, z=z)
    check_min_samples(n, k + 2, caller, f"k + 2 with k = {k}")
    x = _standardised_nonconstant(x)  # (n, p')
    z = _standardised_nonconstant(z)  # (n, q')
    if x.shape[1] == 0 or z.shape[1] == 0:
        return 0.0
    joint = np.hstack([x, z])  # (n, p' + q')
    distances, _ = cKDTree(joint).query(joint, k=k + 1, p=np.inf)  # (n, k + 1), self included
    radius = distances[:, k] * (1.0 - RADIUS_TOLERANCE)  # (n,)
    n_x = _count_within(x, radius) - 1  # (n,) self excluded
    n_z = _count_within(z, radius) - 1  # (n,)
    estimate = digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_z + 1))
    return float(estimate)


def knn_mi_labels(x, y, k: int = 3) -> float:
    """I(x; Y) in nats for class labels y (n,) by the kNN estimator of Ross (2014), x (n, p).

    Columns of x are standardised (constant ones dropped), distances are max-norm. For each
    sample i of class c (n_c samples), d_i is the distance to its k-th nearest neighbour among
    the other samples of class c, and m_i counts the other samples of any class within d_i,
    the k-th neighbour included (so m_i >= k); then
    I = psi(n) - mean_i psi(n_c(i)) + psi(k) - mean_i psi(m_i).
    Ties: "within d_i" is counted as distance <= d_i * (1 + 1e-10), so samples of other classes
    at exactly d_i count. Every class needs at least k + 1 samples (ValueError naming the first
    class that has fewer), and n >= k + 2. With one class the estimate is 0.
    """
    caller = "knn_mi_labels"
    k = check_neighbour_count(k, caller)
    x = as_sample_matrix(x, "x", caller)
    y = as_label_vector(y, "y", caller)
    n = check_same_n(caller, x=x, y=y)
    check_min_samples(n, k + 2, caller, f"k + 2 with k = {k}")
    classes, class_index, class_sizes = np.unique(y, return_inverse=True, return_counts=True)
    for label, size in zip(classes, class_sizes):
        if size < k + 1:
            label = label.item() if isinstance(label, np.generic) else label  # plain repr
            raise ValueError(
                f"{caller}: class {label!r} has {size} samples, fewer than k + 1 = {k + 1}"
            )
    x = _standardised_nonconstant(x)  # (n, p')
    if x.shape[1] == 0:
        return 0.0
    kth_distance = np.empty(n)  # (n,) d_i, within the sample's own class
    for c in range(len(classes)):
        members = np.flatnonzero(class_index == c)  # (n_c,)
        distances, _ = cKDTree(x[members]).query(x[members], k=k + 1, p=np.inf)  # (n_c, k + 1)
        kth_distance[members] = distances[:, k]
    m = _count_within(x, kth_distance * (1.0 + RADIUS_TOLERANCE)) - 1  # (n,) self excluded
    size_of_own_class = class_sizes[class_index]  # (n,)
    estimate = digamma(n) - np.mean(digamma(size_of_own_class)) + digamma(k) - np.mean(digamma(m))
    return float(estimate)


def _gaussian_mi(x: np.ndarray, z: np.ndarray, caller: str) -> float:
    """The closed form on validated float matrices x (n, p), z (n, q)."""
    n = check_same_n(caller, x=x, z=z)
    check_min_samples(n, 3, caller, "a covariance needs several samples")
    x = _standardised_nonconstant(x)  # (n, p')
    z = _standardised_nonconstant(z)  # (n, q')
    p, q = x.shape[1], z.shape[1]
    if p == 0 or q == 0:
        return 0.0
    if n <= p + q:
        raise ValueError(
            f"{caller}: needs more samples than non-constant columns (p + q = {p + q}), got {n}:"
            " with fewer, the sample canonical correlations are 1 whatever the data"
        )
    rho = _canonical_correlations(x, z)  # (min(p, q),)
    rho_squared = np.minimum(rho**2, MAX_RHO_SQUARED)
    return float(-0.5 * np.sum(np.log1p(-rho_squared)))


def _canonical_correlations(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Canonical correlations (min(p, q),) of standardised x (n, p) and z (n, q), ridged."""
    n = len(x)
    whiten_x = _inverse_sqrt(x.T @ x / n)  # (p, p)
    whiten_z = _inverse_sqrt(z.T @ z / n)  # (q, q)
    cross = x.T @ z / n  # (p, q)
    return np.linalg.svd(whiten_x @ cross @ whiten_z, compute_uv=False)


def _inverse_sqrt(correlation: np.ndarray) -> np.ndarray:
    """(R + ridge I)^-1/2 of a symmetric positive semi-definite R (d, d), by eigendecomposition."""
    eigenvalues, eigenvectors = np.linalg.eigh(correlation)  # (d,), (d, d)
    scale = 1.0 / np.sqrt(np.maximum(eigenvalues, 0.0) + CORRELATION_RIDGE)  # (d,)
    return (eigenvectors * scale) @ eigenvectors.T


def _standardised_nonconstant(matrix: np.ndarray) -> np.ndarray:
    """Columns of `matrix` (n, d) centred and scaled to unit variance, exactly constant ones
    (max == min) dropped: (n, d') with d' <= d."""
    varying = np.ptp(matrix, axis=0) > 0  # (d,)
    kept = matrix[:, varying]  # (n, d')
    centred = kept - kept.mean(axis=0)
    return centred / centred.std(axis=0)


def _count_within(points: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """For each row i of `points` (n, d), how many rows (itself included) lie within max-norm
    distance radius[i] (n,), the boundary included: (n,) int."""
    tree = cKDTree(points)
    return tree.query_ball_point(points, radius, p=np.inf, return_length=True).astype(np.int64)
