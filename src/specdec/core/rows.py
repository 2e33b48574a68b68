"""Probability rows: softmax, standardisation (temperature, top-p), β, the residual, and drawing tokens.

Every operation on next-token rows that the package uses is written here once. A *row* is a (V,)
distribution (non-negative, finite, summing to 1 within ``ROW_SUM_TOL``); a stack of rows is (..., V).
Nothing is renormalised, clipped or guessed; the only renormalisations are the ones that *define* an
operation: norm(max(0, p_T − p_D)) (Leviathan et al. 2023, section 2.3) and temperature / top-p
(section 2.2). All randomness comes from the ``numpy.random.Generator`` passed in.

Public functions check their arguments (``TypeError`` for a wrong type, ``ValueError`` for a wrong value,
naming the argument and the rule). The functions documented as taking *checked* rows
(:func:`standardize_rows`, :func:`residual_weights`, :func:`sample_rows`, :func:`sample`) are the
decoding loop's inner steps and trust their input.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from specdec import _arrays, _checks
from specdec._arrays import ROW_SUM_TOL

__all__ = [
    "ROW_SUM_TOL",
    "check_sampling",
    "softmax",
    "softmax32",
    "probabilities",
    "beta",
    "residual",
    "residual_weights",
    "standardize",
    "standardize_rows",
    "standardize_logit_rows",
    "sample_rows",
    "sample",
    "one_hot",
]

TOP_P_TOL = 1e-12
"""Top-p: a cumulative mass of at least ``top_p - TOP_P_TOL`` counts as reaching ``top_p`` (summation
rounding)."""

ONE_LEVEL_V = 1024
"""Up to this vocabulary size a row is sampled from its full cumulative sum; above it, in two levels."""


def check_sampling(temperature: object, top_p: object) -> tuple[float, float]:
    """``temperature`` a finite float >= 0 (0 means greedy), ``top_p`` a float in (0, 1]; both returned
    as plain floats."""
    return _checks.nonnegative("temperature", temperature), _checks.probability("top_p", top_p, zero=False)


def softmax(logits) -> np.ndarray:
    """(..., V) real logits -> (..., V) float64 distributions, softmax along the last axis (max-shifted, so
    large logits do not overflow). ``TypeError`` for integer input, ``ValueError`` for a non-finite logit."""
    z = _arrays.float_array("logits", logits, max(np.ndim(logits), 1)).astype(np.float64)
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite, got NaN or an infinity")
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax32(logits: np.ndarray) -> np.ndarray:
    """(..., V) float32 logits of a model's forward -> (..., V) float64 distributions: the exponentials in
    float32, the normalisation in float64. For logits the model itself computed (finite by construction,
    float32 already): NumPy's float64 ``exp`` is about 4× slower than its float32 one, and for a forward of
    20 positions over 2,048 tokens :func:`softmax` would cost about as much as the forward itself.
    """
    z = np.asarray(logits)
    if z.dtype != np.float32:
        raise TypeError(f"logits must be a float32 array, got dtype {z.dtype}")
    e = np.exp(z - z.max(axis=-1, keepdims=True)).astype(np.float64)  # (..., V)
    return e / e.sum(axis=-1, keepdims=True)


def probabilities(logits, temperature: float = 1.0, top_p: float = 1.0) -> np.ndarray:
    """(..., V) logits -> (..., V) float64 rows: :func:`softmax`, then :func:`standardize` by ``temperature``
    (0: one-hot on the argmax) and ``top_p``. ``temperature`` must be a finite number >= 0 (-1 and NaN are
    refused with a ``ValueError``), ``top_p`` in (0, 1]."""
    temperature, top_p = check_sampling(temperature, top_p)
    return standardize_rows(softmax(logits), temperature, top_p)


# ----------------------------------------------------------------------------------------------
# the pieces of the rule: β, the residual
# ----------------------------------------------------------------------------------------------


def beta(p_target, p_draft):
    """β = Σ min(p_T(x), p_D(x)) over tokens x, for each pair of rows (Leviathan Definition 3.1, Theorem 3.5).

    β is the probability that one draft drawn from the row ``p_draft`` is accepted against the row
    ``p_target``: the acceptance probability after one fixed prefix. The acceptance rate α is its
    expectation over prefixes, α = E[β] (Corollary 3.6), so α of a pair of models is the mean of β over
    rows from many prefixes. β equals 1 − the total-variation distance between the two rows.

    ``p_target``, ``p_draft``: (V,) -> a float; (n, V) -> an (n,) array, one β per row. Any other number
    of dimensions (a 0-d scalar included) raises ``ValueError``.
    """
    p_T, p_D = _arrays.pair(p_target, p_draft)
    b = np.minimum(p_T, p_D).sum(axis=-1)  # (V,) -> () or (n, V) -> (n,)
    return float(b) if b.ndim == 0 else b


def residual_weights(p_T: np.ndarray, p_D: np.ndarray, out: np.ndarray | None = None):
    """The weights a rejected row resamples from, on checked rows: (..., V), (..., V) -> ((..., V), (...)).

    max(0, p_T − p_D), unnormalised, computed as p_T − min(p_T, p_D) (into ``out`` when given, which may be
    ``p_D`` itself). A row with no residual mass (p_T ≤ p_D everywhere, so p_T = p_D for distributions)
    cannot be rejected; it falls back to its p_T row instead of being all zeros. Returns the weights and the
    residual mass of each row (1 − β; 0 on the fall-back rows). The only implementation of the residual.
    """
    w = np.minimum(p_T, p_D, out=out)
    np.subtract(p_T, w, out=w)
    mass = w.sum(axis=-1)  # (...)
    empty = ~(mass > 0)
    if empty.any():
        w[empty] = p_T[empty]
    return w, mass


def residual(p_target, p_draft):
    """The adjusted distribution p' = norm(max(0, p_T − p_D)) (Leviathan section 2.3), row-wise.

    Where a row has no residual mass (p_T ≤ p_D everywhere, i.e. p_T = p_D for distributions),
    rejection cannot happen and the row of ``p_target`` is returned unchanged; never NaN.
    """
    p_T, p_D = _arrays.pair(p_target, p_draft)
    w, mass = residual_weights(p_T, p_D)  # (..., V), (...) mass = 1 − β of the row
    return w / np.where(mass > 0, mass, 1.0)[..., None]  # fall-back rows hold p_T, divided by 1


# ----------------------------------------------------------------------------------------------
# standardised sampling (Leviathan section 2.2)
# ----------------------------------------------------------------------------------------------


def standardize(p, temperature: float = 1.0, top_p: float = 1.0):
    """Temperature then top-p (nucleus) applied to distributions, row-wise (Leviathan section 2.2).

    ``p`` (..., V), each row a distribution. ``temperature`` 0 gives the one-hot argmax (first index on ties);
    otherwise p raised to the power 1/temperature, renormalised (computed in log space). A positive
    temperature so small that 1/temperature overflows gives the argmax row too (spread evenly over tied
    maxima), never NaN. ``top_p`` keeps the smallest set of most probable tokens whose mass reaches ``top_p``
    (stable order on ties) and renormalises; a cumulative mass within 1e-12 below ``top_p`` counts as reaching
    it, so rounding in the sum (0.7 + 0.2 = 0.8999999999999999) does not keep an extra token. At least one
    token is kept. Always returns a new array, never ``p`` itself (also at temperature 1 and top_p 1, where it
    is a copy). Speculative sampling applies this to *both* p_T and p_D before the acceptance test.
    """
    temperature, top_p = check_sampling(temperature, top_p)
    p = _arrays.distribution("p", p, max(np.ndim(p), 1))
    return standardize_rows(p, temperature, top_p)


def _temperature(p: np.ndarray, temperature: float) -> np.ndarray:
    """p^(1/temperature), renormalised, in log space; the argmax row in the limit, never NaN."""
    # log(0) = -inf is wanted; a tiny temperature overflows the division to -inf (also wanted), and if it
    # rounds to 0 in p's dtype, 0/0 at the maxima is replaced by 0: the limit is the argmax row, never NaN
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_p = np.log(p)  # (..., V), -inf where p == 0
        gap = log_p - log_p.max(axis=-1, keepdims=True)  # <= 0, and 0 at the maxima
        z = np.where(gap == 0, 0.0, gap / temperature)
    out = np.exp(z)  # 1 at the maxima, so every row sum is >= 1
    out /= out.sum(axis=-1, keepdims=True)
    return out


def _top_p(out: np.ndarray, top_p: float) -> np.ndarray:
    """The smallest most-probable set of each row whose mass reaches ``top_p``, renormalised."""
    order = np.argsort(-out, axis=-1, kind="stable")  # (..., V) most probable first
    mass = np.cumsum(np.take_along_axis(out, order, axis=-1), axis=-1)  # (..., V)
    mass_before = np.concatenate([np.zeros_like(mass[..., :1]), mass[..., :-1]], axis=-1)  # exclusive
    keep_sorted = mass_before < top_p - TOP_P_TOL  # mass within TOP_P_TOL of top_p has reached it
    keep_sorted[..., 0] = True  # the most probable token is always kept
    keep = np.zeros(out.shape, dtype=bool)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    out = np.where(keep, out, 0.0)
    out /= out.sum(axis=-1, keepdims=True)
    return out


def standardize_logit_rows(z: np.ndarray, temperature: float, top_p: float) -> np.ndarray:
    """:func:`standardize` of ``softmax(z)``, from the logits ``z`` (arguments already checked): the softmax
    of z / temperature (float32 logits through :func:`softmax32`), then top-p; at temperature 0 the one-hot
    argmax. The same law as ``standardize_rows(softmax(z), temperature, top_p)`` up to rounding (p^(1/T)
    renormalised is softmax(z / T)), in one exponential pass instead of a softmax and a power: for 9 rows
    of 2,048 about a tenth of the time."""
    if temperature == 0.0:  # the one-hot argmax, the same on logits as on their softmax
        return standardize_rows(np.asarray(z, dtype=np.float64), 0.0, top_p)
    z = z * (1.0 / temperature) if temperature != 1.0 else z  # a Python float keeps float32 logits float32
    out = softmax32(z) if z.dtype == np.float32 else softmax(z)  # (..., V) float64
    return _top_p(out, top_p) if top_p < 1.0 else out


def standardize_rows(p: np.ndarray, temperature: float, top_p: float) -> np.ndarray:
    """:func:`standardize` on rows and arguments already checked; a new array whatever the arguments."""
    if temperature == 1.0 and top_p == 1.0:
        return p.copy()
    if temperature == 0.0:
        out = np.zeros_like(p)  # (..., V)
        np.put_along_axis(out, p.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return out
    out = _temperature(p, temperature) if temperature != 1.0 else p
    return _top_p(out, top_p) if top_p < 1.0 else out  # a new array: temperature != 1 here


# ----------------------------------------------------------------------------------------------
# drawing one token per row
# ----------------------------------------------------------------------------------------------


def _inverse_cdf(weights: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Row-wise index i with cdf[i-1] <= t < cdf[i], cdf = cumsum(weights), so weights[i] > 0.

    ``weights`` (n, m) >= 0, ``t`` (n,) >= 0. If rounding leaves t at or above the row total (only
    possible when t was carried over from another summation order), the row's last positive weight is taken.
    """
    cdf = np.cumsum(weights, axis=1)  # (n, m)
    i = (cdf <= t[:, None]).sum(axis=1)  # (n,)
    spill = i == weights.shape[1]
    if spill.any():
        i[spill] = weights.shape[1] - 1 - np.argmax(weights[spill, ::-1] > 0, axis=1)
    return i


def sample_rows(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One index per row of ``weights`` (n, V), drawn with probability weights[i] / sum(weights).

    ``weights``: non-negative, each row with positive total (not necessarily normalised). ``u`` (n,):
    uniforms in [0, 1). Inverse-CDF sampling; a zero-weight token is never returned. For V above
    ``ONE_LEVEL_V`` it runs in two levels, so a row costs one summation pass instead of a sequential
    cumulative sum over all V: first the block of ~sqrt(V) tokens that holds u·total, then the token in it.
    """
    n, V = weights.shape
    if V <= ONE_LEVEL_V:
        return _inverse_cdf(weights, u * weights.sum(axis=1))  # u·total < total, since u < 1
    rows = np.arange(n)
    size = math.isqrt(V - 1) + 1  # block length, ceil(sqrt(V)) or close to it
    starts = np.arange(0, V, size)  # (blocks,)
    block_cdf = np.cumsum(np.add.reduceat(weights, starts, axis=1), axis=1)  # (n, blocks)
    t = u * block_cdf[:, -1]  # (n,) < total, since u < 1
    j = (block_cdf <= t[:, None]).sum(axis=1)  # (n,) block_cdf[j-1] <= t < block_cdf[j]: block j has mass
    t = t - np.where(j > 0, block_cdf[rows, np.maximum(j - 1, 0)], 0.0)  # (n,) mass left to cover, >= 0
    cols = starts[j][:, None] + np.arange(size)  # (n, size) token ids of block j
    w = np.where(cols < V, weights[rows[:, None], np.minimum(cols, V - 1)], 0.0)  # (n, size)
    return starts[j] + _inverse_cdf(w, t)


SHORT_ROW = 64
"""Rows up to this many tokens are sampled by :func:`sample` on a Python list (no array calls)."""


def sample(row: np.ndarray, rng: np.random.Generator) -> int:
    """One token from one (V,) row of weights (checked), with one uniform from ``rng``.

    The same draw as :func:`sample_rows` on the row: a short row (V <= ``SHORT_ROW``, 64: the toy
    models') runs the same inverse CDF on a list, the cumulative sum in the same order, for a fraction of
    the cost of the array calls."""
    if row.shape[0] > SHORT_ROW:
        return int(sample_rows(row[None, :], np.array([rng.random()]))[0])
    t = rng.random() * float(row.sum())  # < the total, since u < 1; the total as sample_rows sums it
    i = sum(1 for c in itertools.accumulate(row.tolist()) if c <= t)  # cdf[i-1] <= t < cdf[i]
    if i == row.shape[0]:  # rounding left t at the total: the last positive weight, as _inverse_cdf does
        i = max(j for j, w in enumerate(row.tolist()) if w > 0)
    return i


def one_hot(tokens: np.ndarray, V: int) -> np.ndarray:
    """(j,) token ids -> (j, V) float64 rows, each one-hot on its token."""
    rows = np.zeros((tokens.shape[0], V))  # (j, V)
    rows[np.arange(tokens.shape[0]), tokens] = 1.0
    return rows
