"""Tables of the study gauss_modify (paper Table 2): join the per-job accuracy CSVs into one row
per setting x mode x run (`runs.csv`) and summarise them per setting x mode with the paired gain
of the modified-teacher student over the regular-KD student and its t interval (`summary.csv`).

Inputs, all under the study's results folder (accuracies in percent, test set):

- `settings.csv`: setting, xs1, xs2, k, gamma, alpha, beta;
- `acc/teacher.csv`, `acc/nokd.csv`, `acc/regular_kd.csv`: setting, run, acc (the regular teacher
  on x_a, the no-KD student and the regular-KD student on x_b; shared by every mode);
- for each mode (random / gt / alg1): `acc/teacher_<mode>.csv` and `acc/kd_<mode>.csv` (setting,
  run, acc: the teacher restricted to k channels of x_a and its KD student) and `kept_<mode>.csv`
  (setting, run, precision_at_k, channels).

The gain of a run is mod_kd_acc - regular_kd_acc: both students see the same x_b and differ only
in their teacher, so the difference is paired within a run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import pandas as pd

from mfh.io import atomic_path
from mfh.report.tables import check_table, on_grid, t_halfwidth

SETTING_COLUMNS = ["setting", "xs1", "xs2", "k", "gamma", "alpha", "beta"]
RUNS_COLUMNS = [
    "setting",
    "xs1",
    "xs2",
    "gamma",
    "mode",
    "run",
    "teacher_acc",
    "mod_teacher_acc",
    "nokd_acc",
    "regular_kd_acc",
    "mod_kd_acc",
    "gain",
    "precision_at_k",
]
SUMMARY_COLUMNS = [
    "gamma",
    "xs1",
    "xs2",
    "mode",
    "n_runs",
    "teacher_acc",
    "mod_teacher_acc",
    "nokd_acc",
    "regular_kd_acc",
    "mod_kd_acc",
    "gain_mean",
    "gain_std",
    "gain_ci_low",
    "gain_ci_high",
    "precision_at_k",
]
# column of runs.csv -> (file under the results folder, its value column); mode-independent
# inputs first, then the per-mode ones ({mode} filled in)
_SHARED_INPUTS = {
    "teacher_acc": ("acc/teacher.csv", "acc"),
    "nokd_acc": ("acc/nokd.csv", "acc"),
    "regular_kd_acc": ("acc/regular_kd.csv", "acc"),
}
_MODE_INPUTS = {
    "mod_teacher_acc": ("acc/teacher_{mode}.csv", "acc"),
    "mod_kd_acc": ("acc/kd_{mode}.csv", "acc"),
    "precision_at_k": ("kept_{mode}.csv", "precision_at_k"),
}
_MEANS = [
    "teacher_acc",
    "mod_teacher_acc",
    "nokd_acc",
    "regular_kd_acc",
    "mod_kd_acc",
    "precision_at_k",
]
_CSV_OPTIONS = {"index": False, "float_format": "%.4f", "lineterminator": "\n"}


def _read(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """The `columns` of the CSV at `path`, after checking names, values and integer keys."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    keys = [c for c in ("setting", "run") if c in columns]
    return check_table(pd.read_csv(path), columns, keys, path)


def _values_on_grid(path: Path, column: str, grid: pd.MultiIndex, settings_path: Path) -> pd.Series:
    """`column` of the (setting, run) file at `path`, one value per entry of `grid` (in order)."""
    indexed = _read(path, ["setting", "run", column]).set_index(["setting", "run"])[column]
    values = on_grid(indexed, grid, path, settings_path).to_numpy(dtype=float)
    return pd.Series(values, index=grid, name=column)


def build_modify_runs(results_dir: str | os.PathLike, modes: Sequence[str]) -> pd.DataFrame:
    """One row per setting x mode x run, columns `RUNS_COLUMNS`, sorted by setting, mode (in the
    order of `modes`) and run.

    The runs are every run named in any accuracy or kept file; each setting of settings.csv must
    have every run in every file, else ValueError naming the file and the missing pairs.
    """
    modes = list(modes)
    if not modes or len(set(modes)) != len(modes):
        raise ValueError(f"modes must be a non-empty list without repeats, got {modes}")
    root = Path(results_dir)
    settings_path = root / "settings.csv"
    settings = _read(settings_path, SETTING_COLUMNS).sort_values("setting", ignore_index=True)

    paths = {name: root / pattern for name, (pattern, _) in _SHARED_INPUTS.items()}
    paths |= {
        (name, mode): root / pattern.format(mode=mode)
        for mode in modes
        for name, (pattern, _) in _MODE_INPUTS.items()
    }
    run_ids: set[int] = set()
    for path in paths.values():
        run_ids |= set(_read(path, ["setting", "run"])["run"])
    grid = pd.MultiIndex.from_product(
        [settings["setting"].tolist(), sorted(run_ids)], names=["setting", "run"]
    )

    def values(key: str | tuple[str, str], column: str) -> pd.Series:
        return _values_on_grid(paths[key], column, grid, settings_path)

    shared = {name: values(name, column) for name, (_, column) in _SHARED_INPUTS.items()}
    blocks = []
    for mode in modes:
        block = grid.to_frame(index=False).assign(mode=mode)
        for name, series in shared.items():
            block[name] = series.to_numpy()
        for name, (_, column) in _MODE_INPUTS.items():
            block[name] = values((name, mode), column).to_numpy()
        blocks.append(block)
    runs = pd.concat(blocks, ignore_index=True)
    runs["gain"] = runs["mod_kd_acc"] - runs["regular_kd_acc"]
    runs = runs.merge(
        settings[["setting", "xs1", "xs2", "gamma"]], on="setting", how="left", validate="m:1"
    )
    runs["mode_rank"] = runs["mode"].map({mode: i for i, mode in enumerate(modes)})
    runs = runs.sort_values(["setting", "mode_rank", "run"], kind="mergesort", ignore_index=True)
    return runs[RUNS_COLUMNS]


def summarise_modify(
    runs: pd.DataFrame, modes: Sequence[str], confidence: float = 0.95
) -> pd.DataFrame:
    """One row per setting x mode, columns `SUMMARY_COLUMNS`, sorted by gamma then mode (in the
    order of `modes`; setting breaks ties): means over runs, the sample sd (ddof=1) of the gain
    and its Student-t interval at `confidence`. With a single run the sd and bounds are NaN.
    """
    missing = [c for c in RUNS_COLUMNS if c not in runs.columns]
    if missing:
        raise ValueError(f"runs table: missing column(s) {missing}")
    unknown = sorted(set(runs["mode"]) - set(modes))
    if unknown:
        raise ValueError(f"runs table: mode(s) {unknown} not in {list(modes)}")
    grouped = runs.groupby(["setting", "mode"], sort=False)
    summary = grouped[["gamma", "xs1", "xs2"]].first()
    summary["n_runs"] = grouped.size()
    summary = summary.join(grouped[_MEANS].mean())
    summary["gain_mean"] = grouped["gain"].mean()
    summary["gain_std"] = grouped["gain"].std(ddof=1)
    summary = summary.reset_index()
    half = t_halfwidth(summary["gain_std"], summary["n_runs"], confidence)
    summary["gain_ci_low"] = summary["gain_mean"] - half
    summary["gain_ci_high"] = summary["gain_mean"] + half
    summary["mode_rank"] = summary["mode"].map({mode: i for i, mode in enumerate(modes)})
    summary = summary.sort_values(
        ["gamma", "mode_rank", "setting"], kind="mergesort", ignore_index=True
    )
    return summary[SUMMARY_COLUMNS]


def collect_modify(
    results_dir: str | os.PathLike,
    modes: Sequence[str],
    runs_out: str | os.PathLike,
    summary_out: str | os.PathLike,
    confidence: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the study's inputs under `results_dir`, write the runs and summary tables atomically,
    return both.

    The outputs are byte-deterministic: fixed columns and row order, 4 decimals, "\\n" line ends,
    NaN as an empty field.
    """
    runs = build_modify_runs(results_dir, modes)
    summary = summarise_modify(runs, modes, confidence)
    for frame, target in ((runs, runs_out), (summary, summary_out)):
        with atomic_path(target) as tmp:
            frame.to_csv(tmp, **_CSV_OPTIONS)
    return runs, summary
