"""The Student-t interval of a mean, for the summary tables (its half-width) and the figures (a
seaborn errorbar)."""

from __future__ import annotations

import numpy as np
from scipy.special import stdtrit

CONFIDENCE = 0.95


def t_halfwidth(std: np.ndarray | float, n: np.ndarray | int, confidence: float) -> np.ndarray:
    """Half-width of the Student-t interval of a mean: t_{(1+c)/2, n-1} * std / sqrt(n).

    NaN where n < 2. `stdtrit` is the function behind `scipy.stats.t.ppf`, without the import
    cost of `scipy.stats`.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    n = np.asarray(n, dtype=float)
    dof = np.where(n >= 2, n - 1, np.nan)
    return stdtrit(dof, (1.0 + confidence) / 2.0) * np.asarray(std, dtype=float) / np.sqrt(n)


def t_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """(low, high): the Student-t interval of the mean of `values` (a pandas Series; sample sd,
    ddof=1). Passed as `errorbar=t_interval`, seaborn draws it around each mean."""
    mean = float(values.mean())
    half = float(t_halfwidth(values.std(ddof=1), len(values), confidence))
    return mean - half, mean + half
