"""The general family of synthetic data (params `data.generator: venn`): any Venn diagram
(D0, Da, Db), any number of noise channels per modality, C >= 2 classes (PROTOCOL §2).

Latent xs = [shared (d0) | a-only (da) | b-only (db)] ~ N(0, I). The label:
- C = 2: y = 1[xs . h > 0], with h ~ N(0, I) (`normal`) or h = 1 (`ones`);
- C > 2: y = argmax_c xs . h_c over C hyperplanes h_c ~ N(0, I) (`normal` only: with `ones`
  every class would have the same score).
Channel layout of one sample:
    x_a = [shared (d0) | a-only (da) | noise]    x_b = [shared (d0) | b-only (db) | noise]

A study of this kind (`build_venn_study`) has one setting per [D0, Da, Db] triple of its grid.
Every setting of a study has the same widths, so that all settings and runs train as one
ensemble: x_a has max(D0 + Da) + noise_a channels and x_b has max(D0 + Db) + noise_b, the
decisive channels first; a setting with fewer decisive channels has that many more noise
channels. Settings are drawn independently: setting s, run r from the stream
(seed, study, "data", s, r), so x_b and y change with the setting and the no-KD student is
trained per setting x run.
"""

from __future__ import annotations

import numpy as np

from mfh.data.synthetic import StudyData, Venn, channel_roles
from mfh.seeding import numpy_rng

HYPERPLANES = ("normal", "ones")


def check_venn_data(grid, classes: int, hyperplane: str) -> list[tuple[tuple, str]]:
    """Problems of a `venn` study's data section, as (key path under `data`, plain words);
    empty: fine. A bad triple's path is ("grid", index)."""
    problems = []
    if hyperplane not in HYPERPLANES:
        problems.append((("hyperplane",), f"{hyperplane!r}; allowed: {', '.join(HYPERPLANES)}"))
    elif hyperplane == "ones" and classes > 2:
        message = f"'ones' with classes {classes}: every class would tie"
        problems.append((("hyperplane",), f"{message}; allowed: normal, or classes: 2"))
    for i, triple in enumerate(grid):
        key = ("grid", i)
        if len(triple) != 3 or any(not isinstance(c, int) or c < 0 for c in triple):
            problems.append((key, f"{list(triple)}: allowed: three counts >= 0, [D0, Da, Db]"))
            continue
        d0, da, db = triple
        if d0 + da == 0:
            problems.append(
                (key, f"{triple}: modality a sees no decisive dimension; allowed: D0 + Da >= 1")
            )
        if d0 + db == 0:
            problems.append(
                (key, f"{triple}: modality b sees no decisive dimension; allowed: D0 + Db >= 1")
            )
    return problems


def venn_sample(
    rng: np.random.Generator,
    n: int,
    venn: Venn,
    noise_a: int,
    noise_b: int,
    hyperplane: str = "normal",
    classes: int = 2,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw `n` samples with the given Venn diagram (layout: module doc).

    Returns x_a (n, d0 + da + noise_a), x_b (n, d0 + db + noise_b) float64 and y (n,) int64 in
    0 .. classes-1. Drawn in this order: the hyperplane(s), xs, x_a's noise, x_b's noise.
    """
    if min(venn.d0, venn.da, venn.db, noise_a, noise_b) < 0:
        raise ValueError(f"counts must be >= 0, got {venn}, noise_a={noise_a}, noise_b={noise_b}")
    latent = venn.d0 + venn.da + venn.db
    if latent == 0:
        raise ValueError("the Venn diagram has no decisive dimension (d0 + da + db = 0)")
    if classes < 2:
        raise ValueError(f"classes must be >= 2, got {classes}")
    if hyperplane not in HYPERPLANES:
        raise ValueError(f"unknown hyperplane kind {hyperplane!r}; allowed: normal, ones")
    if hyperplane == "ones" and classes > 2:
        raise ValueError("hyperplane 'ones' is defined for 2 classes only")
    width = 1 if classes == 2 else classes
    h = np.ones((latent, 1)) if hyperplane == "ones" else rng.standard_normal((latent, width))
    xs = rng.standard_normal((n, latent))
    scores = xs @ h  # (n, 1) or (n, C)
    y = (scores[:, 0] > 0) if classes == 2 else scores.argmax(axis=1)
    shared, a_only, b_only = np.split(xs, [venn.d0, venn.d0 + venn.da], axis=1)
    x_a = np.concatenate([shared, a_only, rng.standard_normal((n, noise_a))], axis=1)
    x_b = np.concatenate([shared, b_only, rng.standard_normal((n, noise_b))], axis=1)
    return x_a, x_b, y.astype(np.int64)


def build_venn_study(study: str, data_cfg: dict, seed: int) -> StudyData:
    """Draw every setting x run of a `venn` study from its params `data` section (grid,
    noise_a, noise_b, hyperplane, classes, runs, n_train, n_test); see the module doc."""
    problems = check_venn_data(data_cfg["grid"], data_cfg["classes"], data_cfg["hyperplane"])
    if problems:
        lines = (f"{study}.data.{'.'.join(map(str, key))}: {msg}" for key, msg in problems)
        raise ValueError("; ".join(lines))
    venns = tuple(Venn(*triple) for triple in data_cfg["grid"])
    width_a = max(v.d0 + v.da for v in venns) + data_cfg["noise_a"]
    width_b = max(v.d0 + v.db for v in venns) + data_cfg["noise_b"]
    n_train, runs = data_cfg["n_train"], data_cfg["runs"]
    n = n_train + data_cfg["n_test"]
    draws = [  # [s][r] -> (x_a, x_b, y)
        [
            venn_sample(
                numpy_rng(seed, study, "data", s, r),
                n,
                v,
                width_a - v.d0 - v.da,
                width_b - v.d0 - v.db,
                data_cfg["hyperplane"],
                data_cfg["classes"],
            )
            for r in range(runs)
        ]
        for s, v in enumerate(venns)
    ]
    x_a, x_b, y = (np.array([[run[i] for run in s] for s in draws]) for i in range(3))
    x_a, x_b = x_a.astype(np.float32), x_b.astype(np.float32)  # (S, R, n, width)
    roles_a = [channel_roles(0, v.d0, v.d0 + v.da, width_a) for v in venns]
    roles_b = [channel_roles(0, v.d0, v.d0 + v.db, width_b) for v in venns]
    return StudyData(
        xa_train=np.ascontiguousarray(x_a[:, :, :n_train]),
        xa_test=np.ascontiguousarray(x_a[:, :, n_train:]),
        xb_train=np.ascontiguousarray(x_b[:, :, :n_train]),
        xb_test=np.ascontiguousarray(x_b[:, :, n_train:]),
        y_train=np.ascontiguousarray(y[:, :, :n_train]),
        y_test=np.ascontiguousarray(y[:, :, n_train:]),
        grid=np.arange(len(venns), dtype=np.int64),
        venn=venns,
        a_shared=np.stack([r[0] for r in roles_a]),
        a_decisive=np.stack([r[1] for r in roles_a]),
        b_shared=np.stack([r[0] for r in roles_b]),
        b_decisive=np.stack([r[1] for r in roles_b]),
        classes=int(data_cfg["classes"]),
    )
