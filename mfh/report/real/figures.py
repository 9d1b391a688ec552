"""Figures of a real-data study (one dataset):

    mfh_modes.png     student test accuracy against the removed ratio r, one panel per
                      teacher -> student pair, one line per mode (mean, band ± 1 sd over seeds),
                      with the pair's no-KD and regular-KD students as horizontal references
    salience.png      the teacher's penultimate channels sorted by Algorithm 1's salience (most
                      modality-general first), one panel per pair, one line per seed
    failure_case.png  teacher and student accuracy for no KD, the unimodal and the multimodal
                      teacher, one panel per pair (bars: mean, ticks: ± 1 sd over seeds; the
                      y axis starts 5 points below the lowest bar)

`plot_real` reads the tables of a dataset and draws all three. Saved with
`mfh.report.plotting.figure`: the same tables and matplotlib version give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from mfh.kd_modes import KD_MODES
from mfh.report.plotting import figure
from mfh.report.real.tables import Pairs
from mfh.tables import FAILURE_SUMMARY, MFH_MODES, MFH_MODES_SUMMARY, REAL_SALIENCE


def _pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    keys = frame[["teacher_modality", "student_modality"]].drop_duplicates()
    return list(keys.itertuples(index=False, name=None))


@contextlib.contextmanager
def _panels(out_png, n: int) -> Iterator[tuple[Figure, np.ndarray]]:
    """A figure of `n` panels side by side (one per pair), 4.6 x 3.8 inches each, saved to
    `out_png`: yields it and its axes."""
    with figure(out_png, figsize=(4.6 * n, 3.8)) as fig:
        yield fig, fig.subplots(1, n, squeeze=False)[0]


def plot_real(
    results: str | os.PathLike,
    pairs: Pairs,
    title: str,
    out_modes_png: str | os.PathLike,
    out_salience_png: str | os.PathLike,
    out_failure_png: str | os.PathLike,
) -> None:
    """The three figures of a dataset from its tables under `results` (written by
    `mfh.report.real.tables.collect_real` and the salience steps)."""
    results = Path(results)
    modes = MFH_MODES.read_frame(results / "mfh_modes.csv")
    summary = MFH_MODES_SUMMARY.read_frame(results / "mfh_modes_summary.csv")
    salience = {
        (a, b): REAL_SALIENCE.read_frame(results / f"salience_{name}.csv") for name, a, b in pairs
    }
    plot_modes(modes, summary, title, out_modes_png)
    plot_salience(salience, title, out_salience_png)
    failure = FAILURE_SUMMARY.read_frame(results / "failure_case_summary.csv")
    plot_failure_case(failure, title, out_failure_png)


def plot_modes(modes: pd.DataFrame, summary: pd.DataFrame, title: str, out_png) -> None:
    """mfh_modes.png from the tables MFH_MODES and MFH_MODES_SUMMARY (see the module doc)."""
    pairs = _pairs(modes)
    palette = sns.color_palette("colorblind")
    order = [KD_MODES[m] for m in sorted(modes["mode"].unique())]
    with _panels(out_png, len(pairs)) as (fig, axes):
        for ax, (a, b) in zip(axes, pairs):
            mine = modes[(modes["teacher_modality"] == a) & (modes["student_modality"] == b)]
            sns.lineplot(
                data=mine,
                x="ratio",
                y="student_acc",
                hue="mode_name",
                hue_order=order,
                style="mode_name",
                markers=True,
                dashes=False,
                errorbar="sd",
                palette=palette[: len(order)],
                ax=ax,
            )
            ref = summary[(summary["teacher_modality"] == a) & (summary["student_modality"] == b)]
            ax.axhline(ref["nokd_mean"].iloc[0], color="0.3", ls="--", lw=1, label="no KD")
            ax.axhline(
                ref["regular_kd_mean"].iloc[0], color="0.3", ls=":", lw=1.4, label="regular KD"
            )
            ax.set(
                xlabel="ratio r of teacher channels removed",
                ylabel=f"student test accuracy (%), {b}",
                title=f"teacher {a} → student {b}",
            )
            ax.legend(title=None, fontsize=8)
        fig.suptitle(f"{title}: modality-general vs -specific KD (mean, band ± 1 sd over seeds)")
        fig.tight_layout()


def plot_salience(salience: dict[tuple[str, str], pd.DataFrame], title: str, out_png) -> None:
    """salience.png; salience: pair -> the pair's table REAL_SALIENCE."""
    with _panels(out_png, len(salience)) as (fig, axes):
        for ax, ((a, b), table) in zip(axes, salience.items()):
            for seed, group in table.groupby("seed"):
                profile = np.sort(group["salience"].to_numpy())[::-1]
                ax.plot(np.arange(len(profile)), profile, lw=1.2, label=f"seed {seed}")
            ax.set(
                xlabel="teacher penultimate channel, by rank",
                ylabel="salience (min-max normalised)",
                title=f"teacher {a} (vs {b})",
            )
            ax.legend(fontsize=8)
        fig.suptitle(f"{title}: Algorithm 1 salience profile (large = modality-general)")
        fig.tight_layout()


def plot_failure_case(summary: pd.DataFrame, title: str, out_png) -> None:
    """failure_case.png from the table FAILURE_SUMMARY (see the module doc)."""
    pairs = _pairs(summary)
    palette = sns.color_palette("colorblind")
    kinds = ["none", "unimodal", "multimodal"]
    labels = {"none": "no KD", "unimodal": "unimodal teacher", "multimodal": "multimodal teacher"}
    with _panels(out_png, len(pairs)) as (fig, axes):
        for ax, (a, b) in zip(axes, pairs):
            mine = summary[
                (summary["teacher_modality"] == a) & (summary["student_modality"] == b)
            ].set_index("teacher")
            x = np.arange(len(kinds))
            shown = []
            for offset, (who, color) in zip((-0.2, 0.2), (("teacher", 0), ("student", 1))):
                means = [mine.at[k, f"{who}_mean"] for k in kinds]
                stds = [mine.at[k, f"{who}_std"] for k in kinds]
                ax.bar(x + offset, means, 0.4, yerr=stds, color=palette[color], label=who)
                shown += [m for m in means if m == m]  # no NaN (no teacher without KD)
            # the axis starts near the lowest bar: the differences are a few points
            ax.set_ylim(max(0.0, min(shown) - 5.0), min(100.0, max(shown) + 2.0))
            ax.set_xticks(x, [labels[k] for k in kinds])
            ax.set(ylabel="test accuracy (%)", title=f"teacher {a} → student {b}")
            ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
        fig.suptitle(f"{title}: failure case (paper Table 1), mean ± 1 sd over seeds")
        fig.tight_layout()
