"""Input checks shared by the predictor measures: sample matrices, label vectors, sample counts.

Every check raises ValueError with a message that names the argument and the function that was
called, so that a bad table surfaces as one readable line instead of a NaN or an IndexError deep
inside an estimator.
"""

from __future__ import annotations

import numpy as np


def as_sample_matrix(values, name: str, caller: str) -> np.ndarray:
    """`values` as a float64 (n, d) matrix, a 1-D array read as one column (n,) -> (n, 1).

    Raises ValueError unless it is 1-D or 2-D, has at least one column and only finite entries.
    """
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim == 1:
        matrix = matrix[:, None]  # (n,) -> (n, 1)
    if matrix.ndim != 2:
        raise ValueError(f"{caller}: {name} must be (n,) or (n, d), got shape {matrix.shape}")
    if matrix.shape[1] == 0:
        raise ValueError(f"{caller}: {name} has no columns")
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"{caller}: {name} has non-finite values (NaN or inf)")
    return matrix


def as_label_vector(labels, name: str, caller: str) -> np.ndarray:
    """`labels` as a 1-D array (n,) of class labels (any type numpy can sort; no NaN)."""
    vector = np.asarray(labels)
    if vector.ndim != 1:
        raise ValueError(f"{caller}: {name} must be 1-D (n,), got shape {vector.shape}")
    if vector.dtype.kind == "f" and not np.all(np.isfinite(vector)):
        raise ValueError(f"{caller}: {name} has non-finite values (NaN or inf)")
    if vector.dtype.kind not in "biufUSO":
        raise ValueError(f"{caller}: {name} must hold class labels, got dtype {vector.dtype}")
    return vector


def check_same_n(caller: str, **arrays: np.ndarray) -> int:
    """The common number of rows of `arrays` (given by name); ValueError if they differ."""
    counts = {name: len(array) for name, array in arrays.items()}
    if len(set(counts.values())) != 1:
        listed = ", ".join(f"{name} has {count}" for name, count in counts.items())
        raise ValueError(f"{caller}: mismatched numbers of samples: {listed}")
    return next(iter(counts.values()))


def check_min_samples(n: int, minimum: int, caller: str, why: str) -> None:
    """ValueError unless n >= minimum (`why` says where the minimum comes from)."""
    if n < minimum:
        raise ValueError(f"{caller}: needs at least {minimum} samples ({why}), got {n}")


def check_neighbour_count(k, caller: str) -> int:
    """`k` as a positive int (the number of nearest neighbours of a kNN estimator)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{caller}: k must be a positive integer, got {k!r}")
    return int(k)
