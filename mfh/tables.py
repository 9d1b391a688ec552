"""Every CSV table of the workflow, defined once: its columns in order and how each is written
(`mfh.table_io`). Decimals have 4 places unless a table says otherwise; accuracies are test-set
accuracies in percent.

Synthetic studies (results/<study>/ for gauss_gamma, gauss_alpha and gauss_modify):
    GAUSS_SETTINGS, MODIFY_SETTINGS  settings.csv: each setting's Venn proportions and counts
    ACC_BY_SETTING, ACC_BY_RUN       acc/*.csv: one accuracy per model
    SALIENCE                         salience.csv: Algorithm 1 per setting x run x channel of x_a
    KEPT                             kept_<mode>.csv (gauss_modify): a modified teacher's channels
    GAUSS_RUNS, GAUSS_SUMMARY        runs.csv, summary.csv of gauss_gamma / gauss_alpha
    MODIFY_RUNS, MODIFY_SUMMARY      runs.csv, summary.csv of gauss_modify
    CHANNELS                         channels.csv: per-channel permutation tests of both
                                     modalities (`mfh.venn_signals`)
    VENN                             venn.csv: the Venn counts, true and estimated (`mfh.venn`)
    RUN_PREDICTORS                   predictors.csv: predictor values per setting x run x teacher
The predictors study (results/predictors/):
    PREDICTOR_POINTS                 points.csv: gain and predictor values per study x setting x
                                     teacher x run
    PREDICTOR_SCORES                 scores.csv: Spearman of each predictor against the gain
    VENN_FIT                         venn_fit.csv: the Venn estimate's error per study
    REAL_PREDICTOR_POINTS            real_points.csv: gain and predictor values per real dataset
                                     x pair x seed (`snakemake real`); real_scores.csv is a
                                     PREDICTOR_SCORES
Real-data studies (results/<dataset>/):
    REAL_ACC                         acc/{uni,fusion,kd}_*.csv: one row per seed
    REAL_JOINT                       acc/joint_<pair>.csv: Algorithm 1's joint nets per seed
    REAL_SALIENCE                    salience_<pair>.csv: Algorithm 1 and the control's teacher
                                     importance per seed x channel
    REAL_MODES_ACC                   acc/modes_<pair>_<mode>.csv: one row per ratio x seed
    FAILURE_CASE, FAILURE_SUMMARY    failure_case.csv, failure_case_summary.csv (paper Table 1)
    MFH_MODES, MFH_MODES_SUMMARY     mfh_modes.csv, mfh_modes_summary.csv
    MODE_DIFFERENCES                 mode_differences.csv: paired differences between modes
    RANKING_AGREEMENT                ranking_agreement.csv: Algorithm 1 vs teacher importance
    JOINT_SUMMARY                    joint_nets.csv: the joint nets' accuracy and dead channels
    REAL_DIAGNOSE                    diagnose_<pair>.csv: the diagnosis of a pair per seed
    DIAGNOSIS                        diagnosis.csv: the diagnosis per pair, mean and sd over seeds
"""

from __future__ import annotations

from mfh.table_io import SHORTEST, Table, decimals, flags, integers, texts

_SIX = ".6f"

# --- synthetic studies -------------------------------------------------------------------------

# value: the swept grid value; gamma, alpha, beta: the Venn proportions; d0, da, db: decisive
# dimensions both modalities see, a only, b only
GAUSS_SETTINGS = Table(
    "settings",
    (
        *integers("setting", "value"),
        *decimals("gamma", "alpha", "beta", spec=_SIX),
        *integers("d0", "da", "db"),
    ),
    keys=("setting",),
)
# xs1, xs2: a-only and shared decisive dimensions; k = xs2, the channels a modified teacher keeps
MODIFY_SETTINGS = Table(
    "settings",
    (
        *integers("setting", "xs1", "xs2", "k"),
        *decimals("gamma", "alpha", "beta", spec=_SIX),
        *integers("d0", "da", "db"),
    ),
    keys=("setting",),
)
ACC_BY_SETTING = Table(
    "accuracy", (*integers("setting", "run"), *decimals("acc")), keys=("setting", "run")
)
# the no-KD students of gauss_gamma / gauss_alpha depend on the run only
ACC_BY_RUN = Table("accuracy", (*integers("run"), *decimals("acc")), keys=("run",))
# salience: min-max normalised per model; raw: before normalising; shared, decisive: 0/1, the
# generator's truth about the channel (for figures and checks; estimators must not read it)
SALIENCE = Table(
    "salience",
    (
        *integers("setting", "run", "channel"),
        *decimals("salience", spec=_SIX),
        *decimals("raw", spec=".6g"),
        *integers("shared", "decisive"),
    ),
    keys=("setting", "run", "channel"),
)
# channels: the kept channels of x_a, space-separated; precision_at_k: the share of them that
# are truly shared
KEPT = Table(
    "kept channels",
    (*integers("setting", "run"), *decimals("precision_at_k"), *texts("channels")),
    keys=("setting", "run"),
)

_GAUSS_SETTING = (*integers("setting", "value"), *decimals("gamma", "alpha", "beta"))
GAUSS_RUNS = Table(
    "runs",
    (*_GAUSS_SETTING, *integers("run"), *decimals("teacher_acc", "nokd_acc", "kd_acc")),
    keys=("setting", "run"),
)
# means and sample sds over runs; delta = kd_acc - nokd_acc, paired within a run, with its
# Student-t interval; the sds and the interval are empty with a single run
GAUSS_SUMMARY = Table(
    "summary",
    (
        *_GAUSS_SETTING,
        *integers("n_runs"),
        *decimals("teacher_acc"),
        *decimals("teacher_acc_std", nullable=True),
        *decimals("nokd_acc"),
        *decimals("nokd_acc_std", nullable=True),
        *decimals("kd_acc"),
        *decimals("kd_acc_std", nullable=True),
        *decimals("delta_mean"),
        *decimals("delta_std", "delta_ci_low", "delta_ci_high", nullable=True),
    ),
    keys=("setting",),
)
_MODIFY_ACCS = ("teacher_acc", "mod_teacher_acc", "nokd_acc", "regular_kd_acc", "mod_kd_acc")
# column `mode`: the *selection*, how the modified teacher chose its channels (random | gt | alg1;
# params gauss_modify.selections; the column keeps its published name, not the real studies' KD
# modes); gain = mod_kd_acc - regular_kd_acc, paired within a run
MODIFY_RUNS = Table(
    "runs",
    (
        *integers("setting", "xs1", "xs2"),
        *decimals("gamma"),
        *texts("mode"),
        *integers("run"),
        *decimals(*_MODIFY_ACCS, "gain", "precision_at_k"),
    ),
)
# means over runs; the gain's sample sd and Student-t interval are empty with a single run
MODIFY_SUMMARY = Table(
    "summary",
    (
        *decimals("gamma"),
        *integers("xs1", "xs2"),
        *texts("mode"),
        *integers("n_runs"),
        *decimals(*_MODIFY_ACCS, "gain_mean"),
        *decimals("gain_std", "gain_ci_low", "gain_ci_high", nullable=True),
        *decimals("precision_at_k"),
    ),
)
# *_true: the generator's counts; *_est: means of the per-run estimates (gamma_est_std their
# sample sd); *_pooled: the estimate from the runs' mean salience; gamma is empty when no
# decisive channel is found
# side: a or b, the modality of the channel; decisive_*: the effect on the teacher's (side a) or
# the no-KD student's (side b) cross-entropy of permuting the channel, general_*: on the distance
# between Algorithm 1's joint nets; *_se: standard errors; shared, decisive: 0/1, the generator's
# truth (for figures and scores; estimators must not read it)
CHANNELS = Table(
    "channel tests",
    (
        *integers("setting", "run"),
        *texts("side"),
        *integers("channel"),
        *decimals("decisive_effect", "decisive_se", "general_effect", "general_se", spec=".6g"),
        *integers("shared", "decisive"),
    ),
    keys=("setting", "run", "side", "channel"),
)
# *_true: the generator's Venn diagram; *_est: mean over runs of the per-run estimates, *_std
# their sd (ddof=1); gamma_mass: the importance-weighted gamma; gamma_error = gamma_est -
# gamma_true
VENN = Table(
    "venn",
    (
        *integers("setting", "d0_true", "da_true", "db_true"),
        *decimals("gamma_true", "alpha_true", "beta_true", spec=_SIX),
        *decimals("d0_est", "da_est", "db_est"),
        *decimals("gamma_est", "alpha_est", "beta_est", "gamma_mass", nullable=True),
        *decimals("d0_std", "da_std", "db_std", nullable=True),
        *decimals("gamma_std", "alpha_std", "beta_std", "gamma_mass_std", nullable=True),
        *integers("n_runs"),
        *decimals("gamma_error", nullable=True),
    ),
    keys=("setting",),
)

# teacher: regular (gauss_modify also random | gt | alg1, its modified teachers); the measures
# of `mfh.predictors.per_model` (nontarget_js is NaN with two classes)
RUN_PREDICTORS = Table(
    "predictor values",
    (
        *integers("setting", "run"),
        *texts("teacher"),
        *decimals("rank_tau", "top1_agreement", spec=_SIX),
        *decimals("nontarget_js", spec=_SIX, nullable=True),
        *decimals("mi_ts_gauss", "mi_sy_gauss", "mi_ts_knn", "mi_sy_knn", spec=_SIX),
    ),
    keys=("setting", "run", "teacher"),
)

# --- the predictors study -----------------------------------------------------------------------

# the predictor columns: `mfh.predictors.points.PREDICTORS`
PREDICTOR_POINTS = Table(
    "predictor points",
    (
        *texts("study"),
        *integers("setting"),
        *texts("teacher"),
        *integers("run"),
        *decimals("gain", "teacher_acc"),
        *decimals("gamma_true", spec=_SIX),
        *decimals("gamma_est", "one_minus_alpha_est", spec=_SIX, nullable=True),
        *decimals("complementarity_gauss", "complementarity_knn", spec=_SIX),
        *decimals("nontarget_js", spec=_SIX, nullable=True),
        *decimals("rank_tau", "top1_agreement", spec=_SIX),
    ),
    keys=("study", "setting", "teacher", "run"),
)
# scope: a study, or "synthetic" (every point of every study); n_points: (study, setting,
# teacher) points with a value; the interval: bootstrap over runs (`mfh.predictors.scores`)
PREDICTOR_SCORES = Table(
    "predictor scores",
    (
        *texts("predictor", "scope"),
        *integers("n_points"),
        *decimals("spearman", "ci_low", "ci_high", nullable=True),
    ),
    keys=("predictor", "scope"),
)
# one point per real dataset x pair x seed: gain = the KD student's (distilled from the pair's
# teacher) minus the no-KD student's accuracy; the predictor values are the diagnosis'
# (REAL_DIAGNOSE, measured before distillation), gamma_est etc. its Venn estimate on the penultimate
# channels (NaN where the diagnosis has none, e.g. no decisive channel found)
REAL_PREDICTOR_POINTS = Table(
    "real predictor points",
    (
        *texts("dataset", "pair"),
        *integers("seed"),
        *decimals("gain", "teacher_acc"),
        *decimals("gamma_est", "one_minus_alpha_est", "gamma_mass_est", spec=_SIX, nullable=True),
        *decimals("complementarity_gauss", "complementarity_knn", spec=_SIX, nullable=True),
        *decimals("nontarget_js", spec=_SIX, nullable=True),
        *decimals("rank_tau", "top1_agreement", spec=_SIX),
    ),
    keys=("dataset", "pair", "seed"),
)
# study: a synthetic study or "pooled"; errors of gamma_est (mean over runs) against gamma_true
VENN_FIT = Table(
    "venn fit",
    (
        *texts("study"),
        *integers("n_settings"),
        *decimals("mean_abs_error", "max_abs_error"),
        *decimals("spearman", nullable=True),
    ),
    keys=("study",),
)

# --- real-data studies -------------------------------------------------------------------------

# test_acc: at the epoch of the best validation accuracy, best_epoch
REAL_ACC = Table(
    "accuracy",
    (*integers("seed", "best_epoch"), *decimals("val_acc", "test_acc")),
    keys=("seed",),
)
# net: "a" (the teacher's modality; with `teacher: joint` the teacher itself) or "b"; accuracies
# of the last epoch's weights (the reference keeps them); dead, constant: penultimate channels
# (`mfh.health`)
REAL_JOINT = Table(
    "joint nets",
    (
        *integers("seed"),
        *texts("net", "modality"),
        *decimals("val_acc", "test_acc", "final_loss"),
        *integers("dead", "constant"),
    ),
    keys=("seed", "net"),
)
# raw, salience: Algorithm 1 (MSE of f_a permuted against f_b), before and after min-max;
# importance_raw, importance: the same with the teacher's own logits as the target (the control)
REAL_SALIENCE = Table(
    "salience",
    (
        *integers("seed", "channel"),
        *decimals("raw", spec=".6g"),
        *decimals("salience", spec=_SIX),
        *decimals("importance_raw", spec=".6g"),
        *decimals("importance", spec=_SIX),
    ),
    keys=("seed", "channel"),
)
# ratio: as in params.yaml (a float, so not a key); removed: the number of teacher channels
# removed
REAL_MODES_ACC = Table(
    "KD modes accuracy",
    (
        *decimals("ratio", spec=SHORTEST),
        *integers("seed", "removed"),
        *decimals("teacher_acc"),
        *integers("best_epoch"),
        *decimals("val_acc", "student_acc"),
    ),
)
_PAIR = texts("teacher_modality", "student_modality")
# teacher: none (the no-KD student; no teacher accuracy) | unimodal | multimodal
FAILURE_CASE = Table(
    "failure case",
    (
        *_PAIR,
        *texts("teacher"),
        *integers("seed"),
        *decimals("teacher_acc", nullable=True),
        *decimals("student_acc"),
    ),
)
_MEAN_STD = (
    *decimals("teacher_mean", "teacher_std", nullable=True),
    *decimals("student_mean"),
    *decimals("student_std", nullable=True),
    *integers("n"),
)
# failure: the multimodal teacher beats the unimodal one while its student does not
FAILURE_SUMMARY = Table(
    "failure case summary", (*_PAIR, *texts("teacher"), *_MEAN_STD, *flags("failure"))
)
_MODE = (*integers("mode"), *texts("mode_name"), *decimals("ratio"))
MFH_MODES = Table(
    "KD modes",
    (*_PAIR, *_MODE, *integers("seed", "removed"), *decimals("teacher_acc", "student_acc")),
)
# with the pair's no-KD and regular-KD (unimodal teacher, nothing removed) students
MFH_MODES_SUMMARY = Table(
    "KD modes summary",
    (
        *_PAIR,
        *_MODE,
        *_MEAN_STD,
        *decimals("nokd_mean", "nokd_std", "regular_kd_mean", "regular_kd_std", nullable=True),
    ),
)
# comparison "1-0": mode 1 minus mode 0, paired by seed; student_*: the students' accuracy
# difference, mean and 95 % Student-t interval over seeds; teacher_x, teacher_y: the modified
# teachers' own test accuracy (mean over seeds) of the two modes
MODE_DIFFERENCES = Table(
    "KD mode differences",
    (
        *_PAIR,
        *texts("comparison"),
        *decimals("ratio"),
        *integers("n"),
        *decimals("student_diff"),
        *decimals("ci_low", "ci_high", nullable=True),
        *decimals("teacher_x", "teacher_y"),
    ),
)
# per pair and seed: Spearman correlation of Algorithm 1's salience and the teacher importance
# over the channels, and per ratio the share of the channels mode 1 keeps that mode 3 keeps too
RANKING_AGREEMENT = Table(
    "ranking agreement",
    (*_PAIR, *integers("seed"), *decimals("ratio", "spearman", "kept_overlap")),
)
# per pair and net: the joint nets' accuracies and dead channels, mean (and sd) over seeds
JOINT_SUMMARY = Table(
    "joint nets summary",
    (
        *_PAIR,
        *texts("net", "modality"),
        *integers("n"),
        *decimals("val_mean", "test_mean"),
        *decimals("test_std", nullable=True),
        *decimals("dead_mean", "constant_mean"),
    ),
)

# The diagnosis (`snakemake diagnose`, mfh/studies/real_diagnose.py): what predicts KD's gain,
# measured on the test samples before any KD student exists.
#   teacher_acc, student_acc  the teacher's (on a) and the no-KD student's (on b) test accuracy
#   rank_tau .. mi_sy_knn     the measures of `mfh.predictors.per_model` (teacher vs student)
#   complementarity_gauss, complementarity_knn   I(h_T; h_S) - I(h_S; Y), Gaussian and kNN
#   d0, da, db                the Venn estimate on the joint nets' penultimate channels
#                             (`mfh.venn.run_estimate`): decisive channels both modalities see
#                             (mean of the two sides' counts), a only, b only
#   gamma, alpha, beta        D0 / (D0 + Da + Db), Da / (Da + D0_a), Db / (Db + D0_b)
#   gamma_mass                gamma from the decisive effect each channel carries
# NaN (empty): nontarget_js with two classes; a mutual information a small test split cannot
# estimate; a ratio whose denominator is 0 (no decisive channel)
PREDICTOR_MEASURES = (  # what `mfh.predictors.per_model.measure` returns, in this order
    "rank_tau",
    "top1_agreement",
    "nontarget_js",
    "mi_ts_gauss",
    "mi_sy_gauss",
    "mi_ts_knn",
    "mi_sy_knn",
)
DIAGNOSIS_VALUES = (
    "teacher_acc",
    "student_acc",
    *PREDICTOR_MEASURES,
    "complementarity_gauss",
    "complementarity_knn",
    "d0",
    "da",
    "db",
    "gamma",
    "alpha",
    "beta",
    "gamma_mass",
)
_DIAGNOSIS_NULLABLE = (
    "nontarget_js",
    *("mi_ts_gauss", "mi_sy_gauss", "mi_ts_knn", "mi_sy_knn"),
    *("complementarity_gauss", "complementarity_knn"),
    *("gamma", "alpha", "beta", "gamma_mass"),
)
REAL_DIAGNOSE = Table(
    "diagnosis per seed",
    (
        *integers("seed"),
        *(
            column
            for name in DIAGNOSIS_VALUES
            for column in decimals(name, spec=_SIX, nullable=name in _DIAGNOSIS_NULLABLE)
        ),
    ),
    keys=("seed",),
)
# per pair: <value>_mean and <value>_sd over the n_seeds seeds (sd: sample sd, NaN for one seed)
# of every value of REAL_DIAGNOSE
DIAGNOSIS = Table(
    "diagnosis",
    (
        *texts("pair"),
        *_PAIR,
        *integers("n_seeds"),
        *(
            column
            for name in DIAGNOSIS_VALUES
            for column in (
                *decimals(f"{name}_mean", nullable=name in _DIAGNOSIS_NULLABLE),
                *decimals(f"{name}_sd", nullable=True),
            )
        ),
    ),
    keys=("pair",),
)
