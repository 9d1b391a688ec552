"""Faults: bad checkpoints give one clear error (not a crash deep in torch), outputs are written
atomically, and an interrupted step leaves no half-written output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from conftest import section_files
from mfh.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from mfh.io import atomic_path
from mfh.models.linear import LinearEnsemble


def _checkpoint(path: Path, role: str = "teacher") -> None:
    model = LinearEnsemble([1, 2], 3, 2)
    save_checkpoint(
        path,
        role=role,
        model_spec={"kind": "linear_ensemble"},
        layout={},
        config={},
        metrics={},
        state_dict=model.state_dict(),
    )


def test_truncated_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "teacher.pt"
    _checkpoint(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated: delete it and rerun"):
        load_checkpoint(path, "teacher")


@pytest.mark.parametrize("payload", [b"not a checkpoint at all", None])
def test_foreign_checkpoint_is_a_clear_error(tmp_path, payload):
    path = tmp_path / "teacher.pt"
    if payload is None:
        torch.save({"weight": torch.zeros(2)}, path)  # a torch file, but not ours
    else:
        path.write_bytes(payload)
    with pytest.raises(CheckpointError, match=r"teacher\.pt: not"):
        load_checkpoint(path, "teacher")


def test_wrong_role_and_missing_checkpoint(tmp_path):
    path = tmp_path / "kd.pt"
    _checkpoint(path, role="kd")
    with pytest.raises(CheckpointError, match="holds a 'kd' model, expected 'teacher'"):
        load_checkpoint(path, "teacher")
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.pt", "teacher")


def test_cli_reports_a_bad_checkpoint_in_one_line(tmp_path):
    """The distill step given a truncated teacher exits 1 with the file named, no traceback."""
    from mfh.studies.gauss_prepare import prepare

    data_cfg = {"generator": "vary_gamma", "grid": [0], "runs": 1, "n_train": 10, "n_test": 10}
    prepare("gauss_gamma", 0, data_cfg, tmp_path / "d.npz", tmp_path / "s.csv")
    teacher = tmp_path / "teacher.pt"
    teacher.write_bytes(b"\x50\x4b\x03\x04 truncated zip")
    params = {
        "seed": 0,
        "device": "cpu",
        "gauss_gamma.student": {"epochs": 1, "lr": 0.1},
        "gauss_gamma.distill": {
            "temperature": 1.0,
            "w_gt": 1.0,
            "w_kd": 1.0,
            "kl_reduction": "mean",
            "t_squared": False,
        },
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mfh",
            "distill",
            "--study",
            "gauss_gamma",
            "--params",
            *section_files(tmp_path, params),
            "--data",
            str(tmp_path / "d.npz"),
            "--teacher",
            str(teacher),
            "--out-ckpt",
            str(tmp_path / "kd.pt"),
            "--out-acc",
            str(tmp_path / "kd.csv"),
            "--out-env",
            str(tmp_path / "kd.env.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert f"{teacher}: not a readable checkpoint" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "kd.pt").exists() and not (tmp_path / "kd.csv").exists()


def test_atomic_path_leaves_no_partial_file(tmp_path):
    target = tmp_path / "out" / "table.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []
    with atomic_path(target) as tmp:
        tmp.write_text("whole")
    assert target.read_text() == "whole"


@pytest.mark.slow
def test_killed_run_reruns_to_the_same_results(tmp_path, finished_run):
    """SIGKILL the whole Snakemake process group while the teachers train (made long by a param
    edit); no half-written output is left, and after `snakemake --unlock` and the edit undone a
    rerun gives the bytes of a clean run of the same params (the shared tiny run)."""
    import os
    import signal
    import time

    from conftest import make_workflow_copy, read_params, run, tool_env

    params = read_params(finished_run)
    epochs = params["gauss_gamma"]["teacher"]["epochs"]
    params["gauss_gamma"]["teacher"]["epochs"] = 60000  # a few seconds: time to kill it
    target = "results/gauss_gamma/runs.csv"
    killed = make_workflow_copy(tmp_path / "killed", params)
    proc = subprocess.Popen(
        ["snakemake", target, "--cores", "1"],
        cwd=killed,
        env=tool_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    log = killed / "logs/gauss_gamma/train_teachers.log"
    deadline = time.monotonic() + 120
    while not (log.is_file() and "epoch" in log.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, "training never started"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "models/gauss_gamma/teacher.pt").exists()
    assert not (killed / "results/gauss_gamma/acc/teacher.csv").exists()
    leftovers = [p.name for p in (killed / "models/gauss_gamma").iterdir()]
    assert leftovers == [], f"temporary files left behind: {leftovers}"

    run(["snakemake", "--unlock"], killed)
    params["gauss_gamma"]["teacher"]["epochs"] = epochs
    (killed / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["snakemake", target, "--cores", "2"], killed)
    for name in ("acc/teacher.csv", "runs.csv", "summary.csv"):
        path = f"results/gauss_gamma/{name}"
        assert (killed / path).read_bytes() == (finished_run / path).read_bytes(), path


def test_equal_checkpoints_are_equal_bytes(tmp_path):
    """Written through a temporary file, a checkpoint must not depend on that file's name (DVC
    compares outputs by hash: a rerun that changes nothing must change no bytes)."""
    state = {"weight": torch.arange(6.0).reshape(2, 3)}
    paths = [tmp_path / "a" / "teacher.pt", tmp_path / "b" / "teacher.pt"]
    for path in paths:
        save_checkpoint(
            path, role="teacher", model_spec={}, layout={}, config={}, metrics={}, state_dict=state
        )
    assert paths[0].read_bytes() == paths[1].read_bytes()
