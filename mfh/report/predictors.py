"""The figures of the `predictors` study (`mfh.predictors.study`): one panel per predictor, the
measured KD gain against the predictor's value, one marker per point (study x setting x teacher,
means over runs; real data: dataset x pair, means over seeds), coloured by study or dataset, with
the pooled Spearman and its bootstrap interval in the panel's title. Saved with
`mfh.report.plotting.figure` (deterministic bytes).
"""

from __future__ import annotations

import math
import os

import pandas as pd
import seaborn as sns

from mfh.predictors.points import PREDICTORS
from mfh.predictors.real_points import POOLED_REAL, REAL_PREDICTORS
from mfh.predictors.study import POOLED
from mfh.report.plotting import figure
from mfh.tables import PREDICTOR_POINTS, PREDICTOR_SCORES, REAL_PREDICTOR_POINTS

LABELS = {
    "teacher_acc": "teacher accuracy (%)",
    "gamma_true": "true γ",
    "gamma_est": "estimated γ",
    "gamma_mass_est": "estimated γ, importance-weighted",
    "one_minus_alpha_est": "1 − estimated α (teacher side)",
    "complementarity_gauss": "I(h_T;h_S) − I(h_S;Y), Gaussian (nats)",
    "complementarity_knn": "I(h_T;h_S) − I(h_S;Y), kNN (nats)",
    "nontarget_js": "non-target JS divergence (nats)",
    "rank_tau": "Kendall τ of logits",
    "top1_agreement": "top-1 agreement",
}
MARKERS = {"regular": "o", "random": "X", "gt": "s", "alg1": "D"}
COLUMNS = 3


def plot_predictors(points: pd.DataFrame, scores: pd.DataFrame, out_png: str | os.PathLike) -> None:
    """Draw every predictor's panel (module doc) from tables PREDICTOR_POINTS and
    PREDICTOR_SCORES."""
    points = PREDICTOR_POINTS.check_frame(points, "points table")
    title = (
        "Which criterion, measured before distillation, foretells the KD gain? "
        "(Spearman over all synthetic points, bootstrap 95 % interval over runs)"
    )
    _draw(points, scores, out_png, PREDICTORS, POOLED, title)


def plot_real_predictors(
    points: pd.DataFrame, scores: pd.DataFrame, out_png: str | os.PathLike
) -> None:
    """The same figure for the real-data points (tables REAL_PREDICTOR_POINTS and
    PREDICTOR_SCORES): one marker per dataset x pair (mean over seeds), coloured by dataset."""
    points = REAL_PREDICTOR_POINTS.check_frame(points, "real points table")
    keyed = points.rename(columns={"dataset": "study", "pair": "setting", "seed": "run"})
    title = (
        "Real data: which criterion, measured before distillation, foretells the KD gain? "
        "(Spearman over all real pairs, bootstrap 95 % interval over seeds)"
    )
    _draw(keyed.assign(teacher="regular"), scores, out_png, REAL_PREDICTORS, POOLED_REAL, title)


def _draw(points, scores, out_png, predictors, pooled: str, title: str) -> None:
    """points: columns study, setting, teacher, run, gain and `predictors`; the titles give the
    Spearman of scope `pooled`."""
    scores = PREDICTOR_SCORES.check_frame(scores, "scores table").set_index(["predictor", "scope"])
    keys = ["study", "setting", "teacher"]
    means = points.groupby(keys, sort=True)[["gain", *predictors]].mean().reset_index()
    studies = sorted(means["study"].unique())
    colors = dict(zip(studies, sns.color_palette("colorblind", len(studies))))
    rows = math.ceil(len(predictors) / COLUMNS)
    with figure(out_png, figsize=(4.6 * COLUMNS, 3.9 * rows + 0.8)) as fig:
        axes = fig.subplots(rows, COLUMNS, squeeze=False).ravel()
        for ax, predictor in zip(axes, predictors):
            for (study, teacher), group in means.groupby(["study", "teacher"], sort=True):
                ax.scatter(
                    group[predictor],
                    group["gain"],
                    color=colors[study],
                    marker=MARKERS.get(teacher, "o"),
                    s=28,
                    alpha=0.85,
                    label=study if teacher == "regular" else None,
                )
            ax.axhline(0.0, color="0.5", linewidth=0.8, linestyle="--")
            score = scores.loc[(predictor, pooled)]
            rho = "n/a" if pd.isna(score["spearman"]) else f"{score['spearman']:.2f}"
            interval = (
                ""
                if pd.isna(score["ci_low"])
                else f" [{score['ci_low']:.2f}, {score['ci_high']:.2f}]"
            )
            ax.set_title(f"ρ = {rho}{interval}, n = {int(score['n_points'])}", fontsize=10)
            ax.set_xlabel(LABELS[predictor])
            ax.set_ylabel("KD gain (points)")
        for ax in axes[len(predictors) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        for teacher, marker in MARKERS.items():
            if teacher != "regular" and (points["teacher"] == teacher).any():
                handles.append(
                    axes[0].scatter(
                        [], [], color="0.4", marker=marker, label=f"gauss_modify {teacher}"
                    )
                )
                labels.append(f"gauss_modify: {teacher} teacher")
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 7), frameon=False)
        fig.suptitle(title)
        fig.tight_layout(rect=(0, 0.05, 1, 0.96))
