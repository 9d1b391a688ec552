"""Portable CPU arithmetic: the same float32 bits on every x86-64 machine, whatever its CPU.

torch picks CPU code paths per machine: ATen's vectorised kernels (DEFAULT / AVX2 / AVX512, by
CPUID), MKL's BLAS (by CPU and vendor), oneDNN's convolutions (JIT code by ISA, blocking by cache
size) and NNPACK's (by ISA and cache size). Each sums in its own order, so a result computed on an
AVX512 machine differs in the last bits from one computed on an AVX2 machine, and minibatch training
amplifies that into different accuracies. With `MFH_CPU_KERNELS=portable` (the default) every step
computes with code paths that do not depend on the CPU:

- `ATEN_CPU_CAPABILITY=avx2`: ATen's AVX2 kernels on every machine, AVX512 ones included (the
  baseline `default` level is portable to pre-2013 CPUs too, but made the CNN epochs 1.4x
  slower; a CPU without AVX2 and FMA falls back to `default`, and `enforce()` then refuses);
- `MKL_CBWR=COMPATIBLE`: MKL's conditional numerical reproducibility, one code path on Intel and
  AMD alike (on this AMD CPU `MKL_CBWR=AVX2` is refused: MKL falls back to its automatic choice);
- `OPENBLAS_CORETYPE=Haswell` and `OPENBLAS_NUM_THREADS=1`: numpy's OpenBLAS (the real-data
  preparation's float64 algebra, e.g. AV-MNIST's image PCA) with its AVX2 + FMA kernels on every
  machine. Unpinned, OpenBLAS picks its kernel by core type: the committed AV-MNIST data was
  first prepared on an AVX512 Intel CPU (kernel SkylakeX) and came out different in the last bits
  on this AMD CPU (kernel Haswell), which changed every AV-MNIST accuracy; numpy's own SIMD level
  (NPY_DISABLE_CPU_FEATURES down to its baseline) did not change the data, so it is not pinned;
- oneDNN and NNPACK off (`torch.backends.mkldnn`, `torch.backends.nnpack`): convolutions take
  ATen's im2col + MKL GEMM path (oneDNN's `ONEDNN_MAX_CPU_ISA` pins the ISA but not the
  cache-size-dependent blocking, and NNPACK ignores both);
- the thread count: `mfh.device.configure(threads)` (steps run with `--threads 1`).

The first three are environment variables that torch, MKL and OpenBLAS read once, at their first
use, so `pin()` sets them at the very top of `python -m mfh` (mfh/__main__.py), before torch or
numpy is imported;
`enforce()`, at the start of every training step (`mfh.steps.common.compute_on`), switches oneDNN
and NNPACK off and checks that the pin took effect: if torch computed before `pin()` (imported
early, e.g. by a caller that runs `mfh.cli.main` in-process), the step fails with one line
instead of silently computing with the machine's kernels. `record()` is the part of
`<metrics>.env.json` that says which kernels computed (no CPU model name: env.json files are
committed and must regenerate byte-identical elsewhere; the model name is in the step's log).

`MFH_CPU_KERNELS=native` leaves every choice to the machine: faster (benchmarks/bench_numerics.py:
measured here, portable costs 1.5x on the synthetic trainers, 1.2x on the whole synthetic
workflow, 5-6x on an epoch of the AV-MNIST CNNs), but results then match only those of the same
CPU model and library versions.
"""

from __future__ import annotations

import ctypes
import os
import platform

from mfh.errors import DeviceError

ENV = "MFH_CPU_KERNELS"
MODES = ("portable", "native")
PORTABLE_ENV = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "COMPATIBLE",
    "OPENBLAS_CORETYPE": "Haswell",
    "OPENBLAS_NUM_THREADS": "1",
}
PORTABLE_ATEN = "AVX2"  # what torch.backends.cpu.get_cpu_capability() reports when pinned
PORTABLE_OPENBLAS = "Haswell"  # what OpenBLAS' get_corename reports when pinned
# mkl_cbwr.h: what mkl_cbwr_get(MKL_CBWR_BRANCH) returns
MKL_BRANCHES = {1: "off", 2: "AUTO", 3: "COMPATIBLE", 4: "SSE2", 6: "SSSE3", 7: "SSE4_1"}
MKL_BRANCHES |= {8: "SSE4_2", 9: "AVX", 10: "AVX2", 12: "AVX512", 14: "AVX512_E1"}

_in_force: str | None = None  # what enforce() established in this process


def mode() -> str:
    """The kernels asked for: `MFH_CPU_KERNELS` (portable when unset)."""
    value = os.environ.get(ENV, "portable")
    if value not in MODES:
        raise DeviceError(f"{ENV}={value!r} is not one of {', '.join(MODES)}")
    return value


def pin() -> None:
    """Before `import torch`: set the environment that selects portable kernels (overriding any
    outer ATEN_CPU_CAPABILITY or MKL_CBWR) unless `MFH_CPU_KERNELS=native`. A misspelt value
    pins too; `enforce()` then stops the step with one line."""
    if os.environ.get(ENV) != "native":
        os.environ.update(PORTABLE_ENV)


def mkl_branch() -> str | None:
    """The code path MKL computes with ('COMPATIBLE', 'off' = MKL's own choice), or None
    without MKL. Asking does not start MKL's BLAS; it reads MKL_CBWR if MKL has not yet."""
    import torch

    try:
        lib = ctypes.CDLL(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))
        code = lib.mkl_serv_cbwr_get(1)  # MKL_CBWR_BRANCH
    except (OSError, AttributeError):
        return None
    return MKL_BRANCHES.get(code, str(code))


def openblas_core() -> str | None:
    """The kernel numpy's OpenBLAS computes with (e.g. 'Haswell'), or None where numpy carries
    no OpenBLAS. Imports numpy (which loads OpenBLAS and reads OPENBLAS_CORETYPE)."""
    import glob

    import numpy

    libs = os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "lib*openblas*.so*"))):
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename"):
            function = getattr(lib, name, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                return function().decode()
    return None


def enforce_openblas() -> None:
    """In portable mode, check that numpy's OpenBLAS runs the pinned kernel (DeviceError if numpy
    was imported before `pin()`). For the steps that compute with numpy alone (preparation)."""
    if mode() != "portable":
        return
    core = openblas_core()
    if core not in (None, PORTABLE_OPENBLAS):
        raise DeviceError(
            f"portable CPU kernels are not in effect (OpenBLAS kernel {core}): numpy was imported "
            f"before mfh.numerics.pin(); run steps as `python -m mfh` or set {ENV}=native"
        )


def enforce() -> str:
    """After `import torch`, before computing: in portable mode switch oneDNN and NNPACK off and
    check that ATen, MKL and OpenBLAS run the pinned code paths (DeviceError if torch or numpy
    computed before `pin()`). Returns the mode."""
    import torch

    global _in_force
    chosen = mode()
    if chosen == "portable":
        capability = torch.backends.cpu.get_cpu_capability()
        branch = mkl_branch()
        if capability != PORTABLE_ATEN or branch not in (None, "COMPATIBLE"):
            raise DeviceError(
                f"portable CPU kernels are not in effect (ATen {capability}, MKL branch {branch}): "
                "torch computed before mfh.numerics.pin(), or this CPU lacks AVX2/FMA; run steps "
                f"as `python -m mfh` or set {ENV}=native"
            )
        enforce_openblas()
        torch.backends.mkldnn.enabled = False
        torch.backends.nnpack.set_flags(False)
    _in_force = chosen
    return chosen


def in_force() -> str | None:
    """What `enforce()` established in this process: "portable", "native", or None before it ran
    (`mfh.models.blas_conv` computes with OpenBLAS only under "portable")."""
    return _in_force


def record() -> dict:
    """How this process's CPU kernels were chosen, for the environment record: the same on every
    machine in portable mode. `cpu_kernels` is 'unpinned' where `enforce()` did not run."""
    import torch

    return {
        "cpu_kernels": _in_force or "unpinned",
        "aten_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "mkl_cbwr": mkl_branch(),
        "mkldnn": bool(torch.backends.mkldnn.enabled),
        "nnpack": bool(torch.backends.nnpack.is_available() and torch._C._get_nnpack_enabled()),
    }


def cpu_model() -> str:
    """The CPU's model name (for the log only: it is machine-specific)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
