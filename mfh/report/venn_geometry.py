"""The geometry of an area-proportional two-set Venn diagram: two circles whose areas are the
sizes of the sets and whose overlap (a lens) has the area of their intersection.

Circle a sits at the origin, circle b at (d, 0); `centre_distance` finds the d that gives the
wanted overlap, and `region_label_spots` says where on the x axis each of the three regions
(a only, both, b only) is widest, so that a count can be written inside it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

# bisection halves [lo, hi] this many times: far below float resolution for any diagram size
_BISECTION_STEPS = 200
# an overlap this close (relative) to the smaller area counts as the smaller circle inside
_CONTAINED_RTOL = 1e-9
# a region narrower than this (relative to r1 + r2) on the x axis is empty
_EMPTY_RTOL = 1e-9


def radius_of_area(area: float) -> float:
    """The radius of a circle of `area` (>= 0)."""
    if not area >= 0:  # also rejects NaN
        raise ValueError(f"a circle's area must be >= 0, got {area}")
    return math.sqrt(area / math.pi)


def lens_area(r1: float, r2: float, d: float) -> float:
    """The area of the intersection of two circles of radii `r1`, `r2` (>= 0) whose centres are
    `d` (>= 0) apart: 0 when they are apart or touch outside, the smaller disc when it lies
    inside the larger, else the sum of the two circular segments."""
    if not (r1 >= 0 and r2 >= 0 and d >= 0):
        raise ValueError(f"radii and distance must be >= 0, got r1={r1}, r2={r2}, d={d}")
    if d >= r1 + r2:
        return 0.0
    if d <= abs(r1 - r2):
        return math.pi * min(r1, r2) ** 2
    # half-angles of the two segments, from the law of cosines; clipped against rounding
    cos1 = min(1.0, max(-1.0, (d * d + r1 * r1 - r2 * r2) / (2 * d * r1)))
    cos2 = min(1.0, max(-1.0, (d * d + r2 * r2 - r1 * r1) / (2 * d * r2)))
    kite = (-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)
    return r1 * r1 * math.acos(cos1) + r2 * r2 * math.acos(cos2) - 0.5 * math.sqrt(max(kite, 0.0))


def centre_distance(area_a: float, area_b: float, overlap: float) -> float:
    """The distance between the centres of two circles of areas `area_a` and `area_b` whose
    lens has area `overlap`, by bisection of `lens_area` (which falls as the circles move
    apart). Overlap 0: the circles touch (d = r_a + r_b; a zero-area circle is a point on the
    other's edge). Overlap = the smaller area: the smaller circle lies inside the larger,
    touching it (d = |r_a - r_b|)."""
    for name, value in (("area_a", area_a), ("area_b", area_b), ("overlap", overlap)):
        if not value >= 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    smaller = min(area_a, area_b)
    if overlap > smaller * (1 + _CONTAINED_RTOL):
        raise ValueError(f"overlap {overlap} exceeds the smaller area {smaller}")
    r1, r2 = radius_of_area(area_a), radius_of_area(area_b)
    if overlap == 0:
        return r1 + r2
    if overlap >= smaller * (1 - _CONTAINED_RTOL):
        return abs(r1 - r2)
    lo, hi = abs(r1 - r2), r1 + r2  # lens_area(lo) = smaller > overlap > 0 = lens_area(hi)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if lens_area(r1, r2, mid) > overlap:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


class LabelSpot(NamedTuple):
    """Where a region is widest on the x axis: the centre `x` of that stretch, its `width`, and
    the region's height at `x`; a label of at most width x height fits there."""

    x: float
    width: float
    height: float


def _chord(r: float, centre: float, x: float) -> float:
    """The height of the circle of radius `r` centred at (`centre`, 0) at abscissa `x`."""
    return 2.0 * math.sqrt(max(r * r - (x - centre) ** 2, 0.0))


def region_label_spots(r1: float, r2: float, d: float) -> dict[str, LabelSpot]:
    """For circle a (radius `r1`, at the origin) and circle b (radius `r2`, at (`d`, 0)), the
    label spot of each non-empty region: "a_only", "both" and "b_only". For circles placed by
    `centre_distance` each region meets the x axis in one interval, where it is widest; its
    height there is that of the circle(s) bounding it."""
    intervals = {
        "a_only": (-r1, min(r1, d - r2)),
        "both": (max(-r1, d - r2), min(r1, d + r2)),
        "b_only": (max(r1, d - r2), d + r2),
    }
    spots = {}
    for region, (left, right) in intervals.items():
        if right - left <= _EMPTY_RTOL * (r1 + r2):  # rounding leaves touching circles a sliver
            continue
        x = 0.5 * (left + right)
        if region == "a_only":
            height = _chord(r1, 0.0, x)
        elif region == "b_only":
            height = _chord(r2, d, x)
        else:
            height = min(_chord(r1, 0.0, x), _chord(r2, d, x))
        spots[region] = LabelSpot(x, right - left, height)
    return spots
