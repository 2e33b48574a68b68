"""The statistics behind the sampled lossless checks, written once: a chi-square fit and its threshold."""

from __future__ import annotations

import numpy as np
from scipy import stats

P_MIN = 1e-3  # a chi-square test passes when its p-value exceeds this


def chisquare_p(counts: np.ndarray, probs: np.ndarray) -> float:
    """Chi-square goodness-of-fit p-value of counts against probs, over the cells with probs > 0.

    Fails outright if any count falls on a cell of probability 0."""
    counts, probs = np.ravel(counts), np.ravel(probs)
    assert counts[probs == 0].sum() == 0, "a token sequence of target probability 0 was emitted"
    keep = probs > 0
    if keep.sum() == 1:  # one possible cell: every count is on it (checked above), a perfect fit
        return 1.0
    expected = probs[keep] / probs[keep].sum() * counts.sum()
    return float(stats.chisquare(counts[keep], expected).pvalue)
