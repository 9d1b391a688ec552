"""AV-MNIST preparation: WAV reading, spectrograms, the split and pairing rules, determinism,
clear errors on bad raw data, atomic output, and the shared loader.

On the shipped fixture (tests/fixtures/raw: 200 + 100 MNIST images, 3 theo recordings per digit
and FSDD's shortest and longest, pinned in tests/fixtures/manifests); one test, marked
`shared_data`, prepares from the full copies in ../shared/data with the packaged pins."""

from __future__ import annotations

import json
import os
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import FIXTURE_MANIFESTS, FIXTURE_RAW, SHARED_DATA, npz_arrays
from mfh.data import avmnist, raw
from mfh.data.prepare import prepare
from mfh.data.real import IndexedTensor, load_prepared
from mfh.data.spectrogram import STFT, fit_length, log_spectrogram
from mfh.data.wav import read_wav
from mfh.errors import DataError

RECORDINGS = FIXTURE_RAW / avmnist.RECORDINGS_DIR
SMALL = {"n_train": 120, "n_val": 40, "n_test": 60}
N = {"train": 120, "val": 40, "test": 60}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("avmnist") / "avmnist.npz"
    prepare("avmnist", FIXTURE_RAW, out, SMALL, seed=0, manifests=FIXTURE_MANIFESTS)
    return out


@pytest.fixture(scope="module")
def mnist() -> dict[str, np.ndarray]:
    return raw.read_mnist(FIXTURE_RAW / raw.MNIST_FILE, FIXTURE_MANIFESTS)


def two_per_digit() -> list[avmnist.Recording]:
    """One test (index 0) and one train (index 5) recording of each digit, speaker theo."""
    return avmnist.sort_recordings(f"{d}_theo_{i}.wav" for d in range(10) for i in (0, 5))


# --- WAV and spectrogram -----------------------------------------------------------------------


def test_read_wav_gives_the_declared_samples():
    samples = read_wav(RECORDINGS / "7_theo_5.wav")
    with wave.open(str(RECORDINGS / "7_theo_5.wav")) as w:
        assert samples.dtype == np.int16 and samples.shape == (w.getnframes(),)


def write_wav(path: Path, channels: int = 1, rate: int = 8000, frames: int = 800) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros(frames * channels, dtype="<i2").tobytes())


def test_damaged_wavs_are_data_errors_naming_the_file(tmp_path):
    truncated = tmp_path / "2_theo_6.wav"
    truncated.write_bytes((RECORDINGS / "2_theo_6.wav").read_bytes()[:-1001])
    with pytest.raises(DataError, match=r"2_theo_6.wav: truncated: the header declares \d+ frames"):
        read_wav(truncated)
    (tmp_path / "junk.wav").write_bytes(b"RIFF\x00\x00junk")
    with pytest.raises(DataError, match="junk.wav: not a readable WAV file"):
        read_wav(tmp_path / "junk.wav")
    write_wav(tmp_path / "stereo.wav", channels=2)
    with pytest.raises(DataError, match="stereo.wav: 2 channel.*expected mono 16-bit PCM at 8000"):
        read_wav(tmp_path / "stereo.wav")
    write_wav(tmp_path / "fast.wav", rate=16000)
    with pytest.raises(DataError, match="fast.wav: .*16000 Hz"):
        read_wav(tmp_path / "fast.wav")
    write_wav(tmp_path / "empty.wav", frames=0)
    with pytest.raises(DataError, match="empty.wav: holds no samples"):
        read_wav(tmp_path / "empty.wav")


def test_fit_length_centres_pads_and_crops():
    assert fit_length(np.arange(3.0), 6).tolist() == [0, 0, 1, 2, 0, 0]
    assert fit_length(np.arange(10.0), 4).tolist() == [3, 4, 5, 6]


def test_spectrogram_is_112_by_112_finite_and_puts_a_tone_in_its_bin():
    stft = STFT()
    assert stft.shape == (112, 112) and stft.length == 7326
    t = np.arange(stft.length) / 8000
    tone = log_spectrogram(0.5 * np.sin(2 * np.pi * 1000 * t), stft)  # 1 kHz
    assert tone.shape == (112, 112) and tone.dtype == np.float32
    assert (tone.argmax(axis=0) == round(1000 / 8000 * 222)).all()
    for name in ("6_yweweler_3.wav", "9_theo_16.wav"):  # shortest (padded), longest (cropped)
        wave_ = read_wav(RECORDINGS / name) / 32768.0
        spec = log_spectrogram(fit_length(wave_, stft.length), stft)
        assert spec.shape == (112, 112) and np.isfinite(spec).all()


# --- prepared dataset --------------------------------------------------------------------------


def check_layout(path: Path, n: dict, manifests: Path | None) -> None:
    a = npz_arrays(path)
    meta = json.loads(str(a["meta"]))
    units = len(meta["audio_bank_recordings"])
    assert a["audio_bank"].shape == (units, 1, 112, 112) and a["audio_bank"].dtype == np.float32
    assert np.isfinite(a["audio_bank"]).all()
    for split, size in n.items():
        assert a[f"image_{split}"].shape == (size, 1, 28, 28)
        assert a[f"image_{split}"].dtype == np.float32
        assert 0 <= a[f"image_{split}"].min() and a[f"image_{split}"].max() <= 1
        assert a[f"audio_index_{split}"].shape == a[f"y_{split}"].shape == (size,)
        assert a[f"audio_index_{split}"].dtype == a[f"y_{split}"].dtype == np.int64
    assert meta["inputs"] == {p: raw.manifest_digest(p, manifests) for p in ("mnist", "fsdd")}
    assert meta["settings"]["spectrogram"] == {
        "n_fft": 222,
        "hop": 64,
        "frames": 112,
        "floor": 1e-6,
    }
    used = np.unique(a["audio_index_train"])
    train_values = a["audio_bank"][used]
    assert abs(train_values.mean()) < 1e-3 and abs(train_values.std() - 1) < 1e-3


def test_prepared_arrays_have_the_documented_layout(prepared):
    check_layout(prepared, N, FIXTURE_MANIFESTS)


@pytest.mark.shared_data
def test_full_copies_prepare_with_the_packaged_pins(tmp_path):
    out = tmp_path / "avmnist.npz"
    prepare("avmnist", SHARED_DATA, out, {"n_train": 300, "n_val": 60, "n_test": 120}, seed=0)
    check_layout(out, {"train": 300, "val": 60, "test": 120}, None)
    mnist = raw.read_mnist(SHARED_DATA / raw.MNIST_FILE)
    assert mnist["x_train"].shape == (60000, 28, 28) and mnist["x_test"].shape == (10000, 28, 28)
    with pytest.raises(DataError, match="n_test = 10001 .* 10000 test images"):
        avmnist.build(mnist, two_per_digit(), RECORDINGS, {"n_test": 10001}, 0)


def test_pairs_keep_the_digit_and_the_official_fsdd_split(prepared, mnist):
    a = npz_arrays(prepared)
    names = json.loads(str(a["meta"]))["audio_bank_recordings"]
    for split in ("train", "val", "test"):
        recordings = [avmnist.parse_recording(names[i]) for i in a[f"audio_index_{split}"]]
        assert [r.digit for r in recordings] == a[f"y_{split}"].tolist()
        in_test = {r.index < 5 for r in recordings}
        assert in_test == {split == "test"}
    # images are MNIST images: test ones from the test set, with their labels
    flat = mnist["x_test"].reshape(len(mnist["x_test"]), -1)
    first = np.flatnonzero((flat == np.round(a["image_test"][0].ravel() * 255)).all(axis=1))
    assert len(first) >= 1 and mnist["y_test"][first[0]] == a["y_test"][0]


def test_same_seed_same_bytes_other_seed_other_draw(prepared, tmp_path):
    again = tmp_path / "again.npz"
    prepare("avmnist", FIXTURE_RAW, again, SMALL, seed=0, manifests=FIXTURE_MANIFESTS)
    assert again.read_bytes() == prepared.read_bytes()
    mnist = raw.read_mnist(FIXTURE_RAW / raw.MNIST_FILE, FIXTURE_MANIFESTS)
    recordings = two_per_digit()
    cfg = {"n_train": 50, "n_val": 10, "n_test": 20}
    zero, _ = avmnist.build(mnist, recordings, RECORDINGS, cfg, seed=0)
    one, _ = avmnist.build(mnist, recordings, RECORDINGS, cfg, seed=1)
    assert not np.array_equal(zero["image_train"], one["image_train"])
    assert not np.array_equal(zero["y_test"], one["y_test"])


def test_pca_removal_takes_out_the_requested_share_of_train_variance(mnist):
    images = {
        "train": mnist["x_train"][:200].reshape(200, -1) / 255.0,
        "test": mnist["x_test"][:100].reshape(100, -1) / 255.0,
    }
    cleaned, info = avmnist.remove_pca_energy(images, 0.5)
    before = ((images["train"] - images["train"].mean(0)) ** 2).sum()
    after = ((cleaned["train"] - cleaned["train"].mean(0)) ** 2).sum()
    assert info["energy_removed"] >= 0.5 and info["components_removed"] >= 1
    assert after / before == pytest.approx(1 - info["energy_removed"], rel=1e-9)
    assert cleaned["test"].shape == (100, 784)


def test_corruptions_change_the_data_deterministically(mnist):
    recordings = two_per_digit()
    cfg = {"n_train": 40, "n_val": 0, "n_test": 20}
    clean, _ = avmnist.build(mnist, recordings, RECORDINGS, cfg, seed=0)
    noisy_cfg = {**cfg, "audio_noise_std": 0.5, "image_pca_energy_removed": 0.3}
    noisy, meta = avmnist.build(mnist, recordings, RECORDINGS, noisy_cfg, seed=0)
    again, _ = avmnist.build(mnist, recordings, RECORDINGS, noisy_cfg, seed=0)
    assert meta["pca"]["energy_removed"] >= 0.3
    assert not np.allclose(clean["image_train"], noisy["image_train"])
    assert not np.allclose(clean["audio_bank"], noisy["audio_bank"])
    assert np.array_equal(clean["audio_index_train"], noisy["audio_index_train"])
    assert all(np.array_equal(noisy[k], again[k]) for k in noisy)


# --- errors and atomic output ------------------------------------------------------------------


def test_truncated_recording_stops_the_build_naming_it(tmp_path, mnist):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for rec in two_per_digit():
        (folder / rec.name).symlink_to(RECORDINGS / rec.name)
    (folder / "4_theo_5.wav").unlink()
    (folder / "4_theo_5.wav").write_bytes((RECORDINGS / "4_theo_5.wav").read_bytes()[:2000])
    with pytest.raises(DataError, match="4_theo_5.wav: truncated"):
        avmnist.build(mnist, two_per_digit(), folder, {"n_train": 100, "n_val": 0, "n_test": 10}, 0)


def test_sizes_beyond_mnist_and_missing_pools_are_data_errors(mnist):
    with pytest.raises(DataError, match="n_test = 101 .* 100 test images"):
        avmnist.build(mnist, two_per_digit(), RECORDINGS, {"n_test": 101}, 0)
    train_only = [r for r in two_per_digit() if r.index >= 5]
    with pytest.raises(DataError, match="no FSDD recording of digit . for the test split"):
        avmnist.build(mnist, train_only, RECORDINGS, {"n_train": 20, "n_val": 10, "n_test": 20}, 0)
    with pytest.raises(ValueError, match="unknown avmnist settings"):
        avmnist.build(mnist, two_per_digit(), RECORDINGS, {"n_trian": 20}, 0)


def test_failed_preparation_leaves_no_output(tmp_path, monkeypatch):
    out = tmp_path / "out" / "avmnist.npz"

    def crash(file, **arrays):
        file.write(b"half an npz")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    tiny = {"n_train": 20, "n_val": 0, "n_test": 10}
    with pytest.raises(OSError, match="disk full"):
        prepare("avmnist", FIXTURE_RAW, out, tiny, 0, FIXTURE_MANIFESTS)
    assert os.listdir(out.parent) == []

    with pytest.raises(DataError, match="raw data for avmnist: .*mnist.npz is missing"):
        prepare("avmnist", tmp_path / "empty", out, SMALL, 0, FIXTURE_MANIFESTS)
    assert os.listdir(out.parent) == []


# --- loader ------------------------------------------------------------------------------------


def test_load_prepared_gives_tensors_and_a_small_audio_view(prepared):
    data = load_prepared(prepared)
    assert data.n_classes == 10 and data.meta["dataset"] == "avmnist"
    assert data.sample_shapes == {"image": (1, 28, 28), "audio": (1, 112, 112)}
    audio = data.modalities["audio"]["train"]
    assert isinstance(audio, IndexedTensor) and len(audio) == 120
    assert audio.shape == (120, 1, 112, 112)
    rows = torch.tensor([5, 0, 119])
    expected = audio.table[audio.index[rows]]
    assert torch.equal(audio[rows], expected) and audio[rows].shape == (3, 1, 112, 112)
    assert torch.equal(audio.to("cpu")[rows], expected)
    shared = data.modalities["audio"]["test"].table.data_ptr() == audio.table.data_ptr()
    assert shared  # one bank for the three splits
    assert data.modalities["image"]["val"].shape == (40, 1, 28, 28)
    assert data.labels["test"].dtype == torch.int64 and len(data.labels["test"]) == 60


def test_indexed_tensor_rejects_bad_indices():
    table = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="out of range"):
        IndexedTensor(table, torch.tensor([0, 4]))
    with pytest.raises(ValueError, match="1-d int64"):
        IndexedTensor(table, torch.tensor([0.0]))
