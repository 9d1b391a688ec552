"""How the workflow tracks what a job depends on: params section files, the code a step runs,
and the DVC pipeline generated from the Snakemake DAG."""
