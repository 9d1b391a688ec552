"""Each study's headline numbers as a small `metrics.json`, declared as DVC metrics so that
`dvc exp show` and `dvc metrics diff` compare experiments by their outcomes.

Accuracies and gains are in percentage points, rounded to 2 decimals (the precision the README
reports); settings are keyed by their gamma ("gamma=0.250"), real-data pairs by their name and
ratios as "r=0.75".
"""

from __future__ import annotations

import json

import pandas as pd

from mfh.io import write_text_atomic


def _r(value) -> float:
    return round(float(value), 2)


def _ratio(value) -> str:
    return f"r={float(value):.2f}"


def _gamma(value) -> str:
    return f"gamma={float(value):.3f}"


def synthetic_metrics(summary: pd.DataFrame) -> dict:
    """A gauss_* study (summary.csv): KD gain with its 95 % interval, teacher and no-KD accuracy."""
    per = {_gamma(row.gamma): row for row in summary.itertuples()}
    return {
        "kd_gain": {key: _r(row.delta_mean) for key, row in per.items()},
        "kd_gain_ci_low": {key: _r(row.delta_ci_low) for key, row in per.items()},
        "kd_gain_ci_high": {key: _r(row.delta_ci_high) for key, row in per.items()},
        "teacher_acc": {key: _r(row.teacher_acc) for key, row in per.items()},
        "nokd_acc": {key: _r(row.nokd_acc) for key, row in per.items()},
    }


def modify_metrics(summary: pd.DataFrame) -> dict:
    """gauss_modify (summary.csv): gain of each modified teacher's student over regular KD, the
    modified teachers' accuracy, and Algorithm 1's precision@k."""
    gain: dict = {}
    teacher: dict = {}
    precision: dict = {}
    for row in summary.itertuples():
        key = _gamma(row.gamma)
        gain.setdefault(key, {})[row.mode] = _r(row.gain_mean)
        teacher.setdefault(key, {})[row.mode] = _r(row.mod_teacher_acc)
        precision.setdefault(key, {})[row.mode] = round(float(row.precision_at_k), 3)
    return {"gain": gain, "mod_teacher_acc": teacher, "precision_at_k": precision}


def real_metrics(
    failure_summary: pd.DataFrame,
    modes_summary: pd.DataFrame,
    mode_differences: pd.DataFrame,
    pairs,
) -> dict:
    """A real dataset: per pair, the students of the failure case (no KD, unimodal and multimodal
    teacher), the students of the KD modes per ratio, and the paired differences between modes
    per ratio ("1-0": mode 1 minus mode 0, mean over seeds). `pairs`: [(name, teacher,
    student)]."""
    name_of = {(t, s): n for n, t, s in pairs}
    failure: dict = {}
    for row in failure_summary.itertuples():
        entry = failure.setdefault(name_of[(row.teacher_modality, row.student_modality)], {})
        entry[f"student_{row.teacher}"] = _r(row.student_mean)
        if row.teacher != "none":
            entry[f"teacher_{row.teacher}"] = _r(row.teacher_mean)
    modes: dict = {}
    for row in modes_summary.itertuples():
        pair = modes.setdefault(name_of[(row.teacher_modality, row.student_modality)], {})
        pair.setdefault(_ratio(row.ratio), {})[f"mode{int(row.mode)}"] = _r(row.student_mean)
    differences: dict = {}
    for row in mode_differences.itertuples():
        pair = differences.setdefault(name_of[(row.teacher_modality, row.student_modality)], {})
        pair.setdefault(_ratio(row.ratio), {})[row.comparison] = _r(row.student_diff)
    return {"failure_case": failure, "modes": modes, "mode_differences": differences}


def write_metrics(metrics: dict, path) -> None:
    """Write `metrics` as sorted, indented JSON (equal metrics, equal bytes), atomically."""
    write_text_atomic(path, json.dumps(metrics, indent=2, sort_keys=True) + "\n")
