"""The `probe` steps of the synthetic studies (`probe`; gauss_modify: `modify_probe`): what is
measured on the nets trained *before* distillation, on the held-out test samples:

    channels.csv    per-channel permutation tests of x_a and x_b (`mfh.studies.venn_channels`),
                    from which `mfh.venn` estimates the Venn diagram
    predictors.csv  per setting x run x teacher, the predictor values of the teacher and its
                    no-KD student (`mfh.predictors.per_model`; table RUN_PREDICTORS)

Nothing here reads a KD student. gauss_modify has four teachers per setting x run: the regular
one and the modified one of each selection (on its kept channels of x_a).
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from mfh.data.modify import ModifyData
from mfh.data.synthetic import StudyData
from mfh.predictors.per_model import MEASURES, measure
from mfh.studies.ensemble import as_features, as_labels, load_ensemble
from mfh.studies.modify import a_channel_truth, read_kept
from mfh.studies.venn_channels import channel_tests, load_nets
from mfh.tables import RUN_PREDICTORS

log = logging.getLogger(__name__)


def gauss_probe(study, seed, data_path, checkpoints, venn_cfg, out_channels, out_predictors):
    """The probe of a study of the `studies` list; `checkpoints` = (teacher, nokd, joint_a,
    joint_b) paths."""
    data = StudyData.load(data_path)
    S = len(data.grid)
    x_a, x_b, y = as_features(data.xa_test), as_features(data.xb_test, S), as_labels(data.y_test, S)
    truth = data.a_shared, data.a_decisive, data.b_shared, data.b_decisive
    nets = load_nets(*checkpoints)
    channel_tests(study, seed, nets, (x_a, x_b, y), truth, venn_cfg, out_channels)
    with torch.no_grad():
        logits = {"regular": nets.teacher(x_a)}
        write_predictors(out_predictors, logits, nets.student(x_b), y, S)


def modify_probe(
    study, seed, data_path, checkpoints, modified, venn_cfg, out_channels, out_predictors
):
    """The probe of gauss_modify on its test sample (the regular teacher and the joint nets come
    from sample A, the no-KD student from sample B); `modified` maps each selection to its
    (teacher checkpoint, kept.csv)."""
    data = ModifyData.load(data_path)
    a, S = data.arrays, len(data.grid)
    _, R, _, width = a["x_a_test"].shape
    x_a, x_b, y = as_features(a["x_a_test"]), as_features(a["x_b_test"]), as_labels(a["y_test"])
    a_shared, a_decisive = a_channel_truth(data)  # (S, width) each
    truth = a_shared, a_decisive, a_shared, a_shared  # x_b's decisive channels are all shared
    nets = load_nets(*checkpoints)
    channel_tests(study, seed, nets, (x_a, x_b, y), truth, venn_cfg, out_channels)
    with torch.no_grad():
        logits = {"regular": nets.teacher(x_a)}
        for selection, (ckpt, kept_csv) in modified.items():
            mask = read_kept(kept_csv, S, R, width).reshape(S * R, width, 1)
            keep = torch.from_numpy(mask.astype(np.float32)).to(x_a.device)
            logits[selection] = load_ensemble(ckpt, "mod_teacher")(x_a * keep)
        write_predictors(out_predictors, logits, nets.student(x_b), y, S)


def write_predictors(path, teachers: dict, student: torch.Tensor, y: torch.Tensor, S: int):
    """predictors.csv (table RUN_PREDICTORS): one row per setting x run x teacher. teachers:
    name -> logits (M, C, n) on the test samples; student: the no-KD students' (M, C, n)."""
    student_np = student.double().cpu().numpy().transpose(0, 2, 1)  # (M, n, C)
    y_np = y.cpu().numpy()
    M = student_np.shape[0]
    rows = []
    for name, logits in teachers.items():
        teacher_np = logits.double().cpu().numpy().transpose(0, 2, 1)
        for m in range(M):
            values = measure(teacher_np[m], student_np[m], y_np[m])
            rows.append((*divmod(m, M // S), name, *(values[key] for key in MEASURES)))
    RUN_PREDICTORS.write(path, rows)
    log.info("predictor values of %d teacher(s) x %d models", len(teachers), M)
