"""Synthetic Gaussian data with a controllable modality Venn diagram (PROTOCOL §2–3).

A latent vector `xs ~ N(0, I)` decides the label. Modality `a` sees some of its dimensions,
modality `b` others; the rest of each modality's channels are N(0, 1) noise. Counting the
decisive dimensions each modality sees gives the Venn diagram:

    D0 = seen by both,  Da = seen by a only,  Db = seen by b only
    gamma = D0 / (D0 + Da + Db),  alpha = Da / (Da + D0),  beta = Db / (Db + D0)

This file holds what every synthetic study shares (`Venn`, `StudyData`, the truth about each
channel) and the two reference generators:
- `vary_gamma` (Exp 1, paper Fig. 2) and `vary_alpha` (Exp 2, paper Fig. 3), exactly as
  PROTOCOL §3 specifies, with y = 1[xs . h > 0]. They keep a *paired design*: within one run,
  `xs`, `h`, `x_b`, `y` and the noise are drawn once and shared by every setting of the grid;
  only the channels of `x_a` that carry latent dimensions change with the setting. `GENERATORS`
  describes each as a `ReferenceExperiment` (sizes, and per grid value its Venn diagram and the
  window of x_a's channels that hold latent dimensions); one drawer serves both.
The general family, any (D0, Da, Db) and C classes (generator `venn`), is in
`mfh.data.venn_generator`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable

import numpy as np

from mfh.seeding import numpy_rng


@dataclass(frozen=True)
class Venn:
    """Counts of decisive latent dimensions: both modalities (d0), a only (da), b only (db)."""

    d0: int
    da: int
    db: int

    @property
    def gamma(self) -> float:
        total = self.d0 + self.da + self.db
        return self.d0 / total if total else 0.0

    @property
    def alpha(self) -> float:
        return self.da / (self.da + self.d0) if self.da + self.d0 else 0.0

    @property
    def beta(self) -> float:
        return self.db / (self.db + self.d0) if self.db + self.d0 else 0.0


@dataclass(frozen=True)
class StudyData:
    """All data of one synthetic study, stacked for the ensemble trainer (`mfh.train.fullbatch`).

    S settings, R runs. `x_b` and `y` lack the settings axis when they do not depend on the
    setting (the paired design of the reference generators); with generator `venn` they have it.
    The truth about each channel (for figures and scores; estimators must not read it):
    decisive = it carries a latent dimension the label depends on; shared = the other modality
    sees that dimension too.
    """

    xa_train: np.ndarray  # (S, R, n_train, width_a) float32
    xa_test: np.ndarray  # (S, R, n_test, width_a) float32
    xb_train: np.ndarray  # (R, n_train, width_b) or (S, R, n_train, width_b) float32
    xb_test: np.ndarray  # (R, n_test, width_b) or (S, R, n_test, width_b) float32
    y_train: np.ndarray  # (R, n_train) or (S, R, n_train) int64, in 0 .. classes-1
    y_test: np.ndarray  # (R, n_test) or (S, R, n_test) int64
    grid: np.ndarray  # (S,) the swept value of each setting (its index for generator venn)
    venn: tuple[Venn, ...]  # (S,) the Venn diagram of each setting
    a_shared: np.ndarray  # (S, width_a) bool
    a_decisive: np.ndarray  # (S, width_a) bool
    b_shared: np.ndarray  # (S, width_b) bool
    b_decisive: np.ndarray  # (S, width_b) bool
    classes: int = 2

    @property
    def b_per_setting(self) -> bool:
        """Whether x_b and y change with the setting (then so does the no-KD student)."""
        return self.xb_train.ndim == 4

    def save(self, path) -> None:
        """Write to an .npz file (uncompressed, so the bytes are deterministic)."""
        counts = np.array([[v.d0, v.da, v.db] for v in self.venn], dtype=np.int64)
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        np.savez(path, **arrays | {"venn": counts, "classes": np.int64(self.classes)})

    @classmethod
    def load(cls, path) -> "StudyData":
        with np.load(path) as f:
            arrays = {k: f[k] for k in f.files}
        venn = tuple(Venn(*map(int, row)) for row in arrays.pop("venn"))
        return cls(**arrays | {"venn": venn, "classes": int(arrays["classes"])})


def channel_roles(
    first_shared: int, shared: int, decisive: int, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """(shared, decisive), bool (width,): channels first_shared .. first_shared+shared-1 are
    shared, channels 0 .. decisive-1 decisive (the layouts of every generator)."""
    channels = np.arange(width)
    is_shared = (channels >= first_shared) & (channels < first_shared + shared)
    return is_shared, channels < decisive


# --- the reference generators (PROTOCOL §3) ----------------------------------------------------

VARY_GAMMA_LATENT = 20  # xs ~ N(0, I_20)
VARY_ALPHA_LATENT = 50  # xs ~ N(0, I_50)
B_DECISIVE = 10  # x_b holds xs[:, 0:10] in both reference experiments
WIDTH_B = 50


def vary_gamma_venn(overlap: int) -> Venn:
    """Exp 1: x_b sees dims 0-9, x_a dims 10-o .. 19-o, so they share o dims."""
    if not 0 <= overlap <= B_DECISIVE:
        raise ValueError(f"vary_gamma: overlap {overlap} outside 0..{B_DECISIVE}")
    return Venn(d0=overlap, da=B_DECISIVE - overlap, db=B_DECISIVE - overlap)


def vary_alpha_venn(extra: int) -> Venn:
    """Exp 2: x_b sees dims 0-9, x_a dims 0 .. 9+k."""
    if not 0 <= extra <= VARY_ALPHA_LATENT - B_DECISIVE:
        raise ValueError(f"vary_alpha: k = {extra} outside 0..{VARY_ALPHA_LATENT - B_DECISIVE}")
    return Venn(d0=B_DECISIVE, da=extra, db=0)


@dataclass(frozen=True)
class ReferenceExperiment:
    """A reference experiment: its latent size, x_a's width and, for each value of its grid, the
    Venn diagram and the window [lo, hi) of x_a's channels that hold the latent dims lo .. hi-1
    (x_a's other channels are noise; x_b always holds the latent dims 0 .. B_DECISIVE-1)."""

    latent: int  # xs ~ N(0, I_latent)
    width_a: int  # channels of x_a
    venn: Callable[[int], Venn]  # grid value -> Venn diagram (ValueError outside the grid's range)
    a_window: Callable[[int], tuple[int, int]]  # grid value -> (lo, hi)


GENERATORS = {
    "vary_gamma": ReferenceExperiment(  # overlap o: channels 10-o .. 19-o
        VARY_GAMMA_LATENT, 25, vary_gamma_venn, lambda o: (B_DECISIVE - o, 2 * B_DECISIVE - o)
    ),
    "vary_alpha": ReferenceExperiment(  # k: channels 0 .. 9+k
        VARY_ALPHA_LATENT, 50, vary_alpha_venn, lambda k: (0, B_DECISIVE + k)
    ),
}


def reference_experiment(generator: str) -> ReferenceExperiment:
    """The reference experiment `generator` names; ValueError if there is none."""
    if generator not in GENERATORS:
        raise ValueError(f"unknown generator {generator!r}; known: {', '.join(GENERATORS)}")
    return GENERATORS[generator]


def reference_roles(generator: str, value: int, width_a: int) -> dict[str, np.ndarray]:
    """The truth about both modalities' channels in a reference setting: a_shared, a_decisive
    (width_a,), b_shared, b_decisive (WIDTH_B,), bool. x_b holds latent dims 0 .. B_DECISIVE-1 in
    its first channels; x_a holds dims lo .. hi-1 in channels lo .. hi-1."""
    lo, hi = reference_experiment(generator).a_window(value)
    a_decisive = (np.arange(width_a) >= lo) & (np.arange(width_a) < hi)
    shared_lo, shared_hi = lo, min(hi, B_DECISIVE)  # the latent dims both see
    b_shared, b_decisive = channel_roles(
        shared_lo, max(0, shared_hi - shared_lo), B_DECISIVE, WIDTH_B
    )
    return {
        "a_shared": a_decisive & (np.arange(width_a) < B_DECISIVE),
        "a_decisive": a_decisive,
        "b_shared": b_shared,
        "b_decisive": b_decisive,
    }


def _reference_run(rng: np.random.Generator, n: int, experiment: ReferenceExperiment, grid):
    """One run of a reference experiment for every value in `grid`: returns x_a (S, n, width_a),
    x_b (n, 50), y (n,). Drawn in this order: xs, h, x_b, x_a's noise."""
    xs = rng.standard_normal((n, experiment.latent))
    h = rng.standard_normal(experiment.latent)
    y = (xs @ h > 0).astype(np.int64)
    x_b = rng.standard_normal((n, WIDTH_B))
    x_b[:, :B_DECISIVE] = xs[:, :B_DECISIVE]
    noise_a = rng.standard_normal((n, experiment.width_a))
    x_a = np.repeat(noise_a[None], len(grid), axis=0)
    for s, value in enumerate(grid):
        lo, hi = experiment.a_window(value)  # channels and latent dims lo .. hi-1
        x_a[s, :, lo:hi] = xs[:, lo:hi]
    return x_a, x_b, y


def build_study(
    study: str, generator: str, grid: list[int], runs: int, n_train: int, n_test: int, seed: int
) -> StudyData:
    """Draw every run of a reference study; run r uses the stream (seed, study, "data", r)."""
    experiment = reference_experiment(generator)
    venn = tuple(experiment.venn(v) for v in grid)  # validates the grid before drawing anything
    n = n_train + n_test
    per_run = [
        _reference_run(numpy_rng(seed, study, "data", r), n, experiment, list(grid))
        for r in range(runs)
    ]
    x_a = np.stack([p[0] for p in per_run], axis=1).astype(np.float32)  # (S, R, n, width_a)
    x_b = np.stack([p[1] for p in per_run]).astype(np.float32)  # (R, n, width_b)
    y = np.stack([p[2] for p in per_run])  # (R, n)
    roles = [reference_roles(generator, v, experiment.width_a) for v in grid]
    return StudyData(
        xa_train=np.ascontiguousarray(x_a[:, :, :n_train]),
        xa_test=np.ascontiguousarray(x_a[:, :, n_train:]),
        xb_train=np.ascontiguousarray(x_b[:, :n_train]),
        xb_test=np.ascontiguousarray(x_b[:, n_train:]),
        y_train=np.ascontiguousarray(y[:, :n_train]),
        y_test=np.ascontiguousarray(y[:, n_train:]),
        grid=np.asarray(grid, dtype=np.int64),
        venn=venn,
        **{key: np.stack([r[key] for r in roles]) for key in roles[0]},
    )
