"""Synthetic Gaussian data with a controllable modality Venn diagram (PROTOCOL §2–3).

A latent vector `xs ~ N(0, I)` decides the label `y = 1[xs . h > 0]`. Modality `a` sees some of
its dimensions, modality `b` others; the rest of each modality's channels are N(0, 1) noise.
Counting the decisive dimensions each modality sees gives the Venn diagram:

    D0 = seen by both,  Da = seen by a only,  Db = seen by b only
    gamma = D0 / (D0 + Da + Db),  alpha = Da / (Da + D0),  beta = Db / (Db + D0)

Three generators:
- `vary_gamma` (Exp 1, paper Fig. 2) and `vary_alpha` (Exp 2, paper Fig. 3): the reference
  experiments, exactly as PROTOCOL §3 specifies. They keep a *paired design*: within one run,
  `xs`, `h`, `x_b`, `y` and the noise are drawn once and shared by every setting of the grid;
  only the channels of `x_a` that carry latent dimensions change with the setting. `GENERATORS`
  describes each as a `ReferenceExperiment` (sizes, and per grid value its Venn diagram and the
  window of x_a's channels that hold latent dimensions); one drawer serves both.
- `venn_sample`: the general family, parameterised by (D0, Da, Db), noise channels per modality
  and the hyperplane kind (`normal` or `ones`).

`build_study` stacks every setting and run of a study into one `StudyData` for the ensemble
trainer.
"""

from __future__ import annotations

from dataclasses import dataclass
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

    S settings, R runs. `x_b` and `y` do not depend on the setting (paired design).
    """

    xa_train: np.ndarray  # (S, R, n_train, width_a) float32
    xa_test: np.ndarray  # (S, R, n_test, width_a) float32
    xb_train: np.ndarray  # (R, n_train, width_b) float32
    xb_test: np.ndarray  # (R, n_test, width_b) float32
    y_train: np.ndarray  # (R, n_train) int64
    y_test: np.ndarray  # (R, n_test) int64
    grid: np.ndarray  # (S,) the swept value of each setting
    venn: tuple[Venn, ...]  # (S,) the Venn diagram of each setting

    def save(self, path) -> None:
        """Write to an .npz file (uncompressed, so the bytes are deterministic)."""
        counts = np.array([[v.d0, v.da, v.db] for v in self.venn], dtype=np.int64)
        np.savez(
            path,
            xa_train=self.xa_train,
            xa_test=self.xa_test,
            xb_train=self.xb_train,
            xb_test=self.xb_test,
            y_train=self.y_train,
            y_test=self.y_test,
            grid=self.grid,
            venn=counts,
        )

    @classmethod
    def load(cls, path) -> "StudyData":
        with np.load(path) as f:
            arrays = {k: f[k] for k in f.files}
        venn = tuple(Venn(*map(int, row)) for row in arrays.pop("venn"))
        return cls(**arrays, venn=venn)


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


def a_channel_roles(generator: str, value: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The truth about x_a's channels in a reference setting: (shared, decisive), bool (width,).

    decisive: the channel carries a latent dimension the label depends on; shared: x_b sees it too.
    """
    lo, hi = reference_experiment(generator).a_window(value)
    channels = np.arange(width)
    decisive = (channels >= lo) & (channels < hi)
    return decisive & (channels < B_DECISIVE), decisive


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
    return StudyData(
        xa_train=np.ascontiguousarray(x_a[:, :, :n_train]),
        xa_test=np.ascontiguousarray(x_a[:, :, n_train:]),
        xb_train=np.ascontiguousarray(x_b[:, :n_train]),
        xb_test=np.ascontiguousarray(x_b[:, n_train:]),
        y_train=np.ascontiguousarray(y[:, :n_train]),
        y_test=np.ascontiguousarray(y[:, n_train:]),
        grid=np.asarray(grid, dtype=np.int64),
        venn=venn,
    )


# --- the general family ------------------------------------------------------------------------


def venn_sample(
    rng: np.random.Generator,
    n: int,
    venn: Venn,
    noise_a: int,
    noise_b: int,
    hyperplane: str = "normal",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw `n` samples with the given Venn diagram.

    Latent xs = [shared (d0) | a-only (da) | b-only (db)], y = 1[xs . h > 0] with h ~ N(0, I)
    (`normal`) or h = 1 (`ones`). Channel layout:
      x_a = [shared (d0) | a-only (da) | noise (noise_a)]   -> (n, d0 + da + noise_a)
      x_b = [shared (d0) | b-only (db) | noise (noise_b)]   -> (n, d0 + db + noise_b)
    Returns (x_a, x_b, y) as float64, float64, int64.
    """
    if min(venn.d0, venn.da, venn.db, noise_a, noise_b) < 0:
        raise ValueError(f"counts must be >= 0, got {venn}, noise_a={noise_a}, noise_b={noise_b}")
    latent = venn.d0 + venn.da + venn.db
    if latent == 0:
        raise ValueError("the Venn diagram has no decisive dimension (d0 + da + db = 0)")
    if hyperplane == "normal":
        h = rng.standard_normal(latent)
    elif hyperplane == "ones":
        h = np.ones(latent)
    else:
        raise ValueError(f"unknown hyperplane kind {hyperplane!r}; allowed: normal, ones")
    xs = rng.standard_normal((n, latent))
    y = (xs @ h > 0).astype(np.int64)
    shared, a_only, b_only = np.split(xs, [venn.d0, venn.d0 + venn.da], axis=1)
    x_a = np.concatenate([shared, a_only, rng.standard_normal((n, noise_a))], axis=1)
    x_b = np.concatenate([shared, b_only, rng.standard_normal((n, noise_b))], axis=1)
    return x_a, x_b, y
