"""The seeded stratified split of a labelled dataset into train / val / test rows, shared by the
real datasets that have no split of their own (mfeat, a user's npz without `split`) and by
BasicMotions' validation rows.

The rows of each class are shuffled (stream `mfh.seeding.numpy_rng(seed, study, "split")`), then
the classes are interleaved in proportion: row j of a class with m rows gets the key
(j + 0.5) / m, equal keys go by class; the first n_train rows of that order are train, the next
n_val val, the next n_test test. So every split holds each class in proportion, to within a row
or two (exactly, when the sizes allow it).
"""

from __future__ import annotations

import numpy as np

from mfh.errors import DataError
from mfh.seeding import numpy_rng


def stratified_split(
    labels: np.ndarray, sizes: dict[str, int], seed: int, study: str
) -> dict[str, np.ndarray]:
    """Split name -> row indices into `labels` (N,), in the order of `sizes` (split -> rows)."""
    if sum(sizes.values()) > len(labels):
        raise DataError(
            f"{study} asks for {sum(sizes.values())} rows in all; it holds {len(labels)} "
            f"(asked: {', '.join(f'{s} {n}' for s, n in sizes.items())})"
        )
    rng = numpy_rng(seed, study, "split")
    rows, keys = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))  # (m,)
        rows.append(members)
        keys.append((np.arange(len(members)) + 0.5) / len(members))
    rows, keys = np.concatenate(rows), np.concatenate(keys)
    order = rows[np.argsort(keys, kind="stable")]  # classes were appended in label order
    bounds = np.cumsum([0, *sizes.values()])
    return {s: order[bounds[i] : bounds[i + 1]] for i, s in enumerate(sizes)}
