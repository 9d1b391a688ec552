"""Tables of the real-data studies, from the per-job accuracy CSVs under results/<dataset>/.

Files read (written by `mfh.studies.real`; <pair> is a pair's name in params.yaml, its teacher
modality a and its student modality b):
    acc/uni_<m>.csv                   seed, best_epoch, val_acc, test_acc   (teacher / no-KD)
    acc/fusion_<pair>.csv             the same for the multimodal teacher on a + b
    acc/kd_<pair>_<teacher>.csv       KD students, teacher = unimodal | multimodal
    acc/modes_<pair>_<mode>.csv       ratio, seed, removed, teacher_acc, best_epoch, val_acc,
                                      student_acc
Tables written:
    failure_case.csv          one row per pair x teacher (none | unimodal | multimodal) x seed
    failure_case_summary.csv  mean and std per pair x teacher; `failure` says whether the
                              multimodal teacher beats the unimodal one while its student does not
    mfh_modes.csv             teacher_modality, student_modality, mode, mode_name, ratio, seed,
                              removed, teacher_acc, student_acc
    mfh_modes_summary.csv     mean and std per pair x mode x ratio, with the pair's no-KD and
                              regular-KD (unimodal teacher, nothing removed) student accuracy
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from mfh.io import write_text_atomic

MODE_NAMES = {0: "random", 1: "modality-general", 2: "modality-specific"}
Pairs = Sequence[tuple[str, str, str]]  # (name, teacher modality, student modality)


def _read(path: Path, columns: Sequence[str], seeds: int) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (run the rule that makes it first)")
    frame = pd.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: no column {', '.join(missing)}")
    absent = sorted(set(range(seeds)) - set(frame["seed"]))
    if absent:
        raise ValueError(f"{path}: missing seed(s) {absent} of {seeds}")
    return frame[frame["seed"] < seeds]


def _acc(results: Path, name: str, seeds: int) -> pd.DataFrame:
    return _read(results / "acc" / f"{name}.csv", ["seed", "test_acc"], seeds).set_index("seed")


def failure_case(results: Path, pairs: Pairs, seeds: int) -> pd.DataFrame:
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
    columns = ["teacher_modality", "student_modality", "teacher", "seed", "teacher_acc"]
    return pd.DataFrame(rows, columns=columns + ["student_acc"])


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
    frames = []
    for name, a, b in pairs:
        for mode in modes:
            path = results / "acc" / f"modes_{name}_{mode}.csv"
            frame = _read(path, ["ratio", "seed", "teacher_acc", "student_acc"], seeds)
            frame = frame[frame["ratio"].isin(ratios)]
            if len(frame) != len(ratios) * seeds:
                raise ValueError(f"{path}: expected {len(ratios)} ratios x {seeds} seeds")
            frame.insert(0, "mode_name", MODE_NAMES[mode])
            frame.insert(0, "mode", mode)
            frame.insert(0, "student_modality", b)
            frame.insert(0, "teacher_modality", a)
            frames.append(frame)
    columns = ["teacher_modality", "student_modality", "mode", "mode_name", "ratio", "seed"]
    return pd.concat(frames, ignore_index=True)[columns + ["removed", "teacher_acc", "student_acc"]]


def summarise_modes(table: pd.DataFrame, failure: pd.DataFrame) -> pd.DataFrame:
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


def _write(frame: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, frame.to_csv(index=False, float_format="%.4f"))


def collect_real(
    results,
    pairs: Pairs,
    modes: Sequence[int],
    ratios: Sequence[float],
    seeds: int,
) -> dict[str, pd.DataFrame]:
    """Read every accuracy file of a dataset and write the four tables into `results`."""
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
        _write(frame, results / f"{name}.csv")
    return tables
