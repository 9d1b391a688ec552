"""AV-MNIST: MNIST images paired with Free Spoken Digit Dataset (FSDD) recordings of the same digit.

Settings (`cfg`, the params section; missing keys take DEFAULTS):
    n_train, n_val, n_test       pairs per split (paper scale 55000 / 5000 / 10000)
    image_pca_energy_removed     share of the images' PCA energy removed (0 = clean images)
    audio_noise_std              Gaussian noise on each waveform, std relative to its RMS (0 = none)
    spectrogram                  overrides of mfh.data.spectrogram.STFT (n_fft, hop, frames, floor)

Every random draw comes from mfh.seeding.numpy_rng(seed, "avmnist", role, ...):
1. images ("images"): n_train + n_val distinct images of MNIST's training set, drawn without
   replacement (the first n_train are train, the rest val); ("images_test"): n_test distinct
   images of MNIST's test set. Pixels are uint8 / 255 in [0, 1], shape (1, 28, 28).
2. PCA corruption (no randomness): PCA is fitted on the train images (784-d, centred on their
   mean); the k leading components that together carry at least the requested share of the
   variance are projected out of every image of every split: x - (x - mean) V_k V_k^T. Values are
   not clipped. meta["pca"] records k and the share actually removed.
3. pairing ("pairing", split number 0/1/2): FSDD's official split is kept: train and val images
   are paired with recordings of index 5-49, test images with index 0-4. For each digit 0..9 in
   turn, each image of that digit (in split order) gets a recording drawn uniformly, with
   replacement, from the pool's recordings of the same digit (sorted by digit, speaker, index).
4. audio: each paired recording becomes one log spectrogram (mfh.data.spectrogram), stored once
   in `audio_bank`; `audio_index_{split}` points each pair at its row. With audio_noise_std > 0
   ("audio_noise", digit, crc32(speaker), index) the noise is drawn once per recording, over the
   whole fitted window, with std = audio_noise_std * RMS of the recording, before the STFT.
5. standardisation: the bank is shifted and scaled by one mean and std, computed over every value
   of the recordings that train pairs use (each recording once); meta["audio_standardise"].

Output keys (mfh.data.real): image_{split} float32 (N, 1, 28, 28), audio_bank float32
(U, 1, 112, 112), audio_index_{split} int64 (N,), y_{split} int64 (N,), meta.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from mfh.data import raw
from mfh.data.real import SPLITS, prepared_meta
from mfh.data.spectrogram import STFT, fit_length, log_spectrogram, to_float
from mfh.data.wav import read_wav
from mfh.errors import DataError
from mfh.seeding import numpy_rng

log = logging.getLogger(__name__)

STUDY = "avmnist"
DEFAULTS = {
    "n_train": 2000,
    "n_val": 500,
    "n_test": 1000,
    "image_pca_energy_removed": 0.0,
    "audio_noise_std": 0.0,
    "spectrogram": {},
}
RECORDINGS_DIR = "fsdd/recordings"
FIRST_TRAIN_INDEX = 5  # FSDD's official split: recordings 0-4 of each digit and speaker are test
PROGRESS_EVERY = 500
_NAME = re.compile(r"(\d)_([a-z]+)_(\d+)\.wav")


@dataclass(frozen=True)
class Recording:
    name: str  # file name, e.g. "3_theo_17.wav"
    digit: int
    speaker: str
    index: int


def parse_recording(name: str) -> Recording:
    match = _NAME.fullmatch(name)
    if not match:
        raise DataError(f"{name}: not an FSDD recording name ({{digit}}_{{speaker}}_{{index}}.wav)")
    return Recording(name, int(match[1]), match[2], int(match[3]))


def sort_recordings(names) -> list[Recording]:
    """The recordings with these file names, sorted by (digit, speaker, index)."""
    recordings = [parse_recording(name) for name in names]
    return sorted(recordings, key=lambda r: (r.digit, r.speaker, r.index))


def resolve(cfg: dict) -> tuple[dict, STFT]:
    """cfg merged over DEFAULTS and checked; the spectrogram settings as an STFT."""
    unknown = set(cfg) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown avmnist settings {sorted(unknown)}; known: {list(DEFAULTS)}")
    settings = {**DEFAULTS, **cfg}
    try:
        stft = STFT(**settings["spectrogram"])
    except TypeError as e:
        raise ValueError(f"avmnist spectrogram settings: {e}") from e
    if settings["n_train"] < 1 or settings["n_val"] < 0 or settings["n_test"] < 1:
        raise ValueError("avmnist needs n_train >= 1, n_val >= 0, n_test >= 1")
    if not 0 <= settings["image_pca_energy_removed"] < 1 or settings["audio_noise_std"] < 0:
        raise ValueError("avmnist needs 0 <= image_pca_energy_removed < 1, audio_noise_std >= 0")
    settings["spectrogram"] = asdict(stft)
    return settings, stft


def draw_images(mnist: dict[str, np.ndarray], settings: dict, seed: int) -> dict[str, np.ndarray]:
    """Indices of the images of each split: train/val into x_train, test into x_test."""
    n_train, n_val, n_test = settings["n_train"], settings["n_val"], settings["n_test"]
    available_train, available_test = len(mnist["x_train"]), len(mnist["x_test"])
    if n_train + n_val > available_train or n_test > available_test:
        raise DataError(
            f"avmnist asks for n_train + n_val = {n_train + n_val} and n_test = {n_test} "
            f"images; MNIST holds {available_train} training and {available_test} test images"
        )
    rng = numpy_rng(seed, STUDY, "images")
    train_val = rng.choice(available_train, n_train + n_val, replace=False)
    test = numpy_rng(seed, STUDY, "images_test").choice(available_test, n_test, replace=False)
    return {"train": train_val[:n_train], "val": train_val[n_train:], "test": test}


def remove_pca_energy(
    images: dict[str, np.ndarray], share: float
) -> tuple[dict[str, np.ndarray], dict]:
    """Project the leading PCA components of the train images (carrying >= `share` of the
    variance) out of every split. images: split -> (N, 784) float64."""
    train = images["train"]
    mean = train.mean(axis=0)  # (784,)
    centred = train - mean
    variances, vectors = np.linalg.eigh(centred.T @ centred / len(train))  # ascending
    variances, vectors = variances[::-1], vectors[:, ::-1]
    cumulative = np.cumsum(variances) / variances.sum()  # (784,)
    k = int(np.searchsorted(cumulative, share)) + 1
    top = vectors[:, :k]  # (784, k)
    cleaned = {split: x - (x - mean) @ top @ top.T for split, x in images.items()}
    return cleaned, {"components_removed": k, "energy_removed": float(cumulative[k - 1])}


def pair_recordings(
    labels: dict[str, np.ndarray], recordings: list[Recording], seed: int
) -> dict[str, np.ndarray]:
    """For each split, the position in `recordings` of the recording paired with each image."""
    digits = np.array([r.digit for r in recordings])
    is_test = np.array([r.index < FIRST_TRAIN_INDEX for r in recordings])
    paired = {}
    for number, split in enumerate(SPLITS):
        rng = numpy_rng(seed, STUDY, "pairing", number)
        y = labels[split]
        ids = np.empty(len(y), dtype=np.int64)
        for digit in range(10):
            members = np.flatnonzero(y == digit)
            pool = np.flatnonzero((digits == digit) & (is_test == (split == "test")))
            if len(members) and not len(pool):
                raise DataError(f"no FSDD recording of digit {digit} for the {split} split")
            ids[members] = pool[rng.integers(0, len(pool), size=len(members))]
        paired[split] = ids
    return paired


def audio_bank(
    recordings: list[Recording], folder: Path, settings: dict, stft: STFT, seed: int
) -> np.ndarray:
    """(U, 1, bins, frames) float32 log spectrograms of `recordings`, in order."""
    bank = np.empty((len(recordings), 1, *stft.shape), dtype=np.float32)
    noise_std = settings["audio_noise_std"]
    for row, rec in enumerate(recordings):
        wave = to_float(read_wav(Path(folder) / rec.name))  # (n,)
        fitted = fit_length(wave, stft.length)  # (stft.length,)
        if noise_std > 0:
            rng = numpy_rng(
                seed, STUDY, "audio_noise", rec.digit, zlib.crc32(rec.speaker.encode()), rec.index
            )
            rms = np.sqrt(np.mean(wave**2))
            fitted = fitted + noise_std * rms * rng.standard_normal(stft.length)
        bank[row, 0] = log_spectrogram(fitted, stft)
        if (row + 1) % PROGRESS_EVERY == 0 or row + 1 == len(recordings):
            log.info("spectrograms %d/%d", row + 1, len(recordings))
    return bank


def standardise(bank: np.ndarray, rows: np.ndarray) -> dict:
    """Shift and scale `bank` in place by the mean and std of its rows `rows` (float64 sums)."""
    total = sum(float(bank[r].sum(dtype=np.float64)) for r in rows)
    squares = sum(float(np.square(bank[r], dtype=np.float64).sum()) for r in rows)
    count = len(rows) * bank[0].size
    mean = total / count
    std = float(np.sqrt(max(squares / count - mean**2, 0.0))) or 1.0
    bank -= np.float32(mean)
    bank /= np.float32(std)
    return {"mean": mean, "std": std}


def build(
    mnist: dict[str, np.ndarray],
    recordings: list[Recording],
    recordings_dir: Path,
    cfg: dict,
    seed: int,
) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and meta of AV-MNIST from checked MNIST arrays and the given recordings."""
    settings, stft = resolve(cfg)
    chosen = draw_images(mnist, settings, seed)
    part = {"train": "train", "val": "train", "test": "test"}  # the MNIST set each split draws on
    labels = {s: mnist[f"y_{part[s]}"][i].astype(np.int64) for s, i in chosen.items()}  # (N,)
    images = {s: mnist[f"x_{part[s]}"][i].reshape(len(i), 784) / 255.0 for s, i in chosen.items()}
    pca = {"components_removed": 0, "energy_removed": 0.0}
    if settings["image_pca_energy_removed"] > 0:
        images, pca = remove_pca_energy(images, settings["image_pca_energy_removed"])

    paired = pair_recordings(labels, recordings, seed)  # split -> (N,) positions in recordings
    used = np.unique(np.concatenate(list(paired.values())))  # (U,) sorted positions
    bank_recordings = [recordings[i] for i in used]
    log.info("avmnist: %d unique recordings in the audio bank", len(used))
    bank = audio_bank(bank_recordings, recordings_dir, settings, stft, seed)
    index = {s: np.searchsorted(used, ids).astype(np.int64) for s, ids in paired.items()}
    stats = standardise(bank, np.unique(index["train"]))

    arrays = {"audio_bank": bank}
    for s in SPLITS:
        arrays[f"image_{s}"] = images[s].reshape(-1, 1, 28, 28).astype(np.float32)
        arrays[f"audio_index_{s}"] = index[s]
        arrays[f"y_{s}"] = labels[s]
    meta = {
        **prepared_meta(STUDY, ["image", "audio"], 10, seed, settings),
        "pca": pca,
        "audio_standardise": stats,
        "audio_bank_recordings": [r.name for r in bank_recordings],
    }
    return arrays, meta


def from_raw(raw_dir: Path, cfg: dict, seed: int, manifests) -> tuple[dict[str, np.ndarray], dict]:
    """The arrays and meta of AV-MNIST from the (verified) raw MNIST and FSDD files under
    `raw_dir`: the recordings are those the manifests folder `manifests` pins (None: the packaged
    pins). `mfh.data.prepare` verifies, builds and writes."""
    mnist = raw.read_mnist(raw_dir / raw.MNIST_FILE, manifests)
    pinned = raw.file_pins("fsdd", manifests)
    recordings = sort_recordings(PurePosixPath(rel).name for rel in pinned)
    return build(mnist, recordings, raw_dir / RECORDINGS_DIR, cfg, seed)
