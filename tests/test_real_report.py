"""Real-data tables, metrics and figures on hand-made per-job files, and the channel choice of
the KD modes."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mfh.errors import DataError
from mfh.kd_modes import COMPARISONS, KD_MODES
from mfh.report.metrics import real_metrics
from mfh.report.real.tables import collect_real
from mfh.tables import REAL_JOINT, REAL_SALIENCE

PAIRS = [("a-b", "a", "b")]
MODES = list(KD_MODES)
SEEDS = 2


def at(modes, ratios):
    """{mode: ratios}: every mode at the same ratios."""
    return {mode: ratios for mode in modes}


RAW = [0.9, 0.1, 0.5, 1.0, 0.0, 0.3, 0.7, 0.2]  # Algorithm 1's raw salience of 8 channels


def _acc(path, test_accs):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{s},1,50.0,{acc}" for s, acc in enumerate(test_accs)]
    path.write_text("\n".join(["seed,best_epoch,val_acc,test_acc", *rows]) + "\n")


def _modes(path, teacher_acc, student_by_ratio):
    rows = ["ratio,seed,removed,teacher_acc,best_epoch,val_acc,student_acc"]
    for ratio, students in student_by_ratio.items():
        rows += [
            f"{ratio},{s},{round(ratio * 8)},{teacher_acc},1,50.0,{acc}"
            for s, acc in enumerate(students)
        ]
    path.write_text("\n".join(rows) + "\n")


def _joint(path, seeds=range(SEEDS), nets=("a", "b")):
    """Net a: test accuracy 84 + 2 s, net b: 58 + 2 s; s dead channels, 1 constant one."""
    test = {"a": 84, "b": 58}
    rows = [(s, n, n, 50.0, test[n] + 2 * s, 0.1, s, 1) for s in seeds for n in nets]
    REAL_JOINT.write(path, rows)


def _minmax(values):
    lo, hi = min(values), max(values)
    return [(v - lo) / (hi - lo) for v in values]


def _salience(path, importance_of):
    """Every seed's salience = RAW (scaled by the seed), its importance = importance_of(RAW)."""
    rows = []
    for s in range(SEEDS):
        raw = [(s + 1) * v for v in RAW]
        importance = [importance_of(v) for v in raw]
        rows += zip([s] * 8, range(8), raw, _minmax(raw), importance, _minmax(importance))
    REAL_SALIENCE.write(path, rows)


@pytest.fixture
def results(tmp_path):
    acc = tmp_path / "acc"
    _acc(acc / "uni_a.csv", [80, 82])  # unimodal teacher
    _acc(acc / "uni_b.csv", [60, 62])  # no-KD student
    _acc(acc / "fusion_a-b.csv", [90, 92])  # multimodal teacher: better...
    _acc(acc / "kd_a-b_unimodal.csv", [65, 67])
    _acc(acc / "kd_a-b_multimodal.csv", [64, 66])  # ...but its student is not
    _joint(acc / "joint_a-b.csv")
    # ratio 0.25 is not asked for below: its rows are read, then left out; mode m's teachers
    # have accuracy 70 + m
    students = {0: [63, 65], 1: [65, 67], 2: [61, 64], 3: [66, 69], 4: [60, 62]}  # at r = 0.5
    for mode, at_half in students.items():
        _modes(acc / f"modes_a-b_{mode}.csv", 70 + mode, {0.25: [70, 70], 0.5: at_half})
    _salience(tmp_path / "salience_a-b.csv", lambda v: v**3 + 5)  # monotone: same ranking
    return tmp_path


def test_failure_case_and_modes_tables(results):
    tables = collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, "unimodal")
    summary = tables["failure_case_summary"].set_index("teacher")
    assert summary.at["multimodal", "teacher_mean"] == 91
    assert summary.at["unimodal", "teacher_mean"] == 81  # acc/uni_a.csv
    assert summary.at["unimodal", "student_mean"] == 66
    assert summary["failure"].all()  # better teacher, no better student
    assert pd.isna(summary.at["none", "teacher_mean"])

    modes = tables["mfh_modes_summary"].set_index("mode")
    assert modes.at[1, "student_mean"] == 66 and modes.at[2, "student_mean"] == 62.5
    assert modes.at[3, "mode_name"] == "teacher-important"
    assert (modes["nokd_mean"] == 61).all() and (modes["regular_kd_mean"] == 66).all()
    for name in tables:
        assert (results / f"{name}.csv").is_file()
    assert sorted(tables) == sorted(
        ["failure_case", "failure_case_summary", "mfh_modes", "mfh_modes_summary"]
        + ["mode_differences", "ranking_agreement", "joint_nets"]
    )


def test_the_joint_teacher_is_read_from_the_joint_nets(results):
    failure = collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, "joint")["failure_case"]
    unimodal = failure[failure["teacher"] == "unimodal"]
    assert unimodal["teacher_acc"].tolist() == [84, 86]  # net a of acc/joint_a-b.csv
    assert failure.loc[failure["teacher"] == "none", "student_acc"].tolist() == [60, 62]


def _reverse_pair(results):
    """Pair b-a beside a-b: its own students, no fusion_ or joint_ file of its own."""
    acc = results / "acc"
    _acc(acc / "kd_b-a_unimodal.csv", [81, 83])
    _acc(acc / "kd_b-a_multimodal.csv", [82, 84])
    for mode in MODES:
        _modes(acc / f"modes_b-a_{mode}.csv", 50, {0.5: [70, 71]})
    _salience(results / "salience_b-a.csv", lambda v: v + 1)
    return [*PAIRS, ("b-a", "b", "a")]


@pytest.mark.parametrize("teacher", ["joint", "unimodal"])
def test_the_reverse_pair_reads_the_shared_nets_of_the_first(results, teacher):
    pairs = _reverse_pair(results)
    if teacher == "unimodal":  # each direction then trains its own joint nets
        on = {"a": "b", "b": "a"}  # b-a's net a is on modality b
        rows = [(s, n, on[n], 50.0, 70 + s, 0.1, 0, 0) for s in range(SEEDS) for n in on]
        REAL_JOINT.write(results / "acc/joint_b-a.csv", rows)
    tables = collect_real(results, pairs, at(MODES, [0.5]), SEEDS, teacher)
    failure = tables["failure_case"].set_index(["teacher_modality", "teacher"])
    assert failure.loc[("b", "multimodal"), "teacher_acc"].tolist() == [90, 92]  # fusion_a-b
    joint = tables["joint_nets"].set_index(["teacher_modality", "net"])
    if teacher == "joint":  # net a of b-a is net b of a-b, on modality b
        assert failure.loc[("b", "unimodal"), "teacher_acc"].tolist() == [58, 60]
        assert joint.at[("b", "a"), "modality"] == "b" and joint.at[("b", "a"), "test_mean"] == 59
        assert joint.at[("b", "b"), "test_mean"] == 85
    else:
        assert failure.loc[("b", "unimodal"), "teacher_acc"].tolist() == [60, 62]  # uni_b
        assert joint.at[("b", "a"), "test_mean"] == 70.5


def test_an_unknown_teacher_design_is_refused(results):
    with pytest.raises(ValueError, match="teacher must be one of"):
        collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, "fusion")


def test_joint_nets_summary(results):
    joint = collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, "joint")["joint_nets"]
    joint = joint.set_index("net")
    assert joint.at["a", "modality"] == "a" and joint.at["b", "n"] == SEEDS
    assert joint.at["a", "test_mean"] == 85 and joint.at["b", "test_mean"] == 59
    assert joint.at["a", "test_std"] == pytest.approx(math.sqrt(2))
    assert joint.at["b", "dead_mean"] == 0.5 and joint.at["b", "constant_mean"] == 1


def test_paired_mode_differences(results):
    tables = collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, "joint")
    diffs = tables["mode_differences"].set_index("comparison")
    assert list(diffs.index) == ["1-0", "0-2", "3-0", "0-4", "1-3", "2-4"]
    # mode 1 beats mode 0 by exactly 2 points on every seed: no spread, a zero-width interval
    assert diffs.at["1-0", "student_diff"] == 2 and diffs.at["1-0", "n"] == SEEDS
    assert diffs.at["1-0", "ci_low"] == pytest.approx(2) == diffs.at["1-0", "ci_high"]
    assert (diffs.at["1-0", "teacher_x"], diffs.at["1-0", "teacher_y"]) == (71, 70)
    # 0 - 2: differences 2 and 1 per seed; t_{0.975, 1} = tan(0.475 pi), sd / sqrt(2) = 0.5
    half = math.tan(0.475 * math.pi) * 0.5
    assert diffs.at["0-2", "student_diff"] == 1.5
    assert diffs.at["0-2", "ci_low"] == pytest.approx(1.5 - half)
    assert diffs.at["0-2", "ci_high"] == pytest.approx(1.5 + half)

    metrics = real_metrics(
        tables["failure_case_summary"], tables["mfh_modes_summary"], diffs.reset_index(), PAIRS
    )
    assert metrics["mode_differences"]["a-b"]["r=0.50"] == {
        "1-0": 2.0,
        "0-2": 1.5,
        "3-0": 3.5,
        "0-4": 3.0,
        "1-3": -1.5,
        "2-4": 1.5,
    }
    assert metrics["modes"]["a-b"]["r=0.50"]["mode4"] == 61.0


def test_differences_need_two_seeds_for_an_interval(results):
    diffs = collect_real(results, PAIRS, at(MODES, [0.5]), 1, "joint")["mode_differences"]
    assert (diffs["n"] == 1).all() and diffs[["ci_low", "ci_high"]].isna().all().all()


def test_comparisons_of_modes_not_collected_are_left_out(results):
    diffs = collect_real(results, PAIRS, at([0, 1, 2], [0.5]), SEEDS, "joint")["mode_differences"]
    assert diffs["comparison"].tolist() == ["1-0", "0-2"]


def test_the_same_ranking_agrees_fully(results):
    agreement = collect_real(results, PAIRS, at(MODES, [0.25, 0.5]), SEEDS, "joint")[
        "ranking_agreement"
    ]
    assert len(agreement) == SEEDS * 2
    assert agreement["spearman"].tolist() == pytest.approx([1.0] * 4)
    assert (agreement["kept_overlap"] == 1).all()


def test_the_reversed_ranking_disagrees_fully(results):
    _salience(results / "salience_a-b.csv", lambda v: -v)
    agreement = collect_real(results, PAIRS, at(MODES, [0.25, 0.5]), SEEDS, "joint")[
        "ranking_agreement"
    ].set_index(["seed", "ratio"])
    assert agreement["spearman"].tolist() == pytest.approx([-1.0] * 4)
    # ratio 0.5 keeps 4 of 8 channels, the complements of each other; 0.25 keeps 6: 4 shared
    assert agreement.at[(0, 0.5), "kept_overlap"] == 0
    assert agreement.at[(1, 0.25), "kept_overlap"] == pytest.approx(4 / 6)


def test_tied_ranks_are_averaged(results):
    _salience(results / "salience_a-b.csv", lambda v: min(v, 0.3))  # RAW's 5 largest tie
    rho = collect_real(results, PAIRS, at(MODES, [0.5]), 1, "joint")["ranking_agreement"][
        "spearman"
    ]
    # ranks 7 2 5 8 1 4 6 3 against 6 2 6 6 1 6 6 3: scipy.stats.spearmanr gives 0.87287...
    assert rho.iloc[0] == pytest.approx(0.8728715609439694)


def test_figures_are_deterministic_pngs(results, tmp_path):
    from mfh.report.real.figures import plot_real

    collect_real(results, PAIRS, at(MODES, [0.25, 0.5]), SEEDS, "joint")
    names = ("mfh_modes.png", "salience.png", "failure_case.png")
    for folder in ("one", "two"):
        plot_real(results, PAIRS, "test", *(tmp_path / folder / name for name in names))
    for name in names:
        png = (tmp_path / "one" / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == (tmp_path / "two" / name).read_bytes()


def test_no_failure_when_the_multimodal_student_is_better(results):
    _acc(results / "acc/kd_a-b_multimodal.csv", [70, 72])
    summary = collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, "joint")["failure_case_summary"]
    assert not summary["failure"].any()


def test_missing_seed_is_named(results):
    _acc(results / "acc/kd_a-b_unimodal.csv", [65])
    with pytest.raises(DataError, match=r"kd_a-b_unimodal.csv: missing seed\(s\) \[1\]"):
        collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, "joint")


@pytest.mark.parametrize("teacher", ["joint", "unimodal"])  # both designs summarise the joint nets
def test_missing_joint_seed_is_named(results, teacher):
    _joint(results / "acc/joint_a-b.csv", seeds=[0])
    with pytest.raises(DataError, match=r"joint_a-b.csv: missing seed\(s\) \[1\]"):
        collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, teacher)


def test_missing_joint_net_is_named(results):
    _joint(results / "acc/joint_a-b.csv", nets=["a"])
    with pytest.raises(DataError, match=r"joint_a-b.csv: missing \(seed, net\) \[\(0, 'b'\)"):
        collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, "joint")


def test_missing_salience_seed_is_named(results):
    REAL_SALIENCE.write(
        results / "salience_a-b.csv", [(0, k, v, v, v, v) for k, v in enumerate(RAW)]
    )
    with pytest.raises(DataError, match=r"salience_a-b.csv: missing seed\(s\) \[1\]"):
        collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, "joint")


def test_missing_file_is_named(results):
    (results / "acc/modes_a-b_2.csv").unlink()
    with pytest.raises(DataError, match="modes_a-b_2.csv: no such file"):
        collect_real(results, PAIRS, at(MODES, [0.5]), SEEDS, "joint")


def test_control_modes_at_fewer_ratios(results):
    """The control's modes 3, 4 at one ratio only (params control_ratios): their comparisons
    appear at that ratio alone."""
    ratios = {0: [0.25, 0.5], 1: [0.25, 0.5], 2: [0.25, 0.5], 3: [0.5], 4: [0.5]}
    diffs = collect_real(results, PAIRS, ratios, SEEDS, "joint")["mode_differences"]
    at_quarter = set(diffs[diffs["ratio"] == 0.25]["comparison"])
    assert at_quarter == {"1-0", "0-2"}
    assert set(diffs[diffs["ratio"] == 0.5]["comparison"]) == {f"{x}-{y}" for x, y in COMPARISONS}
