"""dvc.yaml mirrors the Snakemake DAG, and `dvc repro` after a param edit reruns exactly what
depends on that param."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from conftest import REPO, make_workflow_copy, run

CODE_PREFIXES = ("mfh/", "workflow/")


def dvc_stage_name(rule: str, wildcards: dict) -> str:
    """The DVC stage of a Snakemake job: "rule@wildcard" for a synthetic rule with a wildcard
    (DVC foreach), plain "rule" without; a real-data job is "rule[_kind]_dataset[@item]", the item
    being its modality or pair (the `foreach` of its stage group) and kind its other wildcards."""
    if "dataset" not in wildcards:
        return "@".join([rule, *wildcards.values()])
    rest = dict(wildcards)
    dataset = rest.pop("dataset")
    item = rest.pop("pair", None) or rest.pop("modality", None)
    name = "_".join([rule, *rest.values(), dataset])
    return f"{name}@{item}" if item else name


def snakemake_jobs(workdir: Path) -> dict[str, dict]:
    """Every job of the full DAG (targets all and real, forceall), keyed like DVC's stages."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import DAGSettings, OutputSettings, ResourceSettings

    jobs = {}
    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        wf_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            snakefile=workdir / "Snakefile",
            workdir=workdir,
        )
        dag_settings = DAGSettings(targets={"all", "real"}, forceall=True)
        workflow = wf_api.dag(dag_settings=dag_settings).workflow_api._workflow
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True)
        workflow._build_dag()
        for job in workflow.dag.jobs:
            if job.rule.name in ("all", "real"):
                continue
            sections = shlex.split(job.params.sections)[0]
            key = dvc_stage_name(job.rule.name, dict(job.wildcards))
            jobs[key] = {
                "outs": sorted(job.output),
                "deps": sorted(job.input),
                "params": sorted(yaml.safe_load(sections)),
                "rule": job.rule.name,
                "rule_file": Path(job.rule.snakefile).resolve(),
            }
    return jobs


def dvc_stages(workdir: Path) -> dict[str, dict]:
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    stages = {}
    for stage in Repo(str(workdir), uninitialized=True).index.stages:
        params = [p for d in stage.deps if isinstance(d, ParamsDependency) for p in d.params]
        files = [d.def_path for d in stage.deps if not isinstance(d, ParamsDependency)]
        stages[stage.name] = {
            "outs": sorted(o.def_path for o in stage.outs),
            "deps": sorted(f for f in files if not f.startswith(CODE_PREFIXES)),
            "code": [f for f in files if f.startswith(CODE_PREFIXES)],
            "params": sorted(params),
            "cmd": stage.cmd,
        }
    return stages


def test_dvc_yaml_mirrors_the_snakemake_dag():
    jobs = snakemake_jobs(REPO)
    stages = dvc_stages(REPO)
    assert sorted(stages) == sorted(jobs), "a Snakemake job without a DVC stage, or vice versa"
    for name, job in jobs.items():
        stage = stages[name]
        rule = job["rule"]
        assert stage["outs"] == job["outs"], f"{name}: outputs differ"
        assert stage["deps"] == job["deps"], f"{name}: data dependencies differ"
        assert stage["params"] == job["params"], f"{name}: params differ"
        target = re.escape(job["outs"][0])
        assert re.fullmatch(
            rf"snakemake {target} --cores all --force --allowed-rules {rule}", stage["cmd"]
        ), f"{name}: cmd must ask Snakemake for its own target: {stage['cmd']}"
        for code in stage["code"]:
            assert (REPO / code).is_file(), f"{name}: code dep {code} does not exist"
        rule_file = job["rule_file"].relative_to(REPO).as_posix()
        assert rule_file in stage["code"], f"{name}: should depend on its rule file {rule_file}"


def _init_repo(path: Path) -> None:
    run(["git", "init", "-q"], path)
    run(["git", "config", "user.email", "test@mfh.local"], path)
    run(["git", "config", "user.name", "mfh test"], path)
    run(["dvc", "init", "-q"], path)
    run(["dvc", "config", "core.analytics", "false"], path)
    run(["dvc", "config", "core.check_update", "false"], path)
    (path / ".gitignore").write_text((REPO / ".gitignore").read_text())
    run(["git", "add", "-A"], path)
    run(["git", "commit", "-qm", "init"], path)


def _stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def _assert_in_sync(path: Path) -> None:
    status = run(["dvc", "status"], path).stdout
    assert "up to date" in status, f"dvc status is not clean:\n{status}"
    dry = run(["snakemake", "-n"], path)
    assert "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-2000:]


@pytest.mark.slow
def test_param_edit_reruns_only_distillation_and_downstream(tmp_path, tiny_params):
    wf = make_workflow_copy(tmp_path / "wf", tiny_params)
    _init_repo(wf)

    first = run(["dvc", "repro"], wf).stdout
    assert _stages_run(first) == set(dvc_stages(wf))
    _assert_in_sync(wf)

    tiny_params["gauss_gamma"]["distill"]["temperature"] = 4.0
    (wf / "params.yaml").write_text(yaml.safe_dump(tiny_params, sort_keys=False))
    before = (wf / "results/gauss_gamma/acc/teacher.csv").read_bytes()
    second = run(["dvc", "repro", "--no-run-cache"], wf).stdout
    assert _stages_run(second) == {
        "distill@gauss_gamma",
        "collect@gauss_gamma",
        "plot@gauss_gamma",
    }
    assert (wf / "results/gauss_gamma/acc/teacher.csv").read_bytes() == before
    _assert_in_sync(wf)

    # the other hand-over: a plain Snakemake run, then `dvc commit -f` records it
    tiny_params["gauss_alpha"]["teacher"]["lr"] = 0.05
    (wf / "params.yaml").write_text(yaml.safe_dump(tiny_params, sort_keys=False))
    run(["snakemake", "--cores", "2"], wf)
    run(["dvc", "commit", "-f"], wf)
    _assert_in_sync(wf)
