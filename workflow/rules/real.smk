# Real-data studies (PROTOCOL §5) for every dataset of `real_studies`: raw files -> prepared
# arrays -> unimodal nets (no-KD baselines), multimodal teachers, and Algorithm 1's joint nets
# (with params `teacher: joint`, the net on a is the teacher) -> KD students -> Algorithm 1 and
# the teacher-importance control on the teachers' penultimate layers -> KD with channels removed
# (KD modes 0-4, mfh/kd_modes.py) -> tables and figures. Built by `snakemake real` (not by the default target:
# it needs data).


wildcard_constraints:
    dataset="|".join(config["real_studies"]) or "no-real-study",
    modality="[A-Za-z0-9]+",
    pair="[A-Za-z0-9][A-Za-z0-9-]*",  # a name under <dataset>.pairs
    teacher_kind="unimodal|multimodal",
    kd_mode="|".join(str(kd_mode) for kd_mode in KD_MODES),


rule download:
    input:
        user_file=user_file,
        sections=download_params,
        code=step_code("download"),
    output:
        json="data/prepared/{dataset}/raw.json",
    log:
        "logs/{dataset}/download.log",
    conda:
        ENV
    shell:
        "python -m mfh download --study {wildcards.dataset} --params {input.sections}"
        " --out-json {output.json} --log {log}"


rule real_prepare:
    input:
        raw=rules.download.output.json,
        sections=sections("seed", "paths.raw", "{dataset}.data"),
        code=step_code("real_prepare"),
    output:
        data="data/prepared/{dataset}/dataset.npz",
    log:
        "logs/{dataset}/real_prepare.log",
    benchmark:
        "logs/{dataset}/real_prepare.benchmark.tsv"
    conda:
        ENV
    shell:
        "python -m mfh real_prepare --study {wildcards.dataset} --params {input.sections}"
        " --raw-json {input.raw} --out-data {output.data} --log {log}"


rule real_unimodal:
    input:
        data=rules.real_prepare.output.data,
        sections=real_train_params(),
        code=step_code("real_unimodal"),
    output:
        ckpt=f"{REAL_MODELS}/uni_{{modality}}.pt",
        acc=f"{REAL}/acc/uni_{{modality}}.csv",
        env=f"{REAL}/acc/uni_{{modality}}.env.json",
    log:
        "logs/{dataset}/real_unimodal_{modality}.log",
    benchmark:
        "logs/{dataset}/real_unimodal_{modality}.benchmark.tsv"
    priority: real_priority("real_unimodal")  # teachers are on the critical path
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh real_unimodal --study {wildcards.dataset} --params {input.sections}"
        " --data {input.data} --modality {wildcards.modality}"
        " --out-ckpt {output.ckpt} --out-acc {output.acc} --out-env {output.env}"
        " --threads {threads} --log {log}"


rule real_fusion:
    input:
        data=rules.real_prepare.output.data,
        sections=real_train_params("{dataset}.pairs.{pair}"),
        code=step_code("real_fusion"),
    output:
        ckpt=f"{REAL_MODELS}/fusion_{{pair}}.pt",
        acc=f"{REAL}/acc/fusion_{{pair}}.csv",
        env=f"{REAL}/acc/fusion_{{pair}}.env.json",
    log:
        "logs/{dataset}/real_fusion_{pair}.log",
    benchmark:
        "logs/{dataset}/real_fusion_{pair}.benchmark.tsv"
    priority: real_priority("real_fusion")
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh real_fusion --study {wildcards.dataset} --params {input.sections}"
        " --data {input.data} --pair {wildcards.pair}"
        " --out-ckpt {output.ckpt} --out-acc {output.acc} --out-env {output.env}"
        " --threads {threads} --log {log}"


rule real_distill:
    input:
        data=rules.real_prepare.output.data,
        teacher=teacher_of(lambda wildcards: wildcards.teacher_kind),
        sections=real_train_params(
            "{dataset}.pairs.{pair}", "{dataset}.teacher", "{dataset}.distill", "{dataset}.health"
        ),
        code=step_code("real_distill"),
    output:
        ckpt=f"{REAL_MODELS}/kd_{{pair}}_{{teacher_kind}}.pt",
        acc=f"{REAL}/acc/kd_{{pair}}_{{teacher_kind}}.csv",
        env=f"{REAL}/acc/kd_{{pair}}_{{teacher_kind}}.env.json",
    log:
        "logs/{dataset}/real_distill_{pair}_{teacher_kind}.log",
    benchmark:
        "logs/{dataset}/real_distill_{pair}_{teacher_kind}.benchmark.tsv"
    priority: real_priority("real_distill")
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    params:
        teacher_inputs=teacher_inputs,
    shell:
        "python -m mfh real_distill --study {wildcards.dataset} --params {input.sections}"
        " --data {input.data} --pair {wildcards.pair} --teacher {input.teacher}"
        " --teacher-kind {wildcards.teacher_kind} --teacher-modalities {params.teacher_inputs}"
        " --out-ckpt {output.ckpt} --out-acc {output.acc} --out-env {output.env}"
        " --threads {threads} --log {log}"


rule real_joint:
    input:
        data=rules.real_prepare.output.data,
        start=joint_start,
        sections=real_train_params(
            "{dataset}.pairs.{pair}", "{dataset}.teacher", "{dataset}.joint", "{dataset}.health"
        ),
        code=step_code("real_joint"),
    output:
        ckpt_a=f"{REAL_MODELS}/joint_{{pair}}_a.pt",
        ckpt_b=f"{REAL_MODELS}/joint_{{pair}}_b.pt",
        acc=f"{REAL}/acc/joint_{{pair}}.csv",
        env=f"{REAL}/acc/joint_{{pair}}.env.json",
    log:
        "logs/{dataset}/real_joint_{pair}.log",
    benchmark:
        "logs/{dataset}/real_joint_{pair}.benchmark.tsv"
    priority: real_priority("real_joint")  # the longest chain: joint nets -> salience -> modes
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    params:
        start=lambda wildcards, input: input.start or "none",
    shell:
        "python -m mfh real_joint --study {wildcards.dataset} --params {input.sections}"
        " --data {input.data} --pair {wildcards.pair} --unimodal-teacher {params.start}"
        " --out-ckpt-a {output.ckpt_a} --out-ckpt-b {output.ckpt_b} --out-acc {output.acc}"
        " --out-env {output.env} --threads {threads} --log {log}"


rule real_salience:
    input:
        data=rules.real_prepare.output.data,
        joint_a=joint_ckpt("a"),
        joint_b=joint_ckpt("b"),
        teacher=teacher_of(lambda wildcards: "unimodal"),
        sections=real_train_params(
            "{dataset}.pairs.{pair}", "{dataset}.teacher", "{dataset}.salience"
        ),
        code=step_code("real_salience"),
    output:
        csv=f"{REAL}/salience_{{pair}}.csv",
        env=f"{REAL}/salience_{{pair}}.env.json",
    log:
        "logs/{dataset}/real_salience_{pair}.log",
    benchmark:
        "logs/{dataset}/real_salience_{pair}.benchmark.tsv"
    priority: real_priority("real_salience")
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh real_salience --study {wildcards.dataset} --params {input.sections}"
        " --data {input.data} --pair {wildcards.pair} --joint-a {input.joint_a}"
        " --joint-b {input.joint_b} --teacher {input.teacher}"
        " --out-csv {output.csv} --out-env {output.env} --threads {threads} --log {log}"


rule real_modes:
    input:
        data=rules.real_prepare.output.data,
        teacher=teacher_of(lambda wildcards: "unimodal"),
        salience=rules.real_salience.output.csv,
        sections=real_train_params(
            "{dataset}.pairs.{pair}",
            "{dataset}.teacher",
            "{dataset}.distill",
            "{dataset}.modes",
            "{dataset}.health",
        ),
        code=step_code("real_modes"),
    output:
        ckpt=f"{REAL_MODELS}/modes_{{pair}}_{{kd_mode}}.pt",
        acc=f"{REAL}/acc/modes_{{pair}}_{{kd_mode}}.csv",
        env=f"{REAL}/acc/modes_{{pair}}_{{kd_mode}}.env.json",
    log:
        "logs/{dataset}/real_modes_{pair}_{kd_mode}.log",
    benchmark:
        "logs/{dataset}/real_modes_{pair}_{kd_mode}.benchmark.tsv"
    priority: real_priority("real_modes")
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh real_modes --study {wildcards.dataset} --params {input.sections}"
        " --data {input.data} --pair {wildcards.pair} --teacher {input.teacher}"
        " --salience {input.salience} --kd-mode {wildcards.kd_mode}"
        " --out-ckpt {output.ckpt} --out-acc {output.acc} --out-env {output.env}"
        " --threads {threads} --log {log}"


rule real_collect:
    input:
        real_accuracies,
        sections=sections(
            "{dataset}.seeds", "{dataset}.pairs", "{dataset}.modes", "{dataset}.teacher"
        ),
        code=step_code("real_collect"),
    output:
        failure=report_table(f"{REAL}/failure_case.csv", "failure_case", "{dataset}"),
        failure_summary=report_table(
            f"{REAL}/failure_case_summary.csv", "failure_case_summary", "{dataset}"
        ),
        modes=report_table(f"{REAL}/mfh_modes.csv", "mfh_modes", "{dataset}"),
        modes_summary=report_table(
            f"{REAL}/mfh_modes_summary.csv", "mfh_modes_summary", "{dataset}"
        ),
        mode_differences=report_table(
            f"{REAL}/mode_differences.csv", "mode_differences", "{dataset}"
        ),
        ranking_agreement=report_table(
            f"{REAL}/ranking_agreement.csv", "ranking_agreement", "{dataset}"
        ),
        joint_nets=report_table(f"{REAL}/joint_nets.csv", "joint_nets", "{dataset}"),
        metrics=f"{REAL}/metrics.json",
    log:
        "logs/{dataset}/real_collect.log",
    conda:
        ENV
    params:
        results=lambda wildcards, output: os.path.dirname(output.modes),
    shell:
        "python -m mfh real_collect --study {wildcards.dataset} --params {input.sections}"
        " --results {params.results} --out-metrics {output.metrics} --log {log}"


rule real_plot:
    input:
        modes=rules.real_collect.output.modes,
        summary=rules.real_collect.output.modes_summary,
        failure=rules.real_collect.output.failure_summary,
        ranking_agreement=rules.real_collect.output.ranking_agreement,
        salience=lambda wildcards: expand(
            f"{REAL}/salience_{{p}}.csv",
            dataset=wildcards.dataset,
            p=config[wildcards.dataset]["pairs"],
        ),
        sections=sections("{dataset}.pairs"),
        code=step_code("real_plot"),
    output:
        modes=report_figure(f"{REAL}/mfh_modes.png", "mfh_modes_figure", "{dataset}"),
        salience=report_figure(f"{REAL}/salience.png", "real_salience_figure", "{dataset}"),
        failure=report_figure(f"{REAL}/failure_case.png", "failure_case_figure", "{dataset}"),
    log:
        "logs/{dataset}/real_plot.log",
    conda:
        ENV
    params:
        results=lambda wildcards, output: os.path.dirname(output.modes),
    shell:
        "python -m mfh real_plot --study {wildcards.dataset} --params {input.sections}"
        " --results {params.results} --out-modes-png {output.modes}"
        " --out-salience-png {output.salience} --out-failure-png {output.failure} --log {log}"
