"""Tables of the real-data studies, from the per-job accuracy CSVs under results/<dataset>/.

Files read (written by `mfh.studies.real`; tables of `mfh.tables`; <pair> is a pair's name in
params.yaml, its teacher modality a and its student modality b):
    acc/uni_<m>.csv                   REAL_ACC: the unimodal teacher / no-KD student on m
    acc/fusion_<pair>.csv             REAL_ACC: the multimodal teacher on a + b
    acc/kd_<pair>_<teacher>.csv       REAL_ACC: KD students, teacher = unimodal | multimodal
    acc/modes_<pair>_<mode>.csv       REAL_MODES_ACC: the KD modes' students
Tables written:
    failure_case.csv          FAILURE_CASE: one row per pair x teacher (none | unimodal |
                              multimodal) x seed
    failure_case_summary.csv  FAILURE_SUMMARY: mean and std per pair x teacher
    mfh_modes.csv             MFH_MODES: one row per pair x mode x ratio x seed
    mfh_modes_summary.csv     MFH_MODES_SUMMARY: mean and std per pair x mode x ratio, with the
                              pair's no-KD and regular-KD student accuracy
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from mfh.errors import DataError
from mfh.kd_modes import KD_MODES
from mfh.table_io import Table
from mfh.tables import (
    FAILURE_CASE,
    FAILURE_SUMMARY,
    MFH_MODES,
    MFH_MODES_SUMMARY,
    REAL_ACC,
    REAL_MODES_ACC,
)

Pairs = Sequence[tuple[str, str, str]]  # (name, teacher modality, student modality)
TABLES = {
    "failure_case": FAILURE_CASE,
    "failure_case_summary": FAILURE_SUMMARY,
    "mfh_modes": MFH_MODES,
    "mfh_modes_summary": MFH_MODES_SUMMARY,
}


def _read(path: Path, table: Table, seeds: int) -> pd.DataFrame:
    """The rows of seeds 0 .. seeds-1 of the file at `path`; DataError if one is missing."""
    frame = table.read_frame(path)
    absent = sorted(set(range(seeds)) - set(frame["seed"]))
    if absent:
        raise DataError(f"{path}: missing seed(s) {absent} of {seeds}")
    return frame[frame["seed"] < seeds]


def _acc(results: Path, name: str, seeds: int) -> pd.DataFrame:
    return _read(results / "acc" / f"{name}.csv", REAL_ACC, seeds).set_index("seed")


def failure_case(results: Path, pairs: Pairs, seeds: int) -> pd.DataFrame:
    """Table FAILURE_CASE: per pair and seed, the no-KD student and the unimodal and the
    multimodal teacher with their KD students."""
    rows = []
    for name, a, b in pairs:
        nokd = _acc(results, f"uni_{b}", seeds)
        teachers = {
            "unimodal": (
                _acc(results, f"uni_{a}", seeds),
                _acc(results, f"kd_{name}_unimodal", seeds),
            ),
            "multimodal": (
                _acc(results, f"fusion_{name}", seeds),
                _acc(results, f"kd_{name}_multimodal", seeds),
            ),
        }
        for s in range(seeds):
            rows.append((a, b, "none", s, float("nan"), nokd.at[s, "test_acc"]))
            for kind, (teacher, student) in teachers.items():
                rows.append((a, b, kind, s, teacher.at[s, "test_acc"], student.at[s, "test_acc"]))
    return pd.DataFrame(rows, columns=FAILURE_CASE.names)


def _mean_std(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and std over seeds of the teacher's and the student's accuracy, per `keys`."""
    return (
        table.groupby(keys, sort=False)
        .agg(
            teacher_mean=("teacher_acc", "mean"),
            teacher_std=("teacher_acc", "std"),
            student_mean=("student_acc", "mean"),
            student_std=("student_acc", "std"),
            n=("seed", "count"),
        )
        .reset_index()
    )


def summarise_failure_case(table: pd.DataFrame) -> pd.DataFrame:
    """Table FAILURE_SUMMARY: `failure` says whether the multimodal teacher beats the unimodal
    one while its student does not (the failure case of the paper's Table 1)."""
    summary = _mean_std(table, ["teacher_modality", "student_modality", "teacher"])
    failure = {}
    for (a, b), group in summary.groupby(["teacher_modality", "student_modality"], sort=False):
        by = group.set_index("teacher")
        better_teacher = by.at["multimodal", "teacher_mean"] > by.at["unimodal", "teacher_mean"]
        better_student = by.at["multimodal", "student_mean"] > by.at["unimodal", "student_mean"]
        failure[(a, b)] = bool(better_teacher and not better_student)
    summary["failure"] = [
        failure[(a, b)] for a, b in zip(summary["teacher_modality"], summary["student_modality"])
    ]
    return summary


def mfh_modes(
    results: Path,
    pairs: Pairs,
    modes: Sequence[int],
    ratios: Sequence[float],
    seeds: int,
) -> pd.DataFrame:
    """Table MFH_MODES: the students of every KD mode x ratio x seed of every pair."""
    frames = []
    for name, a, b in pairs:
        for mode in modes:
            path = results / "acc" / f"modes_{name}_{mode}.csv"
            frame = _read(path, REAL_MODES_ACC, seeds)
            frame = frame[frame["ratio"].isin(ratios)]
            if len(frame) != len(ratios) * seeds:
                raise DataError(f"{path}: expected {len(ratios)} ratios x {seeds} seeds")
            frame.insert(0, "mode_name", KD_MODES[mode])
            frame.insert(0, "mode", mode)
            frame.insert(0, "student_modality", b)
            frame.insert(0, "teacher_modality", a)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)[MFH_MODES.names]


def summarise_modes(table: pd.DataFrame, failure: pd.DataFrame) -> pd.DataFrame:
    """Table MFH_MODES_SUMMARY, from MFH_MODES and FAILURE_CASE (the no-KD and regular-KD
    references of each pair)."""
    summary = _mean_std(
        table, ["teacher_modality", "student_modality", "mode", "mode_name", "ratio"]
    )
    base = failure.groupby(["teacher_modality", "student_modality", "teacher"], sort=False)[
        "student_acc"
    ].agg(["mean", "std"])
    for kind, column in (("none", "nokd"), ("unimodal", "regular_kd")):
        for stat in ("mean", "std"):
            summary[f"{column}_{stat}"] = [
                base.at[(a, b, kind), stat]
                for a, b in zip(summary["teacher_modality"], summary["student_modality"])
            ]
    return summary


def collect_real(
    results,
    pairs: Pairs,
    modes: Sequence[int],
    ratios: Sequence[float],
    seeds: int,
) -> dict[str, pd.DataFrame]:
    """Read every accuracy file of a dataset and write the four tables into `results`
    (`mfh.table_io`: atomic, byte-deterministic); returns them by name (see `TABLES`)."""
    results = Path(results)
    failure = failure_case(results, pairs, seeds)
    modes_table = mfh_modes(results, pairs, modes, ratios, seeds)
    tables = {
        "failure_case": failure,
        "failure_case_summary": summarise_failure_case(failure),
        "mfh_modes": modes_table,
        "mfh_modes_summary": summarise_modes(modes_table, failure),
    }
    for name, frame in tables.items():
        TABLES[name].write_frame(results / f"{name}.csv", frame)
    return tables
