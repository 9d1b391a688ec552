"""The step of the `predictors` study (PROTOCOL §6), named as its Snakemake rule: `rule
predictors` runs `python -m mfh predictors ...`, which calls `predictors(args, params)` here.
The science is in `mfh.predictors.study` and `mfh.predictors.points`.
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
    pooled = scores[scores["scope"] == "synthetic"]
    for row in pooled.itertuples():
        log.info(
            "  %-22s Spearman %+.2f [%+.2f, %+.2f] over %d points",
            row.predictor,
            row.spearman,
            row.ci_low,
            row.ci_high,
            row.n_points,
        )
