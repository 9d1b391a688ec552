"""The steps of the synthetic Gaussian studies (the `studies` of params.yaml: gauss_gamma,
gauss_alpha), one function per Snakemake rule and named as the rule: `rule distill` runs
`python -m mfh distill --study gauss_gamma ...`, which calls `distill(args, params)` here.

`args` is the parsed command line (--study and the options declared above the step); `params`
holds the params sections the rule passes, by full dotted key (`params[f"{args.study}.teacher"]`
is the `teacher` section of the study). The science is in `mfh.studies.gauss`, which the training
steps call through `train_ensemble`; each step imports what it needs inside, so that `--help` and
the light steps start fast.
"""

from __future__ import annotations

import logging
from argparse import Namespace

from mfh.pipeline.sections import Sections
from mfh.steps.common import TRAINING, Option, compute_on, options

log = logging.getLogger("mfh")

DATA = Option("data", "the study's .npz from prepare_data")
TEACHER = Option("teacher", "teacher checkpoint")
MODEL_OUTPUTS = (  # of a step that trains an ensemble
    Option("out-ckpt", "output checkpoint (.pt)"),
    Option("out-acc", "output CSV of test accuracies"),
)
SWEPT_QUANTITY = {"vary_gamma": "gamma", "vary_alpha": "alpha"}  # by params `data.generator`


def train_ensemble(train, args: Namespace, params: Sections, *inputs) -> None:
    """Run a study's training function `train(study, seed, data, *inputs, out_ckpt, out_acc)`
    on this step's --study, params `seed`, --data, --out-ckpt and --out-acc; `inputs` are the
    step's own (e.g. the teacher checkpoint and params sections of `gauss.distill`)."""
    train(args.study, params["seed"], args.data, *inputs, args.out_ckpt, args.out_acc)


@options(
    Option("out-data", "output .npz of all settings x runs"),
    Option("out-settings", "output CSV of the settings' Venn shares"),
)
def prepare_data(args: Namespace, params: Sections) -> None:
    """Draw a synthetic study's data."""
    from mfh.studies.gauss_prepare import prepare

    study_data = params[f"{args.study}.data"]
    prepare(args.study, params["seed"], study_data, args.out_data, args.out_settings)


@options(DATA, *MODEL_OUTPUTS, *TRAINING)
def train_teachers(args: Namespace, params: Sections) -> None:
    """Train the teachers on modality a."""
    compute_on(params["device"], args.threads)
    from mfh.studies import gauss

    train_ensemble(gauss.train_teachers, args, params, params[f"{args.study}.teacher"])


@options(DATA, *MODEL_OUTPUTS, *TRAINING)
def train_baselines(args: Namespace, params: Sections) -> None:
    """Train the no-KD students on modality b."""
    compute_on(params["device"], args.threads)
    from mfh.studies import gauss

    train_ensemble(gauss.train_baselines, args, params, params[f"{args.study}.student"])


@options(DATA, TEACHER, *MODEL_OUTPUTS, *TRAINING)
def distill(args: Namespace, params: Sections) -> None:
    """Train the KD students on modality b from the teachers."""
    compute_on(params["device"], args.threads)
    from mfh.studies import gauss

    student, kd = params[f"{args.study}.student"], params[f"{args.study}.distill"]
    train_ensemble(gauss.distill, args, params, args.teacher, student, kd)


@options(DATA, Option("out-csv", "output salience.csv"), *TRAINING)
def salience(args: Namespace, params: Sections) -> None:
    """Algorithm 1 on a study's teacher modality (x_a)."""
    compute_on(params["device"], args.threads)
    from mfh.studies import gauss

    generator, salience = params[f"{args.study}.data.generator"], params[f"{args.study}.salience"]
    gauss.salience(args.study, params["seed"], generator, args.data, salience, args.out_csv)


@options(
    *(Option(table, f"{table}.csv") for table in ("settings", "teacher", "nokd", "kd")),
    Option("out-runs", "output runs.csv: one row per setting x run"),
    Option("out-summary", "output summary.csv: one row per setting"),
    Option("out-metrics", "headline numbers (JSON, DVC metrics)"),
)
def collect(args: Namespace, params: Sections) -> None:
    """Join the accuracies into runs.csv and summary.csv."""
    from mfh.report.gauss import tables
    from mfh.report.metrics import synthetic_metrics, write_metrics

    runs, summary = tables.collect(
        args.settings, args.teacher, args.nokd, args.kd, args.out_runs, args.out_summary
    )
    write_metrics(synthetic_metrics(summary), args.out_metrics)
    log.info("%s: %d runs over %d settings", args.study, len(runs), len(summary))
    for row in summary.itertuples():
        log.info(
            "  gamma %.3f alpha %.3f | teacher %.2f  no-KD %.2f  KD %.2f  gain %+.2f [%+.2f, %+.2f]",
            row.gamma,
            row.alpha,
            row.teacher_acc,
            row.nokd_acc,
            row.kd_acc,
            row.delta_mean,
            row.delta_ci_low,
            row.delta_ci_high,
        )


@options(Option("runs", "runs.csv from collect"), Option("out-png", "output figure"))
def plot(args: Namespace, params: Sections) -> None:
    """Draw the study's figure from runs.csv."""
    from mfh.report.gauss.figures import plot_from_csv

    swept = SWEPT_QUANTITY[params[f"{args.study}.data.generator"]]
    plot_from_csv(args.runs, swept, args.out_png, title=args.study)


VENN_OPTIONS = (
    Option("salience", "salience.csv from Algorithm 1"),
    Option("settings", "settings.csv: the true Venn shares"),
    Option("out-csv", "output venn.csv"),
    Option("out-png", "output venn.png"),
)


@options(*VENN_OPTIONS)
def venn(args: Namespace, params: Sections) -> None:
    """Estimate the Venn diagram (gamma) from Algorithm 1's salience."""
    from mfh.report.venn import plot_venn
    from mfh.venn import estimate_venn, write_venn

    threshold = params[f"{args.study}.venn"]["threshold"]
    estimate = estimate_venn(args.salience, args.settings, threshold=threshold)
    write_venn(estimate, args.out_csv)
    plot_venn(estimate, args.out_png)
    for row in estimate.itertuples():
        log.info(
            "  setting %d: gamma true %.3f, estimated %.3f per run, %.3f pooled over runs",
            row.setting,
            row.gamma_true,
            row.gamma_est,
            row.gamma_pooled,
        )
