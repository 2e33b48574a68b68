"""Expected speedup of speculative decoding: Leviathan, Kalman & Matias (2023), section 3.

Notation (the site's unified notation, not the paper's letters):

- ``alpha`` -- α, the expected per-token acceptance probability (Leviathan Corollary 3.6, α = E[β]).
- ``k`` -- drafted tokens per step (Leviathan's γ).
- ``c`` -- cost coefficient: time of one draft forward over time of one target forward (Definition 3.7).
- ``c_hat`` -- ĉ, arithmetic operations per token of the draft over those of the target (Definition 3.10).
- ``c_verify`` -- time of one target forward over k + 1 token positions divided by the time of one
  target forward over a single position. Leviathan et al. assume it is 1 (section 3.3: "we can run γ + 1
  concurrent evaluations of M_p in parallel without increasing the walltime"); here it may come from
  :func:`specdec.roofline.verification_cost_ratio` or from a measurement (:mod:`specdec.probe`).

In Leviathan et al., M_p is the *target* model and M_q the draft; here they are ``p_T`` and ``p_D``.
All functions are small, pure and take plain Python numbers; bad input raises ``ValueError`` naming
the argument and the rule it broke: α outside [0, 1], k not an integer in [1, :data:`MAX_K`], a
negative or non-finite cost, or costs so small that the result would not be a finite number.
Nothing is clipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from specdec import _checks

__all__ = [
    "MAX_K",
    "expected_tokens_per_step",
    "walltime_speedup",
    "ops_increase",
    "optimal_k",
]


#: Largest k any function here accepts, and the largest ``k_max`` of :func:`optimal_k` (which
#: evaluates every k up to it). Far beyond any useful draft length; it keeps α^(k+1) and the search
#: cheap and finite.
MAX_K = 1 << 16


def _check_k(k: object, name: str = "k") -> int:
    return _checks.integer(name, k, 1, MAX_K)


# ----------------------------------------------------------------------------------------------
# Leviathan et al. 2023, section 3
# ----------------------------------------------------------------------------------------------


def expected_tokens_per_step(alpha: float, k: int) -> float:
    """Expected tokens produced by one speculative step: (1 − α^(k+1)) / (1 − α).

    Leviathan et al. 2023, Equation 1 (section 3.1), under their simplifying assumption that the
    per-prefix acceptance probabilities are i.i.d. with mean α. The count includes the token the
    target always contributes (the correction or the bonus token), so it is the model's prediction of
    τ, the mean tokens per target forward: 1 for α = 0, exactly k + 1 for α = 1.

    Raises ``ValueError`` if ``alpha`` is outside [0, 1] or ``k`` is not an integer in
    [1, :data:`MAX_K`].
    """
    a = _checks.probability("alpha", alpha)
    kk = _check_k(k)
    if a == 1.0:
        return float(kk + 1)
    return (1.0 - a ** (kk + 1)) / (1.0 - a)


def walltime_speedup(alpha: float, k: int, c: float, c_verify: float = 1.0) -> float:
    """Expected walltime improvement factor of speculative decoding over plain decoding.

    With the default ``c_verify = 1`` this is Leviathan et al. 2023, Theorem 3.8 (section 3.3)::

        (1 − α^(k+1)) / ((1 − α)(k·c + 1))

    The theorem's ``+ 1`` is the cost of one target forward that scores all k + 1 positions, measured
    in units of one single-token target forward; the theorem assumes that forward costs no more than a
    single-token one. The generalised form replaces that ``1`` by ``c_verify`` = time(k + 1 positions)
    / time(1 position)::

        E[tokens] / (k·c + c_verify)

    Raises ``ValueError`` for ``alpha`` outside [0, 1], ``k`` not an integer in [1, :data:`MAX_K`],
    ``c`` < 0 or not finite, ``c_verify`` <= 0 or not finite, or a ``c_verify`` so close to 0 that
    the speedup overflows to infinity.
    """
    tokens = expected_tokens_per_step(alpha, k)
    kk = _check_k(k)
    cc = _checks.nonnegative("c", c)
    cv = _checks.positive("c_verify", c_verify)
    denominator = kk * cc + cv  # >= c_verify, so only a tiny c_verify can overflow the quotient
    speedup = tokens / denominator
    if not math.isfinite(speedup):
        raise ValueError(
            f"c_verify is too close to 0: E[tokens] / (k·c + c_verify) = {tokens!r} / {denominator!r} "
            f"is not finite, got c_verify={c_verify!r}"
        )
    return speedup


def ops_increase(alpha: float, k: int, c_hat: float) -> float:
    """Expected factor by which total arithmetic operations grow: Leviathan et al. 2023, Theorem 3.11.

    (1 − α)(k·ĉ + k + 1) / (1 − α^(k+1)), written here as (k·ĉ + k + 1) / E[tokens] so that α = 1
    gives the limit (k·ĉ + k + 1) / (k + 1) instead of 0/0.

    Raises ``ValueError`` for ``alpha`` outside [0, 1], ``k`` not an integer in [1, :data:`MAX_K`],
    or ``c_hat`` < 0, not finite, or so large that the result overflows to infinity.
    """
    tokens = expected_tokens_per_step(alpha, k)
    kk = _check_k(k)
    ch = _checks.nonnegative("c_hat", c_hat)
    increase = (kk * ch + kk + 1) / tokens
    if not math.isfinite(increase):
        raise ValueError(f"c_hat is too large: (k·c_hat + k + 1) / E[tokens] is not finite, got c_hat={c_hat!r}")
    return increase


def optimal_k(
    alpha: float,
    c: float,
    k_max: int = 64,
    c_verify: float | Callable[[int], float] = 1.0,
) -> tuple[int, float]:
    """The k from 1 to ``k_max`` that maximises :func:`walltime_speedup`, and that speedup.

    Leviathan et al. 2023, section 3.5: k is an integer, so it is found by evaluating every
    candidate. ``c_verify`` is either a constant or a function of k returning the verification cost
    ratio for k + 1 positions (for example ``lambda k: verification_cost_ratio(model, hw, k)``).
    Ties go to the smallest k. A result of ``(k, s)`` with ``s < 1`` means speculation does not pay
    for any k in range (Corollary 3.9: some k helps whenever α > c and ``c_verify`` = 1).

    ``k_max`` may be at most :data:`MAX_K`, which bounds the search to a fraction of a second with a
    constant ``c_verify`` (a callable ``c_verify`` costs what it costs, once per k).

    Raises ``ValueError`` for ``alpha`` outside [0, 1], ``c`` < 0, ``k_max`` not an integer in
    [1, :data:`MAX_K`], or a ``c_verify`` value that :func:`walltime_speedup` refuses.
    """
    a = _checks.probability("alpha", alpha)
    cc = _checks.nonnegative("c", c)
    km = _check_k(k_max, "k_max")
    best_k, best_s = 0, -math.inf
    for kk in range(1, km + 1):
        cv = c_verify(kk) if callable(c_verify) else c_verify
        s = walltime_speedup(a, kk, cc, cv)
        if s > best_s:
            best_k, best_s = kk, s
    return best_k, best_s
