"""Real-data tables and figures on hand-made accuracy files, and the channel choice of the KD
modes."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from mfh.errors import DataError
from mfh.report.real.tables import collect_real
from mfh.studies.real_modes import removed_channels

PAIRS = [("a-b", "a", "b")]
SEEDS = 2


def _acc(path, test_accs):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{s},1,50.0,{acc}" for s, acc in enumerate(test_accs)]
    path.write_text("\n".join(["seed,best_epoch,val_acc,test_acc", *rows]) + "\n")


def _modes(path, student_by_ratio):
    rows = ["ratio,seed,removed,teacher_acc,best_epoch,val_acc,student_acc"]
    for ratio, students in student_by_ratio.items():
        rows += [
            f"{ratio},{s},{round(ratio * 8)},70.0,1,50.0,{acc}" for s, acc in enumerate(students)
        ]
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture
def results(tmp_path):
    acc = tmp_path / "acc"
    _acc(acc / "uni_a.csv", [80, 82])  # unimodal teacher
    _acc(acc / "uni_b.csv", [60, 62])  # no-KD student
    _acc(acc / "fusion_a-b.csv", [90, 92])  # multimodal teacher: better...
    _acc(acc / "kd_a-b_unimodal.csv", [65, 67])
    _acc(acc / "kd_a-b_multimodal.csv", [64, 66])  # ...but its student is not
    # ratio 0.25 is not asked for below: its rows are read, then left out
    _modes(acc / "modes_a-b_0.csv", {0.25: [70, 70], 0.5: [63, 65]})
    _modes(acc / "modes_a-b_1.csv", {0.25: [70, 70], 0.5: [66, 68]})
    _modes(acc / "modes_a-b_2.csv", {0.25: [70, 70], 0.5: [61, 63]})
    return tmp_path


def test_failure_case_and_modes_tables(results):
    tables = collect_real(results, PAIRS, [0, 1, 2], [0.5], SEEDS)
    summary = tables["failure_case_summary"].set_index("teacher")
    assert summary.at["multimodal", "teacher_mean"] == 91
    assert summary.at["unimodal", "student_mean"] == 66
    assert summary["failure"].all()  # better teacher, no better student
    assert pd.isna(summary.at["none", "teacher_mean"])

    modes = tables["mfh_modes_summary"].set_index("mode")
    assert modes.at[1, "student_mean"] == 67 and modes.at[2, "student_mean"] == 62
    assert modes.at[1, "mode_name"] == "modality-general"
    assert (modes["nokd_mean"] == 61).all() and (modes["regular_kd_mean"] == 66).all()
    for name in ("failure_case", "failure_case_summary", "mfh_modes", "mfh_modes_summary"):
        assert (results / f"{name}.csv").is_file()


def test_figures_are_deterministic_pngs(results, tmp_path):
    from mfh.report.real.figures import plot_real
    from mfh.tables import REAL_SALIENCE

    collect_real(results, PAIRS, [0, 1, 2], [0.5], SEEDS)
    rows = [(s, k, 0.1 * k, k / 7) for s in range(SEEDS) for k in range(8)]
    REAL_SALIENCE.write(results / "salience_a-b.csv", rows)
    names = ("mfh_modes.png", "salience.png", "failure_case.png")
    for folder in ("one", "two"):
        plot_real(results, PAIRS, "test", *(tmp_path / folder / name for name in names))
    for name in names:
        png = (tmp_path / "one" / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == (tmp_path / "two" / name).read_bytes()


def test_no_failure_when_the_multimodal_student_is_better(results):
    _acc(results / "acc/kd_a-b_multimodal.csv", [70, 72])
    summary = collect_real(results, PAIRS, [0, 1, 2], [0.5], SEEDS)["failure_case_summary"]
    assert not summary["failure"].any()


def test_missing_seed_is_named(results):
    _acc(results / "acc/kd_a-b_unimodal.csv", [65])
    with pytest.raises(DataError, match=r"kd_a-b_unimodal.csv: missing seed\(s\) \[1\]"):
        collect_real(results, PAIRS, [0, 1, 2], [0.5], SEEDS)


def test_missing_file_is_named(results):
    (results / "acc/modes_a-b_2.csv").unlink()
    with pytest.raises(DataError, match="modes_a-b_2.csv: no such file"):
        collect_real(results, PAIRS, [0, 1, 2], [0.5], SEEDS)


SALIENCE = torch.tensor([0.9, 0.1, 0.5, 1.0, 0.0, 0.3, 0.7, 0.2])  # (H,) = 8 channels


def test_mode_1_removes_the_least_general_channels():
    removed = removed_channels(1, SALIENCE, 0.5, (0, "t", "r"))
    assert removed.tolist() == [False, True, False, False, True, True, False, True]


def test_mode_2_removes_the_most_general_channels():
    removed = removed_channels(2, SALIENCE, 0.25, (0, "t", "r"))
    assert torch.nonzero(removed).flatten().tolist() == [0, 3]


def test_mode_0_is_random_seeded_and_ignores_salience():
    first = removed_channels(0, SALIENCE, 0.5, (0, "t", "r", 1))
    assert int(first.sum()) == 4
    assert torch.equal(first, removed_channels(0, torch.zeros(8), 0.5, (0, "t", "r", 1)))
    draws = {tuple(removed_channels(0, SALIENCE, 0.5, (0, "t", "r", i)).tolist()) for i in range(8)}
    assert len(draws) > 1
