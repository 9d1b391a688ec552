"""Algorithm 1 on real data (PROTOCOL §4-5) and the control the paper lacks, one step each.

train_joint  step 1 per seed: f_a on the teacher's modality a and f_b on b trained jointly
             (CE + CE + MSE of logits, `mfh.algorithm1.penultimate.train_joint_nets`) for a
             fixed number of epochs, the last weights kept (the reference). params `teacher`:
             joint (the reference) — both start fresh (from the unimodal nets' initial
             weights of seed s) and f_a *is* the teacher of every KD run; unimodal (the
             earlier design) — f_a starts as a copy of the trained unimodal teacher, which
             stays the teacher. Records the nets' accuracies and dead channels
             (`mfh.health`), and stops a broken run.
salience     step 2 per seed: each penultimate channel of f_a permuted, MSE against f_b's
             logits (Algorithm 1, large = modality-general) — and the control: the same
             permutations of the *teacher's* channels, MSE against the teacher's own logits
             (teacher importance; no net on b). Both raw and min-max normalised.
"""

from __future__ import annotations

import copy
import logging

import torch

from mfh.algorithm1.penultimate import penultimate_salience, teacher_importance, train_joint_nets
from mfh.algorithm1.selection import minmax
from mfh.channel_removal import penultimate_features
from mfh.device import current as current_device
from mfh.health import check_above_chance, check_channels
from mfh.seeding import torch_seed
from mfh.studies.real import load_data, load_teachers, student_model
from mfh.studies.real_io import generator, save_models, split
from mfh.tables import REAL_JOINT, REAL_SALIENCE
from mfh.train.minibatch import accuracy

log = logging.getLogger(__name__)

JOINT_ROLE = "joint"  # the role of the joint nets' checkpoints


def train_joint(
    dataset: str,
    seed: int,
    cfg: dict,
    data_path,
    a: str,
    b: str,
    unimodal_teacher_ckpt,
    out_ckpt_a,
    out_ckpt_b,
    out_csv,
):
    """Step 1 for every seed; `unimodal_teacher_ckpt` (the unimodal nets on a) only with params
    `teacher: unimodal`, else None. Writes both nets' checkpoints and table REAL_JOINT."""
    data = load_data(data_path, [a, b])
    joint, health = cfg["joint"], cfg["health"]
    copies = None
    if cfg["teacher"] == "unimodal":
        copies = load_teachers(unimodal_teacher_ckpt, "unimodal", cfg)
    train_a, train_b = split(data, [a], "train"), split(data, [b], "train")
    nets_a, nets_b, rows = [], [], []
    for s in range(cfg["seeds"]):
        if copies is None:
            f_a = student_model(cfg, data, dataset, seed, a, s)
        else:
            f_a = copy.deepcopy(copies[s]).requires_grad_(True).train()
        f_b = student_model(cfg, data, dataset, seed, b, s)
        name = f"{dataset} joint {a}-{b} seed {s}"
        losses = train_joint_nets(
            f_a,
            f_b,
            train_a.inputs,
            train_b.inputs,
            train_a.y,
            epochs=joint["epochs"],
            batch_size=joint["batch_size"],
            lr=joint["lr"],
            momentum=joint["momentum"],
            generator=generator(torch_seed(seed, dataset, f"joint_{a}-{b}", s)),
            device=current_device(),
            name=name,
        )
        for net, model, modality, train in (("a", f_a, a, train_a), ("b", f_b, b, train_b)):
            model.requires_grad_(False).eval()
            what = f"{name}: f_{net} on {modality}"
            features = penultimate_features(model, train.inputs, device=current_device())  # (N, H)
            dead, constant = check_channels(features, what, health["max_dead_share"])
            val_acc = accuracy(model, split(data, [modality], "val"), device=current_device())
            check_above_chance(
                val_acc, len(data.labels["val"]), data.n_classes, what, health["p_value"]
            )
            test_acc = accuracy(model, split(data, [modality], "test"), device=current_device())
            rows.append((s, net, modality, val_acc, test_acc, losses[-1], dead, constant))
            log.info("%s: val %.1f%% test %.1f%%, %d dead channels", what, val_acc, test_acc, dead)
        nets_a.append(f_a)
        nets_b.append(f_b)
    metrics = {"rows": [REAL_JOINT.format_row(row) for row in rows]}
    save_models(out_ckpt_a, JOINT_ROLE, nets_a, cfg, metrics)
    save_models(out_ckpt_b, JOINT_ROLE, nets_b, cfg, metrics)
    REAL_JOINT.write(out_csv, rows)


def salience(
    dataset: str,
    seed: int,
    cfg: dict,
    data_path,
    a: str,
    b: str,
    joint_ckpt_a,
    joint_ckpt_b,
    teacher_ckpt,
    teacher_role: str,
    out_csv,
) -> None:
    """Step 2 and the control for every seed: table REAL_SALIENCE (seed, channel, raw and
    normalised Algorithm 1 salience, raw and normalised teacher importance)."""
    data = load_data(data_path, [a, b])
    nets_a = load_teachers(joint_ckpt_a, JOINT_ROLE, cfg)
    nets_b = load_teachers(joint_ckpt_b, JOINT_ROLE, cfg)
    teachers = load_teachers(teacher_ckpt, teacher_role, cfg)
    sal = cfg["salience"]
    inputs_a, inputs_b = split(data, [a], "train").inputs, split(data, [b], "train").inputs
    rows = []
    for s in range(cfg["seeds"]):
        rng = generator(torch_seed(seed, dataset, f"salience_{a}-{b}", s))
        permute = {
            "repeats": sal["repeats"],
            "batch_size": sal["batch_size"],
            "device": current_device(),
        }
        raw = penultimate_salience(
            nets_a[s], nets_b[s], inputs_a, inputs_b, generator=rng, **permute
        ).cpu()  # (H,)
        rng = generator(torch_seed(seed, dataset, f"importance_{a}-{b}", s))
        importance = teacher_importance(teachers[s], inputs_a, generator=rng, **permute).cpu()
        norm, norm_importance = minmax(raw), minmax(importance)
        rows += [
            (s, k, raw[k].item(), norm[k].item(), importance[k].item(), norm_importance[k].item())
            for k in range(len(raw))
        ]
        agreement = torch.corrcoef(
            torch.stack([raw.argsort().argsort(), importance.argsort().argsort()]).double()
        )[0, 1]
        log.info(
            "%s %s->%s seed %d: %d channels; rank correlation of salience and importance %.2f",
            dataset,
            a,
            b,
            s,
            len(raw),
            agreement.item(),
        )
    REAL_SALIENCE.write(out_csv, rows)
