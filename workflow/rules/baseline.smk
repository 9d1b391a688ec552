rule train_baselines:
    input:
        data=rules.prepare_data.output.data,
        sections=sections("seed", "device", "{study}.student"),
        code=step_code("train_baselines"),
    output:
        ckpt="models/{study}/nokd.pt",
        acc="results/{study}/acc/nokd.csv",
        env="results/{study}/acc/nokd.env.json",
    log:
        "logs/{study}/train_baselines.log",
    benchmark:
        "logs/{study}/train_baselines.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh train_baselines --study {wildcards.study} --params {input.sections}"
        " --data {input.data} --out-ckpt {output.ckpt} --out-acc {output.acc}"
        " --out-env {output.env} --threads {threads} --log {log}"
