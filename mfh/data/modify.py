"""Data of the "modify gamma" study (PROTOCOL §3 Exp 3, paper Table 2).

Latent xs has xs1 + xs2 decisive dimensions and y = 1[sum(xs) > 0] (hyperplane h = 1).
x_a (50-d) holds all of them in channels 0 .. xs1+xs2-1; x_b (50-d) holds the first xs2 — the
shared, modality-general ones — in channels 0 .. xs2-1; every other channel is N(0, 1) noise.
So D0 = xs2, Da = xs1, Db = 0: gamma = xs2 / (xs1 + xs2), alpha = 1 - gamma, beta = 0.

Per run three independent samples of the same generator:
    A     (n_train) trains the regular teacher and Algorithm 1 (joint nets, salience)
    B     (n_train) trains the students and the modified (channel-restricted) teachers
    test  (n_test)  evaluates every model
Within a run, the settings share their draws (the latent, the noise): only how many latent
dimensions are decisive and shared changes, as far as a paired design is possible here (y and
x_b necessarily change with the setting).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfh.data.synthetic import Venn
from mfh.seeding import numpy_rng

WIDTH = 50  # channels of x_a and of x_b
SAMPLES = ("a", "b", "test")


def setting_venn(xs1: int, xs2: int) -> Venn:
    """The Venn diagram of a gauss_modify setting: xs1 decisive dims only x_a sees, xs2 both see."""
    if xs1 < 0 or xs2 < 1 or xs1 + xs2 > WIDTH:
        raise ValueError(
            f"(xs1, xs2) = ({xs1}, {xs2}): need xs1 >= 0, xs2 >= 1, xs1 + xs2 <= {WIDTH}"
        )
    return Venn(d0=xs2, da=xs1, db=0)


def _draw(rng: np.random.Generator, n: int, grid: list[tuple[int, int]]):
    """One sample for every setting: x_a, x_b (S, n, 50) float64 and y (S, n) int64."""
    xs = rng.standard_normal((n, WIDTH))
    noise_a = rng.standard_normal((n, WIDTH))
    noise_b = rng.standard_normal((n, WIDTH))
    x_a = np.repeat(noise_a[None], len(grid), axis=0)
    x_b = np.repeat(noise_b[None], len(grid), axis=0)
    y = np.empty((len(grid), n), dtype=np.int64)
    for s, (xs1, xs2) in enumerate(grid):
        decisive = xs1 + xs2
        x_a[s, :, :decisive] = xs[:, :decisive]
        x_b[s, :, :xs2] = xs[:, :xs2]
        y[s] = xs[:, :decisive].sum(axis=1) > 0
    return x_a, x_b, y


@dataclass(frozen=True)
class ModifyData:
    """All samples of the study. S settings, R runs; arrays keyed "<x_a|x_b|y>_<a|b|test>"."""

    arrays: dict[str, np.ndarray]  # x_*: (S, R, n, 50) float32, y_*: (S, R, n) int64
    grid: np.ndarray  # (S, 2) int64: (xs1, xs2) per setting

    @property
    def venn(self) -> tuple[Venn, ...]:
        return tuple(setting_venn(int(a), int(b)) for a, b in self.grid)

    def save(self, f) -> None:
        np.savez(f, grid=self.grid, **self.arrays)

    @classmethod
    def load(cls, path) -> "ModifyData":
        with np.load(path) as f:
            arrays = {k: f[k] for k in f.files}
        return cls(arrays=arrays, grid=arrays.pop("grid"))


def build_modify(study: str, grid, runs: int, n_train: int, n_test: int, seed: int) -> ModifyData:
    """Draw samples A, B and test of every run; run r, sample s uses stream (seed, study, s, r)."""
    grid = [tuple(map(int, g)) for g in grid]
    for xs1, xs2 in grid:
        setting_venn(xs1, xs2)  # validates before drawing
    arrays: dict[str, np.ndarray] = {}
    for sample in SAMPLES:
        n = n_test if sample == "test" else n_train
        draws = [_draw(numpy_rng(seed, study, f"data_{sample}", r), n, grid) for r in range(runs)]
        arrays[f"x_a_{sample}"] = np.stack([d[0] for d in draws], axis=1).astype(np.float32)
        arrays[f"x_b_{sample}"] = np.stack([d[1] for d in draws], axis=1).astype(np.float32)
        arrays[f"y_{sample}"] = np.stack([d[2] for d in draws], axis=1)
    return ModifyData(arrays=arrays, grid=np.asarray(grid, dtype=np.int64).reshape(-1, 2))
