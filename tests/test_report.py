"""Tests of mfh.report.gauss: the runs/summary tables (joins, paired gain, t interval,
validation, byte-deterministic CSVs) and the study figure (a readable, deterministic PNG)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from mfh.errors import DataError
from mfh.report.gauss.tables import build_runs, collect, summarise
from mfh.tables import GAUSS_RUNS, GAUSS_SUMMARY

SETTINGS = pd.DataFrame(
    {
        "setting": [0, 1],
        "value": [0, 10],
        "gamma": [0.0, 1.0],
        "alpha": [1.0, 0.0],
        "beta": [1.0, 0.0],
        "d0": [0, 10],
        "da": [10, 0],
        "db": [10, 0],
    }
)
TEACHER = pd.DataFrame(
    {
        "setting": [1, 1, 1, 0, 0, 0],
        "run": [2, 0, 1, 2, 1, 0],
        "acc": [95.0, 91.0, 93.0, 90.0, 89.0, 88.0],
    }
)
NOKD = pd.DataFrame({"run": [0, 1, 2], "acc": [70.0, 72.0, 74.0]})
# setting 0: deltas 1, 3, 0; setting 1: deltas 5, 4, 6
KD = pd.DataFrame(
    {
        "setting": [0, 0, 0, 1, 1, 1],
        "run": [0, 1, 2, 0, 1, 2],
        "acc": [71.0, 75.0, 74.0, 75.0, 76.0, 80.0],
    }
)


def write_inputs(folder: Path, nokd: pd.DataFrame = NOKD) -> list[Path]:
    paths = [folder / f"{name}.csv" for name in ("settings", "teacher", "nokd", "kd")]
    for frame, path in zip((SETTINGS, TEACHER, nokd, KD), paths):
        frame.to_csv(path, index=False)
    return paths


def test_build_runs_broadcasts_nokd_and_sorts() -> None:
    runs = build_runs(SETTINGS, TEACHER, NOKD, KD)
    assert list(runs.columns) == GAUSS_RUNS.names
    assert list(zip(runs["setting"], runs["run"])) == [
        (0, 0),
        (0, 1),
        (0, 2),
        (1, 0),
        (1, 1),
        (1, 2),
    ]
    assert runs["nokd_acc"].tolist() == [70.0, 72.0, 74.0] * 2
    assert runs["teacher_acc"].tolist() == [88.0, 89.0, 90.0, 91.0, 93.0, 95.0]
    assert runs["kd_acc"].tolist() == KD["acc"].tolist()
    assert runs["value"].tolist() == [0, 0, 0, 10, 10, 10]
    assert runs["gamma"].tolist() == [0.0] * 3 + [1.0] * 3


def test_summarise_paired_delta_and_t_interval_by_hand() -> None:
    summary = summarise(build_runs(SETTINGS, TEACHER, NOKD, KD))
    assert list(summary.columns) == GAUSS_SUMMARY.names
    row = summary.iloc[0]
    assert row["n_runs"] == 3
    assert row["teacher_acc"] == pytest.approx(89.0, abs=1e-9)
    assert row["teacher_acc_std"] == pytest.approx(1.0, abs=1e-9)
    assert row["nokd_acc"] == pytest.approx(72.0, abs=1e-9)
    assert row["nokd_acc_std"] == pytest.approx(2.0, abs=1e-9)
    assert row["kd_acc"] == pytest.approx(220.0 / 3, abs=1e-9)
    # deltas 1, 3, 0: mean 4/3, squared deviations 1/9 + 25/9 + 16/9 = 42/9, sample var 7/3
    mean, std = 4.0 / 3.0, math.sqrt(7.0 / 3.0)
    half = stats.t.ppf(0.975, 2) * std / math.sqrt(3)
    assert half == pytest.approx(4.302652729749462 * math.sqrt(7.0 / 9.0), abs=1e-9)
    assert row["delta_mean"] == pytest.approx(mean, abs=1e-9)
    assert row["delta_std"] == pytest.approx(std, abs=1e-9)
    assert row["delta_ci_low"] == pytest.approx(mean - half, abs=1e-9)
    assert row["delta_ci_high"] == pytest.approx(mean + half, abs=1e-9)
    # setting 1: deltas 5, 4, 6 -> mean 5, sd 1; a 90% interval
    row = summarise(build_runs(SETTINGS, TEACHER, NOKD, KD), confidence=0.9).iloc[1]
    half = stats.t.ppf(0.95, 2) / math.sqrt(3)
    assert (row["delta_mean"], row["delta_std"]) == pytest.approx((5.0, 1.0), abs=1e-9)
    assert (row["delta_ci_low"], row["delta_ci_high"]) == pytest.approx(
        (5 - half, 5 + half), abs=1e-9
    )


def test_single_run_gives_empty_std_and_interval(tmp_path: Path) -> None:
    runs = build_runs(SETTINGS, TEACHER[TEACHER["run"] == 0], NOKD.iloc[:1], KD[KD["run"] == 0])
    summary = summarise(runs)
    assert summary["n_runs"].tolist() == [1, 1]
    for column in ("teacher_acc_std", "delta_std", "delta_ci_low", "delta_ci_high"):
        assert summary[column].isna().all()
    out = tmp_path / "summary.csv"
    GAUSS_SUMMARY.write_frame(out, summary)
    assert out.read_text().splitlines()[1].endswith("1.0000,,,")


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ({"nokd": NOKD.iloc[:2]}, r"nokd\.csv: missing run\(s\) \[2\]"),
        ({"kd": KD.iloc[:-1]}, r"kd\.csv: missing \(setting 1, run 2\)"),
        ({"teacher": TEACHER.drop(columns="acc")}, r"teacher\.csv: missing column\(s\) \['acc'\]"),
        (
            {"settings": SETTINGS.drop(columns="beta")},
            r"settings\.csv: missing column\(s\) \['beta'\]",
        ),
        ({"kd": pd.concat([KD, KD.iloc[:1]])}, r"kd\.csv: duplicate rows"),
        (
            {"teacher": TEACHER.assign(setting=TEACHER["setting"] + 1)},
            r"teacher\.csv: setting\(s\) \[2\]",
        ),
        (
            {"kd": KD.assign(run=KD["run"].astype(float))},
            r"kd\.csv: column 'run' must hold integers",
        ),
    ],
)
def test_build_runs_rejects_bad_inputs(frames: dict[str, pd.DataFrame], message: str) -> None:
    inputs = {"settings": SETTINGS, "teacher": TEACHER, "nokd": NOKD, "kd": KD} | frames
    with pytest.raises(DataError, match=message):
        build_runs(**inputs)


def test_collect_names_the_file_of_a_missing_run(tmp_path: Path) -> None:
    paths = write_inputs(tmp_path, nokd=NOKD.iloc[1:])
    with pytest.raises(DataError, match=rf"{paths[2]}: missing run\(s\) \[0\]"):
        collect(*paths, tmp_path / "runs.csv", tmp_path / "summary.csv")
    assert not (tmp_path / "runs.csv").exists()


def test_collect_is_byte_deterministic(tmp_path: Path) -> None:
    paths = write_inputs(tmp_path)
    outputs = []
    for attempt in ("a", "b"):
        runs_out, summary_out = tmp_path / attempt / "runs.csv", tmp_path / attempt / "summary.csv"
        runs, summary = collect(*paths, runs_out, summary_out)
        outputs.append((runs_out.read_bytes(), summary_out.read_bytes()))
    assert outputs[0] == outputs[1]
    runs_bytes, summary_bytes = outputs[0]
    assert runs_bytes.startswith(
        b"setting,value,gamma,alpha,beta,run,teacher_acc,nokd_acc,kd_acc\n"
    )
    assert b"\n0,0,0.0000,1.0000,1.0000,0,88.0000,70.0000,71.0000\n" in runs_bytes
    assert b"\r" not in runs_bytes + summary_bytes
    assert summary_bytes.splitlines()[0].decode() == ",".join(GAUSS_SUMMARY.names)
    assert pd.read_csv(tmp_path / "a" / "summary.csv")["delta_mean"].tolist() == [1.3333, 5.0]
    assert len(runs) == 6 and len(summary) == 2


def test_plot_study_writes_a_png(tmp_path: Path) -> None:
    from matplotlib import image

    from mfh.report.gauss.figures import plot_from_csv, plot_study

    runs = build_runs(SETTINGS, TEACHER, NOKD, KD)
    out = tmp_path / "fig" / "study.png"
    plot_study(runs, "gamma", out, "test study")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = image.imread(out).shape[:2]
    assert 1000 < width < 3000 and 400 < height < 1500 and width > height
    runs.to_csv(tmp_path / "runs.csv", index=False)
    plot_from_csv(tmp_path / "runs.csv", "gamma", tmp_path / "again.png", "test study")
    assert (tmp_path / "again.png").read_bytes() == data
    assert sorted(p.name for p in tmp_path.rglob("*.png")) == ["again.png", "study.png"]


def test_t_interval_is_scipys_interval_of_the_mean() -> None:
    from mfh.report.stats import t_interval

    values = pd.Series([1.0, 3.0, 0.0])
    expected = stats.t.interval(0.9, 2, loc=values.mean(), scale=stats.sem(values))
    assert t_interval(values, confidence=0.9) == pytest.approx(expected, abs=1e-12)
    assert all(math.isnan(bound) for bound in t_interval(pd.Series([2.0])))
