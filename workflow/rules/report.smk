rule collect:
    input:
        settings=rules.prepare_data.output.settings,
        teacher=rules.train_teachers.output.acc,
        nokd=rules.train_baselines.output.acc,
        kd=rules.distill.output.acc,
    output:
        runs="results/{study}/runs.csv",
        summary="results/{study}/summary.csv",
    log:
        "logs/{study}/collect.log",
    conda:
        ENV
    params:
        sections=params_json(),
    shell:
        "python -m mfh collect --study {wildcards.study} --params {params.sections}"
        " --settings {input.settings} --teacher {input.teacher}"
        " --nokd {input.nokd} --kd {input.kd}"
        " --out-runs {output.runs} --out-summary {output.summary} --log {log}"


rule plot:
    input:
        runs=rules.collect.output.runs,
    output:
        png="results/{study}/{study}.png",
    log:
        "logs/{study}/plot.log",
    conda:
        ENV
    params:
        sections=params_json("{study}.data.generator"),
    shell:
        "python -m mfh plot --study {wildcards.study} --params {params.sections}"
        " --runs {input.runs} --out-png {output.png} --log {log}"
