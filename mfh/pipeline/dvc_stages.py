"""The DVC pipelines, generated from the Snakemake DAG: one DVC stage per Snakemake job.

- `dvc.yaml`: the jobs of the default target (`snakemake`: the synthetic studies).
- `real/dvc.yaml`: the jobs of `snakemake real` (the real-data studies). It is written only once
  the user has built real data (a real dataset's prepared arrays exist) and is not committed, so
  that on a clone that never ran `snakemake real`, DVC sees no stage whose outputs it cannot have
  (`dvc status` and `dvc commit -f` stay clean); its `real/dvc.lock` is committed with the
  results. (It cannot be git-ignored: DVC refuses a git-ignored dvc.yaml.)

A stage is named `<rule>-<wildcard values>` (e.g. `distill-gauss_gamma`,
`real_modes-avmnist-audio-image-0`); its cmd asks Snakemake for exactly that job's first output
(`snakemake TARGET --cores all --force --allowed-rules RULE`, target first: several Snakemake
options swallow the words after them), so the shell command exists only in the rule. Its deps
are the job's inputs — data, and the step's code as computed by `mfh.pipeline.code_deps` — plus
the rule's file; its params are the job's params sections (`mfh.pipeline.sections`); weights and
arrays are cached by DVC, tables, figures and env records stay in git (`cache: false`), and each
study's `metrics.json` is declared as DVC metrics.

Nobody edits these files: the workflow rewrites them whenever the params structure (a study, a
dataset, a pair or a selection added or removed), the rules or the import graph change (`refresh`,
run by every `snakemake` invocation; each file's header holds the fingerprint of what it was made
from, so an up-to-date file costs one hash and is never rewritten).
`python -m mfh.pipeline.dvc_stages` regenerates them by hand; tests/test_dvc.py fails when the
committed dvc.yaml is stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from mfh.io import write_text_atomic
from mfh.pipeline import code_deps, sections

TARGETS = {"dvc.yaml": "all", "real/dvc.yaml": "real"}
NO_REFRESH = "MFH_NO_DVC_REFRESH"  # set while generating: the Snakefile then skips refresh()
CACHED = ("models/", "data/")  # DVC-cached outputs; everything else stays in git
HEADER = """\
# Generated from the Snakemake DAG by mfh/pipeline/dvc_stages.py ({target} target): do not edit.
# The workflow rewrites it when params.yaml's structure, the rules or the code's imports change.
# One stage per Snakemake job; each cmd asks Snakemake for exactly that job's target.
# fingerprint: {fingerprint}
"""
FINGERPRINT_LINE = "# fingerprint: "


def stage_name(rule: str, wildcards: dict) -> str:
    return "-".join([rule, *(str(v) for v in wildcards.values())])


def _jobs(workdir: Path, target: str) -> list:
    """The jobs of `target`'s full DAG (every job, as with --forceall), in a stable order."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import DAGSettings, OutputSettings, ResourceSettings

    with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
        wf_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            snakefile=workdir / "Snakefile",
            workdir=workdir,
        )
        workflow = wf_api.dag(DAGSettings(targets={target}, forceall=True)).workflow_api._workflow
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True)
        workflow._build_dag()
        jobs = [job for job in workflow.dag.jobs if job.rule.name not in TARGETS.values()]
    return sorted(jobs, key=lambda job: stage_name(job.rule.name, dict(job.wildcards)))


def _stage(job, workdir: Path, wdir: str | None) -> tuple[str, dict]:
    rule = job.rule.name
    inputs = [str(f) for f in job.input]
    params = [sections.key_of(f) for f in inputs if Path(f).parent.name == sections.SECTIONS_DIR]
    rule_file = Path(job.rule.snakefile).resolve().relative_to(workdir.resolve()).as_posix()
    deps = sorted({f for f in inputs if Path(f).parent.name != sections.SECTIONS_DIR} | {rule_file})
    outs, metrics = [], []
    for path in sorted(str(f) for f in job.output):
        if path.endswith("metrics.json"):
            metrics.append({path: {"cache": False}})
        elif path.startswith(CACHED):
            outs.append(path)
        else:
            outs.append({path: {"cache": False}})
    stage = {}
    if wdir:
        stage["wdir"] = wdir
    stage["cmd"] = f"snakemake {job.output[0]} --cores all --force --allowed-rules {rule}"
    stage["deps"] = deps
    if params:
        stage["params"] = params
    stage["outs"] = outs
    if metrics:
        stage["metrics"] = metrics
    return stage_name(rule, dict(job.wildcards)), stage


def render(config: dict, workdir: Path, pipeline: str) -> str:
    """The text of `pipeline` ("dvc.yaml" or "real/dvc.yaml") for the workflow in `workdir`."""
    target = TARGETS[pipeline]
    wdir = os.path.relpath(".", os.path.dirname(pipeline)) if os.path.dirname(pipeline) else None
    stages = dict(_stage(job, workdir, wdir) for job in _jobs(workdir, target))
    body = yaml.safe_dump({"stages": stages}, sort_keys=False, width=100)
    return HEADER.format(target=target, fingerprint=fingerprint(config, workdir)) + body


def recorded_fingerprint(path: Path) -> str | None:
    """The fingerprint in a generated file's header (None if missing or not generated)."""
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                return None
            if line.startswith(FINGERPRINT_LINE):
                return line[len(FINGERPRINT_LINE) :].strip()
    return None


def real_built(config: dict, workdir: Path) -> bool:
    """Has the user built real data here (so DVC should see the real-data stages)?"""
    if (workdir / "real" / "dvc.yaml").is_file():
        return True
    prepared = [workdir / f"data/prepared/{d}/dataset.npz" for d in config["real_studies"]]
    return any(path.is_file() for path in prepared)


def pipelines(config: dict, workdir: Path) -> list[str]:
    return ["dvc.yaml"] + (["real/dvc.yaml"] if real_built(config, workdir) else [])


def write(config: dict, workdir: Path, names: list[str]) -> list[str]:
    """Regenerate the pipeline files `names`; return those whose content changed."""
    changed = []
    for name in names:
        text = render(config, workdir, name)
        path = workdir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_text_atomic(path, text)
            changed.append(name)
    return changed


def _structure(value):
    """params.yaml with its numbers blanked: what shapes the DAG — the keys, the names in lists
    (studies, selections, modalities) and the words (`teacher: joint` makes the two directions
    of a pair share one joint training, mfh/shared_runs.py); numbers (a grid, ratios) shape no
    job."""
    if isinstance(value, dict):
        return {key: _structure(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_structure(item) for item in value]
    return value if isinstance(value, str) else None


# an import of mfh (a whole parenthesised name list included): the code deps are a function of them
MFH_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+mfh[\w.]*[ \t]+import[ \t]+(?:\([^)]*\)|.*)|import[ \t]+mfh.*)$", re.M
)


def _mfh_imports() -> list[list[str]]:
    """[file, its mfh import statements...] for every source file of mfh: what the steps' code
    deps (`code_deps`) are computed from, read in milliseconds instead of computed (that is 0.5 s
    of every Snakemake start here). Not seen: a step function that starts calling another
    entry-module function with no import edit; tests/test_dvc.py's check of the committed
    dvc.yaml catches that, and Snakemake's own code inputs are always computed."""
    files = sorted(code_deps.ROOT.rglob("*.py"))
    return [
        [f.relative_to(code_deps.ROOT).as_posix(), *MFH_IMPORT.findall(f.read_text())]
        for f in files
    ]


def fingerprint(config: dict, workdir: Path) -> str:
    """Changes when the DVC pipelines may: params structure, rules, imports, this generator."""
    digest = hashlib.sha256()
    digest.update(json.dumps(_structure(config), sort_keys=True).encode())
    for rules in sorted([workdir / "Snakefile", *sorted((workdir / "workflow").rglob("*.smk"))]):
        digest.update(rules.read_bytes())
    digest.update(json.dumps(_mfh_imports()).encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def stale(config: dict, workdir: Path) -> list[str]:
    """The pipeline files that should exist here and are missing or out of date."""
    current = fingerprint(config, workdir)
    return [n for n in pipelines(config, workdir) if recorded_fingerprint(workdir / n) != current]


def refresh(config: dict, workdir: Path | str = ".") -> None:
    """Regenerate the DVC pipelines that are stale. Called by the Snakefile on every invocation
    and after every successful run; costs one hash when nothing changed. The generator runs in a
    subprocess: it loads this same workflow through Snakemake's API (about 2-4 s)."""
    if os.environ.get(NO_REFRESH):
        return
    workdir = Path(workdir)
    names = stale(config, workdir)
    if not names:
        return
    env = dict(os.environ, **{NO_REFRESH: "1"})
    cmd = [sys.executable, "-m", "mfh.pipeline.dvc_stages", "--workdir", str(workdir), *names]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"could not regenerate the DVC pipelines {names}:\n{proc.stderr[-3000:]}")
    if proc.stdout.strip():
        print(proc.stdout.strip(), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Regenerate dvc.yaml (and real/dvc.yaml) from the DAG")
    ap.add_argument("pipelines", nargs="*", help=f"of {sorted(TARGETS)}; default: those in use")
    ap.add_argument("--workdir", default=".", help="the workflow's folder (repository root)")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.pipelines) - set(TARGETS))
    if unknown:
        ap.error(f"unknown pipeline file(s) {unknown}; choose from {sorted(TARGETS)}")
    workdir = Path(args.workdir)
    config = yaml.safe_load((workdir / "params.yaml").read_text(encoding="utf-8"))
    for name in write(config, workdir, args.pipelines or pipelines(config, workdir)):
        print(f"{name} regenerated from the Snakemake DAG")
    return 0


if __name__ == "__main__":
    sys.exit(main())
