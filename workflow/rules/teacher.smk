rule train_teachers:
    input:
        data=rules.prepare_data.output.data,
        sections=sections("seed", "device", "{study}.teacher"),
        code=step_code("train_teachers"),
    output:
        ckpt="models/{study}/teacher.pt",
        acc="results/{study}/acc/teacher.csv",
        env="results/{study}/acc/teacher.env.json",
    log:
        "logs/{study}/train_teachers.log",
    benchmark:
        "logs/{study}/train_teachers.benchmark.tsv"
    priority: 1  # on the critical path: teacher -> distill
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh train_teachers --study {wildcards.study} --params {input.sections}"
        " --data {input.data} --out-ckpt {output.ckpt} --out-acc {output.acc}"
        " --out-env {output.env} --threads {threads} --log {log}"
