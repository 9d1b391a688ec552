"""Figures of the study gauss_modify (paper Table 2).

`plot_modify`: three panels over the settings (x = gamma, the share of decisive features that are
modality-general): the paired gain of the student of each modified teacher over the regular-KD
student (bars, 95% Student-t interval of the mean); the accuracy of the regular teacher and of the
modified teachers; the accuracy of the students. Together they show the paper's point: the
modified teacher is much worse than the regular one, yet its student is better.

`plot_salience`: Algorithm 1's normalised salience of every channel of x_a, mean +- 1 sd over
runs, one panel per setting, coloured by the channel's true role (modality-general, decisive but
seen by a only, noise).

Saved with `mfh.report.plotting.figure`: the same data and matplotlib version give the same bytes.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from mfh.report.plotting import figure, legend_below
from mfh.report.stats import t_interval
from mfh.tables import MODIFY_RUNS, MODIFY_SETTINGS, SALIENCE

SELECTION_LABELS = {
    "random": "random",
    "gt": "true shared",
    "alg1": "Algorithm 1 top-k",
}
ROLES = {
    "general": "decisive, modality-general (shared)",
    "a_only": "decisive, modality a only",
    "noise": "not decisive (noise)",
}


def _setting_labels(runs: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Per row, the x tick of its setting ("0.25\\n30 / 10"), and the ticks in gamma order."""
    label = (
        runs["gamma"].map(lambda g: f"{g:.2f}")
        + "\n"
        + runs["xs1"].astype(str)
        + " / "
        + runs["xs2"].astype(str)
    )
    order = (
        pd.DataFrame({"gamma": runs["gamma"], "setting": runs["setting"], "label": label})
        .drop_duplicates("setting")
        .sort_values(["gamma", "setting"], kind="mergesort")["label"]
    )
    return label, list(dict.fromkeys(order))


def plot_modify(runs_csv: str | os.PathLike, out_png: str | os.PathLike) -> None:
    """Draw the Table 2 figure from the runs table at `runs_csv` (MODIFY_RUNS, as
    `tables.collect_modify` writes it) and save it atomically as PNG.

    Every marker or bar is a mean over runs with its 95% Student-t interval.
    """
    runs = MODIFY_RUNS.read_frame(runs_csv)
    selections = list(dict.fromkeys(runs["mode"]))
    selection_names = {
        selection: SELECTION_LABELS.get(selection, selection) for selection in selections
    }
    runs = runs.assign(mode_label=runs["mode"].map(selection_names))
    runs["x"], order = _setting_labels(runs)
    n_runs = runs.groupby(["setting", "mode"]).size()
    n_label = f"n = {n_runs.min()} runs" if n_runs.min() == n_runs.max() else "n varies"

    palette = sns.color_palette("colorblind")
    selection_colors = {selection_names[m]: palette[i % 10] for i, m in enumerate(selections)}
    # per setting x run, the selection-independent models appear once (from the first selection)
    first = runs[runs["mode"] == selections[0]]
    teachers = pd.concat(
        [
            first.assign(model="regular teacher (all channels)", acc=first["teacher_acc"]),
            runs.assign(model="modified, " + runs["mode_label"], acc=runs["mod_teacher_acc"]),
        ],
        ignore_index=True,
    )
    students = pd.concat(
        [
            first.assign(model="no KD", acc=first["nokd_acc"]),
            first.assign(model="regular KD", acc=first["regular_kd_acc"]),
            runs.assign(model="KD, modified " + runs["mode_label"], acc=runs["mod_kd_acc"]),
        ],
        ignore_index=True,
    )
    teacher_colors = {"regular teacher (all channels)": "0.15"} | {
        f"modified, {name}": color for name, color in selection_colors.items()
    }
    student_colors = {"no KD": "0.6", "regular KD": "0.15"} | {
        f"KD, modified {name}": color for name, color in selection_colors.items()
    }
    xlabel = "γ   (below it: xs1 a-only / xs2 shared decisive dims)"

    with figure(out_png, figsize=(17, 5.6)) as fig:
        gain_ax, teacher_ax, student_ax = fig.subplots(
            1, 3, gridspec_kw={"width_ratios": [1.2, 1, 1]}
        )
        sns.barplot(
            data=runs,
            x="x",
            y="gain",
            hue="mode_label",
            order=order,
            hue_order=list(selection_names.values()),
            palette=selection_colors,
            errorbar=t_interval,
            capsize=0.15,
            err_kws={"linewidth": 1.2, "color": "0.2"},
            ax=gain_ax,
        )
        gain_ax.axhline(0.0, color="0.2", linewidth=1)
        gain_ax.set(xlabel=xlabel, ylabel="gain over regular KD (% points)")
        gain_ax.set_title(f"Student gain: KD from modified − regular KD\n(mean, 95% CI, {n_label})")
        legend_below(
            gain_ax,
            ncol=len(selections),
            title="modified teacher keeps the k = xs2 channels chosen by",
        )

        for ax, data, colors, title in (
            (teacher_ax, teachers, teacher_colors, "Teachers on x_a"),
            (student_ax, students, student_colors, "Students on x_b"),
        ):
            sns.pointplot(
                data=data,
                x="x",
                y="acc",
                hue="model",
                order=order,
                hue_order=list(colors),
                palette=colors,
                errorbar=t_interval,
                dodge=0.35,
                markersize=5,
                linewidth=1.3,
                capsize=0.08,
                err_kws={"linewidth": 1.2},
                ax=ax,
            )
            ax.set(xlabel=xlabel, ylabel="test accuracy (%)")
            ax.set_title(f"{title}: accuracy\n(mean, 95% CI, {n_label})")
            legend_below(ax)

        fig.suptitle("gauss_modify (paper Table 2): a worse teacher can teach a better student")
        fig.tight_layout()


def plot_salience(
    salience_csv: str | os.PathLike, settings_csv: str | os.PathLike, out_png: str | os.PathLike
) -> None:
    """One panel per setting (gamma in its title): Algorithm 1's normalised salience of each
    channel of x_a, mean over runs with +- 1 sd error bars, coloured by the channel's true role.
    Saved atomically as PNG.
    """
    salience = SALIENCE.read_frame(salience_csv)
    settings = MODIFY_SETTINGS.read_frame(settings_csv)
    unknown = sorted(set(salience["setting"]) - set(settings["setting"]))
    if unknown:
        raise ValueError(f"{salience_csv}: setting(s) {unknown} not in {settings_csv}")
    settings = settings[settings["setting"].isin(salience["setting"])]
    settings = settings.sort_values(["gamma", "setting"], kind="mergesort")

    stats = (
        salience.groupby(["setting", "channel"], sort=True)
        .agg(
            mean=("salience", "mean"),
            sd=("salience", "std"),
            n=("run", "size"),
            shared=("shared", "max"),
            decisive=("decisive", "max"),
        )
        .reset_index()
    )
    stats["sd"] = stats["sd"].fillna(0.0)
    stats["role"] = np.where(
        stats["shared"] == 1, "general", np.where(stats["decisive"] == 1, "a_only", "noise")
    )
    palette = sns.color_palette("colorblind")
    colors = {"general": palette[0], "a_only": palette[1], "noise": "0.65"}

    top = max(1.0, float((stats["mean"] + stats["sd"]).max())) * 1.03
    n_panels = len(settings)
    ncols = min(3, n_panels)
    nrows = math.ceil(n_panels / ncols)
    with figure(out_png, figsize=(5.2 * ncols, 3.3 * nrows + 0.9)) as fig:
        axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
        for ax, row in zip(axes.flat, settings.itertuples()):
            panel = stats[stats["setting"] == row.setting]
            ax.bar(
                panel["channel"],
                panel["mean"],
                width=0.8,
                color=panel["role"].map(colors).tolist(),
                yerr=panel["sd"],
                error_kw={"elinewidth": 0.7, "ecolor": "0.3", "capsize": 0},
            )
            n_runs = panel["n"].min()
            ax.set_title(f"γ = {row.gamma:.2f}   (xs1 = {row.xs1}, xs2 = {row.xs2}; {n_runs} runs)")
            ax.set_xlim(-1, panel["channel"].max() + 1)
            ax.set_ylim(0, top)
            ax.set_xlabel("channel of x_a")
        for ax in axes[:, 0]:
            ax.set_ylabel("normalised salience\n(mean ± 1 sd over runs)")
        for ax in axes.flat[n_panels:]:
            ax.set_visible(False)
        handles = [Patch(color=colors[role], label=label) for role, label in ROLES.items()]
        handles.append(Line2D([], [], color="0.3", linewidth=0.7, label="± 1 sd over runs"))
        fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False)
        fig.suptitle("Algorithm 1: salience of each channel of modality a (1 = most general)")
        fig.tight_layout(rect=(0, 0.06, 1, 1))
