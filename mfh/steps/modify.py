"""The steps of the "modify gamma" study (`gauss_modify`, paper Table 2), one function per
Snakemake rule and named as the rule (`rule modify_retrain` runs `python -m mfh modify_retrain`).

A modified teacher keeps k channels of x_a, chosen by a *selection* (params
`gauss_modify.selections`: random, gt or alg1; the `mode` column of the tables): the selection
steps run once per selection. `args` and `params` as in `mfh.steps.synthetic`; the science is in
`mfh.studies.modify`.
"""

from __future__ import annotations

from argparse import Namespace

from mfh.pipeline.sections import Sections
from mfh.steps.common import TRAINING, Option, compute_on, options
from mfh.steps.synthetic import (
    MODEL_OUTPUTS,
    PROBE_OPTIONS,
    TEACHER,
    VENN_OPTIONS,
    train_ensemble,
    venn,
)

DATA = Option("data", "the study's .npz from modify_prepare")
SELECTION = Option("selection", "how the modified teacher's channels are chosen: random|gt|alg1")


@options(
    Option("out-data", "output .npz of samples A, B and test"),
    Option("out-settings", "output CSV of the settings' Venn shares"),
)
def modify_prepare(args: Namespace, params: Sections) -> None:
    """Draw the samples of gauss_modify."""
    from mfh.studies.modify_prepare import prepare

    study_data = params[f"{args.study}.data"]
    prepare(args.study, params["seed"], study_data, args.out_data, args.out_settings)


@options(DATA, *MODEL_OUTPUTS, *TRAINING)
def modify_teachers(args: Namespace, params: Sections) -> None:
    """Train the regular teachers (sample A)."""
    compute_on(params["device"], args.threads)
    from mfh.studies import modify

    train_ensemble(modify.train_teachers, args, params, params[f"{args.study}.teacher"])


@options(
    DATA,
    Option("out-csv", "output salience.csv"),
    Option("out-joint-a", "output checkpoint of the joint nets f_a (on x_a)"),
    Option("out-joint-b", "output checkpoint of the joint nets f_b (on x_b)"),
    *TRAINING,
)
def modify_salience(args: Namespace, params: Sections) -> None:
    """Algorithm 1 on sample A."""
    compute_on(params["device"], args.threads)
    from mfh.studies import modify

    salience = params[f"{args.study}.salience"]
    out_joint = args.out_joint_a, args.out_joint_b
    modify.salience(args.study, params["seed"], args.data, salience, args.out_csv, out_joint)


@options(DATA, *MODEL_OUTPUTS, *TRAINING)
def modify_baselines(args: Namespace, params: Sections) -> None:
    """Train the no-KD students (sample B)."""
    compute_on(params["device"], args.threads)
    from mfh.studies import modify

    train_ensemble(modify.train_baselines, args, params, params[f"{args.study}.student"])


@options(DATA, TEACHER, *MODEL_OUTPUTS, *TRAINING)
def modify_distill_regular(args: Namespace, params: Sections) -> None:
    """KD students from the regular teachers."""
    compute_on(params["device"], args.threads)
    from mfh.studies import modify

    student, kd = params[f"{args.study}.student"], params[f"{args.study}.distill"]
    legacy_swap_bug = params[f"{args.study}.legacy_swap_bug"]
    train_ensemble(modify.distill_regular, args, params, args.teacher, student, kd, legacy_swap_bug)


@options(
    SELECTION,
    DATA,
    Option("salience", "salience.csv from modify_salience (read by selection alg1 only)"),
    *MODEL_OUTPUTS,
    Option("out-kept", "output CSV of the kept channels"),
    *TRAINING,
)
def modify_retrain(args: Namespace, params: Sections) -> None:
    """Retrain teachers on the channels kept by one selection."""
    compute_on(params["device"], args.threads)
    from mfh.studies import modify

    teacher = params[f"{args.study}.teacher"]
    train_ensemble(
        modify.retrain_teachers, args, params, args.selection, args.salience, teacher, args.out_kept
    )


@options(
    SELECTION,
    DATA,
    TEACHER,
    Option("kept", "the teacher's kept channels, from modify_retrain"),
    *MODEL_OUTPUTS,
    *TRAINING,
)
def modify_distill(args: Namespace, params: Sections) -> None:
    """KD students from the modified teachers of one selection."""
    compute_on(params["device"], args.threads)
    from mfh.studies import modify

    student, kd = params[f"{args.study}.student"], params[f"{args.study}.distill"]
    train_ensemble(
        modify.distill_modified, args, params, args.selection, args.teacher, args.kept, student, kd
    )


@options(
    Option("results", "the study's results folder (results/gauss_modify)"),
    Option("out-runs", "output runs.csv: one row per setting x selection x run"),
    Option("out-summary", "output summary.csv: one row per setting x selection"),
    Option("out-metrics", "headline numbers (JSON, DVC metrics)"),
)
def modify_collect(args: Namespace, params: Sections) -> None:
    """Join gauss_modify's accuracies into tables."""
    from mfh.report.metrics import modify_metrics, write_metrics
    from mfh.report.modify.tables import collect_modify

    selections = params[f"{args.study}.selections"]
    _, summary = collect_modify(args.results, selections, args.out_runs, args.out_summary)
    write_metrics(modify_metrics(summary), args.out_metrics)


@options(
    Option("runs", "runs.csv from modify_collect"),
    Option("salience", "salience.csv from modify_salience"),
    Option("settings", "settings.csv from modify_prepare"),
    Option("out-png", "output figure of the table"),
    Option("out-salience-png", "output figure of the salience"),
)
def modify_plot(args: Namespace, params: Sections) -> None:
    """Draw gauss_modify's table and salience figures."""
    from mfh.report.modify.figures import plot_modify, plot_salience

    plot_modify(args.runs, args.out_png)
    plot_salience(args.salience, args.settings, args.out_salience_png)


@options(
    *PROBE_OPTIONS,
    Option("models", "the study's models folder (models/gauss_modify)"),
    Option("results", "the study's results folder (results/gauss_modify)"),
)
def modify_probe(args: Namespace, params: Sections) -> None:
    """Measure gauss_modify's nets trained before distillation (every teacher of every
    selection): channel tests and predictor values."""
    compute_on(params["device"], args.threads)
    from mfh.studies.probe import modify_probe as probe

    checkpoints = args.teacher, args.nokd, args.joint_a, args.joint_b
    modified = {
        selection: (f"{args.models}/teacher_{selection}.pt", f"{args.results}/kept_{selection}.csv")
        for selection in params[f"{args.study}.selections"]
    }
    outputs = args.out_channels, args.out_predictors
    venn_cfg = params[f"{args.study}.venn"]
    probe(args.study, params["seed"], args.data, checkpoints, modified, venn_cfg, *outputs)


@options(*VENN_OPTIONS)
def modify_venn(args: Namespace, params: Sections) -> None:
    """Estimate gauss_modify's Venn diagram from its channel tests, as `venn` does."""
    venn(args, params)
