"""Tables of the study gauss_modify (paper Table 2): join the per-job accuracy CSVs into one row
per setting x selection x run (`runs.csv`) and summarise them per setting x selection with the
paired gain of the modified-teacher student over the regular-KD student and its t interval
(`summary.csv`).

Inputs, all under the study's results folder (`mfh.tables`):

- `settings.csv` (MODIFY_SETTINGS);
- `acc/teacher.csv`, `acc/nokd.csv`, `acc/regular_kd.csv` (ACC_BY_SETTING): the regular teacher
  on x_a, the no-KD student and the regular-KD student on x_b; shared by every selection;
- for each selection (random / gt / alg1): `acc/teacher_<selection>.csv` and
  `acc/kd_<selection>.csv` (ACC_BY_SETTING: the teacher restricted to k channels of x_a and its KD
  student) and `kept_<selection>.csv` (KEPT).

The gain of a run is mod_kd_acc - regular_kd_acc: both students see the same x_b and differ only
in their teacher, so the difference is paired within a run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from mfh.report.gauss.tables import on_grid
from mfh.report.stats import t_halfwidth
from mfh.table_io import Table
from mfh.tables import ACC_BY_SETTING, KEPT, MODIFY_RUNS, MODIFY_SETTINGS, MODIFY_SUMMARY

# column of runs.csv -> (file under the results folder, its table, its value column);
# selection-independent inputs first, then the per-selection ones ({selection} filled in)
_SHARED_INPUTS = {
    "teacher_acc": ("acc/teacher.csv", ACC_BY_SETTING, "acc"),
    "nokd_acc": ("acc/nokd.csv", ACC_BY_SETTING, "acc"),
    "regular_kd_acc": ("acc/regular_kd.csv", ACC_BY_SETTING, "acc"),
}
_MODE_INPUTS = {
    "mod_teacher_acc": ("acc/teacher_{selection}.csv", ACC_BY_SETTING, "acc"),
    "mod_kd_acc": ("acc/kd_{selection}.csv", ACC_BY_SETTING, "acc"),
    "precision_at_k": ("kept_{selection}.csv", KEPT, "precision_at_k"),
}
_MEANS = [
    "teacher_acc",
    "mod_teacher_acc",
    "nokd_acc",
    "regular_kd_acc",
    "mod_kd_acc",
    "precision_at_k",
]


def build_modify_runs(results_dir: str | os.PathLike, selections: Sequence[str]) -> pd.DataFrame:
    """One row per setting x selection x run (table MODIFY_RUNS), sorted by setting, selection (in
    the order of `selections`) and run.

    The runs are every run named in any accuracy or kept file; each setting of settings.csv must
    have every run in every file, else DataError naming the file and the missing pairs.
    """
    selections = list(selections)
    if not selections or len(set(selections)) != len(selections):
        raise ValueError(f"selections must be a non-empty list without repeats, got {selections}")
    root = Path(results_dir)
    settings_path = root / "settings.csv"
    settings = MODIFY_SETTINGS.read_frame(settings_path).sort_values("setting", ignore_index=True)

    inputs: dict[str | tuple[str, str], tuple[Path, Table, str]] = {
        name: (root / pattern, table, column)
        for name, (pattern, table, column) in _SHARED_INPUTS.items()
    }
    inputs |= {
        (name, selection): (root / pattern.format(selection=selection), table, column)
        for selection in selections
        for name, (pattern, table, column) in _MODE_INPUTS.items()
    }
    frames = {key: table.read_frame(path) for key, (path, table, _) in inputs.items()}
    run_ids = sorted(set().union(*(frame["run"] for frame in frames.values())))
    grid = pd.MultiIndex.from_product(
        [settings["setting"].tolist(), run_ids], names=["setting", "run"]
    )

    def on_the_grid(key: str | tuple[str, str]) -> np.ndarray:
        """The value column of one input, one value per entry of `grid`, in order."""
        path, _, column = inputs[key]
        indexed = frames[key].set_index(["setting", "run"])[column]
        return on_grid(indexed, grid, path, settings_path).to_numpy(dtype=float)

    shared = {name: on_the_grid(name) for name in _SHARED_INPUTS}
    blocks = []
    for selection in selections:
        block = grid.to_frame(index=False).assign(mode=selection, **shared)
        for name in _MODE_INPUTS:
            block[name] = on_the_grid((name, selection))
        blocks.append(block)
    runs = pd.concat(blocks, ignore_index=True)
    runs["gain"] = runs["mod_kd_acc"] - runs["regular_kd_acc"]
    runs = runs.merge(
        settings[["setting", "xs1", "xs2", "gamma"]], on="setting", how="left", validate="m:1"
    )
    return _sorted(runs, ["setting", "mode", "run"], selections)[MODIFY_RUNS.names]


def summarise_modify(
    runs: pd.DataFrame, selections: Sequence[str], confidence: float = 0.95
) -> pd.DataFrame:
    """One row per setting x selection (table MODIFY_SUMMARY), sorted by gamma then selection (in
    the order of `selections`; setting breaks ties): means over runs, the sample sd (ddof=1) of the
    gain and its Student-t interval at `confidence`. With a single run the sd and bounds are NaN.
    """
    runs = MODIFY_RUNS.check_frame(runs, "runs table")
    unknown = sorted(set(runs["mode"]) - set(selections))
    if unknown:
        raise ValueError(f"runs table: selection(s) {unknown} not in {list(selections)}")
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
    return _sorted(summary, ["gamma", "mode", "setting"], selections)[MODIFY_SUMMARY.names]


def _sorted(frame: pd.DataFrame, by: list[str], selections: Sequence[str]) -> pd.DataFrame:
    """`frame` in a stable sort by the columns `by`, in which `mode` sorts in the order of
    `selections`."""
    rank = {selection: i for i, selection in enumerate(selections)}
    ranked = frame.assign(selection_rank=frame["mode"].map(rank))
    by = ["selection_rank" if column == "mode" else column for column in by]
    return ranked.sort_values(by, kind="mergesort", ignore_index=True)


def collect_modify(
    results_dir: str | os.PathLike,
    selections: Sequence[str],
    runs_out: str | os.PathLike,
    summary_out: str | os.PathLike,
    confidence: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the study's inputs under `results_dir`, write the runs and summary tables
    (`mfh.table_io`: atomic, byte-deterministic), return both."""
    runs = build_modify_runs(results_dir, selections)
    summary = summarise_modify(runs, selections, confidence)
    MODIFY_RUNS.write_frame(runs_out, runs)
    MODIFY_SUMMARY.write_frame(summary_out, summary)
    return runs, summary
