"""The steps of the real-data diagnosis (`snakemake diagnose`, workflow/rules/diagnose.smk), named
as their rules; the science is in `mfh.studies.real_diagnose`. `args` and `params` as in
`mfh.steps.real`."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

from mfh.pipeline.sections import Sections
from mfh.steps.common import TRAINING, Option, compute_on, options
from mfh.steps.real import DATA, PAIR, TEACHER, _pair, _pairs, _teacher_role, on_dataset


@options(
    DATA,
    PAIR,
    TEACHER,
    Option("nokd", "the no-KD students (the unimodal nets on the student modality)"),
    Option("joint-a", "the joint nets on a (real_joint)"),
    Option("joint-b", "the joint nets on b (real_joint)"),
    Option("out-csv", "output CSV of the pair's diagnosis, one row per seed"),
    *TRAINING,
)
def real_diagnose(args: Namespace, params: Sections) -> None:
    """Measure a pair's predictors of the KD gain and its Venn estimate on the test split."""
    compute_on(params["device"], args.threads)
    from mfh.studies import real_diagnose

    teacher_modality, student_modality = _pair(args, params)
    on_dataset(
        real_diagnose.diagnose_pair,
        args,
        params,
        teacher_modality,
        student_modality,
        args.teacher,
        _teacher_role(params, args.study),
        args.nokd,
        args.joint_a,
        args.joint_b,
        args.out_csv,
    )


@options(
    Option("results", "the dataset's results folder (diagnose_<pair>.csv from real_diagnose)"),
    Option("out-csv", "output diagnosis.csv, one row per pair"),
    Option("out-png", "output one-page figure of the diagnosis"),
)
def real_diagnosis(args: Namespace, params: Sections) -> None:
    """Join the pairs' diagnoses into diagnosis.csv and draw its figure."""
    from mfh.studies.real_diagnose import write_diagnosis

    pairs = _pairs(params, args.study)
    per_pair = [Path(args.results) / f"diagnose_{name}.csv" for name, _, _ in pairs]
    write_diagnosis(args.study, pairs, per_pair, args.out_csv, args.out_png)
