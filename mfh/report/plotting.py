"""What every figure of the report shares: the Agg backend, the seaborn style, the resolution,
and a figure that is saved atomically as a reproducible PNG (`mfh.io.save_png`: the same data
and matplotlib version give the same bytes) and closed even when drawing fails."""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mfh.io import save_png  # noqa: E402

DPI = 150


@contextlib.contextmanager
def figure(
    out_png: str | os.PathLike, *, style: str = "whitegrid", font_scale: float = 0.85, **kwargs
) -> Iterator[Figure]:
    """A new figure (`plt.figure(**kwargs)`) drawn in seaborn's `style` and "notebook" context
    at `font_scale`; saved to `out_png` when the block ends without an error, closed always."""
    with sns.axes_style(style), sns.plotting_context("notebook", font_scale=font_scale):
        fig = plt.figure(**kwargs)
        try:
            yield fig
            save_png(fig, out_png, DPI)
        finally:
            plt.close(fig)


def legend_below(ax, ncol: int = 2, title: str | None = None) -> None:
    """Move the legend of `ax` under it, centred, without a frame."""
    sns.move_legend(
        ax, "upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol, title=title, frameon=False
    )
