"""What the real-data KD modes show beyond their means (PROTOCOL §5):

    mode_differences   table MODE_DIFFERENCES: per pair, ratio and comparison (x, y) of
                       `mfh.kd_modes.COMPARISONS`, the students' accuracy difference mode x -
                       mode y, paired by seed, with its 95 % Student-t interval
    ranking_agreement  table RANKING_AGREEMENT: per pair, seed and ratio, how far Algorithm 1's
                       ranking of the teacher's channels agrees with the teacher-importance
                       control: their Spearman correlation, and the share of the channels mode 1
                       keeps that mode 3 keeps too

If the control ranks the channels as Algorithm 1 does (Spearman near 1, overlap near 1), modes
1/2 and 3/4 remove the same channels and cannot tell modality-generality from teacher importance.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import torch

from mfh.algorithm1.selection import drop_ratio
from mfh.errors import DataError
from mfh.kd_modes import COMPARISONS, RANKINGS
from mfh.report.real.inputs import Pairs, salience
from mfh.report.stats import CONFIDENCE, t_halfwidth
from mfh.tables import MODE_DIFFERENCES, RANKING_AGREEMENT

_PAIR = ["teacher_modality", "student_modality"]


def mode_differences(modes: pd.DataFrame, ratios: Sequence[float]) -> pd.DataFrame:
    """Table MODE_DIFFERENCES from the table MFH_MODES (every seed of every mode it holds; the
    comparisons of modes it lacks at a ratio are left out there). teacher_x, teacher_y: the
    modified teachers' test accuracy, mean over seeds; the interval is NaN with a single seed."""
    rows = []
    for (a, b), pair in modes.groupby(_PAIR, sort=False):
        for ratio in ratios:
            by_mode = pair[pair["ratio"] == ratio].set_index(["mode", "seed"])
            present = set(by_mode.index.get_level_values("mode"))
            for x, y in [(x, y) for x, y in COMPARISONS if x in present and y in present]:
                # (seeds,) indexed by seed: the subtraction pairs the students of one seed
                diff = by_mode.loc[x, "student_acc"] - by_mode.loc[y, "student_acc"]
                mean = diff.mean()
                half = float(t_halfwidth(diff.std(ddof=1), len(diff), CONFIDENCE))
                teacher_x = by_mode.loc[x, "teacher_acc"].mean()
                teacher_y = by_mode.loc[y, "teacher_acc"].mean()
                rows.append(
                    (a, b, f"{x}-{y}", ratio, len(diff), mean, mean - half, mean + half)
                    + (teacher_x, teacher_y)
                )
    return pd.DataFrame(rows, columns=MODE_DIFFERENCES.names)


def spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rank correlation of x and y: Pearson's of their ranks, ties averaged (NaN when
    either is constant)."""
    return x.rank().corr(y.rank())


def _kept(channels: pd.DataFrame, mode: int, ratio: float) -> set[int]:
    """The channel numbers a teacher keeps in `mode` (1-4) at `ratio`, chosen as the KD modes
    choose them: `drop_ratio` on the mode's ranking column (`mfh.kd_modes.RANKINGS`).
    channels: one seed's rows of REAL_SALIENCE, sorted by channel."""
    column, drop = RANKINGS[mode]
    scores = torch.tensor(channels[column].to_numpy(), dtype=torch.float64)  # (H,)
    kept = drop_ratio(scores[None], ratio, drop)[0]  # (H',) positions, ascending
    return set(channels["channel"].to_numpy()[kept.numpy()].tolist())


def ranking_agreement(
    results: Path, pairs: Pairs, ratios: Sequence[float], seeds: int
) -> pd.DataFrame:
    """Table RANKING_AGREEMENT from every pair's salience_<pair>.csv: spearman of `raw`
    (Algorithm 1) against `importance_raw` (the control) over one seed's channels, repeated on
    each ratio row; kept_overlap = |kept by mode 1 ∩ kept by mode 3| / |kept by mode 1|."""
    rows = []
    for name, a, b in pairs:
        path = results / f"salience_{name}.csv"
        for seed, channels in salience(path, seeds).groupby("seed", sort=True):
            rho = spearman(channels["raw"], channels["importance_raw"])
            if pd.isna(rho):
                raise DataError(f"{path}, seed {seed}: a constant ranking, no rank correlation")
            for ratio in ratios:
                general, important = _kept(channels, 1, ratio), _kept(channels, 3, ratio)
                if not general:
                    raise ValueError(f"ratio {ratio} keeps none of {len(channels)} channels")
                overlap = len(general & important) / len(general)
                rows.append((a, b, seed, ratio, rho, overlap))
    return pd.DataFrame(rows, columns=RANKING_AGREEMENT.names)
