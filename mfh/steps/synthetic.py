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
# the x axis of a study's figure, by params `data.generator`
SWEPT_QUANTITY = {"vary_gamma": "gamma", "vary_alpha": "alpha", "venn": "gamma"}


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


@options(
    DATA,
    Option("out-csv", "output salience.csv"),
    Option("out-joint-a", "output checkpoint of the joint nets f_a (on x_a)"),
    Option("out-joint-b", "output checkpoint of the joint nets f_b (on x_b)"),
    *TRAINING,
)
def salience(args: Namespace, params: Sections) -> None:
    """Algorithm 1 on a study's teacher modality (x_a)."""
    compute_on(params["device"], args.threads)
    from mfh.studies import gauss

    salience, out_joint = params[f"{args.study}.salience"], (args.out_joint_a, args.out_joint_b)
    gauss.salience(args.study, params["seed"], args.data, salience, args.out_csv, out_joint)


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
            "  gamma %.3f alpha %.3f | teacher %.2f  no-KD %.2f  KD %.2f  gain %+.2f"
            " [%+.2f, %+.2f]",
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


PROBE_OPTIONS = (
    DATA,
    TEACHER,
    Option("nokd", "no-KD student checkpoint"),
    Option("joint-a", "checkpoint of Algorithm 1's joint nets f_a"),
    Option("joint-b", "checkpoint of Algorithm 1's joint nets f_b"),
    Option("out-channels", "output channels.csv: per-channel permutation tests"),
    Option("out-predictors", "output predictors.csv: predictor values per setting x run"),
    *TRAINING,
)


@options(*PROBE_OPTIONS)
def probe(args: Namespace, params: Sections) -> None:
    """Measure the nets trained before distillation: channel tests and predictor values."""
    compute_on(params["device"], args.threads)
    from mfh.studies.probe import gauss_probe

    checkpoints = args.teacher, args.nokd, args.joint_a, args.joint_b
    outputs = args.out_channels, args.out_predictors
    gauss_probe(
        args.study, params["seed"], args.data, checkpoints, params[f"{args.study}.venn"], *outputs
    )


VENN_OPTIONS = (
    Option("channels", "channels.csv from the channel tests"),
    Option("settings", "settings.csv: the true Venn shares"),
    Option("out-csv", "output venn.csv"),
    Option("out-png", "output venn.png"),
)


@options(*VENN_OPTIONS)
def venn(args: Namespace, params: Sections) -> None:
    """Estimate the Venn diagram (D0, Da, Db, gamma) from the channel tests."""
    from mfh.report.venn import plot_venn
    from mfh.venn import estimate_venn, write_venn

    significance = params[f"{args.study}.venn"]["significance"]
    estimate = estimate_venn(args.channels, args.settings, significance=significance)
    write_venn(estimate, args.out_csv)
    plot_venn(estimate, args.out_png, title=args.study)
    for row in estimate.itertuples():
        log.info(
            "  setting %d: true D0 %d Da %d Db %d gamma %.3f | estimated D0 %.1f Da %.1f Db %.1f"
            " gamma %.3f +- %.3f",
            row.setting,
            row.d0_true,
            row.da_true,
            row.db_true,
            row.gamma_true,
            row.d0_est,
            row.da_est,
            row.db_est,
            row.gamma_est,
            row.gamma_std,
        )
