"""Portable CPU kernels (mfh.numerics): a training step gives byte-identical outputs under two
outer CPU kernel settings that stand for two machines (AVX512 and AVX2), and, to show that the
check can fail, different bytes with `MFH_CPU_KERNELS=native`; the pin is in env.json; a step
whose torch computed before the pin stops with one line. The same for the preparation's numpy
algebra (AV-MNIST's image PCA through OpenBLAS, whose kernel is chosen by CPU core type).

The steps: a small CNN trained by minibatch SGD on fake AV-MNIST images (the real-data conv path:
`PortableConv2d`'s OpenBLAS GEMMs — oneDNN/NNPACK convolutions with native kernels —, ATen
kernels and MKL GEMMs) and the synthetic teachers (batched
linear ensembles). About 15 s in all on one core.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, section_files, tool_env

# Two "machines": what ATen, MKL, oneDNN and numpy's OpenBLAS would pick on an AVX512 CPU and on
# an AVX2 CPU.
MACHINES = {
    "avx512": {
        "ATEN_CPU_CAPABILITY": "avx512",
        "MKL_ENABLE_INSTRUCTIONS": "AVX512",
        "ONEDNN_MAX_CPU_ISA": "AVX512_CORE",
        "OPENBLAS_CORETYPE": "SkylakeX",
    },
    "avx2": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "OPENBLAS_CORETYPE": "Haswell",
    },
}
TRAIN = {"epochs": 2, "batch_size": 32, "lr": 0.02, "momentum": 0.9, "weight_decay": 0.0}


def _supports(capability: str) -> bool:
    flags = open("/proc/cpuinfo").read() if sys.platform == "linux" else ""
    return {"avx512": " avx512f", "avx2": " avx2"}[capability] in flags


needs_avx512 = pytest.mark.skipif(
    not (_supports("avx512") and _supports("avx2")),
    reason="simulating an AVX512 and an AVX2 machine needs a CPU with both",
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A tiny prepared AV-MNIST-like dataset (random images, 10 classes) and a synthetic study."""
    from mfh.data.real import FORMAT_VERSION, save_prepared
    from mfh.studies.gauss_prepare import prepare

    folder = tmp_path_factory.mktemp("numerics")
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in {"train": 96, "val": 32, "test": 32}.items():
        y = rng.integers(0, 10, n)
        arrays[f"y_{split}"] = y.astype(np.int64)
        x = rng.standard_normal((n, 1, 28, 28)) + 0.1 * y[:, None, None, None]
        arrays[f"image_{split}"] = x.astype(np.float32)
    meta = {"format": FORMAT_VERSION, "modalities": ["image"], "n_classes": 10}
    save_prepared(folder / "avmnist.npz", arrays, meta)
    data_cfg = {"generator": "vary_gamma", "grid": [5], "runs": 2, "n_train": 40, "n_test": 100}
    prepare("gauss_gamma", 0, data_cfg, folder / "gauss.npz", folder / "settings.csv")
    return folder


def _step(kind: str, inputs, out, env: dict) -> subprocess.CompletedProcess:
    if kind == "cnn":
        params = {
            "seed": 0,
            "device": "cpu",
            "avmnist.seeds": 1,
            "avmnist.models": {"image": "image_cnn"},
            "avmnist.hidden": 32,
            "avmnist.train": TRAIN,
        }
        args = ["real_unimodal", "--study", "avmnist", "--modality", "image"]
        args += ["--data", str(inputs / "avmnist.npz")]
    else:
        params = {"seed": 0, "device": "cpu", "gauss_gamma.teacher": {"epochs": 200, "lr": 0.1}}
        args = ["train_teachers", "--study", "gauss_gamma", "--data", str(inputs / "gauss.npz")]
    args += ["--params", *section_files(out.parent / f"{out.name}-params", params)]
    args += ["--out-ckpt", str(out / "model.pt")]
    args += ["--out-acc", str(out / "acc.csv"), "--out-env", str(out / "acc.env.json")]
    proc = subprocess.run(
        [sys.executable, "-m", "mfh", *args],
        cwd=REPO,
        env={**tool_env(), **env},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _outputs(kind, inputs, tmp_path, kernels: str) -> dict:
    """{machine: {file name: bytes}} of the step run under each simulated machine."""
    result = {}
    for machine, env in MACHINES.items():
        out = tmp_path / kernels / machine
        _step(kind, inputs, out, {**env, "MFH_CPU_KERNELS": kernels})
        result[machine] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    return result


@needs_avx512
@pytest.mark.parametrize("kind", ["cnn", "linear"])
def test_portable_kernels_give_the_same_bytes_on_both_machines(kind, inputs, tmp_path):
    runs = _outputs(kind, inputs, tmp_path, "portable")
    assert sorted(runs["avx512"]) == ["acc.csv", "acc.env.json", "model.pt"]
    assert runs["avx512"] == runs["avx2"]
    record = json.loads(runs["avx2"]["acc.env.json"])
    assert record["cpu_kernels"] == "portable"
    assert record["aten_cpu_capability"] == "AVX2"
    assert record["mkl_cbwr"] == "COMPATIBLE"
    assert record["mkldnn"] is False and record["nnpack"] is False
    assert record["machine"] == "x86_64"


@needs_avx512
@pytest.mark.parametrize("kind", ["cnn", "linear"])
def test_native_kernels_differ_between_the_machines(kind, inputs, tmp_path):
    """The machine's kernels: the checkpoints differ, so the test above can fail."""
    runs = _outputs(kind, inputs, tmp_path, "native")
    assert runs["avx512"]["model.pt"] != runs["avx2"]["model.pt"]
    records = [json.loads(runs[m]["acc.env.json"]) for m in MACHINES]
    assert [r["cpu_kernels"] for r in records] == ["native", "native"]
    assert [r["aten_cpu_capability"] for r in records] == ["AVX512", "AVX2"]


def test_torch_computing_before_the_pin_is_a_one_line_error(inputs, tmp_path):
    """torch already computed with the machine's kernels when `python -m mfh` pins: the training
    step refuses (exit 1, no traceback, no output) instead of computing unpinned."""
    params = {"seed": 0, "device": "cpu", "gauss_gamma.teacher": {"epochs": 1, "lr": 0.1}}
    argv = ["mfh", "train_teachers", "--study", "gauss_gamma", "--data", str(inputs / "gauss.npz")]
    argv += ["--params", *section_files(tmp_path, params), "--out-ckpt", str(tmp_path / "t.pt")]
    argv += ["--out-acc", str(tmp_path / "t.csv"), "--out-env", str(tmp_path / "t.env.json")]
    early = f"import runpy, sys, torch; torch.ones(3).exp(); sys.argv = {argv!r}; "
    early += "runpy.run_module('mfh', run_name='__main__')"
    env = {**tool_env(), "ATEN_CPU_CAPABILITY": "avx512"}
    env.pop("MFH_CPU_KERNELS", None)
    proc = subprocess.run(
        [sys.executable, "-c", early], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "portable CPU kernels are not in effect (ATen AVX512" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "t.pt").exists() and not (tmp_path / "t.env.json").exists()


# AV-MNIST's image PCA (float64, numpy's OpenBLAS) on random images; prints its sha256
PCA = """
import hashlib, sys
from mfh import numerics
numerics.pin()
import numpy as np
from mfh.data.avmnist import remove_pca_energy
numerics.enforce_openblas()
rng = np.random.default_rng(0)
images = {split: rng.random((n, 784)) for split, n in {"train": 300, "test": 50}.items()}
cleaned, _ = remove_pca_energy(images, 0.9)
print(hashlib.sha256(b"".join(cleaned[s].tobytes() for s in sorted(cleaned))).hexdigest())
"""


def _pca_digest(env: dict, script: str = PCA) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**tool_env(), **env},
        capture_output=True,
        text=True,
    )


@needs_avx512
def test_the_preparation_algebra_gives_the_same_bytes_on_both_machines():
    """Portable: the same PCA bytes under both machines' OpenBLAS kernels; native: different
    (the check can fail — it did for the committed AV-MNIST data, see mfh/numerics.py)."""
    digests = {}
    for kernels in ("portable", "native"):
        for machine, env in MACHINES.items():
            proc = _pca_digest({**env, "MFH_CPU_KERNELS": kernels})
            assert proc.returncode == 0, proc.stderr[-3000:]
            digests[kernels, machine] = proc.stdout.strip()
    assert digests["portable", "avx512"] == digests["portable", "avx2"]
    assert digests["native", "avx512"] != digests["native", "avx2"]


@needs_avx512
def test_numpy_imported_before_the_pin_is_a_one_line_error():
    """numpy (and with it OpenBLAS, on the machine's kernel) loaded before the pin: refused."""
    early = "import numpy\n" + PCA
    env = {**MACHINES["avx512"], "MFH_CPU_KERNELS": "portable"}
    proc = _pca_digest(env, early)
    assert proc.returncode != 0
    assert "portable CPU kernels are not in effect (OpenBLAS kernel SkylakeX)" in proc.stderr


def test_environment_record_reports_the_kernels(monkeypatch):
    """In-process (torch imported by pytest, no pin): the record says 'unpinned' until `enforce`
    runs, and the keys are those of the CLI's env.json."""
    import torch

    from mfh import device, numerics

    monkeypatch.setattr(numerics, "_in_force", None)
    record = device.environment()
    assert record["cpu_kernels"] == "unpinned"
    assert record["aten_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    for key in ("mkl_cbwr", "mkldnn", "nnpack", "machine"):
        assert key in record
    assert "model" not in json.dumps(record).lower()  # no CPU model name: it is machine-specific
    monkeypatch.setenv("MFH_CPU_KERNELS", "fast")
    with pytest.raises(numerics.DeviceError, match="MFH_CPU_KERNELS='fast' is not one of"):
        numerics.enforce()


@needs_avx512
@pytest.mark.slow
def test_a_whole_study_gives_the_same_bytes_on_both_machines(tmp_path, tiny_params, monkeypatch):
    """gauss_gamma through Snakemake (data, teachers, baselines, KD, Algorithm 1, tables,
    figures) under each simulated machine: every file it writes, checkpoints included, is equal."""
    from conftest import make_workflow_copy, run

    targets = ["results/gauss_gamma/summary.csv", "results/gauss_gamma/venn.csv"]
    files = {}
    for machine, env in MACHINES.items():
        wf = make_workflow_copy(tmp_path / machine, tiny_params)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        run(["snakemake", *targets, "--cores", "2"], wf)
        written = [p for d in ("results", "models", "data/prepared") for p in (wf / d).rglob("*")]
        files[machine] = {str(p.relative_to(wf)): p.read_bytes() for p in written if p.is_file()}
    assert len(files["avx2"]) >= 15 and any(name.endswith(".pt") for name in files["avx2"])
    assert files["avx512"] == files["avx2"]
