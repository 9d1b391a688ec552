"""The steps of the `predictors` study (PROTOCOL §6), named as their Snakemake rules: `rule
predictors` runs `python -m mfh predictors ...`, which calls `predictors(args, params)` here (the
synthetic points), `rule real_predictors` the real-data points (`snakemake real`). The science
is in `mfh.predictors.study`, `mfh.predictors.points` and `mfh.predictors.real_points`.
"""

from __future__ import annotations

import logging
from argparse import Namespace

from mfh.pipeline.sections import Sections
from mfh.steps.common import Option, options

log = logging.getLogger("mfh")

MODIFY = "gauss_modify"


@options(
    Option("results", "the results folder (results): every study's outputs are under it"),
    Option("out-points", "output points.csv"),
    Option("out-scores", "output scores.csv"),
    Option("out-venn-fit", "output venn_fit.csv"),
    Option("out-png", "output figure"),
)
def predictors(args: Namespace, params: Sections) -> None:
    """Score every predictor of the KD gain over the synthetic studies."""
    import pandas as pd

    from mfh.predictors.points import modify_points, study_points
    from mfh.predictors.study import score_points, venn_fit
    from mfh.report.predictors import plot_predictors
    from mfh.tables import PREDICTOR_POINTS, PREDICTOR_SCORES, VENN, VENN_FIT

    studies = list(params["studies"])
    parts = [
        study_points(s, f"{args.results}/{s}", params[f"{s}.venn"]["significance"]) for s in studies
    ]
    significance = params[f"{MODIFY}.venn"]["significance"]
    selections = params[f"{MODIFY}.selections"]
    parts.append(modify_points(f"{args.results}/{MODIFY}", selections, significance))
    points = pd.concat(parts, ignore_index=True)
    scores = score_points(points, seed=params["seed"])
    venns = {s: VENN.read_frame(f"{args.results}/{s}/venn.csv") for s in [*studies, MODIFY]}
    fit = venn_fit(venns)
    PREDICTOR_POINTS.write_frame(args.out_points, points)
    PREDICTOR_SCORES.write_frame(args.out_scores, scores)
    VENN_FIT.write_frame(args.out_venn_fit, fit)
    plot_predictors(points, scores, args.out_png)
    _log_scores(scores, "synthetic", "points")


@options(
    Option("results", "the results folder (results): every dataset's outputs are under it"),
    Option("out-points", "output real_points.csv"),
    Option("out-scores", "output real_scores.csv"),
    Option("out-png", "output figure"),
)
def real_predictors(args: Namespace, params: Sections) -> None:
    """Score every predictor of the KD gain over the real-data pairs (reported apart)."""
    from mfh.predictors.real_points import POOLED_REAL, real_points
    from mfh.predictors.study import score_real_points
    from mfh.report.predictors import plot_real_predictors
    from mfh.tables import PREDICTOR_SCORES, REAL_PREDICTOR_POINTS

    datasets = list(params["real_studies"])
    pairs = {d: list(params[f"{d}.pairs"]) for d in datasets}
    points = real_points(args.results, pairs, {d: params[f"{d}.seeds"] for d in datasets})
    scores = score_real_points(points, seed=params["seed"])
    REAL_PREDICTOR_POINTS.write_frame(args.out_points, points)
    PREDICTOR_SCORES.write_frame(args.out_scores, scores)
    plot_real_predictors(points, scores, args.out_png)
    _log_scores(scores, POOLED_REAL, "real pairs")


def _log_scores(scores, scope: str, points: str) -> None:
    """One log line per predictor: its Spearman and interval in `scope` (table PREDICTOR_SCORES)."""
    for row in scores[scores["scope"] == scope].itertuples():
        log.info(
            "  %-22s Spearman %+.2f [%+.2f, %+.2f] over %d %s",
            *(row.predictor, row.spearman, row.ci_low, row.ci_high, row.n_points, points),
        )
