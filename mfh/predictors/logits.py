"""Comparisons of a teacher's and a student's logits on the same samples: how far apart their
beliefs about the wrong classes are (`nontarget_js`, the "dark knowledge" KD transfers) and how
well they agree on the order of the classes (`rank_agreement`).

Both take logits (n, C) of the two models, row i of each being the same sample, and return
means over the samples. Inputs are checked (shapes, finite values, labels in 0..C-1): ValueError.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from mfh.predictors.validation import as_label_vector, check_same_n

LN2 = float(np.log(2.0))  # the upper bound of the JS divergence in nats


def nontarget_js(teacher_logits, student_logits, y) -> float:
    """Mean over samples of the Jensen-Shannon divergence (nats, in [0, ln 2]) between the two
    models' distributions over the C - 1 non-target classes.

    Per sample, each model's softmax is restricted to the classes other than y[i] and renormalised
    (P for the teacher, Q for the student), M = (P + Q) / 2 and
    JS = 1/2 KL(P || M) + 1/2 KL(Q || M), natural log. Computed from log-softmaxes, with
    0 * log 0 = 0 (a class one model gives probability 0 adds nothing to its KL term).
    Needs C >= 3: with two classes the non-target distribution is a single point (ValueError).
    """
    caller = "nontarget_js"
    teacher, student = _paired_logits(teacher_logits, student_logits, caller)
    n, n_classes = teacher.shape
    if n_classes < 3:
        raise ValueError(
            f"{caller}: needs at least 3 classes, got C = {n_classes}: with two, the"
            " non-target distribution is a single point"
        )
    labels = _class_labels(y, n, n_classes, caller)  # (n,) in 0..C-1
    is_target = np.arange(n_classes)[None, :] == labels[:, None]  # (n, C)
    log_p = _log_softmax_without(teacher, is_target)  # (n, C), -inf at the target
    log_q = _log_softmax_without(student, is_target)  # (n, C)
    log_m = np.logaddexp(log_p, log_q) - LN2  # (n, C), -inf at the target
    divergence = 0.5 * _kl_terms(log_p, log_m) + 0.5 * _kl_terms(log_q, log_m)  # (n,)
    return float(np.mean(np.clip(divergence, 0.0, LN2)))  # clip: rounding only


def rank_agreement(teacher_logits, student_logits) -> tuple[float, float]:
    """(mean Kendall tau-b, share of equal argmax) between the two models' logit vectors.

    Per sample, over the C(C-1)/2 class pairs (a, b): s_t = sign(t_a - t_b), s_s likewise, and
    tau_b = sum(s_t * s_s) / sqrt(sum(s_t^2) * sum(s_s^2)), which is Kendall's tau-b (a pair tied
    in one vector has sign 0: it counts neither way and leaves that vector's denominator).
    A sample where either vector is constant has no ordering to compare and gets tau 0.
    The argmax takes the first of tied maxima (numpy's rule). Vectorised over samples; the
    (n, C(C-1)/2) sign arrays are meant for small C (a few to some tens of classes). Needs C >= 2.
    """
    caller = "rank_agreement"
    teacher, student = _paired_logits(teacher_logits, student_logits, caller)
    n_classes = teacher.shape[1]
    if n_classes < 2:
        raise ValueError(f"{caller}: needs at least 2 classes to rank, got C = {n_classes}")
    first, second = np.triu_indices(n_classes, k=1)  # (P,), (P,) with P = C(C-1)/2
    teacher_signs = np.sign(teacher[:, first] - teacher[:, second])  # (n, P) in {-1, 0, 1}
    student_signs = np.sign(student[:, first] - student[:, second])  # (n, P)
    concordance = np.sum(teacher_signs * student_signs, axis=1)  # (n,)
    untied_teacher = np.sum(teacher_signs**2, axis=1)  # (n,) pairs not tied in the teacher
    untied_student = np.sum(student_signs**2, axis=1)  # (n,)
    denominator = np.sqrt(untied_teacher * untied_student)  # (n,), 0 where a vector is constant
    tau = np.divide(
        concordance, denominator, out=np.zeros_like(concordance), where=denominator > 0
    )  # (n,)
    same_argmax = np.argmax(teacher, axis=1) == np.argmax(student, axis=1)  # (n,)
    return float(np.mean(tau)), float(np.mean(same_argmax))


def _paired_logits(teacher_logits, student_logits, caller: str):
    """Both logit arrays as float64 (n, C) of the same shape, finite, n >= 1."""
    teacher = np.asarray(teacher_logits, dtype=np.float64)
    student = np.asarray(student_logits, dtype=np.float64)
    for name, logits in (("teacher_logits", teacher), ("student_logits", student)):
        if logits.ndim != 2:
            raise ValueError(f"{caller}: {name} must be (n, C), got shape {logits.shape}")
        if not np.all(np.isfinite(logits)):
            raise ValueError(f"{caller}: {name} has non-finite values (NaN or inf)")
    check_same_n(caller, teacher_logits=teacher, student_logits=student)
    if teacher.shape[1] != student.shape[1]:
        raise ValueError(
            f"{caller}: mismatched numbers of classes: teacher_logits has {teacher.shape[1]},"
            f" student_logits has {student.shape[1]}"
        )
    if len(teacher) == 0:
        raise ValueError(f"{caller}: needs at least 1 sample, got 0")
    return teacher, student


def _class_labels(y, n: int, n_classes: int, caller: str) -> np.ndarray:
    """y as int64 (n,) with values in 0..C-1 (the column index of each sample's class)."""
    labels = as_label_vector(y, "y", caller)
    if len(labels) != n:
        raise ValueError(
            f"{caller}: mismatched numbers of samples: logits have {n}, y has {len(labels)}"
        )
    if labels.dtype.kind not in "iub":
        raise ValueError(f"{caller}: y must hold integer class indices, got dtype {labels.dtype}")
    if np.any(labels < 0) or np.any(labels >= n_classes):
        raise ValueError(f"{caller}: y must lie in 0..{n_classes - 1} (C = {n_classes})")
    return labels.astype(np.int64)


def _log_softmax_without(logits: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """Log-softmax of `logits` (n, C) over the classes not `excluded` (n, C) bool: -inf there."""
    masked = np.where(excluded, -np.inf, logits)  # (n, C)
    return masked - logsumexp(masked, axis=1, keepdims=True)


def _kl_terms(log_p: np.ndarray, log_m: np.ndarray) -> np.ndarray:
    """KL(P || M) per row (n,) from log-probabilities (n, C), with 0 * log 0 = 0."""
    p = np.exp(log_p)  # (n, C), 0 where log_p = -inf or underflows
    positive = p > 0  # (n, C); there M >= P / 2 > 0 too, so log_m is finite
    safe_difference = np.where(positive, log_p, 0.0) - np.where(positive, log_m, 0.0)
    return np.sum(p * safe_difference, axis=1)
