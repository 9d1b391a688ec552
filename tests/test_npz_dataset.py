"""A user's own paired data (`data.kind: npz`): the file contract, every bad input refused by the
params checks with the file named, and one hand-made file (two mfeat views of the shipped
fixture) through `snakemake real` and `dvc repro` from params.yaml alone — the run that also
follows the real-data DVC pipeline (real/dvc.yaml) through its life."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import yaml

from conftest import FIXTURE_RAW, init_repo, load_real_params, make_workflow_copy, run, shrink
from mfh.config import ParamsError, validate_params
from mfh.data import mfeat, npz_dataset

# a real-data stage in `dvc status` output (not a file name such as mfh/steps/real_data.py)
REAL_STAGE = re.compile(r"^(real_\w+|download)-", re.M)


def _views():
    views, y = mfeat.read_views(FIXTURE_RAW)  # 100 rows, 10 per class
    return {"y": y, "x_fou": views["fou"], "x_kar": views["kar"]}


def _study(path) -> dict:
    """A tiny npz study section: mfeat's tiny settings on views fou (teacher) and kar."""
    section = copy.deepcopy(shrink(load_real_params(), real=True)["mfeat"])
    section["data"] = {"kind": "npz", "path": str(path), "n_train": 60, "n_val": 20, "n_test": 20}
    section["models"] = {"fou": "mlp", "kar": "mlp"}
    section["modalities"] = ["fou", "kar"]
    section["pairs"] = {"fou-kar": {"teacher": "fou", "student": "kar"}}
    section["seeds"] = 1
    return section


def _params(path) -> dict:
    params = shrink(load_real_params(), real=True)
    params["mine"] = _study(path)
    params["real_studies"] = ["mine"]
    return params


def test_build_splits_stratified_and_standardises_on_train_rows(tmp_path):
    arrays = _views()
    out, meta = npz_dataset.build(arrays, _study("x")["data"], seed=0, dataset="mine")
    assert meta["modalities"] == ["fou", "kar"] and meta["n_classes"] == 10
    assert [len(out[f"y_{s}"]) for s in ("train", "val", "test")] == [60, 20, 20]
    for s in ("train", "val", "test"):  # every class in every split, in proportion
        assert np.bincount(out[f"y_{s}"], minlength=10).min() >= 2
    np.testing.assert_allclose(out["fou_train"].mean(axis=0), 0, atol=1e-5)
    assert abs(out["fou_test"].mean()) > 1e-4  # test rows are scaled with the train statistics
    again, _ = npz_dataset.build(arrays, _study("x")["data"], seed=0, dataset="mine")
    assert all(np.array_equal(out[k], again[k]) for k in out)


def test_a_split_in_the_file_is_used_as_is(tmp_path):
    arrays = _views()
    split = np.array(["train"] * 70 + ["val"] * 10 + ["test"] * 20)
    rows = np.arange(100).reshape(10, 10).T.ravel()  # class-interleaved order: row i -> class i%10
    arrays = {k: v[rows] for k, v in arrays.items()} | {"split": split}
    out, meta = npz_dataset.build(arrays, {"kind": "npz", "path": "x"}, seed=0, dataset="mine")
    assert [len(out[f"y_{s}"]) for s in ("train", "val", "test")] == [70, 10, 20]
    np.testing.assert_array_equal(out["y_val"], arrays["y"][70:80])
    assert meta["settings"]["split"] == "file"


def _with(**changes):
    return _views() | changes


BAD_INPUTS = {  # case -> (the file's arrays (None: no file), an edit of the section, the message)
    "missing file": (None, None, "no such file"),
    "different N": (_with(x_kar=_views()["x_kar"][:90]), None, "x_kar has 90 rows, y has 100"),
    "NaN": (
        _with(x_fou=np.where(np.arange(100)[:, None] == 7, np.nan, _views()["x_fou"])),
        None,
        "x_fou holds NaN or inf in 1 rows (first: row 7)",
    ),
    "inf": (_with(x_kar=np.full((100, 64), np.inf)), None, "x_kar holds NaN or inf"),
    "labels not 0..C-1": (_with(y=_views()["y"] + 1), None, "y holds the labels 1, 2"),
    "too few samples": (
        _with(y=np.where(np.arange(100) == 0, 10, _views()["y"])),
        None,
        "class 10 has 1 rows, none in",
    ),
    "modality missing": (
        {k: v for k, v in _views().items() if k != "x_kar"},
        None,
        "no array x_kar for modality kar (named in mine.pairs); the file has: x_fou",
    ),
    "bad split value": (
        _with(split=np.array(["train", "valid", "test", "test"] * 25)),
        None,
        "split holds 'valid'; allowed: strings train, val, test",
    ),
    "model misfit": (
        _views(),
        lambda s: s["models"].update(kar="series_cnn"),
        "x_kar: model series_cnn takes samples (channels, time)",
    ),
    "no sizes without split": (
        _views(),
        lambda s: s["data"].pop("n_val"),
        "has no split array, so mine.data needs n_val",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_each_bad_input_is_refused_with_the_file_named(tmp_path, case):
    arrays, edit, message = BAD_INPUTS[case]
    path = tmp_path / "pairs.npz"
    if arrays is not None:
        np.savez(path, **arrays)
    params = _params(path)
    if edit:
        edit(params["mine"])
    with pytest.raises(ParamsError) as error:
        validate_params(params)
    assert f"mine.data.path: {path}: " in str(error.value), str(error.value)
    assert message in str(error.value), str(error.value)


def test_an_unlisted_npz_study_is_not_read_and_a_listed_name_must_exist(tmp_path):
    params = _params(tmp_path / "absent.npz")
    params["real_studies"] = []
    validate_params(params)  # declared, not built: its file is not needed
    params["real_studies"] = ["mien"]
    with pytest.raises(ParamsError, match=r"real_studies\[0\]: 'mien' names no real dataset"):
        validate_params(params)


def _workflow(tmp_path, params):
    """A copy of the workflow with `params`, its study's file data/user/pairs.npz written first
    (the copy generates its DVC pipeline, which checks the params)."""
    (tmp_path / "wf/data/user").mkdir(parents=True)
    np.savez(tmp_path / "wf/data/user/pairs.npz", **_views())
    return make_workflow_copy(tmp_path / "wf", params)


@pytest.mark.slow
def test_a_bad_file_stops_snakemake_before_any_job_and_writes_nothing(tmp_path):
    wf = _workflow(tmp_path, _params("data/user/pairs.npz"))
    np.savez(wf / "data/user/pairs.npz", **_with(y=_views()["y"] + 1))
    proc = run(["snakemake", "real", "--cores", "1"], wf, check=False)
    assert proc.returncode != 0
    assert "mine.data.path: data/user/pairs.npz: y holds the labels 1, 2" in proc.stderr
    assert not (wf / "results/mine").exists() and not (wf / "data/prepared/mine").exists()


@pytest.mark.slow
def test_a_hand_made_npz_runs_through_snakemake_real_and_dvc_repro(tmp_path):
    """Also the real-data DVC pipeline's life (real/dvc.yaml): absent until real data is built,
    then generated from the DAG, committed cleanly, following a new version of the file and a
    pair added in params.yaml alone."""
    params = _params("data/user/pairs.npz")
    wf = _workflow(tmp_path, params)
    init_repo(wf)
    assert not (wf / "real/dvc.yaml").exists()
    assert not REAL_STAGE.search(run(["dvc", "status"], wf).stdout)

    run(["snakemake", "real", "--cores", "2"], wf)
    modes = (wf / "results/mine/mfh_modes.csv").read_text()
    assert "fou,kar" in modes
    stages = yaml.safe_load((wf / "real/dvc.yaml").read_text())["stages"]
    assert "data/user/pairs.npz" in stages["download-mine"]["deps"]  # hash-tracked by DVC
    assert "real_modes-mine-fou-kar-1" in stages and "real_collect-mine" in stages
    run(["dvc", "commit", "-f", "-q", "real/dvc.yaml"], wf)  # the synthetic stages are not built
    assert not REAL_STAGE.search(run(["dvc", "status"], wf).stdout)

    # a new version of the file: DVC sees it changed and `dvc repro` rebuilds from it
    arrays = _views()
    arrays["x_kar"] = arrays["x_kar"] + np.random.default_rng(0).normal(size=(100, 64))
    np.savez(wf / "data/user/pairs.npz", **arrays)
    assert "download-mine" in run(["dvc", "status", "real/dvc.yaml"], wf).stdout
    repro = run(["dvc", "repro", "real/dvc.yaml"], wf).stdout
    assert "Running stage 'real/dvc.yaml:real_prepare-mine'" in repro, repro
    assert (wf / "results/mine/mfh_modes.csv").read_text() != modes
    assert not REAL_STAGE.search(run(["dvc", "status"], wf).stdout)

    # a pair added in params.yaml alone appears in the DAG and in DVC's pipeline (the reverse
    # of fou-kar: its students are new jobs, its joint nets and fusion teacher are fou-kar's)
    params["mine"]["pairs"]["kar-fou"] = {"teacher": "kar", "student": "fou"}
    (wf / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dry = run(["snakemake", "-n", "real"], wf).stdout
    job = r"rule {}:\n(?:    .*\n)*?    wildcards: dataset=mine, pair=kar-fou"  # one job's block
    assert re.search(job.format("real_modes"), dry)
    assert not re.search(job.format("real_(?:fusion|joint)"), dry)
    assert "real_modes-mine-kar-fou-1" in run(["dvc", "dag", "real/dvc.yaml"], wf).stdout
    status = run(["dvc", "status"], wf).stdout
    assert "real_modes-mine-kar-fou-1" in status
    assert "real_fusion-mine-kar-fou" not in status and "real_joint-mine-kar-fou" not in status
