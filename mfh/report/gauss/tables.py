"""Tables of gauss_gamma and gauss_alpha: join the per-job accuracy CSVs into one row per
setting x run (`runs.csv`, table GAUSS_RUNS) and summarise them per setting with the paired KD
gain and its t interval (`summary.csv`, GAUSS_SUMMARY).

Inputs (`mfh.tables`): `settings.csv` (GAUSS_SETTINGS), `teacher.csv` and `kd.csv`
(ACC_BY_SETTING), `nokd.csv` (ACC_BY_RUN where the no-KD student depends only on the run and is
shared by every setting, as in the reference studies; ACC_BY_SETTING where x_b changes with the
setting, generator venn).
"""

from __future__ import annotations

import os
from typing import Mapping

import pandas as pd

from mfh.errors import DataError
from mfh.report.stats import t_halfwidth
from mfh.table_io import read_frame_as_any
from mfh.tables import ACC_BY_RUN, ACC_BY_SETTING, GAUSS_RUNS, GAUSS_SETTINGS, GAUSS_SUMMARY

_INPUTS = {
    "settings": GAUSS_SETTINGS,
    "teacher": ACC_BY_SETTING,
    "nokd": ACC_BY_RUN,
    "kd": ACC_BY_SETTING,
}
_SETTING_COLUMNS = ["value", "gamma", "alpha", "beta"]


def on_grid(indexed: pd.Series, grid: pd.MultiIndex, source, settings_source) -> pd.Series:
    """`indexed` (by setting, run) reordered to `grid`, after checking that it names no setting
    outside the grid and misses no (setting, run) of it; errors name `source`."""
    settings = set(grid.get_level_values("setting"))
    unknown = sorted(set(indexed.index.get_level_values("setting")) - settings)
    if unknown:
        raise DataError(f"{source}: setting(s) {unknown} not in {settings_source}")
    lacking = grid.difference(indexed.index)
    if len(lacking):
        pairs = [f"(setting {s}, run {r})" for s, r in lacking[:5]]
        more = f" and {len(lacking) - 5} more" if len(lacking) > 5 else ""
        raise DataError(f"{source}: missing {', '.join(pairs)}{more}")
    return indexed.reindex(grid)


def build_runs(
    settings: pd.DataFrame,
    teacher: pd.DataFrame,
    nokd: pd.DataFrame,
    kd: pd.DataFrame,
    *,
    sources: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per setting x run with the three accuracies (table GAUSS_RUNS).

    The runs are every run named in any input; each setting of `settings` must have every run in
    `teacher` and `kd`, and every run must be in `nokd`, else DataError. `sources` names the
    inputs in messages (keys settings/teacher/nokd/kd; default "<key>.csv").
    """
    names = {role: f"{role}.csv" for role in _INPUTS} | dict(sources or {})
    settings = GAUSS_SETTINGS.check_frame(settings, names["settings"])
    teacher = ACC_BY_SETTING.check_frame(teacher, names["teacher"])
    by_setting = "setting" in nokd.columns
    nokd = (ACC_BY_SETTING if by_setting else ACC_BY_RUN).check_frame(nokd, names["nokd"])
    kd = ACC_BY_SETTING.check_frame(kd, names["kd"])

    run_ids = sorted(set(teacher["run"]) | set(nokd["run"]) | set(kd["run"]))
    absent = sorted(set(run_ids) - set(nokd["run"]))
    if absent:
        raise DataError(f"{names['nokd']}: missing run(s) {absent}")
    grid = pd.MultiIndex.from_product(
        [sorted(settings["setting"]), run_ids], names=["setting", "run"]
    )
    accs = {}
    for role, frame in (("teacher", teacher), ("kd", kd)) + (
        (("nokd", nokd),) if by_setting else ()
    ):
        indexed = frame.set_index(["setting", "run"])["acc"]
        accs[f"{role}_acc"] = on_grid(indexed, grid, names[role], names["settings"]).to_numpy()

    runs = grid.to_frame(index=False).assign(**accs)
    if not by_setting:
        runs["nokd_acc"] = runs["run"].map(nokd.set_index("run")["acc"])
    runs = runs.merge(
        settings[["setting", *_SETTING_COLUMNS]], on="setting", how="left", validate="many_to_one"
    )
    return runs[GAUSS_RUNS.names].sort_values(["setting", "run"], ignore_index=True)


def summarise(runs: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per setting (table GAUSS_SUMMARY): means and sample sds (ddof=1) over runs, and
    the paired gain delta = kd_acc - nokd_acc with its Student-t interval at `confidence`.

    With a single run every sd and interval bound is NaN.
    """
    runs = GAUSS_RUNS.check_frame(runs, "runs table")
    runs = runs.assign(delta=runs["kd_acc"] - runs["nokd_acc"])
    grouped = runs.groupby("setting", sort=True)
    stats = grouped[["teacher_acc", "nokd_acc", "kd_acc", "delta"]].agg(["mean", "std"])
    stats.columns = [
        f"{name}_{stat}" if name == "delta" else name + ("" if stat == "mean" else "_std")
        for name, stat in stats.columns
    ]
    summary = grouped[_SETTING_COLUMNS].first().join(stats).reset_index()
    summary["n_runs"] = grouped.size().to_numpy()
    half = t_halfwidth(summary["delta_std"], summary["n_runs"], confidence)
    summary["delta_ci_low"] = summary["delta_mean"] - half
    summary["delta_ci_high"] = summary["delta_mean"] + half
    return summary[GAUSS_SUMMARY.names]


def collect(
    settings_csv: str | os.PathLike,
    teacher_csv: str | os.PathLike,
    nokd_csv: str | os.PathLike,
    kd_csv: str | os.PathLike,
    runs_out: str | os.PathLike,
    summary_out: str | os.PathLike,
    confidence: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the four inputs, write the runs and summary tables (`mfh.table_io`: atomic,
    byte-deterministic), return both."""
    paths = {"settings": settings_csv, "teacher": teacher_csv, "nokd": nokd_csv, "kd": kd_csv}
    frames = {
        role: _INPUTS[role].read_frame(path) for role, path in paths.items() if role != "nokd"
    }
    frames["nokd"] = read_frame_as_any(nokd_csv, (ACC_BY_RUN, ACC_BY_SETTING))
    runs = build_runs(**frames, sources={role: str(path) for role, path in paths.items()})
    summary = summarise(runs, confidence)
    GAUSS_RUNS.write_frame(runs_out, runs)
    GAUSS_SUMMARY.write_frame(summary_out, summary)
    return runs, summary
