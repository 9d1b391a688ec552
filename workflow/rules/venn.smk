# Algorithm 1 and the Venn analysis for the studies of the `studies` list (gauss_modify has its
# own, in modify.smk): salience of x_a's channels, then estimated vs true Venn diagram.


rule salience:
    input:
        data=rules.prepare_data.output.data,
        sections=sections("seed", "device", "{study}.data.generator", "{study}.salience"),
        code=step_code("salience"),
    output:
        csv="results/{study}/salience.csv",
        env="results/{study}/salience.env.json",
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
        " --threads {threads} --log {log}"


rule venn:
    input:
        salience=rules.salience.output.csv,
        settings=rules.prepare_data.output.settings,
        sections=sections("{study}.venn"),
        code=step_code("venn"),
    output:
        csv="results/{study}/venn.csv",
        png="results/{study}/venn.png",
    log:
        "logs/{study}/venn.log",
    conda:
        ENV
    shell:
        "python -m mfh venn --study {wildcards.study} --params {input.sections}"
        " --salience {input.salience} --settings {input.settings}"
        " --out-csv {output.csv} --out-png {output.png} --log {log}"
