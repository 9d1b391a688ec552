"""The per-job files a real-data report reads (written by `mfh.studies.real` and its salience and
KD-mode steps under results/<dataset>/), each read with its table of `mfh.tables` and checked to
hold every seed asked for: a missing seed is a `DataError` naming the file.

    acc/<name>.csv          REAL_ACC            `accuracy`: uni_<m>, fusion_<pair>, kd_<pair>_<kind>
    acc/joint_<pair>.csv    REAL_JOINT          `joint_nets`: Algorithm 1's jointly trained nets
                                                (of the pair whose job trained them)
    salience_<pair>.csv     REAL_SALIENCE       `salience`: Algorithm 1 and the teacher importance
    acc/modes_<pair>_<m>.csv  REAL_MODES_ACC    `read_seeds` (the caller checks the ratios)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mfh.errors import DataError
from mfh.shared_runs import Run
from mfh.table_io import Table
from mfh.tables import REAL_ACC, REAL_JOINT, REAL_SALIENCE

Pairs = Sequence[tuple[str, str, str]]  # (name, teacher modality a, student modality b)
JOINT_NETS = ("a", "b")  # net "a" on the teacher's modality, net "b" on the student's


def read_seeds(path: Path, table: Table, seeds: int) -> pd.DataFrame:
    """The rows of seeds 0 .. seeds-1 of the file at `path`; DataError if one is missing."""
    frame = table.read_frame(path)
    absent = sorted(set(range(seeds)) - set(frame["seed"]))
    if absent:
        raise DataError(f"{path}: missing seed(s) {absent} of {seeds}")
    return frame[frame["seed"] < seeds]


def accuracy(results: Path, name: str, seeds: int) -> pd.DataFrame:
    """acc/<name>.csv (REAL_ACC), indexed by seed."""
    return read_seeds(results / "acc" / f"{name}.csv", REAL_ACC, seeds).set_index("seed")


def joint_nets(results: Path, run: Run, a: str, b: str, seeds: int) -> pd.DataFrame:
    """acc/joint_<run.pair>.csv (REAL_JOINT), the joint nets of a pair (teacher modality a,
    student b) trained by job `run` (`mfh.shared_runs.joint_run`; with `run.swapped` the file's
    nets "a" and "b" are this pair's "b" and "a"): nets "a" and "b" of every seed, labelled for
    this pair; DataError if one is missing or on another modality."""
    path = results / "acc" / f"joint_{run.pair}.csv"
    frame = read_seeds(path, REAL_JOINT, seeds)
    frame = frame[frame["net"].isin(JOINT_NETS)]
    absent = sorted(
        {(s, net) for s in range(seeds) for net in JOINT_NETS}
        - set(zip(frame["seed"], frame["net"]))
    )
    if absent:
        raise DataError(f"{path}: missing (seed, net) {absent}")
    if run.swapped:
        frame = frame.assign(net=frame["net"].map({"a": "b", "b": "a"}))
    expected = frame["net"].map({"a": a, "b": b})
    if (frame["modality"] != expected).any():
        wrong = frame.loc[frame["modality"] != expected, ["seed", "net", "modality"]].iloc[0]
        raise DataError(f"{path}: {wrong.to_dict()}, but the pair's nets are a={a}, b={b}")
    return frame


def salience(path: Path, seeds: int) -> pd.DataFrame:
    """A salience_<pair>.csv (REAL_SALIENCE), sorted by seed and channel."""
    frame = read_seeds(path, REAL_SALIENCE, seeds)
    return frame.sort_values(["seed", "channel"], ignore_index=True)
