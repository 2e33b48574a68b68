"""Speculative sampling: Leviathan, Kalman & Matias (2023), Algorithm 1, in NumPy.

Notation (the site's unified notation, not the paper's letters):

- ``p_T`` -- the target model's next-token distribution (Leviathan's p, from M_p).
- ``p_D`` -- the draft model's next-token distribution (Leviathan's q, from the approximation M_q).
- ``k`` -- drafted tokens per step (Leviathan's γ).
- ``β`` -- the acceptance probability after one fixed prefix, β = Σ_x min(p_T(x), p_D(x)) for that prefix's pair
  of rows (Leviathan Definition 3.1, Theorem 3.5). :func:`acceptance_rate` computes it row by row.
- ``α`` -- acceptance rate, α = E[β], the expectation of β over prefixes (Leviathan Corollary 3.6).
- ``τ`` -- mean tokens emitted per target forward, the bonus / corrected token included.

A *model* is any callable ``model(tokens) -> probs``: ``tokens`` a 1-D int array of length L, ``probs``
an (L, V) float array whose row i is the next-token distribution after ``tokens[:i+1]``.

All randomness comes from the ``numpy.random.Generator`` passed in; the global RNG is never touched.
Bad input raises ``ValueError`` (or ``TypeError`` for a wrong type) naming the argument and the rule it
broke. Nothing is renormalised, clipped or guessed: a row must already be a distribution (non-negative,
finite, summing to 1 within ``ROW_SUM_TOL``). The only renormalisations are the ones that *define*
an operation: ``norm(max(0, p_T - p_D))`` and temperature / top-p (Leviathan section 2.2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from specdec import _checks

__all__ = [
    "ROW_SUM_TOL",
    "acceptance_rate",
    "residual",
    "standardize",
    "verify",
    "verify_batch",
    "DecodeResult",
    "SpeculativeResult",
    "autoregressive_decode",
    "speculative_decode",
]

ROW_SUM_TOL = 1e-6
"""A row counts as a distribution when it is non-negative, finite and sums to 1 within this."""

Model = Callable[[np.ndarray], np.ndarray]


# ----------------------------------------------------------------------------------------------
# validation: cheap (row sums and a minimum, one trip through memory per array), loud, never corrective
# ----------------------------------------------------------------------------------------------


def _float_array(name: str, p: object, ndim: int) -> np.ndarray:
    p = np.asarray(p)
    if p.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array, got dtype {p.dtype}")
    if p.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {p.shape}")
    if p.shape[-1] == 0:
        raise ValueError(f"{name} has an empty vocabulary axis (shape {p.shape})")
    return p


_BLOCK_BYTES = 1 << 20
"""Validation reads arrays in blocks of about this many bytes, so its second reduction hits the cache."""


def _row_sums(rows: np.ndarray) -> np.ndarray:
    """(R, V) -> (R,) float64 row sums. Short float64 rows go through a matrix-vector product (much faster
    than one reduction per row); NaN and infinities propagate either way."""
    if rows.shape[1] <= 256 and rows.dtype == np.float64:
        return rows @ np.ones(rows.shape[1], dtype=rows.dtype)
    return np.add.reduce(rows, axis=-1, dtype=np.float64)


def _check_rows(name: str, p: np.ndarray, *, row_offset: int = 0) -> None:
    """Every row ``p[..., :]`` is a distribution, or ValueError naming ``name`` and the first bad row.

    Two reductions per cache-sized block of rows: the row sums (an inf or NaN makes a sum non-finite),
    then the block minimum (a NaN or a negative entry fails ``>= 0``), which reads the block back from
    cache. Non-negative entries with finite row sums are all finite. So the array crosses memory once.
    Infinities and NaN are reported by the ValueError alone (no RuntimeWarning from the arithmetic).
    ``row_offset`` is added to the first index in the message, for ``p`` a slice of a larger array.
    """
    rows = p.reshape(-1, p.shape[-1])  # (R, V), a view for contiguous input
    step = max(1, _BLOCK_BYTES // (rows.shape[1] * rows.itemsize))
    sums = np.empty(rows.shape[0])  # (R,)
    non_negative = True
    with np.errstate(invalid="ignore", over="ignore"):  # inf − inf, or a sum past the float range: caught below
        for start in range(0, rows.shape[0], step):  # blocks of rows, not sequences: ~1 per MiB
            block = rows[start:start + step]
            sums[start:start + step] = _row_sums(block)
            non_negative &= bool(block.min() >= 0)
    sums = sums.reshape(p.shape[:-1])
    if non_negative and bool(np.all(np.abs(sums - 1.0) <= ROW_SUM_TOL)):
        return
    # error path only: find the first offending row to name it

    def shifted(where: tuple[int, ...]) -> tuple[int, ...]:
        return (where[0] + row_offset, *where[1:]) if p.ndim > 1 else where

    bad_entry = ~(p >= 0)
    if bad_entry.any():
        where = tuple(int(i) for i in np.argwhere(bad_entry)[0])
        value = float(p[where])
        kind = "NaN" if math.isnan(value) else "negative"
        raise ValueError(f"{name} is not a distribution: {kind} entry {value!r} at index {shifted(where)}")
    where = tuple(int(i) for i in np.argwhere(~(np.abs(sums - 1.0) <= ROW_SUM_TOL))[0])
    which = "it" if p.ndim == 1 else f"row {shifted(where)}"
    raise ValueError(
        f"{name} is not a distribution: {which} sums to {float(sums[where])!r}, "
        f"not 1 within {ROW_SUM_TOL:g} (rows are never renormalised for you)"
    )


def _check_rng(rng: object) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")


def _check_int(name: str, value: object, minimum: int) -> int:
    """A plain ``int`` >= ``minimum`` (no upper bound); ``TypeError`` for a non-integer, as documented here."""
    return _checks.integer(name, value, minimum, None, type_error=TypeError)


def _check_sampling(temperature: object, top_p: object) -> tuple[float, float]:
    """Temperature a finite float >= 0 (0 means greedy), top_p a float in (0, 1]; ``TypeError`` for a non-number."""
    return (_checks.nonnegative("temperature", temperature, type_error=TypeError),
            _checks.probability("top_p", top_p, zero=False, type_error=TypeError))


def _check_pair(p_target: object, p_draft: object) -> tuple[np.ndarray, np.ndarray]:
    """Two distributions, or two stacks of them, of the same shape: (V,) or (n, V)."""
    checked = []
    for name, p in (("p_target", p_target), ("p_draft", p_draft)):
        p = np.asarray(p)
        if p.ndim not in (1, 2):
            raise ValueError(f"{name} must be a (V,) row or an (n, V) array of rows, got shape {p.shape}")
        checked.append(_float_array(name, p, p.ndim))
    p_target, p_draft = checked
    if p_draft.shape != p_target.shape:
        raise ValueError(f"p_draft must have the shape of p_target {p_target.shape}, got {p_draft.shape}")
    _check_rows("p_target", p_target)
    _check_rows("p_draft", p_draft)
    return p_target, p_draft


def _check_step(p_target, p_draft, draft_tokens, rng, batched: bool):
    """Shapes, dtypes, ranges and distributions of one verification step (single or batched)."""
    lead = 1 if batched else 0
    p_target = _float_array("p_target", p_target, 2 + lead)
    p_draft = _float_array("p_draft", p_draft, 2 + lead)
    draft_tokens = np.asarray(draft_tokens)
    if draft_tokens.dtype.kind not in "iu":
        raise TypeError(f"draft_tokens must be an integer array, got dtype {draft_tokens.dtype}")
    if draft_tokens.ndim != 1 + lead:
        raise ValueError(f"draft_tokens must be {1 + lead}-D, got shape {draft_tokens.shape}")
    k = p_draft.shape[-2]
    if k < 1:
        raise ValueError(f"k (rows of p_draft) must be >= 1, got p_draft shape {p_draft.shape}")
    V = p_target.shape[-1]
    lead_shape = p_draft.shape[:lead]
    if p_draft.shape != (*lead_shape, k, V):
        raise ValueError(f"p_draft must have V={V} columns like p_target, got shape {p_draft.shape}")
    if p_target.shape != (*lead_shape, k + 1, V):
        raise ValueError(
            f"p_target must have shape {(*lead_shape, k + 1, V)} (k + 1 rows for k={k} drafts), "
            f"got {p_target.shape}"
        )
    if draft_tokens.shape != (*lead_shape, k):
        raise ValueError(f"draft_tokens must have shape {(*lead_shape, k)}, got {draft_tokens.shape}")
    if draft_tokens.size and (draft_tokens.min() < 0 or draft_tokens.max() >= V):
        raise ValueError(f"draft_tokens must lie in [0, V) = [0, {V}), got values in "
                         f"[{int(draft_tokens.min())}, {int(draft_tokens.max())}]")
    _check_rng(rng)
    _check_rows("p_target", p_target)
    _check_rows("p_draft", p_draft)
    return p_target, p_draft, draft_tokens.astype(np.intp, copy=False)


def _check_drafted(pd_x: np.ndarray) -> None:
    """A drafted token must have had positive draft probability: it was sampled from p_D."""
    if not np.all(pd_x > 0):
        where = tuple(int(i) for i in np.argwhere(~(pd_x > 0))[0])
        raise ValueError(f"draft_tokens{list(where)} has probability 0 under p_draft, so it cannot have been "
                         "drawn from p_draft")


# ----------------------------------------------------------------------------------------------
# the pieces of the rule
# ----------------------------------------------------------------------------------------------


def acceptance_rate(p_target, p_draft):
    """β = Σ_x min(p_T(x), p_D(x)) for each pair of rows (Leviathan Definition 3.1, Theorem 3.5).

    β is the probability that one draft drawn from the row ``p_draft`` is accepted against the row
    ``p_target``: the acceptance probability after one fixed prefix. The paper's acceptance rate α is its
    expectation over prefixes, α = E[β] (Corollary 3.6), so α of a pair of models is the mean of this
    function over rows from many prefixes; for a single fixed pair of rows (or rows that all give the same
    β) the two coincide. It equals 1 − the total-variation distance between the two rows.

    ``p_target``, ``p_draft``: (V,) -> a float; (n, V) -> an (n,) array, one β per row. Any other number
    of dimensions (a 0-d scalar included) raises ``ValueError``.
    """
    p_target, p_draft = _check_pair(p_target, p_draft)
    beta = np.minimum(p_target, p_draft).sum(axis=-1)  # (V,) -> () or (n, V) -> (n,)
    return float(beta) if beta.ndim == 0 else beta


def _residual_weights(p_target: np.ndarray, p_draft: np.ndarray, out: np.ndarray | None = None):
    """The weights a rejected row resamples from: (..., V), (..., V) -> ((..., V), (...)) row masses.

    max(0, p_T − p_D), unnormalised, computed as p_T − min(p_T, p_D) (into ``out`` when given, which may be
    ``p_draft`` itself). A row with no residual mass (p_T ≤ p_D everywhere, so p_T == p_D for distributions)
    cannot be rejected; it falls back to its p_T row instead of being all zeros. Returns the weights and the
    residual mass of each row (1 − β; 0 on the fall-back rows). The only implementation of the residual:
    :func:`residual`, :func:`verify` and :func:`verify_batch` all go through it.
    """
    w = np.minimum(p_target, p_draft, out=out)
    np.subtract(p_target, w, out=w)
    mass = w.sum(axis=-1)  # (...)
    empty = ~(mass > 0)
    if empty.any():
        w[empty] = p_target[empty]
    return w, mass


def residual(p_target, p_draft):
    """The adjusted distribution p' = norm(max(0, p_T − p_D)) (Leviathan section 2.3), row-wise.

    Where a row has no residual mass (p_T ≤ p_D everywhere, i.e. p_T == p_D for distributions),
    rejection cannot happen and the row of ``p_target`` is returned unchanged; never NaN.
    """
    p_target, p_draft = _check_pair(p_target, p_draft)
    w, mass = _residual_weights(p_target, p_draft)  # (..., V), (...) mass = 1 − β of the row
    return w / np.where(mass > 0, mass, 1.0)[..., None]  # fall-back rows hold p_T, divided by 1


_TOP_P_TOL = 1e-12
"""Top-p: a cumulative mass of at least ``top_p - _TOP_P_TOL`` counts as reaching ``top_p`` (summation rounding)."""


def standardize(p, temperature: float = 1.0, top_p: float = 1.0):
    """Temperature then top-p (nucleus) applied to distributions, row-wise (Leviathan section 2.2).

    ``p`` (..., V), each row a distribution. ``temperature`` 0 gives the one-hot argmax (first index
    on ties); otherwise p^(1/temperature), renormalised (computed in log space). A positive temperature so
    small that 1/temperature overflows gives the argmax row too (spread evenly over tied maxima), never NaN.
    ``top_p`` keeps the smallest set of most probable tokens whose mass reaches ``top_p`` (stable order on
    ties) and renormalises; a cumulative mass within 1e-12 below ``top_p`` counts as reaching it, so rounding
    in the sum (0.7 + 0.2 = 0.8999999999999999) does not keep an extra token. At least one token is kept.
    Always returns a new array, never ``p`` itself (also at temperature 1 and top_p 1, where it is a copy).
    Speculative sampling applies this to *both* p_T and p_D before the acceptance test.
    """
    temperature, top_p = _check_sampling(temperature, top_p)
    p = _float_array("p", p, max(np.ndim(p), 1))
    _check_rows("p", p)
    return _standardize(p, temperature, top_p)


def _standardize(p: np.ndarray, temperature: float, top_p: float) -> np.ndarray:
    """:func:`standardize` on rows already checked; a new array whatever the arguments."""
    if temperature == 1.0 and top_p == 1.0:
        return p.copy()
    if temperature == 0.0:
        q = np.zeros_like(p)  # (..., V)
        np.put_along_axis(q, p.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return q
    if temperature != 1.0:
        # log(0) = -inf is wanted; a tiny temperature overflows the division to -inf (also wanted), and if it
        # rounds to 0 in p's dtype, 0/0 at the maxima is replaced by 0: the limit is the argmax row, never NaN
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_p = np.log(p)  # (..., V), -inf where p == 0
            gap = log_p - log_p.max(axis=-1, keepdims=True)  # <= 0, and 0 at the maxima
            z = np.where(gap == 0, 0.0, gap / temperature)
        q = np.exp(z)  # 1 at the maxima, so every row sum is >= 1
        q /= q.sum(axis=-1, keepdims=True)
    else:
        q = p
    if top_p < 1.0:
        order = np.argsort(-q, axis=-1, kind="stable")  # (..., V) most probable first
        q_sorted = np.take_along_axis(q, order, axis=-1)
        mass = np.cumsum(q_sorted, axis=-1)  # (..., V)
        mass_before = np.concatenate([np.zeros_like(mass[..., :1]), mass[..., :-1]], axis=-1)  # exclusive
        keep_sorted = mass_before < top_p - _TOP_P_TOL  # mass within _TOP_P_TOL of top_p has reached it
        keep_sorted[..., 0] = True  # the most probable token is always kept
        keep = np.zeros(q.shape, dtype=bool)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        q = np.where(keep, q, 0.0)
        q /= q.sum(axis=-1, keepdims=True)
    return q


_ONE_LEVEL_V = 1024
"""Up to this vocabulary size a row is sampled from its full cumulative sum; above it, in two levels."""


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


def _sample_rows(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One index per row of ``weights`` (n, V), drawn with probability weights[i] / sum(weights).

    ``weights``: non-negative, each row with positive total (not necessarily normalised). ``u`` (n,):
    uniforms in [0, 1). Inverse-CDF sampling; a zero-weight token is never returned. For V above
    ``_ONE_LEVEL_V`` it runs in two levels, so a row costs one summation pass instead of a sequential
    cumulative sum over all V: first the block of ~sqrt(V) tokens that holds u·total, then the token in it.
    """
    n, V = weights.shape
    if V <= _ONE_LEVEL_V:
        return _inverse_cdf(weights, u * weights.sum(axis=1))  # u·total < total, since u < 1
    rows = np.arange(n)
    size = math.isqrt(V - 1) + 1  # block length, ceil(sqrt(V)) or close to it
    starts = np.arange(0, V, size)  # (blocks,)
    block_mass = np.add.reduceat(weights, starts, axis=1)  # (n, blocks)
    block_cdf = np.cumsum(block_mass, axis=1)  # (n, blocks)
    t = u * block_cdf[:, -1]  # (n,) < total, since u < 1
    j = (block_cdf <= t[:, None]).sum(axis=1)  # (n,) block_cdf[j-1] <= t < block_cdf[j]: block j has mass
    t = t - np.where(j > 0, block_cdf[rows, np.maximum(j - 1, 0)], 0.0)  # (n,) mass left to cover, >= 0
    cols = starts[j][:, None] + np.arange(size)  # (n, size) token ids of block j
    w = np.where(cols < V, weights[rows[:, None], np.minimum(cols, V - 1)], 0.0)  # (n, size)
    return starts[j] + _inverse_cdf(w, t)


def _sample(p_row: np.ndarray, rng: np.random.Generator) -> int:
    """One token from one (V,) row of weights, with one uniform from ``rng``."""
    return int(_sample_rows(p_row[None, :], np.array([rng.random()]))[0])


# ----------------------------------------------------------------------------------------------
# one verification step (Algorithm 1 after the drafting), single and batched
# ----------------------------------------------------------------------------------------------


def _last_token_weights(p_target: np.ndarray, p_draft: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Weights of the token that ends each step: (B, k+1, V), (B, k, V), (B,) accepted -> (B, V).

    max(0, p_T[n] − p_D[n]) after a rejection at row n; p_T[k] when all k drafts were accepted;
    p_T[n] when the residual has no mass (see :func:`residual`). Unnormalised.
    """
    B, k = p_draft.shape[:2]
    b = np.arange(B)
    pt_n = p_target[b, n]  # (B, V)
    pd_n = p_draft[b, np.minimum(n, k - 1)]  # (B, V) a copy, turned into the residual in place
    weights, _ = _residual_weights(pt_n, pd_n, out=pd_n)
    bonus = n == k  # (B,) all accepted: row k of p_T, not a residual
    if bonus.any():
        weights[bonus] = pt_n[bonus]
    return weights


def verify(p_target, p_draft, draft_tokens, rng):
    """One speculative-sampling verification step (Leviathan Algorithm 1, section 2.3).

    ``p_target`` (k+1, V): p_T after each drafted prefix; row k is for the bonus token.
    ``p_draft`` (k, V): p_D rows the drafts were drawn from. ``draft_tokens`` (k,) ints.
    ``rng``: a numpy Generator; the step draws k uniforms r, then one uniform for the last token.

    Draft x_i is accepted when r_i · p_D(x_i) < p_T(x_i), i.e. with probability min(1, p_T/p_D).
    At the first rejection (row n) one token is drawn from norm(max(0, p_T[n] − p_D[n])); when all k
    are accepted it is drawn from p_T[k].

    Returns ``(tokens, n_accepted)``: ``tokens`` a 1-D int array of length ``n_accepted + 1``.
    """
    p_target, p_draft, draft_tokens = _check_step(p_target, p_draft, draft_tokens, rng, batched=False)
    return _verify(p_target, p_draft, draft_tokens, rng)


def _verify(p_target: np.ndarray, p_draft: np.ndarray, draft_tokens: np.ndarray, rng: np.random.Generator):
    """:func:`verify` on inputs already checked (shapes, ranges, distributions)."""
    k = draft_tokens.shape[0]
    rows = np.arange(k)
    pt_x = p_target[rows, draft_tokens]  # (k,) p_T(x_i)
    pd_x = p_draft[rows, draft_tokens]  # (k,) p_D(x_i)
    _check_drafted(pd_x)
    r = rng.random(k)  # (k,)
    n = k
    for i in range(k):
        if not r[i] * pd_x[i] < pt_x[i]:  # rejected with probability 1 − p_T(x_i)/p_D(x_i)
            n = i
            break
    if n < k:
        weights, _ = _residual_weights(p_target[n], p_draft[n])  # (V,) max(0, p_T − p_D), or p_T if no mass
    else:
        weights = p_target[k]  # (V,) all accepted: the bonus token
    last = _sample(weights, rng)
    return np.append(draft_tokens[:n], last).astype(np.int64), n


def verify_batch(p_target, p_draft, draft_tokens, rng):
    """:func:`verify` for B independent sequences at once, with no Python loop over B.

    ``p_target`` (B, k+1, V), ``p_draft`` (B, k, V), ``draft_tokens`` (B, k). Draws a (B, k) block of
    uniforms, then B more, so ``verify_batch`` on B = 1 returns what ``verify`` returns for the same seed.
    Every operation covers the whole batch; the only loops walk memory in blocks of about 1 MiB (validation,
    and building the B residual rows), so the second pass over a block reads it from cache. For B·V·8
    bytes under 1 MiB that is a single iteration.
    Returns ``(tokens, n_accepted)``: ``tokens`` (B, k+1) int64, row b holding its ``n_accepted[b] + 1``
    tokens then -1 padding; ``n_accepted`` (B,).
    """
    p_target, p_draft, draft_tokens = _check_step(p_target, p_draft, draft_tokens, rng, batched=True)
    B, k = draft_tokens.shape
    b = np.arange(B)
    i = np.arange(k)
    pt_x = p_target[b[:, None], i, draft_tokens]  # (B, k) p_T(x_i)
    pd_x = p_draft[b[:, None], i, draft_tokens]  # (B, k) p_D(x_i)
    _check_drafted(pd_x)
    r = rng.random((B, k))  # (B, k)
    rejected = ~(r * pd_x < pt_x)  # (B, k)
    n = np.where(rejected.any(axis=1), rejected.argmax(axis=1), k)  # (B,) first rejection, or k

    u = rng.random(B)  # (B,) one uniform per sequence for its last token

    last = np.empty(B, dtype=np.int64)  # (B,)
    step = max(1, _BLOCK_BYTES // (p_target.shape[-1] * p_target.itemsize))
    for start in range(0, B, step):  # cache-sized blocks of rows (one block unless B·V is large)
        blk = slice(start, start + step)
        last[blk] = _sample_rows(_last_token_weights(p_target[blk], p_draft[blk], n[blk]), u[blk])

    tokens = np.full((B, k + 1), -1, dtype=np.int64)  # (B, k+1)
    tokens[:, :k] = np.where(i < n[:, None], draft_tokens, -1)
    tokens[b, n] = last
    return tokens, n.astype(np.int64)


# ----------------------------------------------------------------------------------------------
# decoding loops
# ----------------------------------------------------------------------------------------------


@dataclass
class DecodeResult:
    """What a decoding loop returns.

    ``tokens``: the ``max_new_tokens`` generated tokens (prompt excluded), an int64 array.
    ``target_calls`` / ``draft_calls``: how many times each model was called.
    """

    tokens: np.ndarray
    target_calls: int
    draft_calls: int


@dataclass
class SpeculativeResult(DecodeResult):
    """A :class:`DecodeResult` plus the per-step record of speculative decoding.

    ``k``: the most drafts per step. ``accepted_per_step``: accepted drafts of each step (one step = one
    target call). ``drafted_per_step``: drafts of each step, min(k, tokens still needed), so k except
    possibly in the last step; ``None`` (for a result built by hand) means k in every step.
    ``draft_calls`` equals ``sum(drafted_per_step)``.
    """

    k: int
    accepted_per_step: list
    drafted_per_step: list | None = field(default=None)

    def _drafted(self) -> list:
        return [self.k] * len(self.accepted_per_step) if self.drafted_per_step is None else self.drafted_per_step

    @property
    def tokens_per_target_call(self) -> float:
        """τ: mean tokens a step emitted (accepted drafts + the one corrected / bonus token).

        Counts the tokens the sampler produced, including the one it may produce past ``max_new_tokens``
        in the last step (its bonus token); NaN when no step ran.
        """
        steps = len(self.accepted_per_step)
        return (sum(self.accepted_per_step) + steps) / steps if steps else math.nan

    @property
    def acceptance_rate(self) -> float:
        """Accepted drafts / drafted tokens: ``sum(accepted_per_step) / sum(drafted_per_step)``, NaN when no
        step ran. When every step drafted k tokens it is (τ − 1) / k.

        This is **not** the acceptance rate α of Leviathan et al. (α = E[β], the per-draft acceptance
        probability; see :func:`specdec.sampling.acceptance_rate` for β) and not an estimate of it: the
        drafts after a rejection are discarded untested, so with a constant α a step of k drafts accepts
        (α − α^(k+1)) / (1 − α) on average, and this ratio tends to (α − α^(k+1)) / ((1 − α)·k) < α.
        The name is the project's; read it as "accepted over drafted".
        """
        drafted = sum(self._drafted())
        return sum(self.accepted_per_step) / drafted if drafted else math.nan


def _check_prompt(prompt: object) -> np.ndarray:
    prompt = np.asarray(prompt)
    if prompt.dtype.kind not in "iu":
        raise TypeError(f"prompt must be an integer array, got dtype {prompt.dtype}")
    if prompt.ndim != 1 or prompt.shape[0] == 0:
        raise ValueError(f"prompt must be a non-empty 1-D array of token ids, got shape {prompt.shape}")
    if prompt.min() < 0:
        raise ValueError(f"prompt token ids must be >= 0, got {int(prompt.min())}")
    return prompt.astype(np.int64)


def _call(model: Model, name: str, tokens: np.ndarray, V: int | None, first_row: int) -> np.ndarray:
    """Call ``model`` (the argument ``name``: target or draft) on ``tokens``, check the (len(tokens), V)
    protocol, and return its rows ``first_row:``, each checked to be a distribution. Errors name the
    argument, the expected and the actual shape, and the bad row as an index into the model's output."""
    L = tokens.shape[0]
    expected = f"({L}, V)" if V is None else f"({L}, {V})"
    out = np.asarray(model(tokens))
    if out.ndim != 2 or out.shape[0] != L or out.shape[1] == 0:
        raise ValueError(f"{name} must return a (len(tokens), V) = {expected} array for its {L} input tokens, "
                         f"got shape {out.shape}")
    if V is not None and out.shape[1] != V:
        raise ValueError(f"{name} returned V={out.shape[1]} columns (shape {out.shape}), expected V={V} (shape "
                         f"{expected}): draft and target must share a vocabulary")
    if out.dtype.kind != "f":
        raise TypeError(f"{name} must return floating-point probabilities, got dtype {out.dtype}")
    used = out[first_row:]
    try:
        _check_rows(f"{name} output", used, row_offset=first_row)
    except ValueError as err:
        raise ValueError(f"{err}; {name} returned shape {out.shape} for {L} input tokens (expected {expected}), "
                         f"row i being the distribution after tokens[:i+1]") from None
    return used


def _check_prompt_range(prompt: np.ndarray, V: int) -> None:
    if prompt.max() >= V:
        raise ValueError(f"prompt token ids must be < V={V}, got {int(prompt.max())}")


def autoregressive_decode(target: Model, prompt, max_new_tokens: int, rng, *, temperature: float = 1.0,
                          top_p: float = 1.0) -> DecodeResult:
    """Plain decoding: one target call per new token, each drawn from standardised p_T.

    ``temperature`` 0 is greedy (argmax). Returns a :class:`DecodeResult` with ``draft_calls`` 0.
    """
    prompt = _check_prompt(prompt)
    max_new_tokens = _check_int("max_new_tokens", max_new_tokens, 0)
    temperature, top_p = _check_sampling(temperature, top_p)
    _check_rng(rng)
    tokens = prompt
    V = None
    for _ in range(max_new_tokens):
        p_T = _call(target, "target", tokens, V, len(tokens) - 1)  # (1, V) last row
        if V is None:
            V = p_T.shape[1]
            _check_prompt_range(prompt, V)
        p_T = _standardize(p_T[0], temperature, top_p)  # (V,)
        tokens = np.append(tokens, _sample(p_T, rng))
    return DecodeResult(tokens=tokens[len(prompt):], target_calls=max_new_tokens, draft_calls=0)


def speculative_decode(target: Model, draft: Model, prompt, max_new_tokens: int, k: int, rng, *,
                       temperature: float = 1.0, top_p: float = 1.0) -> SpeculativeResult:
    """Speculative decoding (Leviathan Algorithm 1, repeated): the output follows p_T exactly.

    Each step drafts j = min(k, tokens still needed) tokens autoregressively from standardised p_D (j draft
    calls), scores the j + 1 prefixes with one target call, and keeps what :func:`verify` keeps (1 to j + 1
    tokens). Each step is a whole step of Leviathan's Algorithm 1 with γ = j, so the output stays exact,
    and no draft is made that could not be used: a huge k costs nothing when few tokens are needed.
    Temperature and top-p standardise p_T and p_D *before* the acceptance test. The last step may produce
    one token more than needed (its bonus token); the output is cut to ``max_new_tokens`` (a prefix of an
    exact sample is an exact sample).
    """
    prompt = _check_prompt(prompt)
    max_new_tokens = _check_int("max_new_tokens", max_new_tokens, 0)
    k = _check_int("k", k, 1)
    temperature, top_p = _check_sampling(temperature, top_p)
    _check_rng(rng)
    tokens = prompt
    V = None
    accepted: list[int] = []
    drafted: list[int] = []
    draft_calls = 0
    while len(tokens) - len(prompt) < max_new_tokens:
        k_step = min(k, max_new_tokens - (len(tokens) - len(prompt)))  # never draft what cannot be used
        context = tokens
        p_D = []  # k_step rows of (V,)
        for _ in range(k_step):
            q = _call(draft, "draft", context, V, len(context) - 1)[0]  # (V,)
            draft_calls += 1
            if V is None:
                V = q.shape[0]
                _check_prompt_range(prompt, V)
            q = _standardize(q, temperature, top_p)
            p_D.append(q)
            context = np.append(context, _sample(q, rng))
        p_D = np.stack(p_D)  # (k_step, V)
        p_T = _call(target, "target", context, V, len(tokens) - 1)  # (k_step+1, V)
        p_T = _standardize(p_T, temperature, top_p)
        new, n = _verify(p_T, p_D, context[len(tokens):], rng)  # rows checked in _call
        accepted.append(n)
        drafted.append(k_step)
        tokens = np.concatenate([tokens, new])
    return SpeculativeResult(tokens=tokens[len(prompt):len(prompt) + max_new_tokens], target_calls=len(accepted),
                             draft_calls=draft_calls, k=k, accepted_per_step=accepted, drafted_per_step=drafted)
