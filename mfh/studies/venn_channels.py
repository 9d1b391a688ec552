"""The per-channel permutation tests of both modalities of a synthetic study on its test samples
(`mfh.venn_signals`), written as channels.csv (table CHANNELS) for the Venn estimate; run by the
`probe` steps (`mfh.studies.probe`).

    side a: decisive = the teacher's cross-entropy,       general = |f_a(x_a~k) - f_b(x_b)|^2
    side b: decisive = the no-KD student's cross-entropy, general = |f_b(x_b~k) - f_a(x_a)|^2

f_a, f_b are Algorithm 1's joint nets (the `salience` step). Every model is the one of its
setting x run; a no-KD student shared by the settings of a run is tiled to every setting.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np
import torch

from mfh.models.linear import LinearEnsemble
from mfh.seeding import torch_seed
from mfh.studies.ensemble import load_ensemble
from mfh.tables import CHANNELS
from mfh.venn_signals import (
    Effects,
    cross_entropy_loss,
    distance_loss,
    permutation_effects,
    tiled,
)

log = logging.getLogger(__name__)


class Nets(NamedTuple):
    """The four nets the tests read, each an ensemble of S x R models."""

    teacher: LinearEnsemble  # on x_a
    student: LinearEnsemble  # the no-KD student, on x_b
    f_a: LinearEnsemble  # Algorithm 1's joint net on x_a
    f_b: LinearEnsemble  # Algorithm 1's joint net on x_b


def load_nets(teacher, nokd, joint_a, joint_b) -> Nets:
    """The nets from their checkpoints; a no-KD ensemble of R models is tiled to S x R."""
    student = load_ensemble(nokd, "nokd")
    teacher_net = load_ensemble(teacher, "teacher")
    if student.n_models != teacher_net.n_models:
        student = tiled(student, teacher_net.n_models // student.n_models)
    return Nets(
        teacher_net, student, load_ensemble(joint_a, "joint_a"), load_ensemble(joint_b, "joint_b")
    )


def channel_tests(
    study: str,
    seed: int,
    nets: Nets,
    test: tuple[torch.Tensor, torch.Tensor, torch.Tensor],  # x_a (M, d_a, n), x_b (M, d_b, n), y
    truth: tuple[np.ndarray, ...],  # a_shared, a_decisive, b_shared, b_decisive: bool (S, d)
    venn_cfg: dict,
    out_csv,
) -> None:
    """Run the four tests (module doc) with the `venn` params `venn_cfg` (repeats) and write
    channels.csv: one row per setting x run x side x channel."""
    x_a = test[0]
    rng = torch.Generator().manual_seed(torch_seed(seed, study, "channel_tests"))
    repeats = venn_cfg["repeats"]
    effects = channel_effects(nets, test, repeats, rng)
    sides = {
        "a": (*effects["a"], truth[0], truth[1]),
        "b": (*effects["b"], truth[2], truth[3]),
    }
    S = truth[0].shape[0]
    R = x_a.shape[0] // S
    as_lists = {  # side -> four (M, d) lists: decisive effect, se, general effect, se
        side: [t.tolist() for t in (*decisive, *general)]
        for side, (decisive, general, _, _) in sides.items()
    }
    rows = []
    for m in range(S * R):
        s, r = divmod(m, R)
        for side, (_, _, shared, is_decisive) in sides.items():
            values = as_lists[side]
            for k in range(shared.shape[1]):
                effects = (values[0][m][k], values[1][m][k], values[2][m][k], values[3][m][k])
                rows.append((s, r, side, k, *effects, int(shared[s, k]), int(is_decisive[s, k])))
    CHANNELS.write(out_csv, rows)
    log.info("%s: channel tests of %d models, %d permutations each", study, S * R, repeats)


def channel_effects(
    nets: Nets,
    test: tuple[torch.Tensor, torch.Tensor, torch.Tensor],  # x_a (M, d_a, n), x_b (M, d_b, n), y
    repeats: int,
    generator: torch.Generator,
) -> dict[str, tuple[Effects, Effects]]:
    """The four tests of the module doc: side ("a", "b") -> (decisive, general) effects, each
    (M, d). Also the real-data diagnosis' tests (`mfh.studies.real_diagnose`), whose channels
    are a hidden layer and whose nets are the classifier heads."""
    x_a, x_b, y = test
    with torch.no_grad():
        target_a, target_b = nets.f_b(x_b), nets.f_a(x_a)  # what f_a, f_b are compared with
    r = _r(repeats, generator)
    return {
        "a": (
            permutation_effects(nets.teacher, x_a, cross_entropy_loss(y), **r),
            permutation_effects(nets.f_a, x_a, distance_loss(target_a), **r),
        ),
        "b": (
            permutation_effects(nets.student, x_b, cross_entropy_loss(y), **r),
            permutation_effects(nets.f_b, x_b, distance_loss(target_b), **r),
        ),
    }


def _r(repeats: int, generator: torch.Generator) -> dict:
    return {"repeats": repeats, "generator": generator}
