"""dvc.yaml is generated from the Snakemake DAG and never stale; `dvc repro` after a param or a
code edit reruns exactly what depends on it; DVC and Snakemake hand over to each other; on a
fresh clone an edit is never ignored; `dvc exp show` shows the studies' metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import (
    REPO,
    USER_STUDY,
    copy_of,
    init_repo,
    load_real_params,
    make_workflow_copy,
    read_params,
    run,
)
from mfh.pipeline import code_deps, dvc_stages, sections


def test_committed_dvc_yaml_is_the_generated_one():
    """dvc.yaml is what the generator makes of the committed params.yaml, rules and code."""
    config = load_real_params()
    assert (
        dvc_stages.render(config, REPO, "dvc.yaml") == (REPO / "dvc.yaml").read_text()
    ), "dvc.yaml is stale: run `python -m mfh.pipeline.dvc_stages` (any snakemake run does)"


def _stages(pipeline: Path) -> dict:
    return yaml.safe_load(pipeline.read_text())["stages"]


@pytest.mark.parametrize("pipeline", ["dvc.yaml", "real/dvc.yaml"])
def test_every_stage_runs_its_own_job_with_its_steps_code(pipeline):
    """Each stage: its rule's own target through Snakemake, the rule file and the computed import
    closure of its step as deps, the params it reads, weights cached and tables in git."""
    config = load_real_params()
    stages = yaml.safe_load(dvc_stages.render(config, REPO, pipeline))["stages"]
    assert stages
    for name, stage in stages.items():
        rule = name.split("-")[0]
        assert re.fullmatch(
            rf"snakemake \S+ --cores all --force --allowed-rules {rule}", stage["cmd"]
        )
        code = [d for d in stage["deps"] if d.startswith("mfh/")]
        assert code == code_deps.step_files(rule), f"{name}: code deps are not its step's closure"
        assert any(d.startswith("workflow/rules/") for d in stage["deps"]), name
        for key in stage.get("params", []):
            sections.resolve(config, key)  # a real params.yaml key
        for out in stage["outs"]:
            path = out if isinstance(out, str) else next(iter(out))
            cached = isinstance(out, str)
            assert cached == path.startswith(("models/", "data/")), f"{name}: {path}"


def test_committed_section_files_match_params_yaml():
    """.params/ holds exactly the sections the rules read, as params.yaml has them."""
    config = load_real_params()
    files = sorted((REPO / sections.SECTIONS_DIR).glob("*.json"))
    assert files
    for path in files:
        expected = sections.render(sections.resolve(config, sections.key_of(path)))
        assert path.read_text() == expected, f"{path.name} differs from params.yaml"
    used = set()
    for pipeline in ("dvc.yaml", "real/dvc.yaml"):
        text = dvc_stages.render(config, REPO, pipeline)
        for stage in yaml.safe_load(text)["stages"].values():
            used.update(stage.get("params", []))
    assert used == {sections.key_of(p) for p in files}


def test_section_sync_rewrites_only_changed_sections(tmp_path):
    config = {"a": {"b": 1}, "seed": 0}
    first = sections.sync(config, "a.b", tmp_path)
    mtime = first.stat().st_mtime_ns
    assert sections.sync(config, "a.b", tmp_path).stat().st_mtime_ns == mtime
    config["a"]["b"] = 2
    assert json.loads(sections.sync(config, "a.b", tmp_path).read_text()) == 2
    assert sections.prune({"seed": 0}, tmp_path) == [first]
    with pytest.raises(KeyError, match="no key 'a.c'"):
        sections.resolve(config, "a.c")


def _stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def _assert_in_sync(path: Path) -> None:
    status = run(["dvc", "status"], path).stdout
    assert "up to date" in status, f"dvc status is not clean:\n{status}"
    dry = run(["snakemake", "-n"], path)
    assert "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-2000:]


def _set_param(path: Path, params: dict) -> None:
    (path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.mark.slow
def test_code_edits_rerun_exactly_what_depends_on_them(finished_run, tmp_path):
    """From a finished, committed run (built by Snakemake, handed over with `dvc commit -f`): a
    code edit is rerun by `dvc repro` exactly where its module is imported; then the other
    hand-over, a plain Snakemake run after a param edit, recorded by `dvc commit -f`. (A param
    edit rerun by `dvc repro`: test_fresh_clone_hands_over_and_never_ignores_an_edit; `dvc repro`
    from nothing: test_dvc_exp_show_lists_metrics_that_change_with_a_param.)"""
    wf = copy_of(finished_run, tmp_path / "wf")
    params = read_params(wf)
    _assert_in_sync(wf)

    # a code edit: exactly the stages whose step imports the module (and what follows them)
    edited = wf / "mfh/report/metrics.py"
    edited.write_text(edited.read_text() + "\n# an edit\n")
    importers = {
        n for n, s in _stages(wf / "dvc.yaml").items() if "mfh/report/metrics.py" in s["deps"]
    }
    assert importers == {"collect-gauss_gamma", f"collect-{USER_STUDY}", "modify_collect"}
    status = run(["dvc", "status", "--json"], wf).stdout
    assert set(json.loads(status)) == importers
    third = run(["dvc", "repro", "--no-run-cache"], wf).stdout
    assert _stages_run(third) == importers  # metrics.json bytes unchanged: plots not rerun
    _assert_in_sync(wf)

    # the other hand-over: a plain Snakemake run, then `dvc commit -f` records it
    params["gauss_gamma"]["teacher"]["lr"] = 0.05
    _set_param(wf, params)
    run(["snakemake", "--cores", "2"], wf)
    run(["dvc", "commit", "-f"], wf)
    _assert_in_sync(wf)


@pytest.mark.slow
def test_fresh_clone_hands_over_and_never_ignores_an_edit(finished_run, tmp_path):
    """A repository whose results are committed (`finished_run`: the README's main command,
    `dvc commit -f`, `git commit`), cloned: a param edit is planned by Snakemake; on another
    clone the README's main command, from scratch, regenerates every committed file byte for
    byte (two runs from scratch agree), `dvc commit -f` and `dvc status` are clean,
    and a param edit is rerun by DVC exactly where it applies."""
    params = read_params(finished_run)

    # 1. a fresh clone (no Snakemake metadata, checkout mtimes): a param edit is planned
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(finished_run), str(clone)], tmp_path)
    params["gauss_gamma"]["distill"]["temperature"] = 2.0
    _set_param(clone, params)
    dry = run(["snakemake", "-n", "results/gauss_gamma/summary.csv"], clone)
    assert "Nothing to be done" not in dry.stdout + dry.stderr
    assert re.search(
        r"rule distill:\n(?:.*\n)*?.*reason: Updated input files: "
        r"\.params/gauss_gamma\.distill\.json",
        dry.stdout,
    )

    # 2. another fresh clone: the README's main command regenerates every committed file
    clone2 = tmp_path / "clone2"
    run(["git", "clone", "-q", str(finished_run), str(clone2)], tmp_path)
    run(["snakemake", "--cores", "2", "--forceall"], clone2)
    assert run(["git", "status", "--porcelain"], clone2).stdout == ""
    run(["dvc", "commit", "-f"], clone2)
    assert "up to date" in run(["dvc", "status"], clone2).stdout
    assert run(["git", "status", "--porcelain"], clone2).stdout == ""
    _set_param(clone2, params)
    rerun = run(["dvc", "repro"], clone2).stdout
    assert _stages_run(rerun) == {
        "distill-gauss_gamma",
        "collect-gauss_gamma",
        "plot-gauss_gamma",
        "predictors",
    }


@pytest.mark.slow
def test_dvc_exp_show_lists_metrics_that_change_with_a_param(tmp_path, tiny_params):
    wf = make_workflow_copy(tmp_path / "wf", tiny_params)
    init_repo(wf)
    # only the stages up to gauss_gamma's metrics: the rest of the DAG adds minutes, not checks
    target = "collect-gauss_gamma"
    run(["dvc", "repro", target], wf)
    run(["git", "add", "-A"], wf)
    run(["git", "commit", "-qm", "baseline"], wf)
    run(["dvc", "exp", "run", target, "-n", "hot", "-S", "gauss_gamma.distill.temperature=4"], wf)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], wf).stdout)
    gain_by_temperature = {}
    for row in _exp_rows(shown):
        temperature = row["params"]["params.yaml"]["data"]["gauss_gamma"]["distill"]["temperature"]
        metrics = row["metrics"]["results/gauss_gamma/metrics.json"]["data"]
        gain_by_temperature[temperature] = metrics["kd_gain"]
    assert set(gain_by_temperature) == {1.0, 4}, gain_by_temperature
    assert gain_by_temperature[1.0] != gain_by_temperature[4], "the experiment changed no metric"


def _exp_rows(shown) -> list[dict]:
    """Every row (baseline and experiments) of `dvc exp show --json`: dicts with data.metrics."""
    rows = []
    if isinstance(shown, dict):
        data = shown.get("data")
        if isinstance(data, dict) and "metrics" in data and "params" in data:
            rows.append(data)
        for value in shown.values():
            rows.extend(_exp_rows(value))
    elif isinstance(shown, list):
        for value in shown:
            rows.extend(_exp_rows(value))
    return rows
