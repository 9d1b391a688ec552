"""The code dependencies of every step (mfh/pipeline/code_deps.py) cover what a real run of that
step loads: the tiny synthetic and mfeat workflows run with MFH_TRACE_IMPORTS, and every mfh
module a step imported must be in the computed closure that Snakemake and DVC track for it."""

from __future__ import annotations

from collections import defaultdict

import pytest

from conftest import load_real_params, make_workflow_copy, run, shrink
from mfh.pipeline import code_deps


def test_closure_follows_the_handler_not_every_step():
    collect = code_deps.step_modules("collect")
    assert "mfh.report.gauss.tables" in collect and "mfh.report.metrics" in collect
    assert "mfh.train.fullbatch" not in collect  # another step's code
    teacher = code_deps.step_modules("train_teachers")
    assert {"mfh.studies.gauss", "mfh.train.fullbatch", "mfh.device"} <= teacher
    assert "mfh.report.gauss.tables" not in teacher
    with pytest.raises(KeyError, match="no step 'nope'"):
        code_deps.step_modules("nope")


@pytest.mark.slow
def test_every_module_a_step_loads_is_in_its_code_deps(tmp_path, monkeypatch):
    params = shrink(load_real_params(), real=True)
    params["real_studies"] = ["mfeat"]  # the real-data steps import the same modules for both
    wf = make_workflow_copy(tmp_path / "wf", params)
    trace = tmp_path / "trace"
    monkeypatch.setenv("MFH_TRACE_IMPORTS", str(trace))
    run(["snakemake", "all", "real", "--cores", "2"], wf)

    loaded = defaultdict(set)
    for path in trace.glob("*.txt"):
        loaded[path.name.rsplit("-", 1)[0]].update(path.read_text().split())
    assert len(loaded) >= 20, sorted(loaded)
    for step, modules in sorted(loaded.items()):
        missing = modules - code_deps.step_modules(step)
        assert not missing, f"{step} loaded {sorted(missing)}, which its code deps lack"
