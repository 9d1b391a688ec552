"""Tests of mfh.pipeline.local_scheduler: a local Snakemake run loses its job-start rate limiter
(whose timer chains cost a core's fifth on long runs), a cluster run keeps it — checked on stand-in
workflow objects and, against the installed Snakemake, on a real two-job run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from mfh.pipeline.local_scheduler import drop_rate_limiter

REPO = Path(__file__).resolve().parents[1]


def _workflow(local: bool, limiter=True):
    scheduler = SimpleNamespace(job_rate_limiter=object() if limiter else None)
    return SimpleNamespace(local_exec=local, scheduler=scheduler)


def test_a_local_run_loses_the_limiter():
    workflow = _workflow(local=True)
    assert drop_rate_limiter(workflow) is True
    assert workflow.scheduler.job_rate_limiter is None


def test_a_cluster_run_keeps_it():
    workflow = _workflow(local=False)
    limiter = workflow.scheduler.job_rate_limiter
    assert drop_rate_limiter(workflow) is False
    assert workflow.scheduler.job_rate_limiter is limiter


def test_nothing_to_drop():
    assert drop_rate_limiter(_workflow(local=True, limiter=False)) is False
    assert drop_rate_limiter(SimpleNamespace(local_exec=True)) is False  # no scheduler yet


def test_the_installed_snakemake_has_the_limiter_the_hook_removes(tmp_path):
    """If a Snakemake release renames what the hook sets, this run prints False: the hook
    would silently do nothing."""
    (tmp_path / "Snakefile").write_text(
        "from mfh.pipeline.local_scheduler import drop_rate_limiter\n"
        "onstart:\n"
        "    print('hook removed the limiter:', drop_rate_limiter(workflow))\n"
        "rule all:\n"
        "    input: 'b.txt'\n"
        "rule a:\n"
        "    output: 'a.txt'\n"
        "    shell: 'echo a > {output}'\n"
        "rule b:\n"
        "    input: 'a.txt'\n"
        "    output: 'b.txt'\n"
        "    shell: 'cat {input} > {output}'\n"
    )
    snakemake = Path(sys.executable).with_name("snakemake")
    done = subprocess.run(
        [str(snakemake), "--cores", "2"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "hook removed the limiter: True" in done.stdout + done.stderr
    assert (tmp_path / "b.txt").read_text() == "a\n"
