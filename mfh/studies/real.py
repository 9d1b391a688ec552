"""The real-data studies (PROTOCOL §5) on a prepared dataset (AV-MNIST, mfeat), one step per
function; each step trains one model per seed, sequentially, with `mfh.train.minibatch`.

    train_unimodal   a classifier on one modality. It is both the unimodal *teacher* of every
                     pair whose teacher is that modality and the *no-KD baseline* of every pair
                     whose student is that modality (same architecture, training and seeds).
    train_fusion     the multimodal teacher on modalities a+b (features concatenated).
    distill          KD students on modality b from a teacher on a (params `teacher`: the joint
                     net f_a of Algorithm 1, or the unimodal net) or the fusion teacher a+b.
    (Algorithm 1 and the control: `mfh.studies.real_algorithm1`; the KD modes, students from
    teachers with channels removed: `mfh.studies.real_modes`)

The shared setup of every step is here too: `load_data`, `student_model` (seeded start of a
modality's net), `fit` (minibatch training with the dataset's `train` settings), `kd_config`,
`load_teachers`, `check_student` (a health check), and `_train_seeds`, the one skeleton of the
training steps (a model per seed -> one checkpoint -> one accuracy table).

Pairing: the student of seed s starts from the same weights and sees the same batch order as
the no-KD baseline of seed s, and learns from the teacher of seed s; every draw comes from
`mfh.seeding.torch_seed(seed, dataset, role, s)`.
"""

from __future__ import annotations

import logging
from typing import Sequence

import torch

from mfh.data.real import RealData, load_prepared
from mfh.device import current as current_device
from mfh.health import check_above_chance
from mfh.kd import KDConfig
from mfh.models.build import build_fusion, build_model
from mfh.seeding import torch_seed
from mfh.studies.real_io import (
    generator,
    load_models,
    result_metrics,
    save_models,
    split,
    splits,
    write_acc,
)
from mfh.train.minibatch import TeacherLogits, predict_logits, train_minibatch

log = logging.getLogger(__name__)


def load_data(data_path, modalities: Sequence[str]) -> RealData:
    data = load_prepared(data_path)
    unknown = [m for m in modalities if m not in data.modalities]
    if unknown:
        raise ValueError(
            f"{data_path}: no modality {', '.join(unknown)}; it has {', '.join(data.modalities)}"
        )
    return data


def student_model(cfg: dict, data: RealData, dataset: str, seed: int, modality: str, s: int):
    """The model on `modality` of seed s: the no-KD baseline's and every KD student's start."""
    return build_model(
        cfg["models"][modality],
        data.sample_shapes[modality],
        data.n_classes,
        cfg["hidden"],
        seed=torch_seed(seed, dataset, f"init_{modality}", s),
    )


def fit(model, data, modalities, cfg, dataset, seed, s, name, shuffle=None, **kd):
    """Minibatch training with the dataset's `train` settings — for a KD student (`kd` given:
    teacher, kd) with the `epochs` and `lr` of `distill`. The batch order is drawn from role
    `shuffle`, by default the one of the no-KD baseline on the (last) modality and seed s."""
    train, val, test = splits(data, modalities)
    t = dict(cfg["train"])
    if kd:
        t.update(epochs=cfg["distill"]["epochs"], lr=cfg["distill"]["lr"])
    return train_minibatch(
        model,
        train,
        val,
        test,
        epochs=t["epochs"],
        batch_size=t["batch_size"],
        lr=t["lr"],
        momentum=t["momentum"],
        weight_decay=t["weight_decay"],
        seed_generator=generator(
            torch_seed(seed, dataset, shuffle or f"shuffle_{modalities[-1]}", s)
        ),
        name=f"{dataset} {name} seed {s}",
        device=current_device(),
        **kd,
    )


def train_unimodal(dataset: str, seed: int, cfg: dict, data_path, modality: str, out_ckpt, out_acc):
    """`cfg["seeds"]` classifiers on one modality; test accuracy at the best validation epoch."""
    data = load_data(data_path, [modality])

    def train_seed(s: int):
        model = student_model(cfg, data, dataset, seed, modality, s)
        return model, fit(model, data, [modality], cfg, dataset, seed, s, modality)

    _train_seeds(train_seed, cfg, "unimodal", f"{dataset} {modality}", out_ckpt, out_acc)


def train_fusion(dataset: str, seed: int, cfg: dict, data_path, modalities, out_ckpt, out_acc):
    """The multimodal teachers on `modalities` (two names), one per seed."""
    a, b = modalities
    data = load_data(data_path, modalities)

    def train_seed(s: int):
        model = build_fusion(
            cfg["models"][a],
            data.sample_shapes[a],
            cfg["models"][b],
            data.sample_shapes[b],
            data.n_classes,
            cfg["hidden"],
            seed=torch_seed(seed, dataset, f"init_fusion_{a}+{b}", s),
        )
        name, shuffle = f"fusion {a}+{b}", f"shuffle_{a}+{b}"
        return model, fit(model, data, modalities, cfg, dataset, seed, s, name, shuffle)

    _train_seeds(train_seed, cfg, "fusion", f"{dataset} fusion {a}+{b}", out_ckpt, out_acc)


def kd_config(cfg: dict) -> KDConfig:
    """The distillation loss of params `distill` (its training keys `epochs`, `lr` left out)."""
    loss_keys = ("temperature", "w_gt", "w_kd", "kl_reduction", "t_squared")
    return KDConfig(**{key: cfg["distill"][key] for key in loss_keys})


def distill(
    dataset: str,
    seed: int,
    cfg: dict,
    data_path,
    teacher_ckpt,
    teacher_role: str,
    teacher_modalities: Sequence[str],
    student_modality: str,
    out_ckpt,
    out_acc,
):
    """KD students on `student_modality` from the teacher of the same seed (its logits on the
    training set, computed once per seed)."""
    data = load_data(data_path, [*teacher_modalities, student_modality])
    teachers = load_teachers(teacher_ckpt, teacher_role, cfg)
    teacher_train = split(data, teacher_modalities, "train")
    what = f"{'+'.join(teacher_modalities)} -> {student_modality}"

    def train_seed(s: int):
        logits = predict_logits(teachers[s], teacher_train.inputs, device=current_device())
        student = student_model(cfg, data, dataset, seed, student_modality, s)
        kd = {"teacher": TeacherLogits(logits), "kd": kd_config(cfg)}  # logits (N, C)
        name = f"{dataset} KD {what} seed {s}"
        result = fit(student, data, [student_modality], cfg, dataset, seed, s, f"KD {what}", **kd)
        check_student(result, data, cfg, name)
        return student, result

    _train_seeds(train_seed, cfg, "kd", f"{dataset} KD {what}", out_ckpt, out_acc)


def check_student(result, data: RealData, cfg: dict, what: str) -> None:
    """`mfh.health.check_above_chance` on a student's best validation accuracy."""
    n_val = len(data.labels["val"])
    check_above_chance(result.val_acc, n_val, data.n_classes, what, cfg["health"]["p_value"])


def load_teachers(path, role: str, cfg: dict) -> list:
    """The first `cfg["seeds"]` models of a teacher checkpoint (teacher s teaches seed s)."""
    teachers = load_models(path, role, current_device())
    if len(teachers) < cfg["seeds"]:
        raise ValueError(f"{path}: holds {len(teachers)} seeds, params ask for {cfg['seeds']}")
    return teachers[: cfg["seeds"]]


def _train_seeds(train_seed, cfg: dict, role: str, what: str, out_ckpt, out_acc) -> None:
    """The skeleton of the training steps: `train_seed(s)` -> (model, TrainResult) for every
    seed, then one checkpoint of all seeds (`role`) and one accuracy table."""
    models, results = zip(*(train_seed(s) for s in range(cfg["seeds"])))
    save_models(out_ckpt, role, models, cfg, result_metrics(results))
    write_acc(out_acc, results)
    accs = torch.tensor([r.test_acc for r in results], dtype=torch.float64)
    log.info(
        "%s: test accuracy %.2f%% (std %.2f over %d seeds; at the best validation epoch)",
        what,
        accs.mean().item(),
        accs.std().item() if len(accs) > 1 else 0.0,
        len(accs),
    )
