"""A copy of the workflow in another folder, with its own params.yaml: what the tests run on
(tiny params) and what experiments/real_ablations.py runs each variant in.

The copy holds the files Snakemake needs to build every target (`WORKFLOW_FILES`), the given
params as params.yaml, and its DVC pipeline generated for those params (as the workflow itself
does when params.yaml changes). Nothing of the original's outputs is copied.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_FILES = ("Snakefile", "workflow", "mfh", ".params")


def copy_workflow(dest: Path, params: dict, repo: Path = REPO) -> Path:
    """Copy `repo`'s workflow into `dest` (created) with `params` as its params.yaml."""
    from mfh.pipeline import dvc_stages

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = Path(repo) / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = dict(os.environ, **{dvc_stages.NO_REFRESH: "1"})
    cmd = [sys.executable, "-m", "mfh.pipeline.dvc_stages", "--workdir", str(dest)]
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return dest
