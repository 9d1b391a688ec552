"""A user's own paired data in one .npz file (params `data.kind: npz`), checked and prepared; the
builder BasicMotions shares.

Contract of the file (`np.savez(path, y=..., x_accel=..., x_gyro=..., split=...)`):
    y         (N,) integer labels 0 ... C-1, every class present (C >= 2)
    x_<m>     (N, ...) numeric, finite: one array per modality m (letters and digits); the model
              of `models.<m>` must fit its per-sample shape (`mfh.models.kinds`)
    split     optional (N,) strings train / val / test; without it, a seeded stratified split of
              `data.n_train`, `n_val`, `n_test` rows (`mfh.data.split`)
No other arrays. Every class needs a row in each split (the best validation epoch, the test
accuracy and the KD targets all need every class).

`problems(path, section)` lists everything wrong with a file for a study section, each line naming
the file: params.yaml's checks call it before any job, and `prepare` again before writing. Each
modality is standardised per channel (the first per-sample axis: a vector's features, a series'
or an image's channels) with the mean and std of its training rows over every other axis (a
channel with std 0 is only centred); the prepared arrays are those of `mfh.data.real`.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from mfh.data.real import SPLITS, prepared_meta
from mfh.data.split import stratified_split
from mfh.errors import DataError
from mfh.models.kinds import shape_problem

MODALITY_KEY = re.compile(r"x_([A-Za-z0-9]+)")
SIZES = tuple(f"n_{s}" for s in SPLITS)


def read_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of the file, by key; DataError naming the file when it is missing or not an
    .npz of plain arrays."""
    path = Path(path)
    if not path.is_file():
        raise DataError(
            f"{path}: no such file (params data.path; relative paths start at the "
            "folder snakemake runs in)"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            return {key: f[key] for key in f.files}
    except ValueError as e:
        raise DataError(f"{path}: holds an object array ({e}); save plain numbers and strings")
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from e


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def split_rows(arrays: dict[str, np.ndarray], cfg: dict, seed: int, dataset: str):
    """Split name -> row indices: the file's own `split`, else the seeded stratified one."""
    if "split" in arrays:
        split = arrays["split"]
        return {s: np.flatnonzero(split == s) for s in SPLITS}
    sizes = {s: cfg[f"n_{s}"] for s in SPLITS}
    return stratified_split(arrays["y"], sizes, seed, dataset)


def _array_problems(arrays: dict[str, np.ndarray]) -> list[str]:
    """What is wrong with the arrays alone (keys, shapes, dtypes, values)."""
    if "y" not in arrays:
        return ["no array y (labels 0 ... C-1)"]
    y, found = arrays["y"], []
    unknown = [k for k in arrays if k not in ("y", "split") and not MODALITY_KEY.fullmatch(k)]
    if unknown:
        found.append(f"unknown arrays {', '.join(unknown)}; allowed: y, split, x_<modality>")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        return found + [f"y is {y.dtype} of shape {y.shape}; expected integer labels (N,)"]
    classes = np.unique(y)
    if len(classes) < 2 or classes[0] != 0 or classes[-1] != len(classes) - 1:
        shown = ", ".join(map(str, classes[:10])) + (" ..." if len(classes) > 10 else "")
        found.append(f"y holds the labels {shown}; expected every label of 0 ... C-1, C >= 2")
    for key, x in arrays.items():
        if key == "y":
            continue
        if len(x) != len(y) or x.ndim < 1:
            found.append(f"{key} has {len(x) if x.ndim else 0} rows, y has {len(y)}")
        elif key == "split":
            bad = sorted(set(np.unique(x).tolist()) - set(SPLITS))
            if x.dtype.kind != "U" or bad:
                shown = ", ".join(map(repr, bad[:5])) if bad else f"dtype {x.dtype}"
                found.append(f"split holds {shown}; allowed: strings {', '.join(SPLITS)}")
        elif x.ndim < 2 or not (np.issubdtype(x.dtype, np.number) and x.dtype.kind != "c"):
            found.append(f"{key} is {x.dtype} of shape {x.shape}; expected numbers (N, ...)")
        elif not np.isfinite(x).all():
            rows = np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))
            found.append(f"{key} holds NaN or inf in {len(rows)} rows (first: row {rows[0]})")
    return found


def _split_problems(arrays: dict, cfg: dict, seed: int, dataset: str) -> list[str]:
    """Sizes asked without a `split`, and a class missing from a split."""
    if "split" not in arrays:
        missing = [k for k in SIZES if k not in cfg]
        if missing:
            return [f"has no split array, so {dataset}.data needs {', '.join(missing)}"]
    try:
        rows = split_rows(arrays, cfg, seed, dataset)
    except DataError as e:
        return [str(e)]
    y, found = arrays["y"], []
    for c in range(int(y.max()) + 1):
        empty = [s for s in SPLITS if not (y[rows[s]] == c).any()]
        if empty:
            found.append(
                f"class {c} has {int((y == c).sum())} rows, none in {', '.join(empty)}; "
                "each class needs a row in train, val and test"
            )
    return found


def _section_problems(arrays: dict, section: dict, dataset: str) -> list[str]:
    """Modalities of the study the file lacks, and models that do not fit their arrays."""
    found = []
    have = [m.group(1) for k in arrays if (m := MODALITY_KEY.fullmatch(k))]
    for modality in section["modalities"]:
        key = f"x_{modality}"
        if key not in arrays:
            found.append(
                f"no array {key} for modality {modality} (named in {dataset}.pairs); "
                f"the file has: {', '.join(f'x_{m}' for m in have) or 'no x_ arrays'}"
            )
        elif modality in section["models"]:
            problem = shape_problem(section["models"][modality], arrays[key].shape[1:])
            if problem:
                found.append(f"{key}: {problem} ({dataset}.models.{modality})")
    return found


def problems(section: dict, dataset: str, seed: int) -> list[str]:
    """Every problem of the file `section["data"]["path"]` for the study section `dataset`, each
    line starting with the file; empty when the study can run on it."""
    return _problems(section["data"], dataset, seed, section)


def _problems(cfg: dict, dataset: str, seed: int, section: dict | None = None) -> list[str]:
    """The file's problems; with `section`, also its modalities' and models' misfits."""
    path = cfg["path"]
    try:
        arrays = read_arrays(path)
    except DataError as e:
        return [str(e)]
    found = _array_problems(arrays)
    if not found:
        found = _split_problems(arrays, cfg, seed, dataset)
        if section is not None:
            found = _section_problems(arrays, section, dataset) + found
    return [f"{path}: {p}" for p in found]


def build(arrays: dict[str, np.ndarray], cfg: dict, seed: int, dataset: str):
    """The prepared arrays and meta (`mfh.data.real`) of checked paired arrays, every modality of
    the file: split (the file's own `split`, else `cfg`'s sizes), and each modality standardised
    per channel on its training rows."""
    y = arrays["y"].astype(np.int64)
    rows = split_rows(arrays, cfg, seed, dataset)
    out = {f"y_{s}": y[r] for s, r in rows.items()}
    modalities = [m.group(1) for k in arrays if (m := MODALITY_KEY.fullmatch(k))]
    for m in modalities:
        x = arrays[f"x_{m}"].astype(np.float64)  # (N, C, ...): C features or channels
        axes = (0, *range(2, x.ndim))  # every axis but the channel's
        train = x[rows["train"]]
        mean, std = train.mean(axis=axes, keepdims=True), train.std(axis=axes, keepdims=True)
        std[std == 0] = 1.0  # (1, C, 1, ...) each
        for s, r in rows.items():
            out[f"{m}_{s}"] = ((x[r] - mean) / std).astype(np.float32)
    settings = {k: v for k, v in cfg.items() if k != "path"}
    if "split" in arrays:
        settings["split"] = "file"
    return out, prepared_meta(dataset, modalities, int(y.max()) + 1, seed, settings)


def from_file(cfg: dict, dataset: str, seed: int) -> tuple[dict[str, np.ndarray], dict]:
    """Check the file of the data section `cfg` (DataError listing every problem) and build it;
    its meta records the file's sha256 (`inputs`)."""
    found = _problems(cfg, dataset, seed)
    if found:
        raise DataError(f"{dataset}: " + "; ".join(found))
    arrays, meta = build(read_arrays(cfg["path"]), cfg, seed, dataset)
    meta["inputs"] = {"npz": sha256_file(cfg["path"])}
    return arrays, meta
