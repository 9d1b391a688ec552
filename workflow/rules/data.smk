rule prepare_data:
    output:
        data="data/prepared/{study}/dataset.npz",
        settings="results/{study}/settings.csv",
    log:
        "logs/{study}/prepare_data.log",
    conda:
        ENV
    params:
        sections=params_json("seed", "{study}.data"),
    shell:
        "python -m mfh prepare --study {wildcards.study} --params {params.sections}"
        " --out-data {output.data} --out-settings {output.settings} --log {log}"
