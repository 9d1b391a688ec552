"""BasicMotions (UEA multivariate archive): a smart watch's accelerometer and gyroscope during four
activities, read from its sktime/UEA `.ts` files into the paired arrays of two modalities.

Raw files (mfh.data.raw, pinned in manifests/basicmotions.sha256): raw_dir/basicmotions/
BasicMotions_{TRAIN,TEST}.ts, 40 + 40 cases (10 per class each in the full data), 6 channels x 100
steps (10 s at 10 Hz), classes in the header's order: Standing, Running, Walking, Badminton.
Channels (the UEA archive's description; the .ts file itself only says "6 dimensions", see
../shared/data/basicmotions/PROVENANCE.md): 0-2 accelerometer x/y/z (modality `accel`), 3-5
gyroscope x/y/z (modality `gyro`).

`.ts` format: lines starting with `#` are comments; `@key value` header lines (read here:
@dimensions, @seriesLength, @equalLength, @missing, @timeStamps, @classLabel true <names...>) end
with `@data`; then one case per line: D series separated by `:`, each of comma-separated values,
and the class label as the last `:`-field. Only what BasicMotions needs is accepted (equal
lengths, no missing values, no time stamps, labelled cases); anything else is a DataError naming
the file and line.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mfh.data.npz_dataset import build
from mfh.data.split import stratified_split
from mfh.errors import DataError

FILES = {"train": "basicmotions/BasicMotions_TRAIN.ts", "test": "basicmotions/BasicMotions_TEST.ts"}
CHANNELS = {"accel": slice(0, 3), "gyro": slice(3, 6)}  # modality -> its channels of the 6
DIMENSIONS, SERIES_LENGTH = 6, 100
STUDY = "basicmotions"


def _header(path: Path, number: int, line: str, header: dict) -> None:
    """Record one `@key value` line in `header` (dimensions, length, class names)."""
    name, _, value = line[1:].partition(" ")
    key, value = name.lower(), value.strip()
    where = f"{path}, line {number}"
    if key in ("dimensions", "serieslength"):
        if not value.isdigit() or int(value) < 1:
            raise DataError(f"{where}: @{name} must be a positive integer, got {value!r}")
        header[key] = int(value)
    elif key in ("equallength", "missing", "timestamps", "univariate"):
        wanted = "true" if key == "equallength" else "false"
        if key != "univariate" and value.lower() != wanted:
            raise DataError(f"{where}: @{name} {value} is not supported (only {wanted})")
    elif key == "classlabel":
        flag, *names = value.split()
        if flag.lower() != "true" or not names:
            raise DataError(f"{where}: @classLabel must be `true` followed by the class names")
        if len(set(names)) != len(names):
            raise DataError(f"{where}: @classLabel names a class twice: {' '.join(names)}")
        header["classes"] = names


def read_ts(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A labelled, equal-length `.ts` file -> x float64 (N, D, T), labels int64 (N,) (indices
    into the class names), class names (the header's @classLabel order)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: not a readable .ts file ({e})") from e
    header: dict = {}
    cases: list[np.ndarray] = []  # each (D, T)
    labels: list[int] = []
    in_data = False
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}, line {number}"
        if not in_data:
            if not line.startswith("@"):
                raise DataError(f"{where}: expected a header line (@...) before @data")
            if line.lower() == "@data":
                if "classes" not in header:
                    raise DataError(f"{where}: @data before any @classLabel true <names>")
                in_data = True
            else:
                _header(path, number, line, header)
            continue
        *fields, label = line.split(":")
        dims = header.setdefault("dimensions", len(fields))
        if len(fields) != dims:
            raise DataError(f"{where}: {len(fields)} dimensions, expected {dims} (@dimensions)")
        if label.strip() not in header["classes"]:
            raise DataError(
                f"{where}: unknown class label {label.strip()!r}; @classLabel names "
                f"{' '.join(header['classes'])}"
            )
        try:
            series = [np.array(field.split(","), dtype=np.float64) for field in fields]
        except ValueError as e:
            raise DataError(f"{where}: a non-numeric value ({e})") from e
        length = header.setdefault("serieslength", len(series[0]))
        if any(len(s) != length for s in series):
            found = sorted({len(s) for s in series})
            raise DataError(f"{where}: series of length {found}, expected {length} each")
        case = np.stack(series)  # (D, T)
        if not np.isfinite(case).all():
            raise DataError(f"{where}: holds NaN or infinite values")
        cases.append(case)
        labels.append(header["classes"].index(label.strip()))
    if not in_data:
        raise DataError(f"{path}: no @data line (not a .ts file?)")
    if not cases:
        raise DataError(f"{path}: no cases after @data")
    return np.stack(cases), np.array(labels, dtype=np.int64), header["classes"]


def read_raw(raw_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Both files of raw_dir/basicmotions, train cases first, as paired arrays: `y` int64 (N,)
    (0..3 in the header's class order), `x_accel` and `x_gyro` float32 (N, 3, 100) (channels 0-2
    and 3-5), `source_split` str (N,): "train" or "test", the file each case came from."""
    xs, ys, splits, classes = [], [], [], None
    for split, rel in FILES.items():
        path = Path(raw_dir) / rel
        x, y, names = read_ts(path)
        if x.shape[1:] != (DIMENSIONS, SERIES_LENGTH):
            raise DataError(
                f"{path}: cases of {x.shape[1]} channels x {x.shape[2]} steps, expected "
                f"{DIMENSIONS} x {SERIES_LENGTH} (BasicMotions)"
            )
        if classes is not None and names != classes:
            raise DataError(
                f"{path}: classes {' '.join(names)}, but {' '.join(classes)} in {FILES['train']}"
            )
        classes = names
        xs.append(x)
        ys.append(y)
        splits += [split] * len(y)
    x = np.concatenate(xs)  # (N, 6, 100)
    arrays = {f"x_{m}": x[:, channels].astype(np.float32) for m, channels in CHANNELS.items()}
    return {"y": np.concatenate(ys), **arrays, "source_split": np.array(splits)}


def from_raw(
    raw_dir: str | os.PathLike, cfg: dict, seed: int
) -> tuple[dict[str, np.ndarray], dict]:
    """The prepared arrays and meta of BasicMotions (`mfh.data.real`) from the verified files:
    the test file's cases are the test split; `cfg["n_val"]` of the training file's cases, drawn
    stratified and seeded (`mfh.data.split`), the validation split, the rest train; each sensor
    standardised per channel on the training cases (`mfh.data.npz_dataset.build`)."""
    arrays = read_raw(raw_dir)
    source = arrays.pop("source_split")
    train = np.flatnonzero(source == "train")
    sizes = {"val": cfg["n_val"], "train": len(train) - cfg["n_val"]}
    rows = stratified_split(arrays["y"][train], sizes, seed, STUDY)
    split = source.astype("<U5")
    split[train[rows["val"]]] = "val"
    prepared, meta = build({**arrays, "split": split}, {}, seed, STUDY)
    meta["settings"] = dict(cfg)
    return prepared, meta
