"""A minimal reader for the FSDD recordings (RIFF WAV, PCM int16, mono, 8 kHz) that turns every
kind of damage (bad header, wrong format, fewer frames than the header declares) into a DataError
naming the file."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from mfh.errors import DataError

SAMPLE_RATE = 8000  # Hz, every FSDD recording


def read_wav(path: Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The samples of a mono int16 PCM WAV file at `rate` Hz, as an (n,) int16 array."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, found_rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            declared = w.getnframes()
            data = w.readframes(declared)
    except (wave.Error, EOFError, OSError) as e:
        raise DataError(f"{path}: not a readable WAV file ({e})") from e
    if (channels, width, found_rate) != (1, 2, rate):
        raise DataError(
            f"{path}: {channels} channel(s), {8 * width}-bit, {found_rate} Hz; "
            f"expected mono 16-bit PCM at {rate} Hz"
        )
    if declared == 0:
        raise DataError(f"{path}: holds no samples")
    if len(data) != 2 * declared:
        raise DataError(
            f"{path}: truncated: the header declares {declared} frames, the file holds "
            f"{len(data) // 2}"
        )
    return np.frombuffer(data, dtype="<i2")
