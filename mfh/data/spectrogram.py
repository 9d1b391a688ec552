"""Log-power spectrograms of fixed size (112 x 112 by default) from 8 kHz speech recordings.

Settings (`STFT`, defaults):
- window: periodic Hann of n_fft = 222 samples (27.75 ms), hop 64 samples (8 ms), no padding at
  the ends of the fixed-length window (every frame lies inside it);
- length: each recording is first fitted to `n_fft + (frames - 1) * hop` = 7326 samples (0.92 s)
  by centring it: shorter ones get zeros on both sides (one more on the right when odd), longer
  ones keep their central 7326 samples (about 1% of FSDD recordings are longer);
- frequency bins: the n_fft / 2 + 1 = 112 non-negative frequencies of a 222-point real FFT,
  0 to 4 kHz; frames: 112;
- value: ln(|X|^2 + floor), X the STFT of the waveform scaled to [-1, 1) (int16 / 32768),
  floor 1e-6 (so exact silence maps to ln 1e-6 = -13.8).
Output shape (bins, frames) = (112, 112), frequency on the first axis.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class STFT:
    n_fft: int = 222
    hop: int = 64
    frames: int = 112
    floor: float = 1e-6

    def __post_init__(self):
        if self.n_fft < 2 or self.hop < 1 or self.frames < 1 or not self.floor > 0:
            raise ValueError(f"invalid spectrogram settings {asdict(self)}")

    @property
    def length(self) -> int:
        """Samples of the fixed-length window that gives exactly `frames` frames."""
        return self.n_fft + (self.frames - 1) * self.hop

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def shape(self) -> tuple[int, int]:
        return self.bins, self.frames


def to_float(samples: np.ndarray) -> np.ndarray:
    """int16 samples (n,) -> float64 waveform in [-1, 1)."""
    return samples.astype(np.float64) / 32768.0


def fit_length(wave: np.ndarray, length: int) -> np.ndarray:
    """Centre `wave` (n,) in a window of `length` samples: zero-pad or keep the central part."""
    n = len(wave)
    if n >= length:
        start = (n - length) // 2
        return wave[start : start + length]
    left = (length - n) // 2
    return np.pad(wave, (left, length - n - left))


def log_spectrogram(wave: np.ndarray, stft: STFT) -> np.ndarray:
    """(stft.length,) float waveform -> (bins, frames) float32 log-power spectrogram."""
    if wave.shape != (stft.length,):
        raise ValueError(f"waveform of shape {wave.shape}, expected ({stft.length},)")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(stft.n_fft) / stft.n_fft)  # periodic Hann
    starts = np.arange(stft.frames) * stft.hop
    frames = wave[starts[:, None] + np.arange(stft.n_fft)] * window  # (frames, n_fft)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (frames, bins)
    return np.log(power + stft.floor).T.astype(np.float32)
