# Root entry point users expect; the workflow itself lives in workflow/Snakefile (catalog layout).
# A plain `include:` would drop that file's `default_target`, so include it keeping the target.
workflow.include("workflow/Snakefile", overwrite_default_target=True)
