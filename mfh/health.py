"""Health checks that stop a broken run of the real-data studies instead of publishing its
numbers (PROTOCOL §5). Each check raises `mfh.errors.HealthError` with one line that names the
net, what is wrong and the params to look at; the thresholds are params (`<dataset>.health`).

    check_above_chance  a net's validation accuracy must beat chance (1/C) by a one-sided
                        binomial test at level `p_value`: with n samples and k correct, the
                        probability of k or more correct by guessing must not exceed p_value
                        (p_value 1 turns the check off)
    channel_counts      dead penultimate channels (never active on the training set: a ReLU
                        that outputs 0 for every sample) and constant ones (dead included)
    check_channels      more than `max_dead_share` of the channels dead stops the run
The training loops stop a diverged loss themselves (`mfh.train.minibatch`,
`mfh.algorithm1.penultimate.train_joint_nets`).
"""

from __future__ import annotations

from fractions import Fraction
from math import comb

import torch

from mfh.errors import HealthError


def chance_p_value(acc: float, n: int, n_classes: int) -> float:
    """P(k or more of n correct by guessing among n_classes), k = round(acc / 100 * n).

    Exact: sum over i >= k of comb(n, i) (C - 1)^(n - i) / C^n in integers, rounded once to a
    float (milliseconds for n = 5000; no scipy import, 0.2 s of every training job's start)."""
    k = round(acc / 100.0 * n)
    if k <= 0 or n_classes < 2:  # one class: every guess is right
        return 1.0
    wrong = n_classes - 1  # ways to guess one sample wrong
    term = comb(n, k) * wrong ** (n - k)  # guessings with exactly i = k right
    ways = 0
    for i in range(k, n + 1):
        ways += term
        term = term * (n - i) // ((i + 1) * wrong) if i < n else 0  # -> exactly i + 1 right
    return float(Fraction(ways, n_classes**n))


def check_above_chance(acc: float, n: int, n_classes: int, what: str, p_value: float) -> None:
    """HealthError unless `acc` (percent, on n validation samples) is above chance at p_value."""
    p = chance_p_value(acc, n, n_classes)
    if p > p_value:
        raise HealthError(
            f"{what}: validation accuracy {acc:.1f}% on {n} samples is not above chance "
            f"({100.0 / n_classes:.1f}%; binomial p = {p:.2g} > health.p_value {p_value}): the "
            "run is broken; check its lr and epochs in params.yaml"
        )


def channel_counts(features: torch.Tensor) -> tuple[int, int]:
    """(dead, constant) channels of penultimate features (N, H) after a ReLU: dead = 0 for every
    sample; constant = the same value for every sample (dead included)."""
    top, bottom = features.amax(dim=0), features.amin(dim=0)  # (H,)
    return int((top <= 0).sum()), int((top == bottom).sum())


def check_channels(features: torch.Tensor, what: str, max_dead_share: float) -> tuple[int, int]:
    """`channel_counts`, or HealthError when more than max_dead_share of the channels are dead."""
    dead, constant = channel_counts(features)
    width = features.shape[1]
    if dead > max_dead_share * width:
        raise HealthError(
            f"{what}: {dead} of {width} penultimate channels are dead (never active on the "
            f"training set; health.max_dead_share {max_dead_share}): the run is broken; lower "
            "the lr or shorten the training in params.yaml"
        )
    return dead, constant
