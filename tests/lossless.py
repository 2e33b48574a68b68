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


def after_first_law(rows: np.ndarray, first: np.ndarray) -> np.ndarray:
    """(V, V) law of tokens 2 and 3 of a Markov target with transition ``rows``, token 1 drawn from
    ``first``: the two tokens the decoding loop's first step writes (the prompt's forward writes token 1)."""
    return (first @ rows)[:, None] * rows
