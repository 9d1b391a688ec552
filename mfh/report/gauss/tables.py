"""Tables of a synthetic study: join the per-job accuracy CSVs into one row per setting x run
(`runs.csv`) and summarise them per setting with the paired KD gain and its t interval
(`summary.csv`).

Inputs (accuracies in percent, test set): `settings.csv` (setting, value, gamma, alpha, beta),
`teacher.csv` (setting, run, acc), `nokd.csv` (run, acc; the no-KD student depends only on the
run, so it is shared by every setting) and `kd.csv` (setting, run, acc).
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import stdtrit

from mfh.io import atomic_path

SETTING_COLUMNS = ["setting", "value", "gamma", "alpha", "beta"]
RUNS_COLUMNS = [*SETTING_COLUMNS, "run", "teacher_acc", "nokd_acc", "kd_acc"]
SUMMARY_COLUMNS = [
    *SETTING_COLUMNS,
    "n_runs",
    "teacher_acc",
    "teacher_acc_std",
    "nokd_acc",
    "nokd_acc_std",
    "kd_acc",
    "kd_acc_std",
    "delta_mean",
    "delta_std",
    "delta_ci_low",
    "delta_ci_high",
]
_REQUIRED = {
    "settings": SETTING_COLUMNS,
    "teacher": ["setting", "run", "acc"],
    "nokd": ["run", "acc"],
    "kd": ["setting", "run", "acc"],
}
_CSV_OPTIONS = {"index": False, "float_format": "%.4f", "lineterminator": "\n"}


def t_halfwidth(std: np.ndarray | float, n: np.ndarray | int, confidence: float) -> np.ndarray:
    """Half-width of the Student-t interval of a mean: t_{(1+c)/2, n-1} * std / sqrt(n).

    NaN where n < 2. `stdtrit` is the function behind `scipy.stats.t.ppf`, without the import
    cost of `scipy.stats`.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    n = np.asarray(n, dtype=float)
    dof = np.where(n >= 2, n - 1, np.nan)
    return stdtrit(dof, (1.0 + confidence) / 2.0) * np.asarray(std, dtype=float) / np.sqrt(n)


def check_table(
    frame: pd.DataFrame, columns: Sequence[str], keys: Sequence[str], source
) -> pd.DataFrame:
    """`frame`'s `columns`, in order, after checking that they exist and hold values, that the
    `keys` are integers and that no key repeats; errors name `source` (the file)."""
    columns, keys = list(columns), list(keys)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; has {list(frame.columns)}")
    frame = frame[columns]
    if frame.empty:
        raise ValueError(f"{source}: no rows")
    empty = [c for c in columns if frame[c].isna().any()]
    if empty:
        raise ValueError(f"{source}: missing values in column(s) {empty}")
    for key in keys:
        if not pd.api.types.is_integer_dtype(frame[key]):
            raise ValueError(f"{source}: column {key!r} must hold integers, has {frame[key].dtype}")
    duplicated = frame[keys].duplicated()
    if duplicated.any():
        first = frame.loc[duplicated, keys].iloc[0].to_dict()
        raise ValueError(f"{source}: duplicate rows for {first}")
    return frame


def _check(frame: pd.DataFrame, role: str, source: str) -> pd.DataFrame:
    """The required columns of one input, in order, after checking names, values and keys."""
    columns = _REQUIRED[role]
    return check_table(frame, columns, [c for c in ("setting", "run") if c in columns], source)


def on_grid(indexed: pd.Series, grid: pd.MultiIndex, source, settings_source) -> pd.Series:
    """`indexed` (by setting, run) reordered to `grid`, after checking that it names no setting
    outside the grid and misses no (setting, run) of it; errors name `source`."""
    settings = set(grid.get_level_values("setting"))
    unknown = sorted(set(indexed.index.get_level_values("setting")) - settings)
    if unknown:
        raise ValueError(f"{source}: setting(s) {unknown} not in {settings_source}")
    lacking = grid.difference(indexed.index)
    if len(lacking):
        pairs = [f"(setting {s}, run {r})" for s, r in lacking[:5]]
        more = f" and {len(lacking) - 5} more" if len(lacking) > 5 else ""
        raise ValueError(f"{source}: missing {', '.join(pairs)}{more}")
    return indexed.reindex(grid)


def build_runs(
    settings: pd.DataFrame,
    teacher: pd.DataFrame,
    nokd: pd.DataFrame,
    kd: pd.DataFrame,
    *,
    sources: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per setting x run with the three accuracies, columns `RUNS_COLUMNS`.

    The runs are every run named in any input; each setting of `settings` must have every run in
    `teacher` and `kd`, and every run must be in `nokd`, else ValueError. `sources` names the
    inputs in messages (keys settings/teacher/nokd/kd; default "<key>.csv").
    """
    names = {role: f"{role}.csv" for role in _REQUIRED} | dict(sources or {})
    settings = _check(settings, "settings", names["settings"])
    teacher = _check(teacher, "teacher", names["teacher"])
    nokd = _check(nokd, "nokd", names["nokd"])
    kd = _check(kd, "kd", names["kd"])

    run_ids = sorted(set(teacher["run"]) | set(nokd["run"]) | set(kd["run"]))
    absent = sorted(set(run_ids) - set(nokd["run"]))
    if absent:
        raise ValueError(f"{names['nokd']}: missing run(s) {absent}")
    grid = pd.MultiIndex.from_product(
        [sorted(settings["setting"]), run_ids], names=["setting", "run"]
    )
    accs = {}
    for role, frame in (("teacher", teacher), ("kd", kd)):
        indexed = frame.set_index(["setting", "run"])["acc"]
        accs[f"{role}_acc"] = on_grid(indexed, grid, names[role], names["settings"]).to_numpy()

    runs = grid.to_frame(index=False).assign(**accs)
    runs["nokd_acc"] = runs["run"].map(nokd.set_index("run")["acc"])
    runs = runs.merge(settings, on="setting", how="left", validate="many_to_one")
    return runs[RUNS_COLUMNS].sort_values(["setting", "run"], ignore_index=True)


def summarise(runs: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per setting, columns `SUMMARY_COLUMNS`: means and sample sds (ddof=1) over runs,
    and the paired gain delta = kd_acc - nokd_acc with its Student-t interval at `confidence`.

    With a single run every sd and interval bound is NaN.
    """
    missing = [c for c in RUNS_COLUMNS if c not in runs.columns]
    if missing:
        raise ValueError(f"runs table: missing column(s) {missing}")
    runs = runs.assign(delta=runs["kd_acc"] - runs["nokd_acc"])
    grouped = runs.groupby("setting", sort=True)
    stats = grouped[["teacher_acc", "nokd_acc", "kd_acc", "delta"]].agg(["mean", "std"])
    stats.columns = [
        f"{name}_{stat}" if name == "delta" else name + ("" if stat == "mean" else "_std")
        for name, stat in stats.columns
    ]
    summary = grouped[SETTING_COLUMNS[1:]].first().join(stats).reset_index()
    summary["n_runs"] = grouped.size().to_numpy()
    half = t_halfwidth(summary["delta_std"], summary["n_runs"], confidence)
    summary["delta_ci_low"] = summary["delta_mean"] - half
    summary["delta_ci_high"] = summary["delta_mean"] + half
    return summary[SUMMARY_COLUMNS]


def collect(
    settings_csv: str | os.PathLike,
    teacher_csv: str | os.PathLike,
    nokd_csv: str | os.PathLike,
    kd_csv: str | os.PathLike,
    runs_out: str | os.PathLike,
    summary_out: str | os.PathLike,
    confidence: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the four inputs, write the runs and summary tables atomically, return both.

    The outputs are byte-deterministic: fixed columns and row order, 4 decimals, "\\n" line
    ends, NaN as an empty field.
    """
    paths = {"settings": settings_csv, "teacher": teacher_csv, "nokd": nokd_csv, "kd": kd_csv}
    frames = {role: pd.read_csv(path) for role, path in paths.items()}
    runs = build_runs(**frames, sources={role: str(path) for role, path in paths.items()})
    summary = summarise(runs, confidence)
    for frame, target in ((runs, runs_out), (summary, summary_out)):
        with atomic_path(target) as tmp:
            frame.to_csv(tmp, **_CSV_OPTIONS)
    return runs, summary
