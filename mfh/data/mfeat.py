"""UCI Multiple Features (mfeat): six feature views of the same 2000 handwritten digits.

Views (raw_dir/mfeat/mfeat-{view}.csv, header row, last column = label, row i = the same digit in
every view): fou 76, fac 216, kar 64, pix 240, zer 47, mor 6 features. The full data has 2000
rows (ROWS); the row count is not fixed here (the pinned checksums fix the files), but every view
must have the same rows, so a subset such as the tests' fixture reads the same way.

Settings (`cfg`; missing keys take DEFAULTS): n_train, n_val, n_test: rows per split, at most the
rows of the files together (default 1200 / 300 / 500, all 2000 rows).

Split: `mfh.data.split.stratified_split` (seeded, stratified, every class in proportion); rows
stay in its order.

Each view is standardised with the mean and std of its train rows (a feature with std 0 is only
centred). Output keys (mfh.data.real): {view}_{split} float32 (N, d_view), y_{split} int64 (N,),
meta.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mfh.data.real import SPLITS, prepared_meta
from mfh.data.split import stratified_split as split_rows
from mfh.errors import DataError

STUDY = "mfeat"
VIEWS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}  # view -> features
ROWS = 2000  # rows of the full data (the files pinned in mfh/data/manifests/mfeat.sha256)
DEFAULTS = {"n_train": 1200, "n_val": 300, "n_test": 500}


def read_view(path: Path, features: int, rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One view's CSV -> features (N, features) float64 and labels (N,) int64; N = `rows` when
    given (else any N >= 1)."""
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)  # (N, features + 1)
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: not a readable mfeat CSV ({e})") from e
    n = table.shape[0] if rows is None else rows
    if table.shape != (n, features + 1) or n < 1:
        raise DataError(
            f"{path}: {table.shape[0]} rows x {table.shape[1]} columns, expected {n} x "
            f"{features + 1} ({features} features and the label)"
        )
    if not np.isfinite(table).all():
        raise DataError(f"{path}: holds non-finite values")
    labels = table[:, -1]
    if not np.isin(labels, np.arange(10)).all():
        raise DataError(f"{path}: the last column holds values other than the labels 0-9")
    return table[:, :-1], labels.astype(np.int64)


def read_views(raw_dir: Path) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every view (view -> (N, d_view) float64) and the labels (N,) they all agree on; N is the
    row count of the first view (mfeat-fou.csv), which every other view must have too."""
    views, labels = {}, None
    for view, features in VIEWS.items():
        path = Path(raw_dir) / f"mfeat/mfeat-{view}.csv"
        views[view], y = read_view(path, features, None if labels is None else len(labels))
        if labels is not None and not np.array_equal(y, labels):
            row = int(np.flatnonzero(y != labels)[0])
            raise DataError(
                f"{path}: row {row} is labelled {y[row]}, but {labels[row]} in mfeat-fou.csv; "
                f"the views must list the same digits in the same order"
            )
        labels = y
    return views, labels


def resolve(cfg: dict) -> dict:
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown mfeat settings {sorted(unknown)}; known: {list(DEFAULTS)}")
    settings = {**DEFAULTS, **cfg}
    if settings["n_train"] < 1 or settings["n_val"] < 0 or settings["n_test"] < 1:
        raise ValueError("mfeat needs n_train >= 1, n_val >= 0, n_test >= 1")
    return settings


def stratified_split(labels: np.ndarray, settings: dict, seed: int) -> dict[str, np.ndarray]:
    """Row indices of each split (`mfh.data.split.stratified_split`, stream "mfeat")."""
    sizes = {s: settings[f"n_{s}"] for s in SPLITS}
    return split_rows(labels, sizes, seed, STUDY)


def build(
    views: dict[str, np.ndarray], labels: np.ndarray, cfg: dict, seed: int
) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and meta of mfeat from checked views and labels."""
    settings = resolve(cfg)
    split = stratified_split(labels, settings, seed)
    arrays = {f"y_{s}": labels[rows] for s, rows in split.items()}
    for view, x in views.items():
        train = x[split["train"]]
        mean, std = train.mean(axis=0), train.std(axis=0)  # (d_view,)
        std[std == 0] = 1.0
        for s, rows in split.items():
            arrays[f"{view}_{s}"] = ((x[rows] - mean) / std).astype(np.float32)
    return arrays, prepared_meta(STUDY, list(VIEWS), 10, seed, settings)


def from_raw(raw_dir: Path, cfg: dict, seed: int) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and meta of mfeat from the (verified) raw CSVs under `raw_dir`, split and
    standardised. `mfh.data.prepare` verifies, builds and writes."""
    views, labels = read_views(raw_dir)
    return build(views, labels, cfg, seed)
