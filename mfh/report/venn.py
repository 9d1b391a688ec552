"""The figure of the Venn analysis (`mfh.venn`): for each setting a column with the true
area-proportional Venn diagram of the decisive channels of modalities a and b on top and the
estimated one (mean over runs) below it, all at one scale; on the right, the estimated gamma
against the true one.

Saved with `mfh.report.plotting.figure`: the same table and matplotlib version give the same bytes.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from mfh.report.plotting import figure
from mfh.report.venn_diagram import ALPHA, VennDiagram, draw_venn_diagram, format_number
from mfh.report.venn_geometry import radius_of_area

REQUIRED_COLUMNS = (
    *("setting", "d0_true", "da_true", "db_true", "gamma_true", "alpha_true", "beta_true"),
    *("d0_est", "da_est", "db_est", "gamma_est", "alpha_est", "beta_est", "gamma_mass"),
    *("d0_std", "da_std", "db_std", "gamma_std", "alpha_std", "beta_std", "gamma_mass_std"),
    *("n_runs", "gamma_error"),
)
COUNT_COLUMNS = ("d0_true", "da_true", "db_true", "d0_est", "da_est", "db_est")

# layout, in inches
_COLUMN_WIDTH = 2.25
_LEFT, _RIGHT, _GAP = 0.55, 0.35, 0.75  # row labels | diagrams | gap | scatter | right margin
_TOP, _CAPTION, _BOTTOM = 1.0, 0.8, 0.4  # suptitle + column titles | under each row | legend
_SCATTER_SIDE = 3.6
_FONT = {"caption": 8.0, "title": 9.5, "row": 10.5}
# of a diagram's cell, the height left free above the tallest circle, for the set names
_HEADROOM = 0.2


def _check_table(df: pd.DataFrame) -> None:
    """Raise ValueError when `df` lacks a column of the Venn table, has no rows, or has a count
    that is negative or NaN (no diagram can be drawn from it)."""
    missing = [column for column in REQUIRED_COLUMNS if column not in df.columns]
    if missing:
        raise ValueError(f"venn table: missing column(s) {missing}")
    if df.empty:
        raise ValueError("venn table: no rows")
    for column in COUNT_COLUMNS:
        bad = ~(pd.to_numeric(df[column], errors="coerce") >= 0)
        if bad.any():
            settings = df.loc[bad, "setting"].tolist()
            raise ValueError(f"venn table: {column} is negative or NaN for setting(s) {settings}")


def _diagrams(setting) -> tuple[VennDiagram, VennDiagram]:
    """The true and the estimated diagram of one row of the Venn table."""
    nan = {"D0": math.nan, "Da": math.nan, "Db": math.nan}
    truth = VennDiagram(
        {"D0": setting.d0_true, "Da": setting.da_true, "Db": setting.db_true}, nan, decimals=0
    )
    estimate = VennDiagram(
        {"D0": setting.d0_est, "Da": setting.da_est, "Db": setting.db_est},
        {"D0": setting.d0_std, "Da": setting.da_std, "Db": setting.db_std},
        decimals=1,
    )
    return truth, estimate


def _shares(setting, kind: str) -> list[str]:
    """gamma, alpha and beta of one row of the Venn table, `kind` "true" or "est" (then ± sd)."""
    shares = ("gamma", "alpha", "beta")
    if kind == "true":
        return [format_number(getattr(setting, f"{share}_true"), 2) for share in shares]
    return [
        format_number(getattr(setting, f"{share}_est"), 2, getattr(setting, f"{share}_std"))
        for share in shares
    ]


def _caption(gamma: str, alpha: str, beta: str, unlabelled: list[str]) -> str:
    """The lines under a diagram: gamma, alpha and beta, then the counts too small to write in
    their regions, two a line."""
    lines = [f"γ = {gamma}", f"α {alpha} · β {beta}"]
    lines += [" · ".join(unlabelled[i : i + 2]) for i in range(0, len(unlabelled), 2)]
    return "\n".join(lines)


def _draw_scatter(ax: Axes, df: pd.DataFrame, palette) -> None:
    """gamma_est (+- gamma_std) and gamma_mass against gamma_true, with the diagonal."""
    diagonal, estimate, mass = "y = x", "γ estimate, mean ± sd over runs", "γ_mass, mean over runs"
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label=diagonal)
    est = df[np.isfinite(df["gamma_true"]) & np.isfinite(df["gamma_est"])]
    ax.errorbar(
        est["gamma_true"].to_numpy(float),
        est["gamma_est"].to_numpy(float),
        yerr=est["gamma_std"].fillna(0.0).to_numpy(float),
        fmt="o",
        color=palette[2],
        capsize=3,
        label=estimate,
    )
    by_mass = df[np.isfinite(df["gamma_true"]) & np.isfinite(df["gamma_mass"])]
    ax.plot(
        by_mass["gamma_true"].to_numpy(float),
        by_mass["gamma_mass"].to_numpy(float),
        "D",
        color=palette[4],
        markerfacecolor="none",
        markersize=7,
        label=mass,
    )
    for row in est.itertuples(index=False):
        ax.annotate(
            str(row.setting),
            (row.gamma_true, row.gamma_est),
            xytext=(5, 3),
            textcoords="offset points",
            fontsize=7,
            color="0.35",
        )
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal")
    ax.set_xlabel("true γ = D0 / (D0 + Da + Db)")
    ax.set_ylabel("estimated γ")
    ax.grid(True, color="0.9")
    ax.set_title("γ: estimate vs truth (labels: setting)", fontsize=_FONT["title"])
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(label) for label in (diagonal, estimate, mass)]
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        frameon=False,
        fontsize=8,
    )


def plot_venn(df: pd.DataFrame, out_png: str | os.PathLike, title: str = "") -> None:
    """Draw the Venn table `df` (columns `REQUIRED_COLUMNS`, one row per setting) to `out_png`.

    One column per setting, sorted by gamma_true then setting: on top the true area-proportional
    Venn diagram (circle a: D0 + Da channels, circle b: D0 + Db, their lens: D0), below it the
    estimated one (means over runs, counts with one decimal and ± sd); every diagram at the same
    scale, gamma, alpha and beta under each. On the right, gamma_est (± gamma_std) and gamma_mass
    against gamma_true. `title`, when given, prefixes the suptitle. Raises ValueError for a table
    that lacks columns, has no rows, or has negative or NaN counts.
    """
    _check_table(df)
    df = df.sort_values(["gamma_true", "setting"], kind="mergesort", ignore_index=True)
    palette = sns.color_palette("colorblind")
    colors = (palette[1], palette[0])
    columns = [_diagrams(row) for row in df.itertuples(index=False)]
    diagrams = [diagram for pair in columns for diagram in pair]
    unit = 2 * radius_of_area(1.0)  # so that a table of empty diagrams still has a scale
    x_range = 1.08 * max([unit] + [right - left for left, right in (d.extent for d in diagrams)])
    tallest = 1.04 * max([unit] + [2 * max(d.radii) for d in diagrams])
    y_range = tallest / (1 - _HEADROOM)
    row_height = float(np.clip(_COLUMN_WIDTH * y_range / x_range, 1.3, 2.4))
    units_per_inch = max(x_range / _COLUMN_WIDTH, y_range / row_height)

    n = len(df)
    fig_width = _LEFT + n * _COLUMN_WIDTH + _GAP + _SCATTER_SIDE + _RIGHT
    fig_height = max(_TOP + 2 * (row_height + _CAPTION) + _BOTTOM, 5.8)

    def rect(x: float, y: float, width: float, height: float) -> list[float]:
        return [x / fig_width, y / fig_height, width / fig_width, height / fig_height]

    with figure(out_png, style="white", figsize=(fig_width, fig_height)) as fig:
        row_bottoms = [fig_height - _TOP - row_height]
        row_bottoms.append(row_bottoms[0] - _CAPTION - row_height)
        for col, (setting, pair) in enumerate(zip(df.itertuples(index=False), columns)):
            for row, diagram in enumerate(pair):
                x = _LEFT + col * _COLUMN_WIDTH
                ax = fig.add_axes(rect(x, row_bottoms[row], _COLUMN_WIDTH, row_height))
                half_x = 0.5 * _COLUMN_WIDTH * units_per_inch
                bottom = -0.5 * tallest  # the tallest circle touches it; the rest is headroom
                ax.set(xlim=(-half_x, half_x), ylim=(bottom, bottom + row_height * units_per_inch))
                unlabelled = draw_venn_diagram(ax, diagram, units_per_inch, colors)
                if row == 0:
                    runs = f"{setting.n_runs} run" + ("s" if setting.n_runs != 1 else "")
                    ax.set_title(
                        f"setting {setting.setting} ({runs})",
                        fontsize=_FONT["title"],
                        fontweight="bold",
                    )
                shares = _shares(setting, "true" if row == 0 else "est")
                ax.text(
                    0.5,
                    -0.02,
                    _caption(*shares, unlabelled),
                    transform=ax.transAxes,
                    ha="center",
                    va="top",
                    fontsize=_FONT["caption"],
                )
        for bottom, label in zip(row_bottoms, ("truth", "estimate\n(mean over runs)")):
            fig.text(
                0.22 / fig_width,
                (bottom + 0.5 * row_height) / fig_height,
                label,
                rotation=90,
                ha="center",
                va="center",
                fontsize=_FONT["row"],
            )

        scatter_bottom = max(1.25, 0.5 * (fig_height - _TOP + _BOTTOM - _SCATTER_SIDE))
        scatter_x = _LEFT + n * _COLUMN_WIDTH + _GAP
        scatter = fig.add_axes(rect(scatter_x, scatter_bottom, _SCATTER_SIDE, _SCATTER_SIDE))
        _draw_scatter(scatter, df, palette)

        handles = [
            Patch(facecolor=colors[0], alpha=ALPHA, label="modality a: D0 + Da"),
            Patch(facecolor=colors[1], alpha=ALPHA, label="modality b: D0 + Db"),
        ]
        fig.legend(
            handles=handles,
            loc="lower left",
            bbox_to_anchor=(_LEFT / fig_width, 0.08 / fig_height),
            ncol=2,
            frameon=False,
            fontsize=8,
        )
        heading = (
            "Venn diagrams of the decisive channels of modalities a and b: truth (top) vs "
            "estimate (bottom)\nareas ∝ channel counts (lens: D0, seen by both), one scale for all"
        )
        fig.suptitle(f"{title}: {heading}" if title else heading, fontsize=11, y=0.99)
