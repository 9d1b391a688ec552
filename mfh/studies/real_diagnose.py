"""The diagnosis of a real dataset (`snakemake diagnose`): will KD help a pair? Everything the
predictors of PROTOCOL §6 need, and nothing more: the teacher, the no-KD student and Algorithm 1's
joint nets, never a KD student.

    diagnose_pair  per seed, on the pair's test samples: the teacher's and the no-KD student's
                   accuracy, every measure of `mfh.predictors.per_model` (teacher logits on x_a,
                   student logits on x_b) with the complementarity gaps, and the Venn estimate
                   (`mfh.venn.run_estimate`) of the joint nets' penultimate channels; table
                   REAL_DIAGNOSE
    diagnosis      one row per pair, mean and sd over seeds (table DIAGNOSIS), and its figure
                   (`mfh.report.diagnosis`)

Why the test split. Nothing here chooses anything, and the test samples are held out from every
net (the validation split chose each net's best epoch, so its accuracies are biased upwards);
the permutation tests of `mfh.venn_signals` have their exact null only on samples the nets did
not fit; and the accuracies are then the very numbers the full study reports (acc/*.csv). A
mutual information that a small test split cannot estimate (kNN: fewer than 4 samples of a
class; Gaussian: not more samples than 2 x classes) is NaN, with a warning in the log.

The Venn estimate on a hidden layer. The channels are the `hidden` penultimate channels, and a
channel means something only inside its own net: channel k of the teacher and channel k of the
no-KD student are unrelated. So both tests of a side read the same net, the joint net of that
side, whose classifier head (a linear map of the penultimate features) is the model whose input
channels are permuted — `mfh.studies.venn_channels.channel_effects` with the heads as
`LinearEnsemble`s of one model per seed, on features computed once:
    side a: decisive = f_a's cross-entropy, general = |f_a(h_a~k) - f_b(x_b)|^2
    side b: decisive = f_b's cross-entropy, general = |f_b(h_b~k) - f_a(x_a)|^2
With params `teacher: joint` (the reference) f_a is the teacher; with `teacher: unimodal` it is
the teacher's copy trained jointly with f_b.
"""

from __future__ import annotations

import logging
import os
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from mfh.channel_removal import penultimate_features
from mfh.device import current as current_device
from mfh.models.linear import LinearEnsemble
from mfh.predictors.per_model import measure
from mfh.seeding import torch_seed
from mfh.studies.real import load_data, load_teachers
from mfh.studies.real_algorithm1 import JOINT_ROLE
from mfh.studies.real_io import generator, split
from mfh.studies.venn_channels import Nets, channel_effects
from mfh.tables import DIAGNOSIS, DIAGNOSIS_VALUES, REAL_DIAGNOSE
from mfh.train.minibatch import predict_logits
from mfh.venn import run_estimate

log = logging.getLogger(__name__)

VENN_KEYS = ("d0", "da", "db", "gamma", "alpha", "beta", "gamma_mass")


def heads(models: Sequence[torch.nn.Module]) -> LinearEnsemble:
    """The classifier heads (`model.head`, an nn.Linear from the penultimate layer) of one net
    per seed, as one `LinearEnsemble` (model s = the head of seed s), on the CPU, frozen."""
    weight = torch.stack([m.head.weight.detach().cpu() for m in models])  # (M, C, H)
    ensemble = LinearEnsemble([0] * len(models), weight.shape[2], weight.shape[1])
    with torch.no_grad():
        ensemble.weight.copy_(weight)
        ensemble.bias.copy_(torch.stack([m.head.bias.detach().cpu() for m in models]))
    return ensemble.requires_grad_(False)


def stacked_features(models, inputs) -> torch.Tensor:
    """Each seed's penultimate features of the same samples: (M, H, n), the ensemble layout."""
    device = current_device()
    return torch.stack([penultimate_features(m, inputs, device=device).T for m in models])


def venn_estimates(
    joint_a, joint_b, inputs_a, inputs_b, y: torch.Tensor, venn_cfg: dict, rng: torch.Generator
) -> list[dict]:
    """The Venn estimate of every seed (module doc): [{d0, da, db, gamma, ...}, ...]."""
    h_a, h_b = stacked_features(joint_a, inputs_a), stacked_features(joint_b, inputs_b)
    head_a, head_b = heads(joint_a), heads(joint_b)
    labels = y.cpu()[None].expand(len(joint_a), -1)
    nets = Nets(teacher=head_a, student=head_b, f_a=head_a, f_b=head_b)
    effects = channel_effects(nets, (h_a, h_b, labels), venn_cfg["repeats"], rng)
    estimates = []
    for s in range(len(joint_a)):
        frames = {}
        for side, (decisive, general) in effects.items():
            frames[side] = pd.DataFrame(
                {
                    "decisive_effect": decisive.effect[s].numpy(),
                    "decisive_se": decisive.se[s].numpy(),
                    "general_effect": general.effect[s].numpy(),
                    "general_se": general.se[s].numpy(),
                }
            )
        estimates.append(run_estimate(frames["a"], frames["b"], venn_cfg["significance"]))
    return estimates


def diagnose_pair(
    dataset: str,
    seed: int,
    cfg: dict,
    data_path,
    a: str,
    b: str,
    teacher_ckpt,
    teacher_role: str,
    nokd_ckpt,
    joint_ckpt_a,
    joint_ckpt_b,
    out_csv,
) -> None:
    """Table REAL_DIAGNOSE of the pair a -> b: one row per seed (module doc)."""
    data = load_data(data_path, [a, b])
    teachers = load_teachers(teacher_ckpt, teacher_role, cfg)
    students = load_teachers(nokd_ckpt, "unimodal", cfg)
    joint_a = load_teachers(joint_ckpt_a, JOINT_ROLE, cfg)
    joint_b = load_teachers(joint_ckpt_b, JOINT_ROLE, cfg)
    test_a, test_b = split(data, [a], "test"), split(data, [b], "test")
    rng = generator(torch_seed(seed, dataset, f"diagnose_{a}-{b}"))
    venn = venn_estimates(
        joint_a, joint_b, test_a.inputs, test_b.inputs, test_a.y, cfg["venn"], rng
    )
    y = test_a.y.cpu()
    rows = []
    for s in range(cfg["seeds"]):
        device = current_device()
        t_logits = predict_logits(teachers[s], test_a.inputs, device=device).double()
        s_logits = predict_logits(students[s], test_b.inputs, device=device).double()
        values = measure(t_logits.numpy(), s_logits.numpy(), y.numpy(), unmeasurable_as_nan=True)
        values["teacher_acc"] = (t_logits.argmax(dim=1) == y).double().mean().item() * 100.0
        values["student_acc"] = (s_logits.argmax(dim=1) == y).double().mean().item() * 100.0
        values["complementarity_gauss"] = values["mi_ts_gauss"] - values["mi_sy_gauss"]
        values["complementarity_knn"] = values["mi_ts_knn"] - values["mi_sy_knn"]
        values.update(venn[s])
        rows.append((s, *(values[name] for name in DIAGNOSIS_VALUES)))
        log.info(
            "%s %s -> %s seed %d: teacher %.1f%%, no-KD student %.1f%%, gamma estimate %.2f "
            "(D0 %.1f, Da %d, Db %d)",
            dataset,
            a,
            b,
            s,
            values["teacher_acc"],
            values["student_acc"],
            values["gamma"],
            values["d0"],
            values["da"],
            values["db"],
        )
    REAL_DIAGNOSE.write(out_csv, rows)


def diagnosis(pairs: Sequence[tuple[str, str, str]], per_pair: Sequence) -> pd.DataFrame:
    """Table DIAGNOSIS from the REAL_DIAGNOSE files `per_pair` of `pairs` ((name, a, b), in the
    same order): one row per pair, each value's mean and sample sd over seeds (NaNs left out)."""
    rows = []
    for (name, a, b), path in zip(pairs, per_pair):
        frame = REAL_DIAGNOSE.read_frame(path)
        row = {"pair": name, "teacher_modality": a, "student_modality": b, "n_seeds": len(frame)}
        for value in DIAGNOSIS_VALUES:
            kept = frame[value].dropna()
            row[f"{value}_mean"] = kept.mean() if len(kept) else np.nan
            row[f"{value}_sd"] = kept.std(ddof=1) if len(kept) > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=DIAGNOSIS.names)


def write_diagnosis(
    dataset: str, pairs, per_pair, out_csv: str | os.PathLike, out_png: str | os.PathLike
) -> None:
    """diagnosis.csv and its one-page figure."""
    from mfh.report.diagnosis import plot_diagnosis

    table = diagnosis(pairs, per_pair)
    DIAGNOSIS.write_frame(out_csv, table)
    plot_diagnosis(table, out_png, dataset)
    for row in table.itertuples():
        log.info(
            "%s %s -> %s: teacher %.1f%%, no-KD student %.1f%%, gamma estimate %.2f",
            dataset,
            row.teacher_modality,
            row.student_modality,
            row.teacher_acc_mean,
            row.student_acc_mean,
            row.gamma_mean,
        )
