"""The steps of the real-data studies (the `real_studies` of params.yaml: avmnist, mfeat), one
function per Snakemake rule and named as the rule (`rule real_modes` runs `python -m mfh
real_modes`). The dataset is `--study`; a pair (`--pair`) is a name under `<dataset>.pairs`.
`args` and `params` as in `mfh.steps.synthetic`; the science is in `mfh.studies.real` (and
`mfh.studies.real_algorithm1`, `mfh.studies.real_modes`), which the computing steps call through
`on_dataset`. The data steps (download, real_prepare) are in `mfh.steps.real_data`.
"""

from __future__ import annotations

import logging
from argparse import Namespace

from mfh.errors import SectionError
from mfh.kd_modes import KD_MODES, mode_ratios
from mfh.pipeline.sections import Sections
from mfh.shared_runs import declared_pairs
from mfh.steps.common import TRAINING, Option, compute_on, options

log = logging.getLogger("mfh")

DATA = Option("data", "the prepared dataset (.npz)")
PAIR = Option("pair", "a pair's name under <dataset>.pairs in params.yaml")
TEACHER = Option("teacher", "teacher checkpoint")
MODEL_OUTPUTS = (
    Option("out-ckpt", "output checkpoint (.pt), one model per seed"),
    Option("out-acc", "output CSV of test accuracies, one row per seed"),
)
KD_MODE = Option(
    "kd-mode",
    "the KD mode (mfh/kd_modes.py): " + ", ".join(f"{k} {v}" for k, v in KD_MODES.items()),
    type=int,
    choices=tuple(KD_MODES),
)


def study_config(params: Sections, dataset: str) -> dict:
    """The params as `mfh.studies.real` reads them, and its checkpoints record them: a key of the
    dataset by its name inside the dataset (`avmnist.train` -> `train`), a pair by its own name
    (`avmnist.pairs.image-audio` -> `image-audio`), the others as they are (`seed`, `device`); in
    the order of --params."""
    config, key_of = {}, {}
    for key, value in params.items():
        name = key.removeprefix(f"{dataset}.pairs.").removeprefix(f"{dataset}.")
        if name in key_of:
            raise SectionError(
                f"params sections {key_of[name]!r} and {key!r} both read as {name!r}"
            )
        config[name], key_of[name] = value, key
    return config


def on_dataset(step, args: Namespace, params: Sections, *inputs) -> None:
    """Run a step of the real-data studies, `step(dataset, seed, config, data, *inputs)`, on this
    step's --study, params `seed`, their `study_config` and --data; `inputs` are the step's own
    (e.g. the modality and the outputs of `mfh.studies.real.train_unimodal`)."""
    step(args.study, params["seed"], study_config(params, args.study), args.data, *inputs)


def _pair(args: Namespace, params: Sections) -> tuple[str, str]:
    """The (teacher, student) modalities of the pair `--pair`."""
    pair = params[f"{args.study}.pairs.{args.pair}"]
    return pair["teacher"], pair["student"]


def _teacher_role(params: Sections, dataset: str) -> str:
    """The checkpoint role of a pair's teacher on modality a (params `<dataset>.teacher`)."""
    return "joint" if params[f"{dataset}.teacher"] == "joint" else "unimodal"


def _pairs(params: Sections, dataset: str) -> list[tuple[str, str, str]]:
    """params `<dataset>.pairs` -> [(name, teacher modality, student modality), ...]."""
    return declared_pairs(params[f"{dataset}.pairs"])


@options(DATA, Option("modality", "the modality to train on"), *MODEL_OUTPUTS, *TRAINING)
def real_unimodal(args: Namespace, params: Sections) -> None:
    """Train classifiers on one modality (teachers and no-KD baselines)."""
    compute_on(params["device"], args.threads)
    from mfh.studies import real

    on_dataset(real.train_unimodal, args, params, args.modality, args.out_ckpt, args.out_acc)


@options(DATA, PAIR, *MODEL_OUTPUTS, *TRAINING)
def real_fusion(args: Namespace, params: Sections) -> None:
    """Train the multimodal teachers of a pair."""
    compute_on(params["device"], args.threads)
    from mfh.studies import real

    on_dataset(real.train_fusion, args, params, _pair(args, params), args.out_ckpt, args.out_acc)


@options(
    DATA,
    PAIR,
    TEACHER,
    Option("teacher-kind", "the teacher's kind", choices=("unimodal", "multimodal")),
    Option(
        "teacher-modalities",
        "the modalities the teacher takes, in its input order, comma-separated (a multimodal"
        " teacher is shared by both directions of a pair: mfh/shared_runs.py)",
    ),
    *MODEL_OUTPUTS,
    *TRAINING,
)
def real_distill(args: Namespace, params: Sections) -> None:
    """Train KD students from a pair's unimodal or multimodal teacher."""
    teacher_modality, student_modality = _pair(args, params)
    multimodal = args.teacher_kind == "multimodal"
    inputs = args.teacher_modalities.split(",")
    expected = {teacher_modality, student_modality} if multimodal else {teacher_modality}
    if set(inputs) != expected or len(inputs) != len(expected):
        raise ValueError(
            f"--teacher-modalities {args.teacher_modalities}: a {args.teacher_kind} teacher of"
            f" pair {args.pair} takes {' and '.join(sorted(expected))}"
        )
    compute_on(params["device"], args.threads)
    from mfh.studies import real

    on_dataset(
        real.distill,
        args,
        params,
        args.teacher,
        "fusion" if multimodal else _teacher_role(params, args.study),  # the checkpoint's role
        inputs,
        student_modality,
        args.out_ckpt,
        args.out_acc,
    )


@options(
    DATA,
    PAIR,
    Option("unimodal-teacher", "with params teacher: unimodal, its checkpoint (else: none)"),
    Option("out-ckpt-a", "output checkpoint of the joint nets on a (.pt), one per seed"),
    Option("out-ckpt-b", "output checkpoint of the joint nets on b (.pt), one per seed"),
    Option("out-acc", "output CSV of the joint nets' accuracies and dead channels"),
    *TRAINING,
)
def real_joint(args: Namespace, params: Sections) -> None:
    """Algorithm 1 step 1: train f_a and f_b jointly (with health checks)."""
    compute_on(params["device"], args.threads)
    from mfh.studies import real_algorithm1

    teacher_modality, student_modality = _pair(args, params)
    unimodal = None if args.unimodal_teacher == "none" else args.unimodal_teacher
    outputs = args.out_ckpt_a, args.out_ckpt_b, args.out_acc
    on_dataset(
        real_algorithm1.train_joint,
        args,
        params,
        teacher_modality,
        student_modality,
        unimodal,
        *outputs,
    )


@options(
    DATA,
    PAIR,
    Option("joint-a", "the joint nets on a (real_joint)"),
    Option("joint-b", "the joint nets on b (real_joint)"),
    TEACHER,
    Option("out-csv", "output salience CSV"),
    *TRAINING,
)
def real_salience(args: Namespace, params: Sections) -> None:
    """Algorithm 1 step 2 on the joint net f_a, and the control (the teacher's importance)."""
    compute_on(params["device"], args.threads)
    from mfh.studies import real_algorithm1

    teacher_modality, student_modality = _pair(args, params)
    on_dataset(
        real_algorithm1.salience,
        args,
        params,
        teacher_modality,
        student_modality,
        args.joint_a,
        args.joint_b,
        args.teacher,
        _teacher_role(params, args.study),
        args.out_csv,
    )


@options(
    DATA,
    PAIR,
    TEACHER,
    Option("salience", "the pair's salience CSV from real_salience"),
    KD_MODE,
    *MODEL_OUTPUTS,
    *TRAINING,
)
def real_modes(args: Namespace, params: Sections) -> None:
    """KD from teachers with channels removed, in one KD mode (`mfh.kd_modes`)."""
    compute_on(params["device"], args.threads)
    from mfh.studies import real_modes

    teacher_modality, student_modality = _pair(args, params)
    on_dataset(
        real_modes.distill_modes,
        args,
        params,
        args.teacher,
        _teacher_role(params, args.study),
        args.salience,
        teacher_modality,
        student_modality,
        args.kd_mode,
        args.out_ckpt,
        args.out_acc,
    )


@options(
    Option("results", "the dataset's results folder"),
    Option("out-metrics", "headline numbers (JSON, DVC metrics)"),
)
def real_collect(args: Namespace, params: Sections) -> None:
    """Join the accuracies into the failure-case and KD-mode tables."""
    from mfh.report.metrics import real_metrics, write_metrics
    from mfh.report.real.tables import collect_real

    pairs = _pairs(params, args.study)
    seeds, teacher = params[f"{args.study}.seeds"], params[f"{args.study}.teacher"]
    ratios = mode_ratios(params[f"{args.study}.modes"])
    tables = collect_real(args.results, pairs, ratios, seeds, teacher)
    summaries = [tables[name] for name in ("failure_case_summary", "mfh_modes_summary")]
    write_metrics(real_metrics(*summaries, tables["mode_differences"], pairs), args.out_metrics)
    for row in tables["failure_case_summary"].itertuples():
        log.info(
            "  %s -> %s, teacher %-10s: teacher %6.2f  student %6.2f ± %.2f",
            row.teacher_modality,
            row.student_modality,
            row.teacher,
            row.teacher_mean,
            row.student_mean,
            row.student_std,
        )
    for row in tables["mfh_modes_summary"].itertuples():
        log.info(
            "  %s -> %s, mode %d (%s) r=%.2f: teacher %6.2f  student %6.2f ± %.2f",
            row.teacher_modality,
            row.student_modality,
            row.mode,
            row.mode_name,
            row.ratio,
            row.teacher_mean,
            row.student_mean,
            row.student_std,
        )


@options(
    Option("results", "the dataset's results folder (tables from real_collect)"),
    Option("out-modes-png", "output figure of the KD modes"),
    Option("out-salience-png", "output figure of the salience"),
    Option("out-failure-png", "output figure of the failure case"),
)
def real_plot(args: Namespace, params: Sections) -> None:
    """Draw the dataset's figures."""
    from mfh.report.real.figures import plot_real

    pairs = _pairs(params, args.study)
    out = args.out_modes_png, args.out_salience_png, args.out_failure_png
    plot_real(args.results, pairs, args.study, *out)
