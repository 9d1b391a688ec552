"""One area-proportional Venn diagram of two sets drawn on a matplotlib axes: circle a holds
D0 + Da items, circle b holds D0 + Db, their lens D0 (geometry: `mfh.report.venn_geometry`),
with the set names and each region's count written inside it when it fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.patches import Circle

from mfh.report.venn_geometry import centre_distance, radius_of_area, region_label_spots

ALPHA = 0.45  # of each circle's fill; the lens shows both
LABEL_FONTSIZE = 8.0
SET_FONTSIZE = 9.5
# region (from `region_label_spots`) -> the count written in it
REGION_COUNTS = {"a_only": "Da", "both": "D0", "b_only": "Db"}


def format_number(value: float, decimals: int, sd: float = math.nan) -> str:
    """`value` with `decimals` decimals, "± sd" when sd is given and finite; "n/a" for NaN."""
    if not math.isfinite(value):
        return "n/a"
    text = f"{value:.{decimals}f}"
    return f"{text} ± {sd:.{decimals}f}" if math.isfinite(sd) else text


@dataclass(frozen=True)
class VennDiagram:
    """One Venn diagram: the counts "D0", "Da", "Db", their sd over runs (NaN: none, as for the
    truth) and the decimals to write them with. Circle a (radius `radii[0]`) sits at the origin
    and circle b (`radii[1]`) at (`distance`, 0); `draw_venn_diagram` shifts both so that their
    union is centred on x = 0."""

    counts: dict[str, float]
    sds: dict[str, float]
    decimals: int

    @property
    def radii(self) -> tuple[float, float]:
        c = self.counts
        return radius_of_area(c["D0"] + c["Da"]), radius_of_area(c["D0"] + c["Db"])

    @property
    def distance(self) -> float:
        c = self.counts
        return centre_distance(c["D0"] + c["Da"], c["D0"] + c["Db"], c["D0"])

    @property
    def extent(self) -> tuple[float, float]:
        """The left and right end of the union of the two circles (circle a at the origin)."""
        (r_a, r_b), d = self.radii, self.distance
        return min(-r_a, d - r_b), max(r_a, d + r_b)

    def label(self, count: str, sep: str = "\n") -> str:
        """The text of `count` ("D0", "Da" or "Db"): value, then `sep` and "± sd" if known."""
        value = format_number(self.counts[count], self.decimals)
        sd = self.sds[count]
        return f"{value}{sep}± {sd:.{self.decimals}f}" if math.isfinite(sd) else value


def text_fits(
    text: str, fontsize: float, width: float, height: float, units_per_inch: float
) -> bool:
    """Whether `text` at `fontsize` points (about 0.6 em a character, 1.25 em a line) fits with
    a margin in `width` x `height` data units, `units_per_inch` of them to the inch."""
    lines = text.split("\n")
    text_width = max(map(len, lines)) * 0.6 * fontsize / 72 * units_per_inch
    text_height = len(lines) * 1.25 * fontsize / 72 * units_per_inch
    return 1.3 * text_width <= width and 1.1 * text_height <= height


def draw_venn_diagram(ax: Axes, diagram: VennDiagram, units_per_inch: float, colors) -> list[str]:
    """Draw `diagram` on `ax`, whose limits are already set at `units_per_inch` data units to the
    inch, filling circles a and b with `colors` (two RGB tuples); name the sets and write each
    non-zero count in its region when it fits there. Return the counts that did not fit
    ("Db = 0.4 ± 0.5"), for the caption."""
    (r_a, r_b), d = diagram.radii, diagram.distance
    left, right = diagram.extent
    shift = -0.5 * (left + right)
    if r_a == 0 and r_b == 0:
        ax.text(0, 0, "no decisive\nchannel", ha="center", va="center", fontsize=LABEL_FONTSIZE)
    for name, radius, x, color, angle in (
        ("a", r_a, 0.0, colors[0], 125),
        ("b", r_b, d, colors[1], 55),
    ):
        if radius == 0:
            continue
        edge = tuple(0.6 * channel for channel in color)
        ax.add_patch(Circle((x + shift, 0), radius, facecolor=color, alpha=ALPHA, edgecolor="none"))
        ax.add_patch(Circle((x + shift, 0), radius, facecolor="none", edgecolor=edge, lw=1.2))
        tip = (
            x + shift + 1.04 * radius * math.cos(math.radians(angle)),
            1.04 * radius * math.sin(math.radians(angle)),
        )
        ax.text(
            *tip,
            name,
            ha="right" if name == "a" else "left",
            va="bottom",
            color=edge,
            fontsize=SET_FONTSIZE,
            fontweight="bold",
        )
    spots = region_label_spots(r_a, r_b, d)
    unlabelled = []
    for region, count in REGION_COUNTS.items():
        if not diagram.counts[count] > 0:
            continue
        text = diagram.label(count)
        spot = spots.get(region)
        if spot and text_fits(text, LABEL_FONTSIZE, spot.width, spot.height, units_per_inch):
            ax.text(
                spot.x + shift,
                0,
                text,
                ha="center",
                va="center",
                fontsize=LABEL_FONTSIZE,
                linespacing=1.0,
            )
        else:
            unlabelled.append(f"{count} = {diagram.label(count, sep=' ')}")
    ax.set_axis_off()
    return unlabelled
