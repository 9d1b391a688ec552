rule prepare_data:
    input:
        sections=sections("seed", "{study}.data"),
        code=step_code("prepare_data"),
    output:
        data="data/prepared/{study}/dataset.npz",
        settings="results/{study}/settings.csv",
    log:
        "logs/{study}/prepare_data.log",
    conda:
        ENV
    shell:
        "python -m mfh prepare_data --study {wildcards.study} --params {input.sections}"
        " --out-data {output.data} --out-settings {output.settings} --log {log}"
