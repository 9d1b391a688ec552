# Algorithm 1 and the Venn analysis for the studies of the `studies` list (gauss_modify has its
# own, in modify.smk): Algorithm 1's joint nets and salience of x_a's channels; the probe of the
# nets trained before distillation (permutation tests of every channel of x_a and x_b, predictor
# values); then the estimated vs the true Venn diagram.


rule salience:
    input:
        data=rules.prepare_data.output.data,
        sections=sections("seed", "device", "{study}.salience"),
        code=step_code("salience"),
    output:
        csv="results/{study}/salience.csv",
        env="results/{study}/salience.env.json",
        joint_a="models/{study}/joint_a.pt",
        joint_b="models/{study}/joint_b.pt",
    log:
        "logs/{study}/salience.log",
    benchmark:
        "logs/{study}/salience.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh salience --study {wildcards.study} --params {input.sections}"
        " --data {input.data} --out-csv {output.csv} --out-env {output.env}"
        " --out-joint-a {output.joint_a} --out-joint-b {output.joint_b}"
        " --threads {threads} --log {log}"


rule probe:
    input:
        data=rules.prepare_data.output.data,
        teacher=rules.train_teachers.output.ckpt,
        nokd=rules.train_baselines.output.ckpt,
        joint_a=rules.salience.output.joint_a,
        joint_b=rules.salience.output.joint_b,
        sections=sections("seed", "device", "{study}.venn"),
        code=step_code("probe"),
    output:
        channels="results/{study}/channels.csv",
        predictors="results/{study}/predictors.csv",
        env="results/{study}/channels.env.json",
    log:
        "logs/{study}/probe.log",
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh probe --study {wildcards.study} --params {input.sections}"
        " --data {input.data} --teacher {input.teacher} --nokd {input.nokd}"
        " --joint-a {input.joint_a} --joint-b {input.joint_b}"
        " --out-channels {output.channels} --out-predictors {output.predictors}"
        " --out-env {output.env} --threads {threads} --log {log}"


rule venn:
    input:
        channels=rules.probe.output.channels,
        settings=rules.prepare_data.output.settings,
        sections=sections("{study}.venn"),
        code=step_code("venn"),
    output:
        csv=report_table("results/{study}/venn.csv", "venn_table", "{study}"),
        png=report_figure("results/{study}/venn.png", "venn_figure", "{study}"),
    log:
        "logs/{study}/venn.log",
    conda:
        ENV
    shell:
        "python -m mfh venn --study {wildcards.study} --params {input.sections}"
        " --channels {input.channels} --settings {input.settings}"
        " --out-csv {output.csv} --out-png {output.png} --log {log}"
