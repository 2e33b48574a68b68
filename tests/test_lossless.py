"""The sampled checks' own statistics (tests/lossless.py): the power each promises is the power it has."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lossless import P_MIN, POWER, TOY_TV, chisquare_p, detectable_tv


def test_an_error_of_the_detectable_size_is_caught_as_often_as_promised():
    """The worst case for the bound: a law q whose relative error |q - p| / p is the same in every cell
    (Cauchy-Schwarz holds with equality), at exactly the detectable total variation. 2,000 simulated
    checks of 2,500 draws over 16 cells: the share rejected is POWER, within sampling error."""
    draws, cells = 2500, 16
    p = np.full(cells, 1 / cells)
    tv = detectable_tv(draws, cells)
    q = p * np.where(np.arange(cells) % 2 == 0, 1 + 2 * tv, 1 - 2 * tv)  # total variation tv
    assert abs(0.5 * np.abs(q - p).sum() - tv) < 1e-12
    counts = np.random.default_rng(0).multinomial(draws, q, size=2000)  # (2000, cells)
    pvalues = stats.chisquare(counts, draws * p, axis=1).pvalue
    rejected = float((pvalues < P_MIN).mean())
    assert abs(rejected - POWER) < 4 * np.sqrt(POWER * (1 - POWER) / 2000) + 0.005, rejected
    # a third of that error is mostly missed: the promise is not a loose bound
    q3 = p * np.where(np.arange(cells) % 2 == 0, 1 + 2 * tv / 3, 1 - 2 * tv / 3)
    counts = np.random.default_rng(1).multinomial(draws, q3, size=2000)
    assert (stats.chisquare(counts, draws * p, axis=1).pvalue < P_MIN).mean() < 0.5


def test_the_detectable_error_shrinks_as_one_over_the_root_of_the_draws():
    assert detectable_tv(10_000, 16) == pytest.approx(detectable_tv(2500, 16) / 2, rel=1e-12)
    assert detectable_tv(2500, 16) < TOY_TV < detectable_tv(2000, 16)  # the toy loop checks' 2,500 runs


def test_a_check_with_too_few_draws_is_refused():
    counts = np.array([30, 40, 30])
    with pytest.raises(AssertionError, match="100 draws over 3 cells catch only errors of total variation"):
        chisquare_p(counts, np.array([0.3, 0.4, 0.3]))
    assert chisquare_p(counts, np.array([0.3, 0.4, 0.3]), max_tv=0.3) == pytest.approx(1.0)
