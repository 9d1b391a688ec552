# gauss_modify (PROTOCOL §3 Exp 3, paper Table 2): regular teacher, Algorithm 1, teachers
# restricted to k channels chosen by each selection of `gauss_modify.selections` (random, gt,
# alg1: the `mode` column of the tables), and their students. Always built; see params.yaml.
MODIFY = "results/gauss_modify"
MODIFY_MODELS = "models/gauss_modify"
SELECTIONS = config["gauss_modify"]["selections"]


wildcard_constraints:
    selection="|".join(SELECTIONS),


rule modify_prepare:
    input:
        sections=sections("seed", "gauss_modify.data"),
        code=step_code("modify_prepare"),
    output:
        data="data/prepared/gauss_modify/dataset.npz",
        settings=f"{MODIFY}/settings.csv",
    log:
        "logs/gauss_modify/modify_prepare.log",
    conda:
        ENV
    shell:
        "python -m mfh modify_prepare --study gauss_modify --params {input.sections}"
        " --out-data {output.data} --out-settings {output.settings} --log {log}"


rule modify_teachers:
    input:
        data=rules.modify_prepare.output.data,
        sections=sections("seed", "device", "gauss_modify.teacher"),
        code=step_code("modify_teachers"),
    output:
        ckpt=f"{MODIFY_MODELS}/teacher.pt",
        acc=f"{MODIFY}/acc/teacher.csv",
        env=f"{MODIFY}/acc/teacher.env.json",
    log:
        "logs/gauss_modify/modify_teachers.log",
    benchmark:
        "logs/gauss_modify/modify_teachers.benchmark.tsv"
    priority: 1
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh modify_teachers --study gauss_modify --params {input.sections}"
        " --data {input.data} --out-ckpt {output.ckpt} --out-acc {output.acc}"
        " --out-env {output.env} --threads {threads} --log {log}"


rule modify_salience:
    input:
        data=rules.modify_prepare.output.data,
        sections=sections("seed", "device", "gauss_modify.salience"),
        code=step_code("modify_salience"),
    output:
        csv=f"{MODIFY}/salience.csv",
        env=f"{MODIFY}/salience.env.json",
        joint_a="models/gauss_modify/joint_a.pt",
        joint_b="models/gauss_modify/joint_b.pt",
    log:
        "logs/gauss_modify/modify_salience.log",
    benchmark:
        "logs/gauss_modify/modify_salience.benchmark.tsv"
    priority: 2  # on the critical path: salience -> alg1 teachers -> alg1 students
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh modify_salience --study gauss_modify --params {input.sections}"
        " --data {input.data} --out-csv {output.csv} --out-env {output.env}"
        " --out-joint-a {output.joint_a} --out-joint-b {output.joint_b}"
        " --threads {threads} --log {log}"


rule modify_baselines:
    input:
        data=rules.modify_prepare.output.data,
        sections=sections("seed", "device", "gauss_modify.student"),
        code=step_code("modify_baselines"),
    output:
        ckpt=f"{MODIFY_MODELS}/nokd.pt",
        acc=f"{MODIFY}/acc/nokd.csv",
        env=f"{MODIFY}/acc/nokd.env.json",
    log:
        "logs/gauss_modify/modify_baselines.log",
    benchmark:
        "logs/gauss_modify/modify_baselines.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh modify_baselines --study gauss_modify --params {input.sections}"
        " --data {input.data} --out-ckpt {output.ckpt} --out-acc {output.acc}"
        " --out-env {output.env} --threads {threads} --log {log}"


rule modify_distill_regular:
    input:
        data=rules.modify_prepare.output.data,
        teacher=rules.modify_teachers.output.ckpt,
        sections=sections(
            "seed",
            "device",
            "gauss_modify.student",
            "gauss_modify.distill",
            "gauss_modify.legacy_swap_bug",
        ),
        code=step_code("modify_distill_regular"),
    output:
        ckpt=f"{MODIFY_MODELS}/regular_kd.pt",
        acc=f"{MODIFY}/acc/regular_kd.csv",
        env=f"{MODIFY}/acc/regular_kd.env.json",
    log:
        "logs/gauss_modify/modify_distill_regular.log",
    benchmark:
        "logs/gauss_modify/modify_distill_regular.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh modify_distill_regular --study gauss_modify --params {input.sections}"
        " --data {input.data} --teacher {input.teacher}"
        " --out-ckpt {output.ckpt} --out-acc {output.acc} --out-env {output.env}"
        " --threads {threads} --log {log}"


rule modify_retrain:
    input:
        data=rules.modify_prepare.output.data,
        salience=rules.modify_salience.output.csv,  # read by selection alg1 only
        sections=sections("seed", "device", "gauss_modify.teacher"),
        code=step_code("modify_retrain"),
    output:
        ckpt=f"{MODIFY_MODELS}/teacher_{{selection}}.pt",
        acc=f"{MODIFY}/acc/teacher_{{selection}}.csv",
        env=f"{MODIFY}/acc/teacher_{{selection}}.env.json",
        kept=f"{MODIFY}/kept_{{selection}}.csv",
    log:
        "logs/gauss_modify/modify_retrain_{selection}.log",
    benchmark:
        "logs/gauss_modify/modify_retrain_{selection}.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh modify_retrain --study gauss_modify --params {input.sections}"
        " --selection {wildcards.selection} --data {input.data} --salience {input.salience}"
        " --out-ckpt {output.ckpt} --out-acc {output.acc} --out-kept {output.kept}"
        " --out-env {output.env} --threads {threads} --log {log}"


rule modify_distill:
    input:
        data=rules.modify_prepare.output.data,
        teacher=rules.modify_retrain.output.ckpt,
        kept=rules.modify_retrain.output.kept,
        sections=sections("seed", "device", "gauss_modify.student", "gauss_modify.distill"),
        code=step_code("modify_distill"),
    output:
        ckpt=f"{MODIFY_MODELS}/kd_{{selection}}.pt",
        acc=f"{MODIFY}/acc/kd_{{selection}}.csv",
        env=f"{MODIFY}/acc/kd_{{selection}}.env.json",
    log:
        "logs/gauss_modify/modify_distill_{selection}.log",
    benchmark:
        "logs/gauss_modify/modify_distill_{selection}.benchmark.tsv"
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh modify_distill --study gauss_modify --params {input.sections}"
        " --selection {wildcards.selection} --data {input.data} --teacher {input.teacher}"
        " --kept {input.kept} --out-ckpt {output.ckpt} --out-acc {output.acc}"
        " --out-env {output.env} --threads {threads} --log {log}"


rule modify_collect:
    input:
        settings=rules.modify_prepare.output.settings,
        teacher=rules.modify_teachers.output.acc,
        nokd=rules.modify_baselines.output.acc,
        regular_kd=rules.modify_distill_regular.output.acc,
        mod_teachers=expand(f"{MODIFY}/acc/teacher_{{selection}}.csv", selection=SELECTIONS),
        mod_kd=expand(f"{MODIFY}/acc/kd_{{selection}}.csv", selection=SELECTIONS),
        kept=expand(f"{MODIFY}/kept_{{selection}}.csv", selection=SELECTIONS),
        sections=sections("gauss_modify.selections"),
        code=step_code("modify_collect"),
    output:
        runs=report_table(f"{MODIFY}/runs.csv", "modify_runs", "gauss_modify"),
        summary=report_table(f"{MODIFY}/summary.csv", "modify_summary", "gauss_modify"),
        metrics=f"{MODIFY}/metrics.json",
    log:
        "logs/gauss_modify/modify_collect.log",
    conda:
        ENV
    shell:
        "python -m mfh modify_collect --study gauss_modify --params {input.sections}"
        f" --results {MODIFY}"
        " --out-runs {output.runs} --out-summary {output.summary}"
        " --out-metrics {output.metrics} --log {log}"


rule modify_plot:
    input:
        runs=rules.modify_collect.output.runs,
        salience=rules.modify_salience.output.csv,
        settings=rules.modify_prepare.output.settings,
        code=step_code("modify_plot"),
    output:
        png=report_figure(f"{MODIFY}/gauss_modify.png", "modify_figure", "gauss_modify"),
        salience_png=report_figure(f"{MODIFY}/salience.png", "modify_salience", "gauss_modify"),
    log:
        "logs/gauss_modify/modify_plot.log",
    conda:
        ENV
    shell:
        "python -m mfh modify_plot --study gauss_modify"
        " --runs {input.runs} --salience {input.salience} --settings {input.settings}"
        " --out-png {output.png} --out-salience-png {output.salience_png} --log {log}"


rule modify_probe:
    input:
        data=rules.modify_prepare.output.data,
        teacher=rules.modify_teachers.output.ckpt,
        nokd=rules.modify_baselines.output.ckpt,
        joint_a=rules.modify_salience.output.joint_a,
        joint_b=rules.modify_salience.output.joint_b,
        mod_teachers=expand(f"{MODIFY_MODELS}/teacher_{{selection}}.pt", selection=SELECTIONS),
        kept=expand(f"{MODIFY}/kept_{{selection}}.csv", selection=SELECTIONS),
        sections=sections("seed", "device", "gauss_modify.venn", "gauss_modify.selections"),
        code=step_code("modify_probe"),
    output:
        channels=f"{MODIFY}/channels.csv",
        predictors=f"{MODIFY}/predictors.csv",
        env=f"{MODIFY}/channels.env.json",
    log:
        "logs/gauss_modify/modify_probe.log",
    conda:
        ENV
    threads: 1
    resources:
        gpu=GPUS,
    shell:
        "python -m mfh modify_probe --study gauss_modify --params {input.sections}"
        " --data {input.data} --teacher {input.teacher} --nokd {input.nokd}"
        " --joint-a {input.joint_a} --joint-b {input.joint_b}"
        f" --models {MODIFY_MODELS} --results {MODIFY}"
        " --out-channels {output.channels} --out-predictors {output.predictors}"
        " --out-env {output.env} --threads {threads} --log {log}"


rule modify_venn:
    input:
        channels=rules.modify_probe.output.channels,
        settings=rules.modify_prepare.output.settings,
        sections=sections("gauss_modify.venn"),
        code=step_code("modify_venn"),
    output:
        csv=report_table(f"{MODIFY}/venn.csv", "venn_table", "gauss_modify"),
        png=report_figure(f"{MODIFY}/venn.png", "venn_figure", "gauss_modify"),
    log:
        "logs/gauss_modify/modify_venn.log",
    conda:
        ENV
    shell:
        "python -m mfh modify_venn --study gauss_modify --params {input.sections}"
        " --channels {input.channels} --settings {input.settings}"
        " --out-csv {output.csv} --out-png {output.png} --log {log}"
