# The predictors study (PROTOCOL §6): every setting of every synthetic study, and every teacher
# of gauss_modify, is a point (predictor value, measured KD gain); each predictor is scored by
# its Spearman correlation with the gain. Also the Venn estimate against the truth.
STUDIES = config["studies"]


rule predictors:
    input:
        runs=expand("results/{study}/runs.csv", study=STUDIES),
        channels=expand("results/{study}/channels.csv", study=STUDIES),
        predictors=expand("results/{study}/predictors.csv", study=STUDIES),
        venn=expand("results/{study}/venn.csv", study=STUDIES),
        modify=[
            rules.modify_collect.output.runs,
            rules.modify_probe.output.channels,
            rules.modify_probe.output.predictors,
            rules.modify_venn.output.csv,
        ],
        kept=expand(f"{MODIFY}/kept_{{selection}}.csv", selection=SELECTIONS),
        sections=sections(
            "seed",
            "studies",
            *(f"{study}.venn" for study in STUDIES),
            "gauss_modify.venn",
            "gauss_modify.selections",
        ),
        code=step_code("predictors"),
    output:
        points=report_table("results/predictors/points.csv", "points", "predictors"),
        scores=report_table("results/predictors/scores.csv", "scores", "predictors"),
        venn_fit=report_table("results/predictors/venn_fit.csv", "venn_fit", "predictors"),
        png=report_figure("results/predictors/predictors.png", "predictors_figure", "predictors"),
    log:
        "logs/predictors/predictors.log",
    conda:
        ENV
    shell:
        "python -m mfh predictors --study predictors --params {input.sections}"
        " --results results"
        " --out-points {output.points} --out-scores {output.scores}"
        " --out-venn-fit {output.venn_fit} --out-png {output.png} --log {log}"


# The real-data points, reported apart (`snakemake real`): per real dataset, pair and seed, the
# diagnosis' predictor values (measured before distillation) and the gain of the pair's KD
# student over its no-KD student.
REAL_PAIRS = [(d, p) for d in config["real_studies"] for p in config[d]["pairs"]]


rule real_predictors:
    input:
        diagnoses=[f"results/{d}/diagnose_{p}.csv" for d, p in REAL_PAIRS],
        kd=[f"results/{d}/acc/kd_{p}_unimodal.csv" for d, p in REAL_PAIRS],
        sections=sections(
            "seed",
            "real_studies",
            *(f"{d}.pairs" for d in config["real_studies"]),
            *(f"{d}.seeds" for d in config["real_studies"]),
        ),
        code=step_code("real_predictors"),
    output:
        points=report_table("results/predictors/real_points.csv", "real_points", "predictors"),
        scores=report_table("results/predictors/real_scores.csv", "real_scores", "predictors"),
        png=report_figure(
            "results/predictors/real_predictors.png", "real_predictors_figure", "predictors"
        ),
    log:
        "logs/predictors/real_predictors.log",
    conda:
        ENV
    shell:
        "python -m mfh real_predictors --study predictors --params {input.sections}"
        " --results results"
        " --out-points {output.points} --out-scores {output.scores} --out-png {output.png}"
        " --log {log}"
