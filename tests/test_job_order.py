"""Tests of mfh.pipeline.job_order: the priorities of the real-data rules put every level of the
critical path above the next and, within a level, the longer job first — checked on the studies of
params.yaml — and every real-data rule asks for the priority of its own name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mfh.pipeline.job_order import LEVELS, job_priority, job_work

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def params():
    return yaml.safe_load((REPO / "params.yaml").read_text())


def _priority(params, rule, dataset, **wildcards):
    return job_priority(rule, params[dataset], wildcards)


def test_longer_students_start_first(params):
    audio_student = _priority(params, "real_modes", "avmnist", pair="image-audio", kd_mode=0)
    image_student = _priority(params, "real_modes", "avmnist", pair="audio-image", kd_mode=0)
    mlp_student = _priority(params, "real_modes", "mfeat", pair="fac-mor", kd_mode=0)
    assert audio_student > image_student > mlp_student
    assert _priority(params, "real_distill", "avmnist", pair="audio-image") > mlp_student


def test_each_level_outranks_the_next(params):
    def priorities(rule):
        out = []
        for dataset in params["real_studies"]:
            study = params[dataset]
            for pair in study["pairs"]:
                wildcards = {"pair": pair, "kd_mode": 4, "modality": study["modalities"][0]}
                out.append(job_priority(rule, study, wildcards))
        return out

    for lower, higher in [("real_modes", "real_unimodal"), ("real_unimodal", "real_salience")]:
        assert max(priorities(lower)) < min(priorities(higher))
    assert max(priorities("real_salience")) < min(priorities("real_joint"))
    assert min(priorities("real_modes")) >= LEVELS["real_modes"]


def test_the_control_counts_its_own_ratios(params):
    study = dict(params["mfeat"], modes={"ratios": [0.25, 0.5, 0.75], "control_ratios": [0.75]})
    mode_0 = job_work("real_modes", study, {"pair": "fac-mor", "kd_mode": "0"})
    mode_3 = job_work("real_modes", study, {"pair": "fac-mor", "kd_mode": "3"})
    assert mode_0 == pytest.approx(3 * mode_3)


def test_an_unknown_rule_is_refused(params):
    with pytest.raises(ValueError, match="no job order for rule 'real_plot'"):
        job_work("real_plot", params["mfeat"], {"pair": "fac-mor"})


def test_every_real_rule_asks_for_its_own_priority():
    text = (REPO / "workflow" / "rules" / "real.smk").read_text()
    blocks = re.split(r"^rule (\w+):", text, flags=re.M)[1:]  # name, body, name, body, ...
    asked = {}
    for name, body in zip(blocks[::2], blocks[1::2]):
        match = re.search(r'priority: real_priority\("(\w+)"\)', body)
        if match:
            asked[name] = match.group(1)
    assert asked == {rule: rule for rule in LEVELS}
