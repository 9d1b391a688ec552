"""End to end: `snakemake --cores 2` on a tiny configuration (the shared `finished_run`) produces
the output contract, runs a Venn study declared in params.yaml alone, leaves nothing to do, and
stops before any job on invalid params. (That two runs from scratch agree byte for byte is the
fresh-clone test's, tests/test_dvc.py.)"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from conftest import USER_GRID, USER_STUDY, run

STUDIES = ("gauss_gamma",)  # the reference studies of the tiny configuration (conftest.shrink)
RUNS_COLUMNS = [
    "setting",
    "value",
    "gamma",
    "alpha",
    "beta",
    "run",
    "teacher_acc",
    "nokd_acc",
    "kd_acc",
]
SUMMARY_REQUIRED = [
    "gamma",
    "alpha",
    "beta",
    "n_runs",
    "teacher_acc",
    "nokd_acc",
    "kd_acc",
    "delta_mean",
    "delta_std",
    "delta_ci_low",
    "delta_ci_high",
]


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_outputs_follow_the_contract(finished_run):
    params = yaml.safe_load((finished_run / "params.yaml").read_text())
    for study in STUDIES:
        data = params[study]["data"]
        out = finished_run / "results" / study
        runs = _rows(out / "runs.csv")
        assert list(runs[0]) == RUNS_COLUMNS
        assert len(runs) == len(data["grid"]) * data["runs"]
        for row in runs:
            for col in ("teacher_acc", "nokd_acc", "kd_acc"):
                assert 0.0 <= float(row[col]) <= 100.0
        # paired design: one no-KD accuracy per run, whatever the setting
        nokd = {(r["run"], r["nokd_acc"]) for r in runs}
        assert len(nokd) == data["runs"]
        summary = _rows(out / "summary.csv")
        assert len(summary) == len(data["grid"])
        assert set(SUMMARY_REQUIRED) <= set(summary[0])
        for row in summary:
            assert int(row["n_runs"]) == data["runs"]
            assert (
                float(row["delta_ci_low"])
                <= float(row["delta_mean"])
                <= float(row["delta_ci_high"])
            )
        assert (out / f"{study}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        venn = _rows(out / "venn.csv")
        assert len(venn) == len(data["grid"])
        assert [int(r["d0_true"]) for r in venn] == [
            int(r["d0"]) for r in _rows(out / "settings.csv")
        ]
        assert len(_rows(out / "salience.csv")) == len(data["grid"]) * data["runs"] * (
            25 if study == "gauss_gamma" else 50
        )
        assert (finished_run / "logs" / study / "train_teachers.benchmark.tsv").is_file()
    gamma = [float(r["gamma"]) for r in _rows(finished_run / "results/gauss_gamma/summary.csv")]
    assert gamma == sorted(gamma) and gamma[0] == 0.0


@pytest.mark.slow
def test_gauss_modify_outputs(finished_run):
    params = yaml.safe_load((finished_run / "params.yaml").read_text())["gauss_modify"]
    out = finished_run / "results" / "gauss_modify"
    grid, runs, selections = params["data"]["grid"], params["data"]["runs"], params["selections"]
    summary = _rows(out / "summary.csv")
    assert len(summary) == len(grid) * len(selections)
    assert [r["mode"] for r in summary[: len(selections)]] == selections
    for row in summary:
        assert float(row["gain_ci_low"]) <= float(row["gain_mean"]) <= float(row["gain_ci_high"])
        if row["mode"] == "gt":
            assert float(row["precision_at_k"]) == 1.0
    assert len(_rows(out / "runs.csv")) == len(grid) * len(selections) * runs
    salience = _rows(out / "salience.csv")
    assert len(salience) == len(grid) * runs * 50
    assert all(0.0 <= float(r["salience"]) <= 1.0 for r in salience)
    assert len(_rows(out / "venn.csv")) == len(grid)
    for png in ("gauss_modify.png", "salience.png", "venn.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_a_venn_study_declared_in_params_alone_runs(finished_run):
    out = finished_run / "results" / USER_STUDY
    venn = _rows(out / "venn.csv")
    assert [(int(r["d0_true"]), int(r["da_true"]), int(r["db_true"])) for r in venn] == [
        tuple(t) for t in USER_GRID
    ]
    assert all(0.0 <= float(r["gamma_est"]) <= 1.0 for r in venn)
    # x_b changes with the setting, so the no-KD students are per setting x run
    assert list(_rows(out / "acc" / "nokd.csv")[0]) == ["setting", "run", "acc"]
    channels = _rows(out / "channels.csv")
    assert len(channels) == len(USER_GRID) * 3 * ((4 + 2) + (7 + 3))  # x_a 6, x_b 10 wide
    assert (out / "venn.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_predictors_study_scores_every_predictor(finished_run):
    out = finished_run / "results" / "predictors"
    points = _rows(out / "points.csv")
    studies = {r["study"] for r in points}
    assert studies == {*STUDIES, USER_STUDY, "gauss_modify"}
    teachers = {r["teacher"] for r in points if r["study"] == "gauss_modify"}
    params = yaml.safe_load((finished_run / "params.yaml").read_text())
    assert teachers == {"regular", *params["gauss_modify"]["selections"]}
    scores = _rows(out / "scores.csv")
    predictors = {r["predictor"] for r in scores}
    assert {"teacher_acc", "gamma_true", "gamma_est", "complementarity_knn"} <= predictors
    pooled = [r for r in scores if r["scope"] == "synthetic" and r["predictor"] == "gamma_true"]
    assert int(pooled[0]["n_points"]) == len(
        {(r["study"], r["setting"], r["teacher"]) for r in points}
    )
    fit = _rows(out / "venn_fit.csv")
    assert [r["study"] for r in fit][-1] == "pooled"
    assert (out / "predictors.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_nothing_left_to_do_after_a_run(finished_run):
    dry = run(["snakemake", "-n"], finished_run)
    assert "Nothing to be done" in dry.stdout + dry.stderr


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda p: p["gauss_gamma"]["teacher"].update(lrr=0.1),
            "gauss_gamma.teacher.lrr: unknown key",
        ),
        (
            lambda p: p["gauss_gamma"]["data"].update(grid=[0, 12]),
            "gauss_gamma.data.grid[1]: 12 is out of range",
        ),
        (
            lambda p: p.update(studies=["gauss_gamma", "gauss_foo"]),
            "'gauss_foo' names no synthetic study",
        ),
        (
            lambda p: p["gauss_classes"]["data"].update(grid=[[1, 2, 3], [0, 0, 3]]),
            "gauss_classes.data.grid[1]: [0, 0, 3]: modality a sees no decisive dimension",
        ),
    ],
)
def test_bad_params_stop_before_any_job(workflow_copy, tiny_params, edit, expected):
    edit(tiny_params)
    (workflow_copy / "params.yaml").write_text(yaml.safe_dump(tiny_params, sort_keys=False))
    proc = run(["snakemake", "--cores", "1"], workflow_copy, check=False)
    assert proc.returncode != 0
    assert expected in proc.stderr + proc.stdout
    assert "allowed" in proc.stderr + proc.stdout
    assert not (workflow_copy / "results").exists()
    assert not (workflow_copy / "logs").exists()
