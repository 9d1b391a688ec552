"""The `device` parameter: resolution, deterministic GPU settings, the environment record, and the
one-line error when a GPU is asked for where there is none."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from conftest import REPO, section_files, tool_env
from mfh import device
from mfh.errors import DeviceError


@pytest.fixture
def restore_torch_state():
    """configure() changes process-wide torch state: put it back after the test."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    benchmark, cudnn_det = torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = benchmark, cudnn_det
    device._current = torch.device("cpu")


def test_cpu_and_auto_without_gpu(monkeypatch, restore_torch_state):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device.resolve("cpu") == torch.device("cpu")
    assert device.resolve("auto") == torch.device("cpu")
    assert device.configure("auto", threads=1) == torch.device("cpu")
    assert device.current() == torch.device("cpu")
    assert torch.get_num_threads() == 1


def test_cuda_without_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="device: cuda.*no GPU.*set device: auto or cpu"):
        device.resolve("cuda")
    with pytest.raises(DeviceError, match="not one of auto, cpu, cuda"):
        device.resolve("tpu")


def test_gpu_settings_are_deterministic(monkeypatch, restore_torch_state):
    """With a GPU visible (faked: only flags are set, no CUDA work is done), `configure` turns on
    deterministic algorithms, cuDNN determinism without autotuning, and the cuBLAS workspace."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    torch.backends.cudnn.benchmark = True
    assert device.configure("auto", threads=2) == torch.device("cuda")
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == device.CUBLAS_WORKSPACE
    assert device.current() == torch.device("cuda")


def test_environment_record(tmp_path, restore_torch_state):
    device.configure("cpu", threads=1)
    path = tmp_path / "acc/teacher.env.json"
    device.write_environment(path)
    record = json.loads(path.read_text())
    assert record["torch"] == torch.__version__
    assert record["device"] == "cpu"
    assert record["threads"] == 1
    assert record["deterministic_algorithms"] is False
    assert "gpu" not in record


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_step_asking_for_cuda_fails_in_one_line(tmp_path):
    """A training step with device: cuda on a CPU-only machine exits 1 with one clear line and
    writes nothing."""
    params = section_files(
        tmp_path, {"seed": 0, "device": "cuda", "gauss_gamma.teacher": {"epochs": 1, "lr": 0.1}}
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "mfh", "train_teachers", "--study", "gauss_gamma", "--params"]
        + params
        + ["--data", str(tmp_path / "missing.npz"), "--out-ckpt", str(out / "t.pt")]
        + ["--out-acc", str(out / "t.csv"), "--out-env", str(out / "t.env.json")],
        cwd=REPO,
        env=tool_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "device: cuda" in proc.stderr and "no GPU" in proc.stderr
    assert not out.exists()
