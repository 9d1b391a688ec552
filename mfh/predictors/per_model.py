"""The predictor values of one teacher and its no-KD student, measured before any KD student is
trained (PROTOCOL §6; the `predictors` study scores them against the measured gain).

From the two nets' logits on the same held-out samples (the teacher on x_a, the student on x_b):
- rank_tau, top1_agreement: C2KD-style agreement, the mean per-sample Kendall tau-b between the
  two logit vectors and the share of samples with the same argmax;
- nontarget_js: the Jensen-Shannon divergence (nats, <= ln 2) between their softmax over the
  non-target classes, averaged over samples (Non-target Divergence Hypothesis; NaN for C = 2,
  where that distribution is a single point);
- cross-modal complementarity (Xie, Xu, Sanguinetti 2025, arXiv 2510.13182): KD is expected to
  help when I(h_T; h_S) > I(h_S; Y). h_T, h_S are the logits; both mutual informations are
  estimated twice, with the Gaussian (CCA) closed form and with kNN estimators
  (`mfh.predictors.information`); the predictor is the gap I(h_T; h_S) - I(h_S; Y).
Teacher accuracy and the Venn estimates come from their own steps (`mfh.predictors.points`).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from mfh.predictors.information import gaussian_mi, gaussian_mi_labels, knn_mi, knn_mi_labels
from mfh.predictors.logits import nontarget_js, rank_agreement
from mfh.tables import PREDICTOR_MEASURES

log = logging.getLogger(__name__)

MEASURES = PREDICTOR_MEASURES  # the values `measure` returns (tables RUN_PREDICTORS, DIAGNOSIS)


def measure(
    teacher_logits: np.ndarray,
    student_logits: np.ndarray,
    y: np.ndarray,
    *,
    unmeasurable_as_nan: bool = False,
) -> dict:
    """The measures of one teacher-student pair: logits (n, C) each, labels y (n,). A mutual
    information that the samples cannot estimate (too few of them, or of a class: the
    estimators' ValueError) raises, or with `unmeasurable_as_nan` is NaN, with a warning."""
    teacher_logits = np.asarray(teacher_logits, dtype=np.float64)
    student_logits = np.asarray(student_logits, dtype=np.float64)
    tau, top1 = rank_agreement(teacher_logits, student_logits)
    classes = teacher_logits.shape[1]
    js = nontarget_js(teacher_logits, student_logits, y) if classes >= 3 else math.nan

    def mi(estimator, *args) -> float:
        try:
            return estimator(*args)
        except ValueError as error:
            if not unmeasurable_as_nan:
                raise
            log.warning("%s: recorded as NaN", error)
            return math.nan

    return {
        "rank_tau": tau,
        "top1_agreement": top1,
        "nontarget_js": js,
        "mi_ts_gauss": mi(gaussian_mi, teacher_logits, student_logits),
        "mi_sy_gauss": mi(gaussian_mi_labels, student_logits, y),
        "mi_ts_knn": mi(knn_mi, teacher_logits, student_logits),
        "mi_sy_knn": mi(knn_mi_labels, student_logits, y),
    }
