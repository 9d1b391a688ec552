"""Figures of a real-data study (one dataset):

    mfh_modes.png     student test accuracy at each removed ratio r, one panel per teacher ->
                      student pair, the five KD modes side by side (mean and 95 % Student-t
                      interval over seeds), with the pair's no-KD and regular-KD students as
                      horizontal references
    salience.png      Algorithm 1's salience of each teacher penultimate channel against the
                      teacher importance of the control (both min-max normalised), one panel per
                      pair, one point per seed x channel, the mean Spearman correlation over seeds
                      in the panel's title
    failure_case.png  teacher and student accuracy for no KD, the unimodal and the multimodal
                      teacher, one panel per pair (bars: mean, ticks: ± 1 sd over seeds; the
                      y axis starts 5 points below the lowest bar)

`plot_real` reads the tables of a dataset and draws all three. Saved with
`mfh.report.plotting.figure`: the same tables and matplotlib version give the same bytes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from mfh.kd_modes import KD_MODES
from mfh.report.plotting import figure, legend_below
from mfh.report.real.inputs import Pairs
from mfh.report.stats import t_interval
from mfh.tables import (
    FAILURE_SUMMARY,
    MFH_MODES,
    MFH_MODES_SUMMARY,
    RANKING_AGREEMENT,
    REAL_SALIENCE,
)


def _pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    keys = frame[["teacher_modality", "student_modality"]].drop_duplicates()
    return list(keys.itertuples(index=False, name=None))


def _of_pair(frame: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    return frame[(frame["teacher_modality"] == a) & (frame["student_modality"] == b)]


@contextlib.contextmanager
def _panels(out_png, n: int, height: float = 3.8) -> Iterator[tuple[Figure, np.ndarray]]:
    """A figure of `n` panels side by side (one per pair), 4.6 x `height` inches each, saved to
    `out_png`: yields it and its axes."""
    with figure(out_png, figsize=(4.6 * n, height)) as fig:
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
    plot_modes(modes, summary, title, out_modes_png)
    salience = {
        (a, b): REAL_SALIENCE.read_frame(results / f"salience_{name}.csv") for name, a, b in pairs
    }
    agreement = RANKING_AGREEMENT.read_frame(results / "ranking_agreement.csv")
    plot_salience(salience, agreement, title, out_salience_png)
    failure = FAILURE_SUMMARY.read_frame(results / "failure_case_summary.csv")
    plot_failure_case(failure, title, out_failure_png)


def plot_modes(modes: pd.DataFrame, summary: pd.DataFrame, title: str, out_png) -> None:
    """mfh_modes.png from the tables MFH_MODES and MFH_MODES_SUMMARY (see the module doc)."""
    pairs = _pairs(modes)
    order = [KD_MODES[m] for m in sorted(modes["mode"].unique())]
    palette = sns.color_palette("colorblind", len(order))
    with _panels(out_png, len(pairs), height=5.4) as (fig, axes):
        for ax, (a, b) in zip(axes, pairs):
            sns.pointplot(
                data=_of_pair(modes, a, b),
                x="ratio",
                y="student_acc",
                hue="mode_name",
                order=sorted(modes["ratio"].unique()),
                hue_order=order,
                palette=palette,
                errorbar=t_interval,
                dodge=0.5,
                linestyle="none",
                markersize=5,
                capsize=0.08,
                err_kws={"linewidth": 1.2},
                ax=ax,
            )
            ref = _of_pair(summary, a, b)
            ax.axhline(ref["nokd_mean"].iloc[0], color="0.3", ls="--", lw=1, label="no KD")
            ax.axhline(
                ref["regular_kd_mean"].iloc[0], color="0.3", ls=":", lw=1.4, label="regular KD"
            )
            ax.set(
                xlabel="ratio r of teacher channels removed",
                ylabel=f"student test accuracy (%), {b}",
                title=f"teacher {a} → student {b}",
            )
            # seaborn's legend holds the modes; the references join it
            modes_legend = ax.get_legend()
            handles = [*modes_legend.legend_handles, *ax.get_lines()[-2:]]
            labels = [*(t.get_text() for t in modes_legend.get_texts()), "no KD", "regular KD"]
            ax.legend(handles, labels)
            legend_below(ax)
        fig.suptitle(f"{title}: students of the KD modes\n(mean, 95 % t-interval over seeds)")
        fig.tight_layout()


def plot_salience(
    salience: dict[tuple[str, str], pd.DataFrame], agreement: pd.DataFrame, title: str, out_png
) -> None:
    """salience.png; salience: pair -> the pair's table REAL_SALIENCE; agreement: the table
    RANKING_AGREEMENT (its seeds are the ones drawn)."""
    with _panels(out_png, len(salience)) as (fig, axes):
        for ax, ((a, b), table) in zip(axes, salience.items()):
            rho = _of_pair(agreement, a, b).groupby("seed")["spearman"].first()  # (seeds,)
            points = table[table["seed"].isin(rho.index)]
            sns.scatterplot(
                data=points.assign(seed=points["seed"].map("seed {}".format)),
                x="importance",
                y="salience",
                hue="seed",
                palette="colorblind",
                s=14,
                alpha=0.6,
                linewidth=0,
                ax=ax,
            )
            ax.set(
                xlabel="teacher importance (control, min-max normalised)",
                ylabel="Algorithm 1 salience (min-max normalised)",
                title=f"teacher {a} (vs {b}): mean Spearman ρ = {rho.mean():.2f}",
            )
            ax.legend(fontsize=8)
        fig.suptitle(f"{title}: Algorithm 1 salience vs the teacher importance")
        fig.tight_layout()


def plot_failure_case(summary: pd.DataFrame, title: str, out_png) -> None:
    """failure_case.png from the table FAILURE_SUMMARY (see the module doc)."""
    pairs = _pairs(summary)
    palette = sns.color_palette("colorblind")
    kinds = ["none", "unimodal", "multimodal"]
    labels = {"none": "no KD", "unimodal": "unimodal teacher", "multimodal": "multimodal teacher"}
    with _panels(out_png, len(pairs)) as (fig, axes):
        for ax, (a, b) in zip(axes, pairs):
            mine = _of_pair(summary, a, b).set_index("teacher")
            x = np.arange(len(kinds))
            shown = []
            for offset, (who, color) in zip((-0.2, 0.2), (("teacher", 0), ("student", 1))):
                means = [mine.at[k, f"{who}_mean"] for k in kinds]
                stds = [mine.at[k, f"{who}_std"] for k in kinds]
                ax.bar(x + offset, means, 0.4, yerr=stds, color=palette[color], label=who)
                shown += [m for m in means if pd.notna(m)]  # no teacher without KD
            # the axis starts near the lowest bar: the differences are a few points
            ax.set_ylim(max(0.0, min(shown) - 5.0), min(100.0, max(shown) + 2.0))
            ax.set_xticks(x, [labels[k] for k in kinds])
            ax.set(ylabel="test accuracy (%)", title=f"teacher {a} → student {b}")
            ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
        fig.suptitle(f"{title}: failure case (paper Table 1), mean ± 1 sd over seeds")
        fig.tight_layout()
