"""The workflow's steps: one function per Snakemake rule, named as the rule, which
`python -m mfh <rule>` runs (the table of them is `mfh.cli.STEPS`).

    synthetic  the synthetic Gaussian studies of `studies` (gauss_gamma, gauss_alpha, venn studies):
               prepare_data .. venn
    modify     the "modify gamma" study (gauss_modify, paper Table 2): modify_prepare .. modify_venn
    real       the real-data studies (avmnist, mfeat): download .. real_plot
    common     how a step declares its command-line options, and where a training step computes

Each step reads its command line and params sections and calls the science in `mfh.studies`
(and the tables and figures in `mfh.report`).
"""
