rule collect:
    input:
        settings=rules.prepare_data.output.settings,
        teacher=rules.train_teachers.output.acc,
        nokd=rules.train_baselines.output.acc,
        kd=rules.distill.output.acc,
        code=step_code("collect"),
    output:
        runs=report_table("results/{study}/runs.csv", "runs", "{study}"),
        summary=report_table("results/{study}/summary.csv", "summary", "{study}"),
        metrics="results/{study}/metrics.json",
    log:
        "logs/{study}/collect.log",
    conda:
        ENV
    shell:
        "python -m mfh collect --study {wildcards.study}"
        " --settings {input.settings} --teacher {input.teacher}"
        " --nokd {input.nokd} --kd {input.kd}"
        " --out-runs {output.runs} --out-summary {output.summary}"
        " --out-metrics {output.metrics} --log {log}"


rule plot:
    input:
        runs=rules.collect.output.runs,
        sections=sections("{study}.data.generator"),
        code=step_code("plot"),
    output:
        png=report_figure("results/{study}/{study}.png", "study", "{study}"),
    log:
        "logs/{study}/plot.log",
    conda:
        ENV
    shell:
        "python -m mfh plot --study {wildcards.study} --params {input.sections}"
        " --runs {input.runs} --out-png {output.png} --log {log}"
