"""The one-page figure of a dataset's diagnosis (diagnosis.png, table DIAGNOSIS): one row per
pair, with every predictor's value (mean ± sd over seeds) on the left and the estimated Venn
diagram of the joint nets' penultimate channels on the right (`mfh.report.venn_diagram`)."""

from __future__ import annotations

import math
import os

import pandas as pd
import seaborn as sns

from mfh.report.plotting import figure
from mfh.report.venn_diagram import VennDiagram, draw_venn_diagram, format_number

# (column, label, decimals) of the text panel, in reading order
LINES = (
    ("teacher_acc", "teacher accuracy (%)", 1),
    ("student_acc", "no-KD student accuracy (%)", 1),
    ("gamma", "gamma estimate (counts)", 2),
    ("gamma_mass", "gamma estimate (mass)", 2),
    ("alpha", "alpha estimate", 2),
    ("beta", "beta estimate", 2),
    ("complementarity_gauss", "I(T;S) - I(S;Y), Gaussian", 3),
    ("complementarity_knn", "I(T;S) - I(S;Y), kNN", 3),
    ("nontarget_js", "non-target JS (nats)", 3),
    ("rank_tau", "rank tau (C2KD)", 3),
    ("top1_agreement", "top-1 agreement", 3),
)
_ROW_HEIGHT = 2.6  # inches per pair
_WIDTH = 8.0
_VENN_WIDTH = 3.2  # inches of the diagram's panel


def _value(row, column: str, decimals: int) -> str:
    return format_number(row[f"{column}_mean"], decimals, row[f"{column}_sd"])


def plot_diagnosis(table: pd.DataFrame, out_png: str | os.PathLike, dataset: str) -> None:
    """Draw diagnosis.png from the DIAGNOSIS table of `dataset`."""
    n = len(table)
    height = _ROW_HEIGHT * n + 0.7
    palette = sns.color_palette("colorblind")
    colors = (palette[1], palette[0])
    diagrams = [
        VennDiagram(
            {"D0": row["d0_mean"], "Da": row["da_mean"], "Db": row["db_mean"]},
            {"D0": row["d0_sd"], "Da": row["da_sd"], "Db": row["db_sd"]},
            1,
        )
        for _, row in table.iterrows()
    ]
    x_range = 1.1 * max([1.0] + [right - left for left, right in (d.extent for d in diagrams)])
    y_range = 1.1 * max([1.0] + [2 * max(d.radii) for d in diagrams])
    units_per_inch = max(x_range / _VENN_WIDTH, y_range / (_ROW_HEIGHT - 0.5))
    with figure(out_png, figsize=(_WIDTH, height)) as fig:
        fig.suptitle(f"{dataset}: will KD help? (test split, mean ± sd over seeds)", fontsize=11)
        for i, (diagram, (_, row)) in enumerate(zip(diagrams, table.iterrows())):
            bottom = 1 - (0.7 + _ROW_HEIGHT * (i + 1)) / height
            text_ax = fig.add_axes([0.02, bottom, 0.5, _ROW_HEIGHT / height])
            text_ax.set_axis_off()
            title = f"{row['teacher_modality']} → {row['student_modality']} ({row['pair']})"
            lines = [f"{label:<28}{_value(row, col, d)}" for col, label, d in LINES]
            text_ax.text(0, 0.97, title, fontsize=10, fontweight="bold", va="top")
            text_ax.text(0, 0.85, "\n".join(lines), family="monospace", fontsize=7.5, va="top")
            ax = fig.add_axes(
                [0.54, bottom + 0.05 / height, _VENN_WIDTH / _WIDTH, (_ROW_HEIGHT - 0.5) / height]
            )
            half_x = 0.5 * _VENN_WIDTH * units_per_inch
            half_y = 0.5 * (_ROW_HEIGHT - 0.5) * units_per_inch
            ax.set(xlim=(-half_x, half_x), ylim=(-half_y, half_y))
            unlabelled = draw_venn_diagram(ax, diagram, units_per_inch, colors)
            gamma = row["gamma_mean"]
            caption = (
                f"decisive channels of a = {row['teacher_modality']} (teacher),"
                f" b = {row['student_modality']} (student)"
            )
            if math.isfinite(gamma):
                caption = f"gamma = {gamma:.2f}\n" + caption
            if unlabelled:
                caption += "\n" + ", ".join(unlabelled)
            ax.set_title(caption, fontsize=7)
