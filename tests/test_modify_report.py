"""Tests of the gauss_modify report: the runs/summary tables (joins, paired gain, precision, t
interval, validation, byte-deterministic CSVs) and the modify and salience figures (readable,
deterministic PNGs). The Venn estimator's tests are in test_venn_estimate.py."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mfh.errors import DataError
from mfh.report.modify.tables import collect_modify
from mfh.tables import MODIFY_RUNS, MODIFY_SUMMARY, SALIENCE

MODES = ["random", "gt", "alg1"]
# setting 0 has the larger gamma, so the summary puts it second
SETTINGS = pd.DataFrame(
    {
        "setting": [0, 1],
        "xs1": [10, 30],
        "xs2": [30, 10],
        "k": [30, 10],
        "gamma": [0.75, 0.25],
        "alpha": [0.25, 0.75],
        "beta": [0.0, 0.0],
        "d0": [30, 10],
        "da": [10, 30],
        "db": [0, 0],
    }
)
RUNS = [0, 1, 2]


def acc_frame(values: list[float]) -> pd.DataFrame:
    """setting, run, acc for settings 0, 1 x runs 0, 1, 2 (rows shuffled on purpose)."""
    frame = pd.DataFrame(
        {"setting": [0] * 3 + [1] * 3, "run": RUNS * 2, "acc": [float(v) for v in values]}
    )
    return frame.iloc[[5, 0, 3, 1, 4, 2]]


def write_results(root: Path) -> dict[str, Path]:
    """A hand-made results folder; returns the path of every input by a short name."""
    (root / "acc").mkdir(parents=True, exist_ok=True)
    frames = {
        "settings.csv": SETTINGS,
        "acc/teacher.csv": acc_frame([90, 91, 92, 80, 81, 82]),
        "acc/nokd.csv": acc_frame([60, 61, 62, 50, 51, 52]),
        "acc/regular_kd.csv": acc_frame([61, 62, 63, 51, 52, 53]),
    }
    for i, mode in enumerate(MODES):
        frames[f"acc/teacher_{mode}.csv"] = acc_frame([70 + i] * 3 + [65 + i] * 3)
        # gains over regular KD: setting 0 -> i + (0, 1, 2), setting 1 -> -i + (1, 3, 2)
        frames[f"acc/kd_{mode}.csv"] = acc_frame([61 + i, 63 + i, 65 + i, 52 - i, 55 - i, 55 - i])
        kept = acc_frame([0.1 * i] * 6).rename(columns={"acc": "precision_at_k"})
        kept["channels"] = "0 1 2"
        frames[f"kept_{mode}.csv"] = kept
    paths = {}
    for name, frame in frames.items():
        frame.to_csv(root / name, index=False)
        paths[name] = root / name
    return paths


def test_collect_joins_gain_and_precision(tmp_path: Path) -> None:
    write_results(tmp_path / "res")
    runs, summary = collect_modify(
        tmp_path / "res", MODES, tmp_path / "out" / "runs.csv", tmp_path / "out" / "summary.csv"
    )
    assert list(runs.columns) == MODIFY_RUNS.names and len(runs) == 2 * 3 * 3
    assert runs["mode"].tolist()[:9] == ["random"] * 3 + ["gt"] * 3 + ["alg1"] * 3
    row = runs[(runs["setting"] == 1) & (runs["mode"] == "alg1") & (runs["run"] == 1)].iloc[0]
    assert (row["xs1"], row["xs2"], row["gamma"]) == (30, 10, 0.25)
    assert (row["teacher_acc"], row["nokd_acc"], row["regular_kd_acc"]) == (81.0, 51.0, 52.0)
    assert (row["mod_teacher_acc"], row["mod_kd_acc"]) == (67.0, 53.0)
    assert row["gain"] == pytest.approx(1.0) and row["precision_at_k"] == pytest.approx(0.2)
    gains = runs[(runs["setting"] == 0) & (runs["mode"] == "gt")]["gain"]
    assert gains.tolist() == pytest.approx([1.0, 2.0, 3.0])

    assert list(summary.columns) == MODIFY_SUMMARY.names
    assert list(zip(summary["gamma"], summary["mode"])) == [
        (g, m) for g in (0.25, 0.75) for m in MODES
    ]
    first = summary.iloc[0]  # gamma 0.25, random: gains 1, 3, 2
    half = 4.302652729749462 / math.sqrt(3)  # t_{0.975, 2} * sd 1 / sqrt(3)
    assert first["n_runs"] == 3 and first["teacher_acc"] == pytest.approx(81.0)
    assert (first["gain_mean"], first["gain_std"]) == pytest.approx((2.0, 1.0))
    assert (first["gain_ci_low"], first["gain_ci_high"]) == pytest.approx((2 - half, 2 + half))
    assert summary.iloc[5]["mod_kd_acc"] == pytest.approx(65.0)  # gamma 0.75, alg1
    assert summary.iloc[5]["precision_at_k"] == pytest.approx(0.2)


def test_collect_names_the_file_of_a_missing_row(tmp_path: Path) -> None:
    paths = write_results(tmp_path)
    kd = pd.read_csv(paths["acc/kd_gt.csv"])
    kd[~((kd["setting"] == 1) & (kd["run"] == 2))].to_csv(paths["acc/kd_gt.csv"], index=False)
    out = tmp_path / "out"
    message = rf"{paths['acc/kd_gt.csv']}: missing \(setting 1, run 2\)"
    with pytest.raises(DataError, match=message):
        collect_modify(tmp_path, MODES, out / "runs.csv", out / "summary.csv")
    assert not out.exists() or not any(out.iterdir())
    paths["kept_alg1.csv"].unlink()
    with pytest.raises(DataError, match="kept_alg1.csv: no such file"):
        collect_modify(tmp_path, ["alg1"], out / "runs.csv", out / "summary.csv")


def test_collect_is_byte_deterministic(tmp_path: Path) -> None:
    write_results(tmp_path / "res")
    outputs = []
    for attempt in ("a", "b"):
        runs_out, summary_out = tmp_path / attempt / "runs.csv", tmp_path / attempt / "summary.csv"
        collect_modify(tmp_path / "res", MODES, runs_out, summary_out)
        outputs.append(runs_out.read_bytes() + summary_out.read_bytes())
    assert outputs[0] == outputs[1] and b"\r" not in outputs[0]
    runs_text = (tmp_path / "a" / "runs.csv").read_text()
    assert runs_text.startswith(",".join(MODIFY_RUNS.names) + "\n")
    assert "\n0,10,30,0.7500,random,0,90.0000,70.0000,60.0000,61.0000,61.0000,0.0000,0.0000\n" in (
        runs_text
    )


def clean_salience(rng: np.random.Generator, n_shared: int, n_a: int, n_noise: int) -> np.ndarray:
    """Shared channels near 1, a-only near 0.1, noise near 0, with small jitter."""
    return np.r_[
        1.0 - rng.uniform(0, 0.01, n_shared),
        0.1 + rng.uniform(-0.005, 0.005, n_a),
        rng.uniform(0, 0.005, n_noise),
    ]


def write_salience(root: Path, settings: list[tuple[int, int]], runs: int) -> tuple[Path, Path]:
    """salience.csv and settings.csv. The generator's shared / decisive columns of salience.csv
    are all 0, not the truth: an estimator that read them would fail."""
    rng = np.random.default_rng(0)
    rows = []
    for setting, (xs1, xs2) in enumerate(settings):
        for run in range(runs):
            raw = clean_salience(rng, xs2, xs1, 50 - xs1 - xs2)
            norm = (raw - raw.min()) / (raw.max() - raw.min())
            rows += [(setting, run, c, s, r, 0, 0) for c, (s, r) in enumerate(zip(norm, raw))]
    table = pd.DataFrame(
        {
            "setting": range(len(settings)),
            "xs1": [xs1 for xs1, _ in settings],
            "xs2": [xs2 for _, xs2 in settings],
            "k": [xs2 for _, xs2 in settings],
            "gamma": [xs2 / (xs1 + xs2) for xs1, xs2 in settings],
            "alpha": [xs1 / (xs1 + xs2) for xs1, xs2 in settings],
            "beta": 0.0,
            "d0": [xs2 for _, xs2 in settings],
            "da": [xs1 for xs1, _ in settings],
            "db": [0 for _ in settings],
        }
    )
    paths = root / "salience.csv", root / "settings.csv"
    SALIENCE.write(paths[0], rows)
    table.to_csv(paths[1], index=False)
    return paths


def test_figures_write_deterministic_pngs(tmp_path: Path) -> None:
    from matplotlib import image

    from mfh.report.modify.figures import plot_modify, plot_salience

    write_results(tmp_path / "res")
    collect_modify(tmp_path / "res", MODES, tmp_path / "runs.csv", tmp_path / "summary.csv")
    plot_modify(tmp_path / "runs.csv", tmp_path / "fig" / "modify.png")
    plot_modify(tmp_path / "runs.csv", tmp_path / "fig" / "again.png")
    assert (tmp_path / "fig" / "modify.png").read_bytes() == (
        tmp_path / "fig" / "again.png"
    ).read_bytes()

    salience_csv, settings_csv = write_salience(tmp_path, [(30, 10), (10, 30)], runs=2)
    salience = pd.read_csv(salience_csv)
    xs2 = salience["setting"].map({0: 10, 1: 30})
    salience["shared"] = (salience["channel"] < xs2).astype(int)
    salience["decisive"] = (salience["channel"] < 40).astype(int)
    salience.to_csv(salience_csv, index=False)
    plot_salience(salience_csv, settings_csv, tmp_path / "fig" / "salience.png")

    for name in ("modify.png", "salience.png"):
        path = tmp_path / "fig" / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        height, width = image.imread(path).shape[:2]
        assert 600 < width < 3500 and 300 < height < 2000 and width > height, name
    assert sorted(p.name for p in (tmp_path / "fig").iterdir()) == [
        "again.png",
        "modify.png",
        "salience.png",
    ]
