"""The real-data DVC pipeline (real/dvc.yaml): absent until real data is built, then generated
from the DAG, committed cleanly, and a modality pair added in params.yaml alone appears in
`snakemake -n real`, `dvc status` and `dvc dag`."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import load_real_params, make_workflow_copy, run, shrink
from test_dvc import _init_repo

pytestmark = pytest.mark.slow

# a real-data stage in `dvc status` output (not a file name such as mfh/steps/real_data.py)
REAL_STAGE = re.compile(r"^real_\w+-", re.M)


def test_real_pipeline_appears_when_built_and_follows_params(tmp_path):
    params = shrink(load_real_params(), real=True)
    params["real_studies"] = ["mfeat"]
    pairs = params["mfeat"]["pairs"]
    params["mfeat"]["pairs"] = {"fac-mor": pairs["fac-mor"]}
    wf = make_workflow_copy(tmp_path / "wf", params)
    _init_repo(wf)
    assert not (wf / "real/dvc.yaml").exists()
    # no real stage before it is built (stage names start a line: "real_modes-mfeat-fac-mor-1:")
    assert not REAL_STAGE.search(run(["dvc", "status"], wf).stdout)

    run(["snakemake", "real", "--cores", "2"], wf)
    stages = yaml.safe_load((wf / "real/dvc.yaml").read_text())["stages"]
    assert "real_modes-mfeat-fac-mor-1" in stages and "real_collect-mfeat" in stages
    run(["dvc", "commit", "-f", "real/dvc.yaml"], wf)  # the synthetic stages are not built here
    status = run(["dvc", "status"], wf).stdout
    assert not REAL_STAGE.search(status), status  # the real stages are recorded

    params["mfeat"]["pairs"]["mor-fac"] = pairs["mor-fac"]
    (wf / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    dry = run(["snakemake", "-n", "real"], wf).stdout
    assert re.search(
        r"rule real_fusion:\n(?:.*\n)*?    wildcards: dataset=mfeat, pair=mor-fac", dry
    )
    stages = yaml.safe_load((wf / "real/dvc.yaml").read_text())["stages"]
    assert "real_fusion-mfeat-mor-fac" in stages
    assert "real_fusion-mfeat-mor-fac" in run(["dvc", "dag"], wf).stdout
    assert "real_fusion-mfeat-mor-fac" in run(["dvc", "status"], wf).stdout
