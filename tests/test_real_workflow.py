"""End to end: the tiny configuration of the three real datasets (on the shipped fixture) through
`snakemake real`, the table contract of the issue, and clear failures on bad raw data."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from conftest import FIXTURE_RAW, make_workflow_copy, run
from mfh.kd_modes import COMPARISONS, KD_MODES

pytestmark = pytest.mark.slow

MODES_COLUMNS = [
    "teacher_modality",
    "student_modality",
    "mode",
    "mode_name",
    "ratio",
    "seed",
    "removed",
    "teacher_acc",
    "student_acc",
]


@pytest.mark.parametrize("dataset", ["avmnist", "mfeat", "basicmotions"])
def test_tables_and_figures(real_run, dataset):
    wf, params = real_run
    section = params[dataset]
    results = wf / "results" / dataset
    for name in ("mfh_modes.png", "salience.png", "failure_case.png"):
        assert (results / name).stat().st_size > 10_000, name

    modes = pd.read_csv(results / "mfh_modes.csv")
    assert list(modes.columns) == MODES_COLUMNS
    n_pairs, seeds, ratios = len(section["pairs"]), section["seeds"], section["modes"]["ratios"]
    assert len(modes) == n_pairs * len(KD_MODES) * len(ratios) * seeds
    assert set(modes["mode"]) == set(KD_MODES)
    assert modes[["teacher_acc", "student_acc"]].apply(lambda c: c.between(0, 100)).all().all()
    hidden = section["hidden"]
    assert (modes["removed"] == [round(r * hidden) for r in modes["ratio"]]).all()

    failure = pd.read_csv(results / "failure_case.csv")
    assert set(failure["teacher"]) == {"none", "unimodal", "multimodal"}
    assert len(failure) == n_pairs * 3 * seeds
    summary = pd.read_csv(results / "failure_case_summary.csv")
    assert summary["failure"].dtype == bool

    modes_summary = pd.read_csv(results / "mfh_modes_summary.csv")
    for column in ("student_mean", "student_std", "nokd_mean", "regular_kd_mean"):
        assert modes_summary[column].notna().all(), column

    differences = pd.read_csv(results / "mode_differences.csv")
    assert len(differences) == n_pairs * len(COMPARISONS) * len(ratios)
    assert differences["ci_low"].le(differences["student_diff"]).all()
    agreement = pd.read_csv(results / "ranking_agreement.csv")
    assert len(agreement) == n_pairs * seeds * len(ratios)
    assert agreement["spearman"].between(-1, 1).all()
    joint = pd.read_csv(results / "joint_nets.csv")
    assert len(joint) == 2 * n_pairs and set(joint["net"]) == {"a", "b"}
    diagnosis = pd.read_csv(results / "diagnosis.csv")
    assert list(diagnosis["pair"]) == list(section["pairs"])
    assert (results / "diagnosis.png").stat().st_size > 10_000


def test_the_joint_net_is_the_teacher(real_run):
    """With `teacher: joint` (the default), regular KD's teacher in failure_case.csv is the
    jointly trained net on a: its accuracies are those of acc/joint_<pair>.csv."""
    wf, params = real_run
    results = wf / "results/mfeat"
    assert params["mfeat"]["teacher"] == "joint"
    failure = pd.read_csv(results / "failure_case.csv")
    joint = pd.read_csv(results / "acc/joint_fac-mor.csv")
    teacher = failure[(failure["teacher"] == "unimodal") & (failure["teacher_modality"] == "fac")]
    expected = joint[joint["net"] == "a"].sort_values("seed")["test_acc"].tolist()
    assert teacher.sort_values("seed")["teacher_acc"].tolist() == expected


def test_no_kd_baseline_is_the_unimodal_student(real_run):
    """The no-KD rows of failure_case.csv are the unimodal nets on the student modality."""
    wf, params = real_run
    results = wf / "results/avmnist"
    failure = pd.read_csv(results / "failure_case.csv")
    uni_image = pd.read_csv(results / "acc/uni_image.csv")
    nokd = failure[(failure["teacher"] == "none") & (failure["student_modality"] == "image")]
    assert nokd.sort_values("seed")["student_acc"].tolist() == uni_image["test_acc"].tolist()


def test_every_training_step_records_its_environment(real_run):
    wf, _ = real_run
    records = sorted((wf / "results").glob("*/acc/*.env.json"))
    assert len(records) > 10
    for path in records:
        record = json.loads(path.read_text())
        assert {"torch", "device", "threads"} <= set(record), path


def test_raw_files_are_verified_against_the_fixture_manifests(real_run):
    """download records the manifests folder in raw.json; prepare checks against it too."""
    from mfh.data import raw
    from mfh.data.real import load_prepared

    wf, params = real_run
    manifests = params["paths"]["manifests"]
    for dataset in ("avmnist", "mfeat"):
        record = json.loads((wf / f"data/prepared/{dataset}/raw.json").read_text())
        assert record["manifests_dir"] == manifests
        digests = raw.manifest_digests(dataset, manifests)
        assert record["manifests"] == digests
        assert load_prepared(wf / f"data/prepared/{dataset}/dataset.npz").meta["inputs"] == digests


def _corrupt_raw_copy(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE_RAW / "mfeat", raw / "mfeat")
    path = raw / "mfeat/mfeat-mor.csv"
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    return raw


def test_corrupt_raw_file_stops_with_its_name_and_writes_nothing(tmp_path):
    from conftest import load_real_params, shrink

    params = shrink(load_real_params(), real=True)
    params["paths"]["raw"] = str(_corrupt_raw_copy(tmp_path))
    params["real_studies"] = ["mfeat"]
    wf = make_workflow_copy(tmp_path / "wf", params)
    proc = run(["snakemake", "real", "--cores", "1"], wf, check=False)
    assert proc.returncode != 0
    log = (wf / "logs/mfeat/download.log").read_text()
    assert "mfeat-mor.csv" in log and "expected" in log and "paths.raw" in log
    assert "Traceback" not in log
    assert not (wf / "data/prepared/mfeat").exists() or not any(
        (wf / "data/prepared/mfeat").iterdir()
    )


def test_the_earlier_design_is_one_param_away(tmp_path):
    """`teacher: unimodal`: the unimodal net is the teacher of regular KD and of the modes, the
    tables are told so, and Algorithm 1's f_a starts as a copy of it (then trains jointly, so it
    drifts). Only the joint net and one KD student are trained; the rest is read off the plan."""
    import torch

    from conftest import load_real_params, shrink
    from mfh.models.build import build_from_spec, model_spec

    params = shrink(load_real_params(), real=True)
    params["real_studies"] = ["mfeat"]
    params["mfeat"]["teacher"] = "unimodal"
    wf = make_workflow_copy(tmp_path / "wf", params)
    plan = run(["snakemake", "real", "-n", "-p", "--cores", "1"], wf).stdout
    lines = plan.splitlines()
    for step in ("real_modes", "real_distill --study mfeat --params"):
        students = [line for line in lines if f"mfh {step}" in line and "multimodal" not in line]
        assert students and all("--teacher models/mfeat/uni_fac.pt" in x for x in students), step
    (collect,) = [line for line in lines if "mfh real_collect" in line]
    assert ".params/mfeat.teacher.json" in collect  # the tables read which net the teacher is
    (joint,) = [line for line in lines if "mfh real_joint" in line]
    assert "--unimodal-teacher models/mfeat/uni_fac.pt" in joint

    run(["snakemake", "models/mfeat/joint_fac-mor_a.pt", "--cores", "2"], wf)
    # f_a started as the trained teacher: after joint training it is still far closer to it
    # than the teacher is to its own initial weights
    from mfh.studies.real_io import load_models

    (uni,) = load_models(wf / "models/mfeat/uni_fac.pt", "unimodal")[:1]
    (joint,) = load_models(wf / "models/mfeat/joint_fac-mor_a.pt", "joint")[:1]
    (start,) = [build_from_spec(model_spec(uni))]
    flat = [torch.cat([p.flatten() for p in m.parameters()]) for m in (uni, joint, start)]
    assert (flat[1] - flat[0]).norm() < 0.5 * (flat[0] - flat[2]).norm()


def test_real_pairs_are_points_of_the_predictors_study(real_run):
    """results/predictors/real_points.csv: one point per dataset x pair x seed, its gain the KD
    student's accuracy over the no-KD student's (the tables of the full study); real_scores.csv
    scores every predictor over all real pairs."""
    from mfh.predictors.real_points import POOLED_REAL, REAL_PREDICTORS
    from mfh.tables import PREDICTOR_SCORES, REAL_PREDICTOR_POINTS

    wf, params = real_run
    points = REAL_PREDICTOR_POINTS.read_frame(wf / "results/predictors/real_points.csv")
    datasets = params["real_studies"]
    expected = {(d, p, s) for d in datasets for p in params[d]["pairs"] for s in range(2)}
    assert set(zip(points["dataset"], points["pair"], points["seed"])) == expected
    for d in datasets:
        failure = pd.read_csv(wf / f"results/{d}/failure_case.csv")
        for pair, row in params[d]["pairs"].items():
            rows = failure[failure["student_modality"] == row["student"]]
            kd = rows[rows["teacher"] == "unimodal"].sort_values("seed")["student_acc"].to_numpy()
            nokd = rows[rows["teacher"] == "none"].sort_values("seed")["student_acc"].to_numpy()
            mine = points[(points["dataset"] == d) & (points["pair"] == pair)].sort_values("seed")
            assert mine["gain"].to_numpy() == pytest.approx(kd - nokd, abs=1e-3), (d, pair)
    scores = PREDICTOR_SCORES.read_frame(wf / "results/predictors/real_scores.csv")
    pooled = scores[scores["scope"] == POOLED_REAL]
    assert list(pooled["predictor"]) == list(REAL_PREDICTORS)
    by_predictor = pooled.set_index("predictor")["n_points"]
    assert by_predictor["rank_tau"] == len(datasets)  # always defined; a Venn column may be NaN
    assert (by_predictor <= len(datasets)).all()
    assert (wf / "results/predictors/real_predictors.png").read_bytes()[:4] == b"\x89PNG"


DIAGNOSE_RULES = {"download", "real_prepare", "real_unimodal", "real_joint"} | {
    "real_diagnose",
    "real_diagnosis",
    "diagnose",
}


def test_diagnose_trains_no_kd_student_and_reads_as_documented(real_run):
    """`snakemake diagnose` asks only for what the predictors need (no fusion teacher, KD student,
    salience or KD mode: its DAG, forced from scratch), and diagnosis.csv (built by the shared
    `snakemake real`, which includes it) has one row per pair with values in range; its
    accuracies are those of the full study's tables (the test split)."""
    from mfh.tables import DIAGNOSIS

    wf, params = real_run
    proc = run(["snakemake", "diagnose", "-n", "--forceall"], wf)
    stats = (proc.stdout + proc.stderr).split("Job stats:", 1)[1].split("\n\n", 1)[0]
    ran = {line.split()[0] for line in stats.splitlines()[3:] if line.split()}  # after the header
    ran.discard("total")
    assert ran <= DIAGNOSE_RULES and {"real_diagnose", "real_diagnosis"} <= ran, ran

    results = wf / "results/mfeat"
    table = pd.read_csv(results / "diagnosis.csv")
    assert list(table.columns) == DIAGNOSIS.names
    assert list(table["pair"]) == list(params["mfeat"]["pairs"])
    assert (table["n_seeds"] == params["mfeat"]["seeds"]).all()
    for column in ("teacher_acc_mean", "student_acc_mean"):
        assert table[column].between(0, 100).all(), column
    for column in ("top1_agreement_mean", "gamma_mean", "alpha_mean", "beta_mean"):
        values = table[column].dropna()
        assert values.between(0, 1).all(), column
    assert table["rank_tau_mean"].between(-1, 1).all()
    assert (table[["d0_mean", "da_mean", "db_mean"]] >= 0).all().all()
    hidden = params["mfeat"]["hidden"]
    assert (table["d0_mean"] + table["da_mean"] <= hidden).all()
    assert (table["d0_mean"] + table["db_mean"] <= hidden).all()
    gap = table["mi_ts_gauss_mean"] - table["mi_sy_gauss_mean"]
    assert (gap - table["complementarity_gauss_mean"]).abs().max() < 1e-3

    per_seed = pd.read_csv(results / "diagnose_fac-mor.csv")
    joint = pd.read_csv(results / "acc/joint_fac-mor.csv")
    teacher = joint[joint["net"] == "a"].sort_values("seed")["test_acc"]
    assert per_seed["teacher_acc"].round(2).tolist() == teacher.round(2).tolist()
    nokd = pd.read_csv(results / "acc/uni_mor.csv")["test_acc"]
    assert per_seed["student_acc"].round(2).tolist() == nokd.round(2).tolist()
