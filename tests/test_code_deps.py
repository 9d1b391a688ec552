"""The code dependencies of every step (mfh/pipeline/code_deps.py) cover what a real run of that
step loads: the shared tiny runs (conftest: `finished_run`, every synthetic study, and `real_run`,
every real dataset) run with MFH_TRACE_IMPORTS, and every mfh module a step imported must be in
the computed closure that Snakemake and DVC track for it."""

from __future__ import annotations

from collections import defaultdict

import pytest

from mfh.cli import steps
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
def test_every_module_a_step_loads_is_in_its_code_deps(finished_run, real_run, import_traces):
    loaded = defaultdict(set)
    for path in import_traces.glob("*.txt"):
        loaded[path.name.rsplit("-", 1)[0]].update(path.read_text().split())
    assert set(loaded) == set(steps()), sorted(set(steps()) ^ set(loaded))  # every step ran
    for step, modules in sorted(loaded.items()):
        missing = modules - code_deps.step_modules(step)
        assert not missing, f"{step} loaded {sorted(missing)}, which its code deps lack"
