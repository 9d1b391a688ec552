"""The KD modes of the real-data MFH study (PROTOCOL §5), defined once for the workflow
(wildcards, expected files), the steps and the tables. Free of heavy imports: Snakemake reads it
while it parses the workflow.

A KD mode says which of the teacher's penultimate channels are removed before distilling. Modes
1 and 2 rank the channels by Algorithm 1's salience (large = more modality-general), modes 3 and 4
— the control the paper lacks — by the teacher's own dependence on them ("importance": how much
the teacher's logits change when the channel is permuted; no net on the other modality):
    0 random               a random share of the channels
    1 modality-general     the least modality-general removed (the teacher keeps the general ones)
    2 modality-specific    the most modality-general removed (the teacher keeps the specific ones)
    3 teacher-important    the least important removed (the teacher keeps what it relies on)
    4 teacher-unimportant  the most important removed (the teacher keeps what it relies on least)
If modes 3/4 order the students as modes 1/2 do, the modes measure teacher importance, not
modality-generality.
"""

KD_MODES = {
    0: "random",
    1: "modality-general",
    2: "modality-specific",
    3: "teacher-important",
    4: "teacher-unimportant",
}
# mode -> (the ranking it reads: a column of the salience table, the end of it that is removed)
RANKINGS = {
    1: ("salience", "least"),
    2: ("salience", "most"),
    3: ("importance", "least"),
    4: ("importance", "most"),
}
# the paired comparisons of the study: (mode x, mode y) -> the difference x - y per seed
COMPARISONS = ((1, 0), (0, 2), (3, 0), (0, 4), (1, 3), (2, 4))


def mode_ratios(modes: dict) -> dict[int, list[float]]:
    """Params `<dataset>.modes` -> {mode: the ratios it is run at}: the control's modes 3 and 4
    at `control_ratios` (by default fewer, to fit the time budget), the others at `ratios`."""
    return {
        mode: list(modes["control_ratios"] if mode in (3, 4) else modes["ratios"])
        for mode in KD_MODES
    }
