"""Expected speedup of speculative decoding: Leviathan, Kalman & Matias (2023), section 3.

Notation (the site's unified notation, not the paper's letters):

- ``alpha`` -- α, the expected per-token acceptance probability (Leviathan Corollary 3.6, α = E[β]).
- ``k`` -- drafted tokens per step (Leviathan's γ).
- ``c`` -- cost coefficient: time of one draft forward over time of one target forward (Definition 3.7).
- ``c_hat`` -- ĉ, arithmetic operations per token of the draft over those of the target (Definition 3.10).
- ``c_verify`` -- time of one target forward over k + 1 token positions divided by the time of one
  target forward over a single position. Leviathan et al. assume it is 1 (section 3.3: "we can run γ + 1
  concurrent evaluations of M_p in parallel without increasing the walltime"); here it may come from
  :func:`specdec.perf.crossovers.verification_cost_ratio` or from a measurement (:mod:`specdec.perf.probe`).

In Leviathan et al., M_p is the *target* model and M_q the draft; here they are ``p_T`` and ``p_D``.
All functions are small, pure and take plain Python numbers. Public functions check their arguments
once and call private ones (``_tau``, ``_speedup``) that compute, so :func:`optimal_k` checks α, c
and ``k_max`` once, not once per k. Bad input raises ``TypeError`` for a wrong type (a string, a
bool, a float k) and ``ValueError`` for a wrong value, naming the argument and the rule it broke:
α outside [0, 1], k not in [1, :data:`MAX_K`], a negative or non-finite cost, or costs so small
that the result would not be a finite number. Nothing is clipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from specdec import _checks

__all__ = [
    "MAX_K",
    "expected_tokens_per_step",
    "walltime_speedup",
    "speedup_from_tau",
    "ops_increase",
    "optimal_k",
]


#: Largest k any function here accepts, and the largest ``k_max`` of :func:`optimal_k` (which
#: evaluates every k up to it). Far beyond any useful draft length; it keeps αᵏ⁺¹ and the search
#: cheap and finite.
MAX_K = 1 << 16


def _check_k(k: object, name: str = "k") -> int:
    return _checks.integer(name, k, 1, MAX_K)


# ----------------------------------------------------------------------------------------------
# Leviathan et al. 2023, section 3: public functions check, private ones compute
# ----------------------------------------------------------------------------------------------


def _tau(alpha: float, k: int) -> float:
    """τ = (1 − αᵏ⁺¹) / (1 − α), and k + 1 at α = 1."""
    if alpha == 1.0:
        return float(k + 1)
    return (1.0 - alpha ** (k + 1)) / (1.0 - alpha)


def _speedup(alpha: float, k: int, c: float, c_verify: float) -> float:
    """τ / (k·c + c_verify); ValueError if a tiny c_verify overflows it."""
    tau = _tau(alpha, k)
    speedup = tau / (k * c + c_verify)  # the denominator is >= c_verify > 0
    if not math.isfinite(speedup):
        raise ValueError(
            f"c_verify is too close to 0: τ / (k·c + c_verify) = {tau!r} / {k * c + c_verify!r} "
            f"is not finite, got c_verify={c_verify!r}"
        )
    return speedup


def expected_tokens_per_step(alpha: float, k: int) -> float:
    """τ, the expected tokens produced by one speculative step: (1 − αᵏ⁺¹) / (1 − α).

    Leviathan et al. 2023, Equation 1 (section 3.1), under their simplifying assumption that the
    per-prefix acceptance probabilities are i.i.d. with mean α. The count includes the token the
    target always contributes (the correction or the bonus token), so it is the model's prediction of
    τ, the mean tokens per target forward: 1 for α = 0, exactly k + 1 for α = 1.

    Raises ``ValueError`` if ``alpha`` is outside [0, 1] or ``k`` is not in [1, :data:`MAX_K`],
    ``TypeError`` if either is not a number (k: not an integer).
    """
    return _tau(_checks.probability("alpha", alpha), _check_k(k))


def walltime_speedup(alpha: float, k: int, c: float, c_verify: float = 1.0) -> float:
    """Expected walltime improvement factor of speculative decoding over plain decoding.

    With the default ``c_verify = 1`` this is Leviathan et al. 2023, Theorem 3.8 (section 3.3)::

        (1 − αᵏ⁺¹) / ((1 − α)(k·c + 1))

    The theorem's ``+ 1`` is the cost of one target forward that scores all k + 1 positions, measured
    in units of one single-token target forward; the theorem assumes that forward costs no more than a
    single-token one. The generalised form replaces that ``1`` by ``c_verify`` = time(k + 1 positions)
    / time(1 position)::

        τ / (k·c + c_verify)

    Raises ``ValueError`` for ``alpha`` outside [0, 1], ``k`` not in [1, :data:`MAX_K`], ``c`` < 0 or
    not finite, ``c_verify`` <= 0 or not finite, or a ``c_verify`` so close to 0 that the speedup
    overflows to infinity; ``TypeError`` for an argument that is not a number.
    """
    alpha = _checks.probability("alpha", alpha)
    k = _check_k(k)
    c = _checks.nonnegative("c", c)
    c_verify = _checks.positive("c_verify", c_verify)
    return _speedup(alpha, k, c, c_verify)


def speedup_from_tau(tau: float, k: float, c: float, c_verify: float = 1.0) -> float:
    """The walltime speedup of :func:`walltime_speedup` from a *measured* τ: τ / (k·c + c_verify).

    For drafters whose α is not defined or not i.i.d. (lookup drafters, Lookahead, steps whose draft
    length varies), ``k`` may be the mean number of drafted tokens per step (a float >= 0) and ``c``
    the measured drafting time per drafted token over one single-token target forward, so ``k·c`` is
    the drafting time of a step in those units. ``tau`` >= 1 (the target always contributes a token).

    Raises ``ValueError`` for ``tau`` < 1, a negative ``k`` or ``c``, or ``c_verify`` <= 0 (any not
    finite); ``TypeError`` for an argument that is not a number.
    """
    tau = _checks.real("tau", tau)
    if not tau >= 1.0:
        raise ValueError(f"tau must be >= 1 (the target always contributes a token), got {tau!r}")
    k = _checks.nonnegative("k", k)
    c = _checks.nonnegative("c", c)
    c_verify = _checks.positive("c_verify", c_verify)
    return tau / (k * c + c_verify)


def ops_increase(alpha: float, k: int, c_hat: float) -> float:
    """Expected factor by which total arithmetic operations grow: Leviathan et al. 2023, Theorem 3.11.

    (1 − α)(k·ĉ + k + 1) / (1 − αᵏ⁺¹), written here as (k·ĉ + k + 1) / τ so that α = 1 gives the
    limit (k·ĉ + k + 1) / (k + 1) instead of 0/0.

    Raises ``ValueError`` for ``alpha`` outside [0, 1], ``k`` not in [1, :data:`MAX_K`], or ``c_hat``
    < 0, not finite, or so large that the result overflows to infinity; ``TypeError`` for an argument
    that is not a number.
    """
    alpha = _checks.probability("alpha", alpha)
    k = _check_k(k)
    c_hat = _checks.nonnegative("c_hat", c_hat)
    increase = (k * c_hat + k + 1) / _tau(alpha, k)
    if not math.isfinite(increase):
        raise ValueError(f"c_hat is too large: (k·ĉ + k + 1) / τ is not finite, got c_hat={c_hat!r}")
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

    ``k_max`` may be at most :data:`MAX_K`. The arguments are checked once; each k then costs one
    evaluation of the formula (and, for a callable ``c_verify``, one call and a check of its value).

    Raises ``ValueError`` for ``alpha`` outside [0, 1], ``c`` < 0, ``k_max`` not in
    [1, :data:`MAX_K`], or a ``c_verify`` value that :func:`walltime_speedup` refuses; ``TypeError``
    for an argument that is not a number (``c_verify``: nor callable).
    """
    alpha = _checks.probability("alpha", alpha)
    c = _checks.nonnegative("c", c)
    k_max = _check_k(k_max, "k_max")
    if callable(c_verify):
        cost_of = c_verify

        def c_verify_of(k: int) -> float:
            return _checks.positive("c_verify", cost_of(k))
    else:
        constant = _checks.positive("c_verify", c_verify)

        def c_verify_of(k: int) -> float:
            return constant

    best_k, best_s = 0, -math.inf
    for k in range(1, k_max + 1):
        s = _speedup(alpha, k, c, c_verify_of(k))
        if s > best_s:
            best_k, best_s = k, s
    return best_k, best_s
