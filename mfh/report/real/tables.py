"""Tables of the real-data studies, from the per-job files under results/<dataset>/ (read by
`mfh.report.real.inputs`; <pair> is a pair's name in params.yaml, its teacher modality a and its
student modality b).

Tables written by `collect_real` (`mfh.tables`):
    failure_case.csv          FAILURE_CASE: one row per pair x teacher (none | unimodal |
                              multimodal) x seed
    failure_case_summary.csv  FAILURE_SUMMARY: mean and std per pair x teacher
    mfh_modes.csv             MFH_MODES: one row per pair x mode x ratio x seed
    mfh_modes_summary.csv     MFH_MODES_SUMMARY: mean and std per pair x mode x ratio, with the
                              pair's no-KD and regular-KD student accuracy
    mode_differences.csv      MODE_DIFFERENCES: paired differences between modes
                              (`mfh.report.real.differences`)
    ranking_agreement.csv     RANKING_AGREEMENT: Algorithm 1's ranking against the teacher
                              importance (`mfh.report.real.differences`)
    joint_nets.csv            JOINT_SUMMARY: Algorithm 1's jointly trained nets per pair x net

The teacher of regular KD (the failure case's "unimodal" teacher, on modality a alone) is, with
params `<dataset>.teacher` "joint" (the reference), Algorithm 1's jointly trained net a
(acc/joint_<pair>.csv), with "unimodal" the unimodal net (acc/uni_<a>.csv). The no-KD student
is always acc/uni_<b>.csv. The two directions of a modality pair share their multimodal teacher
and, with "joint", their joint nets (`mfh.shared_runs`): their files carry the name of the pair
declared first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mfh.errors import DataError
from mfh.kd_modes import KD_MODES
from mfh.report.real.differences import mode_differences, ranking_agreement
from mfh.report.real.inputs import Pairs, accuracy, joint_nets, read_seeds
from mfh.shared_runs import fusion_run, joint_run, modalities
from mfh.tables import (
    FAILURE_CASE,
    FAILURE_SUMMARY,
    JOINT_SUMMARY,
    MFH_MODES,
    MFH_MODES_SUMMARY,
    MODE_DIFFERENCES,
    RANKING_AGREEMENT,
    REAL_MODES_ACC,
)

TEACHERS = ("joint", "unimodal")  # params <dataset>.teacher: who teaches regular KD
TABLES = {
    "failure_case": FAILURE_CASE,
    "failure_case_summary": FAILURE_SUMMARY,
    "mfh_modes": MFH_MODES,
    "mfh_modes_summary": MFH_MODES_SUMMARY,
    "mode_differences": MODE_DIFFERENCES,
    "ranking_agreement": RANKING_AGREEMENT,
    "joint_nets": JOINT_SUMMARY,
}


def _unimodal_teacher(results: Path, pairs: Pairs, name: str, seeds: int, teacher: str):
    """The test accuracy of regular KD's teacher on modality a of pair `name`, indexed by seed
    (see the module doc)."""
    a, b = modalities(pairs, name)
    if teacher == "unimodal":
        return accuracy(results, f"uni_{a}", seeds)["test_acc"]
    nets = joint_nets(results, joint_run(pairs, teacher, name), a, b, seeds)
    return nets[nets["net"] == "a"].set_index("seed")["test_acc"]


def failure_case(results: Path, pairs: Pairs, seeds: int, teacher: str) -> pd.DataFrame:
    """Table FAILURE_CASE: per pair and seed, the no-KD student and the unimodal and the
    multimodal teacher with their KD students; `teacher`: "joint" or "unimodal" (module doc)."""
    if teacher not in TEACHERS:
        raise ValueError(f"teacher must be one of {TEACHERS}, got {teacher!r}")
    rows = []
    for name, a, b in pairs:
        nokd = accuracy(results, f"uni_{b}", seeds)["test_acc"]
        teachers = {
            "unimodal": (
                _unimodal_teacher(results, pairs, name, seeds, teacher),
                accuracy(results, f"kd_{name}_unimodal", seeds)["test_acc"],
            ),
            "multimodal": (
                accuracy(results, f"fusion_{fusion_run(pairs, name).pair}", seeds)["test_acc"],
                accuracy(results, f"kd_{name}_multimodal", seeds)["test_acc"],
            ),
        }
        for s in range(seeds):
            rows.append((a, b, "none", s, float("nan"), nokd[s]))
            for kind, (teacher_acc, student_acc) in teachers.items():
                rows.append((a, b, kind, s, teacher_acc[s], student_acc[s]))
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
    results: Path, pairs: Pairs, mode_ratios: dict[int, Sequence[float]], seeds: int
) -> pd.DataFrame:
    """Table MFH_MODES: the students of every KD mode x its ratios x seed of every pair
    (`mode_ratios`: {mode: ratios}, `mfh.kd_modes.mode_ratios`)."""
    frames = []
    for name, a, b in pairs:
        for mode, ratios in mode_ratios.items():
            path = results / "acc" / f"modes_{name}_{mode}.csv"
            frame = read_seeds(path, REAL_MODES_ACC, seeds)
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


def joint_summary(results: Path, pairs: Pairs, seeds: int, teacher: str) -> pd.DataFrame:
    """Table JOINT_SUMMARY: per pair and net ("a", "b") of Algorithm 1's joint training, the
    mean over seeds of the validation and test accuracy (and the test sd), and of the dead and
    constant penultimate channels (two directions sharing their joint nets: the same numbers,
    roles swapped)."""
    frames = []
    for name, a, b in pairs:
        summary = (
            joint_nets(results, joint_run(pairs, teacher, name), a, b, seeds)
            .groupby(["net", "modality"], sort=True)
            .agg(
                n=("seed", "count"),
                val_mean=("val_acc", "mean"),
                test_mean=("test_acc", "mean"),
                test_std=("test_acc", "std"),
                dead_mean=("dead", "mean"),
                constant_mean=("constant", "mean"),
            )
            .reset_index()
        )
        summary.insert(0, "student_modality", b)
        summary.insert(0, "teacher_modality", a)
        frames.append(summary)
    return pd.concat(frames, ignore_index=True)[JOINT_SUMMARY.names]


def collect_real(
    results,
    pairs: Pairs,
    mode_ratios: dict[int, Sequence[float]],
    seeds: int,
    teacher: str,
) -> dict[str, pd.DataFrame]:
    """Read every per-job file of a dataset and write the tables of `TABLES` into `results`
    (`mfh.table_io`: atomic, byte-deterministic); returns them by name (the file stems).
    `mode_ratios`: {mode: its ratios}; `teacher`: params `<dataset>.teacher`, "joint" or
    "unimodal" (see the module doc)."""
    results = Path(results)
    ratios = sorted({r for mode_ratio in mode_ratios.values() for r in mode_ratio})
    failure = failure_case(results, pairs, seeds, teacher)
    modes_table = mfh_modes(results, pairs, mode_ratios, seeds)
    tables = {
        "failure_case": failure,
        "failure_case_summary": summarise_failure_case(failure),
        "mfh_modes": modes_table,
        "mfh_modes_summary": summarise_modes(modes_table, failure),
        "mode_differences": mode_differences(modes_table, ratios),
        "ranking_agreement": ranking_agreement(results, pairs, ratios, seeds),
        "joint_nets": joint_summary(results, pairs, seeds, teacher),
    }
    for name, frame in tables.items():
        TABLES[name].write_frame(results / f"{name}.csv", frame)
    return tables
