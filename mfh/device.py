"""Where a step computes (params `device: auto | cpu | cuda`) and the record of how it computed.

`configure(name, threads)` is called once at the start of every training step:
- it resolves `auto` to `cuda` when a GPU is visible and to `cpu` otherwise, and refuses `cuda`
  on a machine without one (a clear error instead of a crash deep in torch);
- on a GPU it makes the arithmetic deterministic: `torch.use_deterministic_algorithms(True)`,
  `CUBLAS_WORKSPACE_CONFIG=:4096:8` (cuBLAS reads it when it first starts, so it is set here,
  before any CUDA work), cuDNN deterministic and without autotuning (`benchmark = False`);
- it sets the number of CPU threads torch uses;
- it remembers the device for the whole process: `current()` is where tensors and models go.

`environment()` is what each step writes next to its metrics (`<metrics>.env.json`): the torch
version, the device (and GPU name), the thread count, the determinism flag, the CPU architecture
and the CPU kernels in force (`mfh.numerics.record()`: portable or native, ATen capability, MKL
branch, oneDNN and NNPACK). Nothing machine-specific such as the CPU model: the files are
committed and regenerate byte-identical on other machines (the model is in the step's log).
Same params + same code + same environment record => byte-identical metrics. Results computed on
another device or torch version can differ in the last digits; the record says which is which.
"""

from __future__ import annotations

import json
import os
import platform

import torch

from mfh import numerics
from mfh.errors import DeviceError
from mfh.io import write_text_atomic

CHOICES = ("auto", "cpu", "cuda")
CUBLAS_WORKSPACE = ":4096:8"

_current = torch.device("cpu")


def resolve(name: str) -> torch.device:
    """'auto' | 'cpu' | 'cuda' -> the torch.device to use here."""
    if name not in CHOICES:
        raise DeviceError(f"device {name!r} is not one of {', '.join(CHOICES)}")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise DeviceError(
            "params.yaml asks for device: cuda, but torch sees no GPU here "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}); "
            "set device: auto or cpu, or install a CUDA build of torch on this node (README)"
        )
    return torch.device("cuda")


def configure(name: str = "cpu", threads: int = 1) -> torch.device:
    """Resolve and select the device for this process, with deterministic GPU settings."""
    device = resolve(name)
    torch.set_num_threads(threads)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    global _current
    _current = device
    return device


def current() -> torch.device:
    """The device selected by `configure` (cpu until then)."""
    return _current


def environment() -> dict:
    """How this process computes: enough to tell whether two metrics files should agree bit for
    bit."""
    device = current()
    record = {
        "torch": str(torch.__version__),
        "device": device.type,
        "threads": torch.get_num_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "python": platform.python_version(),
        "machine": platform.machine(),  # CPU architecture, e.g. x86_64
        **numerics.record(),
    }
    if device.type == "cuda":
        record["gpu"] = torch.cuda.get_device_name(device)
        record["cuda"] = torch.version.cuda
        record["cublas_workspace_config"] = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    return record


def write_environment(path) -> None:
    """Write `environment()` as JSON to `path` (atomically)."""
    write_text_atomic(path, json.dumps(environment(), indent=2, sort_keys=True) + "\n")
