rule distill:
    input:
        data=rules.prepare_data.output.data,
        teacher=rules.train_teachers.output.ckpt,
        sections=sections("seed", "device", "{study}.student", "{study}.distill"),
        code=step_code("distill"),
    output:
        ckpt="models/{study}/kd.pt",
        acc="results/{study}/acc/kd.csv",
        env="results/{study}/acc/kd.env.json",
    log:
        "logs/{study}/distill.log",
    benchmark:
        "logs/{study}/distill.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh distill --study {wildcards.study} --params {input.sections}"
        " --data {input.data} --teacher {input.teacher}"
        " --out-ckpt {output.ckpt} --out-acc {output.acc}"
        " --out-env {output.env} --threads {threads} --log {log}"
