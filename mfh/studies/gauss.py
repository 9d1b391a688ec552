"""The synthetic Gaussian studies of the `studies` list (`gauss_gamma`, `gauss_alpha`, and any
study of generator `venn`), one function per rule.

    prepare         (in `mfh.studies.gauss_prepare`, free of torch) -> dataset.npz, settings.csv
    train_teachers  a linear teacher on x_a per setting x run      -> teacher.pt, teacher.csv
    train_baselines a linear no-KD student on x_b per run (per setting x run where x_b changes
                    with the setting: generator venn)              -> nokd.pt, nokd.csv
    distill         a linear KD student on x_b per setting x run   -> kd.pt, kd.csv
    salience        Algorithm 1 per setting x run (for the Venn analysis) -> salience.csv,
                    the joint nets joint_a.pt, joint_b.pt

Each step picks the study's arrays for one step of `mfh.studies.ensemble_steps`, which trains
all its models as one ensemble. Paired design: in the reference studies the no-KD student
depends on the run only; every KD student of a run starts from the same initial weights as that
run's no-KD student; every teacher of a run starts from the same weights.
Accuracy CSVs hold test accuracy in percent, "%.4f", one row per model.
"""

from __future__ import annotations

import torch

from mfh.data.synthetic import StudyData
from mfh.studies import ensemble_steps
from mfh.studies.ensemble import EnsembleData, as_features, as_labels
from mfh.studies.ensemble_steps import Outputs, teacher_logits


def train_teachers(
    study: str, seed: int, data_path, teacher_cfg: dict, out_ckpt, out_acc
) -> torch.Tensor:
    """Train one linear teacher on x_a per setting x run; return test accuracy (S * R,)."""
    on_a = _on_a(StudyData.load(data_path))
    out = Outputs(out_ckpt, out_acc)
    return ensemble_steps.train_teachers(study, seed, on_a, teacher_cfg, out)


def train_baselines(
    study: str, seed: int, data_path, student_cfg: dict, out_ckpt, out_acc
) -> torch.Tensor:
    """Train one no-KD student on x_b per run, shared by all settings (acc (R,)), or per
    setting x run where x_b changes with the setting (acc (S * R,))."""
    data = StudyData.load(data_path)
    on_b = _on_b(data, settings=len(data.grid) if data.b_per_setting else None)
    out = Outputs(out_ckpt, out_acc)
    return ensemble_steps.train_baselines(study, seed, on_b, student_cfg, out)


def distill(
    study: str,
    seed: int,
    data_path,
    teacher_ckpt,
    student_cfg: dict,
    kd_cfg: dict,
    out_ckpt,
    out_acc,
) -> torch.Tensor:
    """Train one KD student on x_b per setting x run from that setting's teacher; acc (S * R,)."""
    data = StudyData.load(data_path)
    logits = teacher_logits(teacher_ckpt, "teacher", as_features(data.xa_train))  # (S * R, C, n)
    on_b = _on_b(data, settings=len(data.grid))
    out, name = Outputs(out_ckpt, out_acc), f"{study} KD students"
    return ensemble_steps.distill(
        study, seed, on_b, logits, student_cfg, kd_cfg, out, name, teacher=str(teacher_ckpt)
    )


def salience(
    study: str, seed: int, data_path, salience_cfg: dict, out_csv, out_joint
) -> torch.Tensor:
    """Algorithm 1 on the training data of every setting x run: salience of x_a's channels;
    the joint nets go to `out_joint` = (f_a's checkpoint, f_b's)."""
    data = StudyData.load(data_path)
    S = len(data.grid)
    x_a, x_b = as_features(data.xa_train), as_features(data.xb_train, S)
    y = as_labels(data.y_train, S)
    truth = data.a_shared, data.a_decisive  # (S, width_a) each
    return ensemble_steps.salience(
        study, seed, x_a, x_b, y, salience_cfg, truth, out_csv, out_joint, data.classes
    )


def _on_a(data: StudyData) -> EnsembleData:
    """x_a of every setting x run, with the run's labels."""
    S = len(data.grid)
    arrays = data.xa_train, data.y_train, data.xa_test, data.y_test
    return EnsembleData.from_arrays(S, *arrays, classes=data.classes)


def _on_b(data: StudyData, settings: int | None) -> EnsembleData:
    """x_b of every run, for `settings` settings (None: once per run)."""
    arrays = data.xb_train, data.y_train, data.xb_test, data.y_test
    return EnsembleData.from_arrays(settings, *arrays, classes=data.classes)
