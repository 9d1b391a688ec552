"""Shared fixtures and helpers: the real params.yaml, a shrunk copy of it, a copy of the workflow
in a temporary folder where end-to-end tests may run Snakemake and DVC without touching the repo,
and reading an .npz file's arrays (`npz_arrays`).

Real data: the tiny configuration always reads the fixture shipped in tests/fixtures/raw (subsets
of MNIST, FSDD and mfeat, pinned in tests/fixtures/manifests; see tests/fixtures/
make_raw_fixture.py), so a plain clone and CI run the same tests. Tests that need the full copies
in ../shared/data (SHARED_DATA: the packaged pins, full-size preparation, downloads of the full
archives) carry the marker `shared_data` and are skipped, saying so, where that folder is absent.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"  # full real datasets (CI has them): never the network
FIXTURE_RAW = REPO / "tests" / "fixtures" / "raw"  # tiny subsets, shipped in the repository
FIXTURE_MANIFESTS = REPO / "tests" / "fixtures" / "manifests"  # their pins (paths.manifests)
# What a workflow copy needs: the entry points, the code, the params section files.


def pytest_runtest_setup(item) -> None:
    """Skip a test marked `shared_data` (before its fixtures) when ../shared/data is absent."""
    if item.get_closest_marker("shared_data"):
        require_shared_data()


def require_shared_data() -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the full data copies in {SHARED_DATA}, absent beside this clone")


def load_real_params() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


def shrink(params: dict, real: bool = False) -> dict:
    """A tiny version of params.yaml: the same studies, a few seconds of work in all. The
    real-data studies (tiny too, on the shipped fixture tests/fixtures/raw, verified against its
    own manifests) are in it only with `real=True`."""
    tiny = copy.deepcopy(params)
    if not real:
        tiny["real_studies"] = []
    # one reference study (gauss_alpha runs the same steps; its generator is tested in
    # test_synthetic, its science in test_science); test_workflow adds a venn study of its own
    tiny["studies"] = ["gauss_gamma"]
    synthetic = ("vary_gamma", "vary_alpha", "venn")
    for study in [k for k, v in tiny.items() if isinstance(v, dict) and "data" in v]:
        if tiny[study]["data"].get("generator") not in synthetic:
            continue
        section = tiny[study]
        section["data"].update(grid=section["data"]["grid"][:3], runs=3, n_train=40, n_test=100)
        section["teacher"]["epochs"] = 30
        section["student"]["epochs"] = 30
        section["salience"].update(epochs=30, repeats=5)
        section["venn"]["repeats"] = 3
    modify = tiny["gauss_modify"]
    modify["data"].update(grid=modify["data"]["grid"][:2], runs=3, n_train=40, n_test=100)
    modify["teacher"]["epochs"] = modify["student"]["epochs"] = 30
    modify["salience"].update(epochs=30, repeats=5)
    modify["venn"]["repeats"] = 3
    modify["selections"] = ["random", "alg1"]  # gt runs the same steps as random
    tiny["paths"] = {
        "raw": str(FIXTURE_RAW),
        "download": False,
        "manifests": str(FIXTURE_MANIFESTS),
    }
    # the fixture holds 200 + 100 MNIST images, 3 recordings per digit, 100 mfeat rows
    tiny["avmnist"]["data"].update(n_train=100, n_val=40, n_test=60)
    # (mfeat: 4 test rows a class, as the diagnosis' kNN mutual information with k = 3 needs)
    tiny["mfeat"]["data"].update(n_train=40, n_val=20, n_test=40)
    tiny["basicmotions"]["data"].update(n_val=4)  # the fixture: 8 + 8 series, 2 per class each
    for dataset in ("avmnist", "mfeat", "basicmotions"):
        section = tiny[dataset]
        section["seeds"] = 2
        first = next(iter(section["pairs"]))  # one pair: the other way runs the same steps
        section["pairs"] = {first: section["pairs"][first]}
        section["train"]["epochs"] = section["distill"]["epochs"] = 2
        section["joint"]["epochs"] = 1
        section["salience"]["repeats"] = 2
        section["modes"].update(ratios=[0.5], control_ratios=[0.5])
        # two epochs on 60-100 samples leave some nets at chance: the health checks (tested in
        # test_health.py) would stop the tiny run, so they are off here
        section["health"].update(p_value=1.0, max_dead_share=1.0)
    return tiny


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny tensors: intra-op threads only add overhead (and stall on a loaded machine)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def tiny_params() -> dict:
    return shrink(load_real_params())


def npz_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz file (e.g. a prepared dataset), by key."""
    with np.load(path) as f:
        return {key: f[key] for key in f.files}


def tool_env(**extra: str) -> dict:
    """Environment for subprocesses: this Python's bin first on PATH, DVC offline, plus `extra`."""
    env = dict(os.environ, **extra)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["DVC_NO_ANALYTICS"] = "1"
    return env


def section_files(folder: Path, values: dict) -> list[str]:
    """Write {dotted params key: value} as the section files a step reads (`--params`)."""
    from mfh.pipeline import sections

    paths = []
    for key, value in values.items():
        path = sections.path_of(key, folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sections.render(value))
        paths.append(str(path))
    return paths


def run(
    cmd: list[str], cwd: Path, check: bool = True, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run a command, capturing output; on failure show it in the assertion message."""
    proc = subprocess.run(cmd, cwd=cwd, env=env or tool_env(), capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def make_workflow_copy(dest: Path, params: dict) -> Path:
    """Copy the workflow into `dest` with `params` as its params.yaml (and its DVC pipeline)."""
    from mfh.pipeline.workflow_copy import copy_workflow

    return copy_workflow(dest, params)


@pytest.fixture
def workflow_copy(tmp_path, tiny_params) -> Path:
    return make_workflow_copy(tmp_path / "wf", tiny_params)


def init_repo(path: Path) -> None:
    """Make a workflow copy a git repository with DVC initialised (offline), all committed."""
    run(["git", "init", "-q"], path)
    run(["git", "config", "user.email", "test@mfh.local"], path)
    run(["git", "config", "user.name", "mfh test"], path)
    run(["dvc", "init", "-q"], path)
    run(["dvc", "config", "core.analytics", "false"], path)
    run(["dvc", "config", "core.check_update", "false"], path)
    (path / ".gitignore").write_text((REPO / ".gitignore").read_text())
    run(["git", "add", "-A"], path)
    run(["git", "commit", "-qm", "init"], path)


def copy_of(finished: Path, dest: Path) -> Path:
    """A copy of a finished run that a test may change: every file keeps its mtime (Snakemake
    finds nothing to do), the git repository and DVC's cache come along; not Snakemake's logs
    and locks, nor a report, which a reader of the run may be writing meanwhile."""
    ignore = shutil.ignore_patterns("log", "locks", "incomplete", "*.html")
    shutil.copytree(finished, dest, symlinks=True, ignore=ignore)
    return dest


def read_params(wf: Path) -> dict:
    """The params.yaml of a workflow copy."""
    return yaml.safe_load((wf / "params.yaml").read_text())


# --- the two tiny end-to-end runs, shared by the test files that read their outputs -------------
# (session-scoped: the tests of the workflow, of DVC, of the report, of Slurm and of the code deps
# read the same two runs, or start from a copy of them, instead of each paying for one of its own)

# a study of the user's own, in params.yaml alone: unusual triples (Db > Da, Da = 0, D0 = 0)
USER_STUDY = "my_venn"
USER_GRID = [[2, 1, 5], [4, 0, 3], [0, 3, 6]]


def with_user_study(params: dict) -> dict:
    """`params` plus the study USER_STUDY, copied from gauss_classes with its own data."""
    user = yaml.safe_load(yaml.safe_dump(params["gauss_classes"]))
    user["data"].update(grid=USER_GRID, noise_a=2, noise_b=3, classes=2, hyperplane="ones")
    return params | {USER_STUDY: user, "studies": [*params["studies"], USER_STUDY]}


def built_once(tmp_path_factory, name: str, build) -> Path:
    """The folder `name`, made by `build(folder)` once per test session: under pytest-xdist the
    first worker to ask builds it (under a file lock) in the folder all the session's workers
    share, and the others wait for it and read it."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # pytest-N/ under xdist
    folder, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.is_file():
            shutil.rmtree(folder, ignore_errors=True)  # what a failed build left
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def import_traces(tmp_path_factory) -> Path:
    """The folder where the steps of the shared runs list the mfh modules they loaded
    (MFH_TRACE_IMPORTS; read by tests/test_code_deps.py)."""
    return built_once(tmp_path_factory, "import_traces", lambda folder: folder.mkdir())


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory, import_traces) -> Path:
    """One `snakemake --cores 2` (the default target) on the tiny configuration plus USER_STUDY,
    in a git repository with DVC, handed over to DVC (`dvc commit -f`) and committed: what a user
    who ran the README's main command and committed has. Readers only: a test that changes it
    works on `copy_of(finished_run, ...)` or a `git clone` of it."""

    def build(folder: Path) -> None:
        params = with_user_study(shrink(load_real_params()))
        wf = make_workflow_copy(folder, params)
        init_repo(wf)
        env = tool_env(MFH_TRACE_IMPORTS=str(import_traces))
        run(["snakemake", "--cores", "2"], wf, env=env)
        run(["dvc", "commit", "-f"], wf)
        run(["git", "add", "-A"], wf)
        run(["git", "commit", "-qm", "results"], wf)

    return built_once(tmp_path_factory, "finished_run", build)


@pytest.fixture(scope="session")
def real_run(tmp_path_factory, import_traces):
    """One run of `snakemake real` on the tiny configuration (every real dataset, on the shipped
    fixture); returns the workflow copy and its params. Readers only."""
    params = shrink(load_real_params(), real=True)

    def build(folder: Path) -> None:
        wf = make_workflow_copy(folder, params)
        env = tool_env(MFH_TRACE_IMPORTS=str(import_traces))
        run(["snakemake", "real", "--cores", "2"], wf, env=env)

    return built_once(tmp_path_factory, "real_run", build), params
