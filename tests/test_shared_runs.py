"""Which job trains each pair's multimodal teacher and joint nets (mfh/shared_runs.py), and the
DAG built from it: the two directions of a modality pair share one training of each, the joint
one only with params `teacher: joint`."""

import pytest

from mfh.shared_runs import (
    Run,
    declared_pairs,
    fusion_inputs,
    fusion_run,
    joint_run,
    training_pairs,
)

PAIRS = declared_pairs(
    {
        "audio-image": {"teacher": "audio", "student": "image"},
        "image-audio": {"teacher": "image", "student": "audio"},
        "image-text": {"teacher": "image", "student": "text"},
        "again": {"teacher": "audio", "student": "image"},
    }
)


def test_declared_pairs_keep_the_order_of_params():
    assert PAIRS[:2] == [("audio-image", "audio", "image"), ("image-audio", "image", "audio")]


def test_the_reverse_pair_shares_the_first_declared_pairs_nets_swapped():
    assert fusion_run(PAIRS, "audio-image") == Run("audio-image", False)
    assert fusion_run(PAIRS, "image-audio") == Run("audio-image", True)
    assert joint_run(PAIRS, "joint", "image-audio") == Run("audio-image", True)
    assert joint_run(PAIRS, "joint", "again") == Run("audio-image", False)
    assert fusion_run(PAIRS, "image-text") == Run("image-text", False)


def test_with_the_unimodal_teacher_every_pair_trains_its_own_joint_nets():
    # f_a starts as a copy of the unimodal teacher on a: the directions differ
    for name, _, _ in PAIRS:
        assert joint_run(PAIRS, "unimodal", name) == Run(name, False)
    assert fusion_run(PAIRS, "image-audio") == Run("audio-image", True)  # always shared


def test_training_pairs_lists_each_training_job_once_in_order():
    names = [name for name, _, _ in PAIRS]
    assert training_pairs([fusion_run(PAIRS, n) for n in names]) == ["audio-image", "image-text"]
    assert training_pairs([joint_run(PAIRS, "unimodal", n) for n in names]) == names


def test_the_multimodal_teacher_takes_its_inputs_in_the_training_pairs_order():
    assert fusion_inputs(PAIRS, "audio-image") == ("audio", "image")
    assert fusion_inputs(PAIRS, "image-audio") == ("audio", "image")
    assert fusion_inputs(PAIRS, "image-text") == ("image", "text")


def test_an_unknown_pair_is_named_with_the_declared_ones():
    with pytest.raises(KeyError, match="no pair 'text-image' among .*'audio-image'"):
        joint_run(PAIRS, "joint", "text-image")


def _plan(tmp_path, teacher: str) -> list[str]:
    """The shell commands of `snakemake real -n -p` for mfeat with both pairs (fac-mor declared
    first, then mor-fac) and params `teacher`."""
    from conftest import load_real_params, make_workflow_copy, run, shrink

    params = shrink(load_real_params(), real=True)
    params["real_studies"] = ["mfeat"]
    params["mfeat"]["pairs"] = load_real_params()["mfeat"]["pairs"]
    params["mfeat"]["teacher"] = teacher
    wf = make_workflow_copy(tmp_path / "wf", params)
    return run(["snakemake", "real", "-n", "-p", "--cores", "1"], wf).stdout.splitlines()


def _steps(plan: list[str], step: str, *words: str) -> list[str]:
    return [line for line in plan if f"mfh {step} " in line and all(w in line for w in words)]


@pytest.mark.slow
def test_the_dag_trains_each_shared_net_once_and_swaps_the_roles(tmp_path):
    plan = _plan(tmp_path, "joint")
    (joint,) = _steps(plan, "real_joint")
    assert "--pair fac-mor" in joint
    (fusion,) = _steps(plan, "real_fusion")
    assert "--pair fac-mor" in fusion
    (salience,) = _steps(plan, "real_salience", "--pair mor-fac")
    # mor-fac's f_a (on mor) is fac-mor's f_b, and the other way round
    assert "--joint-a models/mfeat/joint_fac-mor_b.pt" in salience
    assert "--joint-b models/mfeat/joint_fac-mor_a.pt" in salience
    (kd,) = _steps(plan, "real_distill", "--pair mor-fac", "--teacher-kind unimodal")
    assert "--teacher models/mfeat/joint_fac-mor_b.pt" in kd
    (kd,) = _steps(plan, "real_distill", "--pair mor-fac", "--teacher-kind multimodal")
    assert "--teacher models/mfeat/fusion_fac-mor.pt --teacher-kind multimodal" in kd
    assert "--teacher-modalities fac,mor" in kd  # the fusion net's input order


@pytest.mark.slow
def test_with_the_unimodal_teacher_the_dag_trains_a_joint_net_per_pair(tmp_path):
    plan = _plan(tmp_path, "unimodal")
    joints = _steps(plan, "real_joint")
    assert sorted(line.split("--pair ")[1].split()[0] for line in joints) == ["fac-mor", "mor-fac"]
    assert len(_steps(plan, "real_fusion")) == 1
    (salience,) = _steps(plan, "real_salience", "--pair mor-fac")
    assert "--joint-a models/mfeat/joint_mor-fac_a.pt" in salience
