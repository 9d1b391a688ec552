"""Tests of the Venn figure: the two-circle geometry (`mfh.report.venn_geometry`: lens areas,
the centre distance that gives an overlap, where the regions are widest), the drawing of one
diagram (which counts fit in their regions) and `plot_venn` (a deterministic PNG from the Venn
table, with Db > 0, Db = 0, empty estimates and NaN gammas; a clear error for a bad table)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from mfh.report.venn import REQUIRED_COLUMNS, plot_venn
from mfh.report.venn_diagram import VennDiagram, draw_venn_diagram
from mfh.report.venn_geometry import (
    centre_distance,
    lens_area,
    radius_of_area,
    region_label_spots,
)

NAN = math.nan


def test_lens_area_known_values() -> None:
    assert lens_area(1.5, 1.5, 0.0) == pytest.approx(math.pi * 1.5**2)
    assert lens_area(2.0, 1.0, 0.5) == pytest.approx(math.pi)  # the small circle inside
    assert lens_area(2.0, 1.0, 3.0) == 0.0  # touching outside
    assert lens_area(2.0, 1.0, 7.0) == 0.0
    assert lens_area(0.0, 1.0, 0.5) == 0.0
    assert lens_area(1.0, 1.0, 1.0) == pytest.approx(2 * math.pi / 3 - math.sqrt(3) / 2)
    # unit circles sqrt(2) apart: two segments of a quarter circle minus a right triangle
    assert lens_area(1.0, 1.0, math.sqrt(2)) == pytest.approx(2 * (math.pi / 4 - 0.5))
    # the lens shrinks as the circles move apart
    areas = [lens_area(3.0, 2.0, d) for d in (1.0, 1.5, 2.5, 4.0, 4.9)]
    assert areas == sorted(areas, reverse=True) and areas[-1] > 0


def test_lens_area_rejects_negative_input() -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        lens_area(-1.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="must be >= 0"):
        lens_area(1.0, 1.0, NAN)


@pytest.mark.parametrize(
    "area_a, area_b, overlap",
    [
        (10.0, 10.0, 5.0),
        (40.0, 25.0, 20.0),
        (25.0, 40.0, 1.0),
        (30.0, 10.0, 9.99),
        (1e-3, 50.0, 5e-4),
        (30.0, 10.0, 0.0),  # touching
        (0.0, 12.0, 0.0),  # a zero-area circle on the edge of the other
        (30.0, 10.0, 10.0),  # b inside a
        (10.0, 30.0, 10.0),  # a inside b
        (7.0, 7.0, 7.0),  # the same circle
        (0.0, 0.0, 0.0),
    ],
)
def test_centre_distance_round_trips_lens_area(area_a, area_b, overlap) -> None:
    r_a, r_b = radius_of_area(area_a), radius_of_area(area_b)
    d = centre_distance(area_a, area_b, overlap)
    assert abs(r_a - r_b) - 1e-12 <= d <= r_a + r_b + 1e-12
    assert lens_area(r_a, r_b, d) == pytest.approx(overlap, rel=1e-9, abs=1e-12)
    if overlap == 0:
        assert d == pytest.approx(r_a + r_b)
    if overlap == min(area_a, area_b):
        assert d == pytest.approx(abs(r_a - r_b))


def test_centre_distance_rejects_impossible_overlaps() -> None:
    with pytest.raises(ValueError, match="exceeds the smaller area 10"):
        centre_distance(30.0, 10.0, 10.5)
    with pytest.raises(ValueError, match="area_b must be >= 0"):
        centre_distance(3.0, -1.0, 0.0)
    with pytest.raises(ValueError, match="overlap must be >= 0"):
        centre_distance(3.0, 1.0, NAN)


def test_region_label_spots_lie_in_their_regions() -> None:
    r_a, r_b = radius_of_area(30.0), radius_of_area(25.0)
    d = centre_distance(30.0, 25.0, 10.0)
    spots = region_label_spots(r_a, r_b, d)
    assert set(spots) == {"a_only", "both", "b_only"}
    assert -r_a < spots["a_only"].x < d - r_b  # in a, left of b
    assert d - r_b < spots["both"].x < r_a  # in both
    assert r_a < spots["b_only"].x < d + r_b  # in b, right of a
    assert all(spot.width > 0 and spot.height > 0 for spot in spots.values())
    # b inside a (Db = 0): no b-only region; touching circles (D0 = 0): no lens
    r_small = radius_of_area(10.0)
    assert set(region_label_spots(r_a, r_small, r_a - r_small)) == {"a_only", "both"}
    assert set(region_label_spots(r_a, r_b, r_a + r_b)) == {"a_only", "b_only"}


def test_counts_too_small_for_their_region_go_to_the_caption() -> None:
    import matplotlib.pyplot as plt

    diagram = VennDiagram(
        {"D0": 28.4, "Da": 11.2, "Db": 0.4}, {"D0": 1.2, "Da": 0.9, "Db": 0.5}, decimals=1
    )
    fig, ax = plt.subplots(figsize=(4, 4))
    try:
        ax.set(xlim=(-3, 3), ylim=(-3, 3))  # 1.5 units to the inch, if the axes filled it
        unlabelled = draw_venn_diagram(ax, diagram, units_per_inch=1.5, colors=((1, 0, 0),) * 2)
        texts = sorted(text.get_text() for text in ax.texts)
    finally:
        plt.close(fig)
    assert unlabelled == ["Db = 0.4 ± 0.5"]
    assert texts == ["11.2\n± 0.9", "28.4\n± 1.2", "a", "b"]


def venn_row(setting: int, true: tuple, est: tuple, sds: tuple, n_runs: int = 4) -> dict:
    """One row of the Venn table from the true and estimated (D0, Da, Db) and their sds."""

    def shares(d0, da, db):
        def ratio(top, bottom):
            return top / bottom if bottom else NAN

        return ratio(d0, d0 + da + db), ratio(da, da + d0), ratio(db, db + d0)

    gamma, alpha, beta = shares(*true)
    gamma_est, alpha_est, beta_est = shares(*est)
    sd = dict(zip(("d0", "da", "db", "gamma", "alpha", "beta", "gamma_mass"), sds))
    return {
        "setting": setting,
        **dict(zip(("d0_true", "da_true", "db_true"), true)),
        **{"gamma_true": gamma, "alpha_true": alpha, "beta_true": beta},
        **dict(zip(("d0_est", "da_est", "db_est"), est)),
        **{"gamma_est": gamma_est, "alpha_est": alpha_est, "beta_est": beta_est},
        "gamma_mass": gamma_est + 0.02 if gamma_est == gamma_est else NAN,
        **{f"{name}_std": value for name, value in sd.items()},
        "n_runs": n_runs,
        "gamma_error": gamma_est - gamma,
    }


def venn_table() -> pd.DataFrame:
    rows = [
        venn_row(0, (20, 10, 25), (18.2, 11.0, 21.3), (1.1, 1.0, 2.2, 0.04, 0.03, 0.05, 0.03)),
        venn_row(1, (30, 10, 0), (28.4, 11.2, 0.4), (1.2, 0.9, 0.5, 0.03, 0.02, 0.01, 0.02)),
        venn_row(2, (5, 20, 15), (0.0, 0.0, 0.0), (0.0,) * 3 + (NAN,) * 4),  # NaN gammas
        venn_row(3, (15, 15, 5), (14.0, 16.1, 4.2), (NAN,) * 7, n_runs=1),
    ]
    return pd.DataFrame(rows)


def test_plot_venn_writes_a_deterministic_png(tmp_path: Path) -> None:
    from matplotlib import image

    table = venn_table()
    assert list(table.columns) == list(REQUIRED_COLUMNS)
    assert table["gamma_est"].isna().sum() == 1 and (table["db_true"] == 0).sum() == 1
    first, again = tmp_path / "fig" / "venn.png", tmp_path / "again.png"
    plot_venn(table, first, title="gauss_venn")
    plot_venn(table.iloc[::-1], again, title="gauss_venn")  # row order does not matter
    assert first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert first.read_bytes() == again.read_bytes()
    height, width = image.imread(first).shape[:2]
    assert 1200 < width < 3500 and 700 < height < 1400
    plot_venn(table, again)  # no title: a different suptitle, so different bytes
    assert first.read_bytes() != again.read_bytes()


def test_plot_venn_draws_a_single_setting(tmp_path: Path) -> None:
    plot_venn(venn_table().iloc[[2]], tmp_path / "one.png")
    assert (tmp_path / "one.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_venn_rejects_bad_tables(tmp_path: Path) -> None:
    table = venn_table()
    with pytest.raises(ValueError, match=r"missing column\(s\) \['db_est', 'gamma_mass'\]"):
        plot_venn(table.drop(columns=["gamma_mass", "db_est"]), tmp_path / "x.png")
    with pytest.raises(ValueError, match="no rows"):
        plot_venn(table.iloc[:0], tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"da_est is negative or NaN for setting\(s\) \[1, 3\]"):
        plot_venn(table.assign(da_est=[1.0, -1.0, 0.0, NAN]), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
