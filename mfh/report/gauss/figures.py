"""Figures of a synthetic study, after the paper's Fig. 2/3: test accuracy of the teacher, the
no-KD student and the KD student against a Venn proportion (left), and the paired KD gain with
its 95% Student-t interval (right).

Saved with `mfh.report.plotting.figure`: the same data and matplotlib version give the same bytes.
"""

from __future__ import annotations

import os

import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch

from mfh.report.plotting import figure, legend_below
from mfh.report.stats import t_interval
from mfh.tables import GAUSS_RUNS

X_LABELS = {
    "gamma": "γ (share of decisive features that are modality-general)",
    "alpha": "α (share of modality a's decisive features only a sees)",
    "beta": "β (share of modality b's decisive features only b sees)",
    "value": "swept grid value",
}
MODELS = {
    "teacher_acc": "Teacher (modality a)",
    "nokd_acc": "Student, no KD (modality b)",
    "kd_acc": "Student, KD (modality b)",
}


def plot_study(runs: pd.DataFrame, x: str, out_png: str | os.PathLike, title: str) -> None:
    """Draw the two-panel figure of one study from its runs table and save it atomically as PNG.

    `x` is a column of `runs` ("gamma" or "alpha"); bands: left, mean +- 1 sd over runs; right,
    95% t interval of the mean paired gain kd_acc - nokd_acc.
    """
    if x not in GAUSS_RUNS.names:
        raise ValueError(f"x must be a column of the runs table, got {x!r}")
    runs = GAUSS_RUNS.check_frame(runs, "runs table")
    n_runs = runs.groupby("setting").size()
    n_label = f"n = {n_runs.min()}" if n_runs.min() == n_runs.max() else "n varies"
    accs = runs.melt(id_vars=[x], value_vars=list(MODELS), var_name="model", value_name="acc")
    accs["model"] = accs["model"].map(MODELS)
    gains = runs.assign(gain=runs["kd_acc"] - runs["nokd_acc"])
    palette = sns.color_palette("colorblind")

    with figure(out_png, font_scale=0.9, figsize=(11, 4.6)) as fig:
        left, right = fig.subplots(1, 2)
        sns.lineplot(
            data=accs,
            x=x,
            y="acc",
            hue="model",
            style="model",
            hue_order=list(MODELS.values()),
            palette=palette[:3],
            markers=["o", "s", "D"],
            dashes=False,
            errorbar="sd",
            ax=left,
        )
        left.set(xlabel=X_LABELS.get(x, x), ylabel="Test accuracy (%)")
        left.set_title(f"Accuracy: mean, band ± 1 sd over runs ({n_label})")
        legend_below(left)

        sns.lineplot(
            data=gains,
            x=x,
            y="gain",
            color=palette[3],
            marker="o",
            errorbar=t_interval,
            label="mean KD gain",
            ax=right,
        )
        right.axhline(0.0, color="0.3", linestyle="--", linewidth=1, label="no gain")
        handles, _ = right.get_legend_handles_labels()
        band = Patch(color=palette[3], alpha=0.2, label="95% t-interval of the mean")
        right.set(xlabel=X_LABELS.get(x, x), ylabel="KD gain (KD − no-KD, % points)")
        right.set_title(f"KD gain: mean, band 95% CI over runs ({n_label})")
        right.legend(
            handles=[handles[0], band, handles[1]],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            ncol=2,
            frameon=False,
        )

        fig.suptitle(title)
        fig.tight_layout()


def plot_from_csv(
    runs_csv: str | os.PathLike, x: str, out_png: str | os.PathLike, title: str
) -> None:
    """`plot_study` on the runs table at `runs_csv` (GAUSS_RUNS, as `tables.collect` writes it)."""
    plot_study(GAUSS_RUNS.read_frame(runs_csv), x, out_png, title)
