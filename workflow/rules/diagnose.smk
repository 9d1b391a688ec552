# The diagnosis of the real-data studies (README "Will KD help here?"): for every dataset of
# `real_studies` and pair, only what the predictors need (the teacher, the no-KD student and
# Algorithm 1's joint nets; never a KD student), then per pair the predictors' values and the
# Venn estimate on the test split, and per dataset diagnosis.csv and its one-page figure.
# Built by `snakemake diagnose` (and by `snakemake real`, whose KD runs then check the verdict).


rule real_diagnose:
    input:
        data=rules.real_prepare.output.data,
        teacher=teacher_of(lambda wildcards: "unimodal"),
        nokd=student_of,
        joint_a=joint_ckpt("a"),
        joint_b=joint_ckpt("b"),
        sections=real_train_params("{dataset}.pairs.{pair}", "{dataset}.teacher", "{dataset}.venn"),
        code=step_code("real_diagnose"),
    output:
        csv=f"{REAL}/diagnose_{{pair}}.csv",
        env=f"{REAL}/diagnose_{{pair}}.env.json",
    log:
        "logs/{dataset}/real_diagnose_{pair}.log",
    benchmark:
        "logs/{dataset}/real_diagnose_{pair}.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh real_diagnose --study {wildcards.dataset} --params {input.sections}"
        " --data {input.data} --pair {wildcards.pair} --teacher {input.teacher}"
        " --nokd {input.nokd} --joint-a {input.joint_a} --joint-b {input.joint_b}"
        " --out-csv {output.csv} --out-env {output.env} --threads {threads} --log {log}"


rule real_diagnosis:
    input:
        lambda wildcards: expand(
            f"{REAL}/diagnose_{{p}}.csv",
            dataset=wildcards.dataset,
            p=config[wildcards.dataset]["pairs"],
        ),
        sections=sections("{dataset}.pairs"),
        code=step_code("real_diagnosis"),
    output:
        csv=report_table(f"{REAL}/diagnosis.csv", "diagnosis", "{dataset}"),
        png=report_figure(f"{REAL}/diagnosis.png", "diagnosis", "{dataset}"),
    log:
        "logs/{dataset}/real_diagnosis.log",
    conda:
        ENV
    params:
        results=lambda wildcards, output: os.path.dirname(output.csv),
    shell:
        "python -m mfh real_diagnosis --study {wildcards.dataset} --params {input.sections}"
        " --results {params.results} --out-csv {output.csv} --out-png {output.png} --log {log}"
