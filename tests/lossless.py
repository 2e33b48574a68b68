"""The statistics behind the sampled lossless checks, written once: a chi-square fit, its threshold, and
the smallest error each fit is sure to catch.

Every sampled check states its power. A chi-square test of n draws over m cells, at the threshold
:data:`P_MIN`, rejects a sampler whose law differs from the target's by total variation δ with
probability at least 0.99 once n · 4δ² reaches the noncentrality that gives 0.99 power with m − 1
degrees of freedom: the noncentrality is n · Σ (q − p)² / p, and Σ (q − p)² / p ≥ (Σ |q − p|)² = 4δ² by
Cauchy–Schwarz, whatever the shape of the error (the usual noncentral chi-square approximation of the
test's distribution). :func:`chisquare_p` refuses a check with too few draws for its ``max_tv``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import optimize, stats

P_MIN = 1e-3  # a chi-square test passes when its p-value exceeds this
POWER = 0.99  # the chance that a check catches an error of its stated size
TOY_TV = 0.08  # toy-model checks catch any error moving 8 % of the probability mass
# Checks with the tutor as target cost a forward of a 2.2 M-parameter model per step, a thousand toy ones:
# they catch an error moving a fifth of the mass, and the toy checks (same loop, same rules) the finer ones.
# Where rare outcomes are pooled into one cell, the promise covers the law over the cells as pooled.
TUTOR_TV = 0.2


@functools.lru_cache(maxsize=64)
def _noncentrality(cells: int) -> float:
    """The noncentrality at which a chi-square test over ``cells`` cells rejects at P_MIN with POWER."""
    crit = stats.chi2.isf(P_MIN, cells - 1)
    return optimize.brentq(lambda lam: stats.ncx2.sf(crit, cells - 1, lam) - POWER, 1e-9, 1e6)


def detectable_tv(draws: int, cells: int) -> float:
    """The smallest total-variation error that a fit of ``draws`` draws over ``cells`` cells catches with
    probability at least :data:`POWER` (the module docstring)."""
    return math.sqrt(_noncentrality(cells) / (4 * draws)) if draws else math.inf


def chisquare_p(counts: np.ndarray, probs: np.ndarray, max_tv: float = TOY_TV) -> float:
    """Chi-square goodness-of-fit p-value of counts against probs, over the cells with probs > 0.

    Fails outright if any count falls on a cell of probability 0, or if the draws are too few to catch
    an error of total variation ``max_tv`` with probability :data:`POWER`."""
    counts, probs = np.ravel(counts), np.ravel(probs)
    assert counts[probs == 0].sum() == 0, "a token sequence of target probability 0 was emitted"
    keep = probs > 0
    if keep.sum() == 1:  # one possible cell: every count is on it (checked above), a perfect fit
        return 1.0
    n, cells = int(counts.sum()), int(keep.sum())
    assert detectable_tv(n, cells) <= max_tv, (
        f"{n} draws over {cells} cells catch only errors of total variation {detectable_tv(n, cells):.3f}"
        f" with probability {POWER}; the check promises {max_tv}"
    )
    expected = probs[keep] / probs[keep].sum() * counts.sum()
    return float(stats.chisquare(counts[keep], expected).pvalue)


def after_first_law(rows: np.ndarray, first: np.ndarray) -> np.ndarray:
    """(V, V) law of tokens 2 and 3 of a Markov target with transition ``rows``, token 1 drawn from
    ``first``: the two tokens the decoding loop's first step writes (the prompt's forward writes token 1)."""
    return (first @ rows)[:, None] * rows


def first_token_law(
    p_T: np.ndarray, p_D: np.ndarray, judge: np.ndarray, after_reject: np.ndarray
) -> np.ndarray:
    """Law of the first emitted token when x ~ p_D is accepted with min(1, p_T(x) / judge(x)) (1 where
    judge(x) = 0) and a rejection draws from ``after_reject``. The right rule judges with p_D itself and
    draws from the residual of p_T and p_D; the tests build faulty rules from the other arguments."""
    accept = np.minimum(1.0, np.divide(p_T, judge, out=np.ones_like(p_T), where=judge > 0))
    return p_D * accept + (p_D * (1 - accept)).sum() * after_reject
