# Shared by all rules: parameter validation (before any job), the study wildcard, the command
# that runs mfh, and the input functions for a step's params sections and code.
import os
import sys

from mfh.config import ParamsError, validate_params
from mfh.kd_modes import KD_MODES
from mfh.pipeline import code_deps, job_order
from mfh.pipeline import sections as params_sections
from mfh.shared_runs import declared_pairs, fusion_inputs, fusion_run, joint_run, training_pairs

try:
    validate_params(config)
except ParamsError as error:
    sys.exit(f"\n{error}\n")
params_sections.prune(config)  # section files of keys no longer in params.yaml


envvars:
    "PATH",


# Jobs run `python -m mfh`: put the Python that runs Snakemake first on PATH, so every step sees
# the same installed mfh even when Snakemake was started without activating its environment.
SEARCH_PATH = os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])
os.environ["PATH"] = SEARCH_PATH
ENV = "../envs/mfh.yaml"
# Training jobs ask the executor for a GPU when params.yaml says `device: cuda` (on Slurm:
# sbatch --gpus=1); with cpu or auto they ask for none.
GPUS = 1 if config["device"] == "cuda" else 0


wildcard_constraints:
    study="|".join(config["studies"]),


def sections(*keys):
    """Input function: the section files (`.params/<key>.json`) of the params.yaml sections
    `keys` ("seed", "{study}.teacher", ...), written when missing or changed; the step reads its
    parameters from them, and DVC tracks the same keys for the stage (mfh/pipeline/sections.py).
    """

    def files(wildcards):
        return [str(params_sections.sync(config, key.format(**wildcards))) for key in keys]

    return files


def step_code(rule):
    """Input function: the mfh source files that `python -m mfh <rule>` may import
    (mfh/pipeline/code_deps.py), inputs of the rule, so that editing one reruns the jobs whose
    step imports it. Computed only for the rules in the DAG (a DVC stage's run has one)."""

    def files(wildcards):
        return code_deps.step_files(rule)

    return files


# The HTML report (`snakemake --report report.html`): every published figure and table is marked
# with report(), captioned by workflow/report/<caption>.rst and filed under its study or dataset
# (`category`, may name a wildcard) and "figures" or "tables". Marks change no job.
def report_figure(path, caption, category):
    return report(
        path, caption=f"../report/{caption}.rst", category=category, subcategory="figures"
    )


def report_table(path, caption, category):
    return report(path, caption=f"../report/{caption}.rst", category=category, subcategory="tables")


PREDICTORS_OUTPUTS = [
    f"results/predictors/{name}"
    for name in ("points.csv", "scores.csv", "venn_fit.csv", "predictors.png")
]


def all_outputs():
    """Everything `snakemake` builds by default: the tables and figures of every study."""
    modify = [
        f"results/gauss_modify/{name}"
        for name in (
            "runs.csv",
            "summary.csv",
            "gauss_modify.png",
            "salience.png",
            "venn.csv",
            "venn.png",
        )
    ]
    return (
        expand(
            [
                "results/{study}/runs.csv",
                "results/{study}/summary.csv",
                "results/{study}/{study}.png",
                "results/{study}/venn.csv",
                "results/{study}/venn.png",
            ],
            study=config["studies"],
        )
        + modify
        + PREDICTORS_OUTPUTS
    )


def diagnose_outputs():
    """What `snakemake diagnose` builds: each real dataset's diagnosis (rules/diagnose.smk)."""
    return expand(
        ["results/{dataset}/diagnosis.csv", "results/{dataset}/diagnosis.png"],
        dataset=config["real_studies"],
    )


REAL_PREDICTORS_OUTPUTS = [
    "results/predictors/real_points.csv",
    "results/predictors/real_scores.csv",
    "results/predictors/real_predictors.png",
]


def real_outputs():
    """What `snakemake real` builds: the tables and figures of every real-data study, the
    diagnosis that its KD runs check, and the predictors study of the real-data points."""
    scored = REAL_PREDICTORS_OUTPUTS if config["real_studies"] else []
    return (
        diagnose_outputs()
        + scored
        + expand(
            [
                "results/{dataset}/failure_case.csv",
                "results/{dataset}/failure_case_summary.csv",
                "results/{dataset}/mfh_modes.csv",
                "results/{dataset}/mfh_modes_summary.csv",
                "results/{dataset}/mode_differences.csv",
                "results/{dataset}/ranking_agreement.csv",
                "results/{dataset}/joint_nets.csv",
                "results/{dataset}/mfh_modes.png",
                "results/{dataset}/salience.png",
                "results/{dataset}/failure_case.png",
            ],
            dataset=config["real_studies"],
        )
    )


# --- real-data studies (rules/real.smk) --------------------------------------------------------
REAL = "results/{dataset}"
REAL_MODELS = "models/{dataset}"


def is_npz_study(dataset):
    """A study on a user's own .npz file (`data.kind: npz`), not a packaged dataset."""
    return config[dataset]["data"].get("kind") == "npz"


def user_file(wildcards):
    """Input function: an npz study's file (so Snakemake and DVC track it like any input); none
    for the packaged datasets, whose raw files the download step verifies."""
    return [config[wildcards.dataset]["data"]["path"]] if is_npz_study(wildcards.dataset) else []


def download_params(wildcards):
    """The download step's params: `paths`, and an npz study's `data` (which names its file)."""
    extra = ["{dataset}.data"] if is_npz_study(wildcards.dataset) else []
    return sections("paths", *extra)(wildcards)


def real_train_params(*extra):
    """The params of a training step: the dataset's model and training sections, plus `extra`."""
    keys = ["{dataset}.models", "{dataset}.hidden", "{dataset}.seeds", "{dataset}.train"]
    return sections("seed", "device", *keys, *extra)


def real_priority(rule_name):
    """Priority function of a real-data rule: its level on the critical path, longest ready job
    first within the level (mfh/pipeline/job_order.py)."""
    return lambda wildcards: job_order.job_priority(
        rule_name, config[wildcards.dataset], dict(wildcards.items())
    )


def real_pairs(dataset):
    """params `<dataset>.pairs` as [(name, teacher modality, student modality), ...]."""
    return declared_pairs(config[dataset]["pairs"])


def fusion_ckpt(wildcards):
    """Input function: a pair's multimodal teacher, trained once for both directions
    (mfh/shared_runs.py)."""
    run = fusion_run(real_pairs(wildcards.dataset), wildcards.pair)
    return f"models/{wildcards.dataset}/fusion_{run.pair}.pt"


def joint_ckpt(net):
    """Input function: a pair's joint net f_a (`net` "a") or f_b ("b"); with params `teacher:
    joint` both directions share one joint training, the reverse one with the roles swapped
    (mfh/shared_runs.py)."""

    def path(wildcards):
        dataset = wildcards.dataset
        run = joint_run(real_pairs(dataset), config[dataset]["teacher"], wildcards.pair)
        side = {"a": "b", "b": "a"}[net] if run.swapped else net
        return f"models/{dataset}/joint_{run.pair}_{side}.pt"

    return path


def teacher_of(kind):
    """Input function: the checkpoint of a pair's teacher on a ("unimodal": with params
    `teacher: joint` the joint net f_a, else the unimodal net) or a + b ("multimodal")."""

    def path(wildcards):
        if kind(wildcards) == "multimodal":
            return fusion_ckpt(wildcards)
        if config[wildcards.dataset]["teacher"] == "joint":
            return joint_ckpt("a")(wildcards)
        return unimodal_teacher(wildcards)

    return path


def teacher_inputs(wildcards):
    """The modalities a real_distill teacher takes, in its input order, comma-separated."""
    if wildcards.teacher_kind == "multimodal":
        return ",".join(fusion_inputs(real_pairs(wildcards.dataset), wildcards.pair))
    return config[wildcards.dataset]["pairs"][wildcards.pair]["teacher"]


def unimodal_teacher(wildcards):
    """The unimodal net on a pair's teacher modality."""
    teacher = config[wildcards.dataset]["pairs"][wildcards.pair]["teacher"]
    return f"models/{wildcards.dataset}/uni_{teacher}.pt"


def student_of(wildcards):
    """The no-KD students of a pair: the unimodal nets on its student modality."""
    student = config[wildcards.dataset]["pairs"][wildcards.pair]["student"]
    return f"models/{wildcards.dataset}/uni_{student}.pt"


def joint_start(wildcards):
    """real_joint's starting teacher: the unimodal net with params `teacher: unimodal`, else none."""
    if config[wildcards.dataset]["teacher"] == "unimodal":
        return unimodal_teacher(wildcards)
    return []


def real_accuracies(wildcards):
    """Every accuracy file the tables of a dataset read."""
    dataset = wildcards.dataset
    section, pairs = config[dataset], real_pairs(dataset)
    names = [name for name, _, _ in pairs]
    fusions = training_pairs([fusion_run(pairs, name) for name in names])
    joints = training_pairs([joint_run(pairs, section["teacher"], name) for name in names])
    each = dict(dataset=dataset, p=names)
    return (
        expand(f"{REAL}/acc/uni_{{m}}.csv", dataset=dataset, m=section["modalities"])
        + expand(f"{REAL}/acc/fusion_{{p}}.csv", dataset=dataset, p=fusions)
        + expand(f"{REAL}/acc/kd_{{p}}_{{k}}.csv", **each, k=["unimodal", "multimodal"])
        + expand(f"{REAL}/acc/modes_{{p}}_{{m}}.csv", **each, m=list(KD_MODES))
        + expand(f"{REAL}/acc/joint_{{p}}.csv", dataset=dataset, p=joints)
        + expand(f"{REAL}/salience_{{p}}.csv", **each)
    )
