"""The figure of the Venn analysis (`mfh.venn`): for each setting, the true Venn diagram of
the decisive channels of modalities a and b next to the two estimated from Algorithm 1's
salience, and the estimated gamma against the true one.

Saved with `mfh.report.plotting.figure`: the same table and matplotlib version give the same bytes.
"""

from __future__ import annotations

import math
import os

import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Circle, Patch

from mfh.report.plotting import figure
from mfh.tables import VENN


def _draw_venn(ax: Axes, d0: float, da: float, radius_max: float, colors) -> None:
    """Area-proportional two-circle Venn diagram on `ax`: circle a holds D0 + Da channels, circle
    b holds D0 (Db = 0, so b lies inside a, touching it on the right)."""
    radius_a = math.sqrt(max(d0 + da, 0.0) / math.pi)
    radius_b = math.sqrt(max(d0, 0.0) / math.pi)
    ax.add_patch(Circle((0.0, 0.0), radius_a, facecolor=colors[0], alpha=0.45, edgecolor="0.2"))
    ax.add_patch(
        Circle(
            (radius_a - radius_b, 0.0), radius_b, facecolor=colors[1], alpha=0.6, edgecolor="0.2"
        )
    )
    text = {"ha": "center", "va": "center", "fontsize": 9}
    # region names where they fit; the counts go below the diagram
    if radius_b > 0.2 * radius_max:
        ax.text(radius_a - radius_b, 0.0, "D0", **text)
    if radius_a - radius_b > 0.15 * radius_max:
        ax.text(-radius_b, 0.0, "Da", **text)  # the middle of the crescent of a outside b
    if d0 + da == 0:
        ax.text(0.0, 0.0, "no decisive\nchannel found", **text)
    ax.set_xlim(-radius_max, radius_max)
    ax.set_ylim(-radius_max, radius_max)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def plot_venn(df: pd.DataFrame, out_png: str | os.PathLike) -> None:
    """For each setting (a column, sorted by gamma_true): the true Venn diagram of modalities a
    and b and the two estimated ones (mean of the per-run estimates; pooled runs), with counts
    and gamma; on the right, gamma_est (+- 1 sd over runs) and gamma_pooled against gamma_true
    with the diagonal. Saved atomically as PNG with a deterministic encoding.
    """
    df = VENN.check_frame(df, "venn table")
    df = df.sort_values(["gamma_true", "setting"], kind="mergesort", ignore_index=True)
    palette = sns.color_palette("colorblind")
    colors = (palette[1], palette[0])
    totals = pd.concat(
        [
            df["d0_true"] + df["da_true"],
            df["d0_est"] + df["da_est"],
            df["d0_pooled"] + df["da_pooled"],
        ]
    )
    radius_max = 1.12 * math.sqrt(max(float(totals.max()), 1.0) / math.pi)
    rows = [
        ("true", "d0_true", "da_true", "gamma_true", None, "d"),
        ("estimated,\nmean over runs", "d0_est", "da_est", "gamma_est", "gamma_est_std", ".1f"),
        ("estimated,\npooled runs", "d0_pooled", "da_pooled", "gamma_pooled", None, "d"),
    ]
    n = len(df)

    with figure(out_png, style="white", figsize=(2.6 * n + 5.2, 8.6)) as fig:
        grid = fig.add_gridspec(3, n + 1, width_ratios=[1.0] * n + [1.9], wspace=0.08)
        for col, setting in enumerate(df.itertuples(index=False)):
            for row, (label, d0_col, da_col, gamma_col, std_col, fmt) in enumerate(rows):
                ax = fig.add_subplot(grid[row, col])
                d0, da = getattr(setting, d0_col), getattr(setting, da_col)
                if fmt == "d":
                    d0, da = int(d0), int(da)
                _draw_venn(ax, d0, da, radius_max, colors)
                gamma = getattr(setting, gamma_col)
                spread = f" ± {getattr(setting, std_col):.2f}" if std_col else ""
                ax.set_xlabel(
                    f"D0 = {d0:{fmt}}, Da = {da:{fmt}}\nγ = {gamma:.2f}{spread}", labelpad=2
                )
                if row == 0:
                    ax.set_title(
                        f"setting {setting.setting}\n"
                        f"D0 {setting.d0_true}, Da {setting.da_true}, Db {setting.db_true}"
                    )
                if col == 0:
                    ax.set_ylabel(label, fontsize=11)

        scatter = fig.add_subplot(grid[:, n])
        scatter.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="y = x")
        scatter.errorbar(
            df["gamma_true"],
            df["gamma_est"],
            yerr=df["gamma_est_std"].fillna(0.0),
            fmt="o",
            color=palette[2],
            capsize=3,
            label="mean of per-run estimates (± 1 sd)",
        )
        scatter.plot(
            df["gamma_true"],
            df["gamma_pooled"],
            "D",
            color=palette[4],
            markerfacecolor="none",
            markersize=8,
            label="estimate from pooled runs",
        )
        scatter.set(xlim=(0, 1), ylim=(0, 1), aspect="equal")
        scatter.set_xlabel("true γ = D0 / (D0 + Da)")
        scatter.set_ylabel("estimated γ")
        scatter.grid(True, color="0.9")
        scatter.set_title("γ estimated from Algorithm 1's salience")
        scatter.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)

        handles = [
            Patch(facecolor=colors[0], alpha=0.45, edgecolor="0.2", label="modality a: D0 ∪ Da"),
            Patch(facecolor=colors[1], alpha=0.6, edgecolor="0.2", label="modality b: D0 (Db = 0)"),
        ]
        fig.legend(
            handles=handles, loc="lower left", bbox_to_anchor=(0.02, 0.0), ncol=2, frameon=False
        )
        fig.suptitle(
            "Venn diagrams of the decisive channels (areas ∝ counts): "
            "truth vs estimate from Algorithm 1's salience"
        )
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.09, top=0.88, hspace=0.3)
