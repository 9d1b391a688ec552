"""The real-data studies (PROTOCOL §5) on a prepared dataset (AV-MNIST, mfeat), one step per
function; each step trains one model per seed, sequentially, with `mfh.train.minibatch`.

    train_unimodal   a classifier on one modality. It is both the unimodal *teacher* of every
                     pair whose teacher is that modality and the *no-KD baseline* of every pair
                     whose student is that modality (same architecture, training and seeds).
    train_fusion     the multimodal teacher on modalities a+b (features concatenated).
    distill          KD students on modality b from a teacher (unimodal on a, or fusion a+b).
    salience         Algorithm 1 on the unimodal teacher's penultimate layer: a copy of the
                     teacher (f_a) and a fresh net on b (f_b) are trained jointly, then each
                     penultimate channel of f_a is permuted (`mfh.algorithm1.penultimate`). f_a
                     starts as the teacher, so its channels are the teacher's channels.
    distill_modes    remove a ratio r of the teacher's penultimate channels — mode 0 random,
                     1 the least modality-general ("modality-general KD"), 2 the most general
                     ("modality-specific KD") — by the channel's training mean (or zero), and
                     distil a student from the modified teacher, for every ratio and seed.

Pairing: the student of seed s starts from the same weights and sees the same batch order as
the no-KD baseline of seed s, and learns from the teacher of seed s; every draw comes from
`mfh.seeding.torch_seed(seed, dataset, role, s)`.
"""

from __future__ import annotations

import copy
import logging
from typing import Sequence

import torch

from mfh.algorithm1.penultimate import LAYER, penultimate_salience, train_joint_nets
from mfh.algorithm1.selection import drop_ratio, minmax, n_dropped
from mfh.channel_removal import remove_channels
from mfh.data.real import RealData, load_prepared
from mfh.device import current as current_device
from mfh.kd import KDConfig
from mfh.kd_modes import KD_MODES
from mfh.models.build import build_fusion, build_model
from mfh.seeding import numpy_rng, torch_seed
from mfh.studies.real_io import (
    generator,
    load_models,
    result_metrics,
    save_models,
    split,
    splits,
    write_acc,
)
from mfh.tables import REAL_MODES_ACC, REAL_SALIENCE
from mfh.train.minibatch import accuracy, predict_logits, train_minibatch

log = logging.getLogger(__name__)



def _load(data_path, modalities: Sequence[str]) -> RealData:
    data = load_prepared(data_path)
    unknown = [m for m in modalities if m not in data.modalities]
    if unknown:
        raise ValueError(
            f"{data_path}: no modality {', '.join(unknown)}; it has {', '.join(data.modalities)}"
        )
    return data


def _student(cfg: dict, data: RealData, dataset: str, seed: int, modality: str, s: int):
    """The model on `modality` of seed s: the no-KD baseline's and every KD student's start."""
    return build_model(
        cfg["models"][modality],
        data.sample_shapes[modality],
        data.n_classes,
        cfg["hidden"],
        seed=torch_seed(seed, dataset, f"init_{modality}", s),
    )


def _train(model, data, modalities, cfg, dataset, seed, s, name, shuffle=None, **kd):
    """Minibatch training with the dataset's `train` settings. The batch order is drawn from
    role `shuffle`, by default the one of the no-KD baseline on the (last) modality and seed s."""
    train, val, test = splits(data, modalities)
    t = cfg["train"]
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
    data = _load(data_path, [modality])
    models, results = [], []
    for s in range(cfg["seeds"]):
        model = _student(cfg, data, dataset, seed, modality, s)
        results.append(_train(model, data, [modality], cfg, dataset, seed, s, modality))
        models.append(model)
    save_models(out_ckpt, "unimodal", models, cfg, result_metrics(results))
    write_acc(out_acc, results)
    _summary(f"{dataset} {modality}", results)


def train_fusion(dataset: str, seed: int, cfg: dict, data_path, modalities, out_ckpt, out_acc):
    """The multimodal teachers on `modalities` (two names), one per seed."""
    a, b = modalities
    data = _load(data_path, modalities)
    models, results = [], []
    for s in range(cfg["seeds"]):
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
        results.append(_train(model, data, modalities, cfg, dataset, seed, s, name, shuffle))
        models.append(model)
    save_models(out_ckpt, "fusion", models, cfg, result_metrics(results))
    write_acc(out_acc, results)
    _summary(f"{dataset} fusion {a}+{b}", results)


def _kd_config(cfg: dict) -> KDConfig:
    return KDConfig(**cfg["distill"])


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
    data = _load(data_path, [*teacher_modalities, student_modality])
    teachers = load_models(teacher_ckpt, teacher_role, current_device())
    _check_seeds(teacher_ckpt, teachers, cfg["seeds"])
    teacher_train = split(data, teacher_modalities, "train")
    what = f"{'+'.join(teacher_modalities)} -> {student_modality}"
    models, results = [], []
    for s, teacher in enumerate(teachers):
        logits = predict_logits(teacher, teacher_train.inputs, device=current_device())  # (N, C)
        student = _student(cfg, data, dataset, seed, student_modality, s)
        kd = {"teacher_logits": logits, "kd": _kd_config(cfg)}
        results.append(
            _train(student, data, [student_modality], cfg, dataset, seed, s, f"KD {what}", **kd)
        )
        models.append(student)
    save_models(out_ckpt, "kd", models, cfg, result_metrics(results))
    write_acc(out_acc, results)
    _summary(f"{dataset} KD {what}", results)


def salience(
    dataset: str, seed: int, cfg: dict, data_path, teacher_ckpt, a: str, b: str, out_csv
) -> torch.Tensor:
    """Algorithm 1 per seed on the penultimate layer of the unimodal teacher on `a`, against a
    net on `b`. Writes seed, channel, raw and min-max normalised salience; returns (seeds, H)."""
    data = _load(data_path, [a, b])
    teachers = load_models(teacher_ckpt, "unimodal", current_device())
    _check_seeds(teacher_ckpt, teachers, cfg["seeds"])
    sal = cfg["salience"]
    train_a, train_b = split(data, [a], "train"), split(data, [b], "train")
    rows, norms = [], []
    for s, teacher in enumerate(teachers):
        f_a = copy.deepcopy(teacher).requires_grad_(True).train()
        f_b = build_model(
            cfg["models"][b],
            data.sample_shapes[b],
            data.n_classes,
            cfg["hidden"],
            seed=torch_seed(seed, dataset, f"joint_{a}-{b}", s),
        ).to(current_device())
        rng = generator(torch_seed(seed, dataset, f"salience_{a}-{b}", s))
        train_joint_nets(
            f_a,
            f_b,
            train_a.inputs,
            train_b.inputs,
            train_a.y,
            epochs=sal["epochs"],
            batch_size=sal["batch_size"],
            lr=sal["lr"],
            momentum=sal["momentum"],
            generator=rng,
            device=current_device(),
            name=f"{dataset} joint {a}-{b} seed {s}",
        )
        raw = penultimate_salience(
            f_a,
            f_b,
            train_a.inputs,
            train_b.inputs,
            repeats=sal["repeats"],
            batch_size=sal["batch_size"],
            generator=rng,
            device=current_device(),
        ).cpu()  # (H,)
        norm = minmax(raw)
        norms.append(norm)
        rows += [(s, k, raw[k].item(), norm[k].item()) for k in range(len(raw))]
        log.info("%s %s->%s seed %d: salience of %d channels", dataset, a, b, s, len(raw))
    REAL_SALIENCE.write(out_csv, rows)
    return torch.stack(norms)


def read_salience(path, seeds: int) -> torch.Tensor:
    """salience.csv (table REAL_SALIENCE) -> (seeds, H) normalised salience."""
    table = [(r["seed"], r["channel"], r["salience"]) for r in REAL_SALIENCE.read_rows(path)]
    channels = 1 + max(k for _, k, _ in table)
    out = torch.full((seeds, channels), float("nan"), dtype=torch.float64)
    for s, k, v in table:
        if s < seeds:
            out[s, k] = v
    if torch.isnan(out).any():
        raise ValueError(f"{path}: salience missing for some seed or channel (of {seeds} seeds)")
    return out


def removed_channels(
    mode: int, salience: torch.Tensor, ratio: float, rng_args: tuple
) -> torch.Tensor:
    """(H,) bool, True = removed: `n_dropped(ratio, H)` channels chosen by `mode` (see KD_MODES).

    salience: (H,) normalised salience of the teacher's channels (unused in mode 0);
    rng_args: (seed, dataset, role, *indices) of mode 0's random draw.
    """
    h = salience.shape[-1]
    removed = torch.zeros(h, dtype=torch.bool)
    if mode == 0:
        removed[numpy_rng(*rng_args).choice(h, n_dropped(ratio, h), replace=False)] = True
        return removed
    kept = drop_ratio(salience[None], ratio, drop="least" if mode == 1 else "most")[0]
    removed[:] = True
    removed[kept] = False
    return removed


def distill_modes(
    dataset: str,
    seed: int,
    cfg: dict,
    data_path,
    teacher_ckpt,
    salience_csv,
    a: str,
    b: str,
    mode: int,
    out_ckpt,
    out_csv,
):
    """For every ratio and seed: remove the teacher's channels chosen by `mode`, then distil a
    student on b from the modified teacher; one row per (ratio, seed)."""
    data = _load(data_path, [a, b])
    teachers = load_models(teacher_ckpt, "unimodal", current_device())
    _check_seeds(teacher_ckpt, teachers, cfg["seeds"])
    salience_all = read_salience(salience_csv, len(teachers))  # (seeds, H)
    modes_cfg = cfg["modes"]
    train_a, test_a = split(data, [a], "train"), split(data, [a], "test")
    rows, students = [], []
    for i, ratio in enumerate(modes_cfg["ratios"]):
        for s, teacher in enumerate(teachers):
            removed = removed_channels(
                mode, salience_all[s], ratio, (seed, dataset, f"random_{a}-{b}", i, s)
            )
            modified = remove_channels(
                teacher, LAYER, removed, modes_cfg["fill"], train_a.inputs
            ).to(current_device())
            teacher_acc = accuracy(modified, test_a, device=current_device())
            logits = predict_logits(modified, train_a.inputs, device=current_device())
            student = _student(cfg, data, dataset, seed, b, s)
            kd = {"teacher_logits": logits, "kd": _kd_config(cfg)}
            name = f"mode {mode} r={ratio} KD {a} -> {b}"
            result = _train(student, data, [b], cfg, dataset, seed, s, name, **kd)
            epoch, val_acc, test_acc = result.best_epoch, result.val_acc, result.test_acc
            rows.append((ratio, s, int(removed.sum()), teacher_acc, epoch, val_acc, test_acc))
            students.append(student)
    metrics = {"rows": [REAL_MODES_ACC.format_row(row) for row in rows]}
    save_models(out_ckpt, "kd_mode", students, cfg, metrics)
    REAL_MODES_ACC.write(out_csv, rows)
    log.info(
        "%s mode %d (%s) %s -> %s: %d students", dataset, mode, KD_MODES[mode], a, b, len(rows)
    )


def _check_seeds(path, models: list, seeds: int) -> None:
    if len(models) < seeds:
        raise ValueError(f"{path}: holds {len(models)} seeds, params ask for {seeds}")


def _summary(what: str, results) -> None:
    accs = torch.tensor([r.test_acc for r in results], dtype=torch.float64)
    log.info(
        "%s: test accuracy %.2f%% (std %.2f over %d seeds; at the best validation epoch)",
        what,
        accs.mean().item(),
        accs.std().item() if len(accs) > 1 else 0.0,
        len(accs),
    )
