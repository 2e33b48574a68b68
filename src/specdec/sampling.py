"""Speculative sampling: Leviathan, Kalman & Matias (2023), Algorithm 1, in NumPy, with a seam for drafters.

Notation (the site's unified notation, not the paper's letters):

- ``p_T`` -- the target model's next-token distribution (Leviathan's p, from M_p).
- ``p_D`` -- the draft's next-token distribution (Leviathan's q, from the approximation M_q).
- ``k`` -- drafted tokens per step (Leviathan's γ).
- ``β`` -- the acceptance probability after one fixed prefix, β = Σ min(p_T(x), p_D(x)) over tokens x,
  for that prefix's pair of rows (Leviathan Definition 3.1, Theorem 3.5); :func:`beta` computes it.
- ``α`` -- acceptance rate, α = E[β], the expectation of β over prefixes (Leviathan Corollary 3.6).
- ``τ`` -- mean tokens emitted per target forward, the bonus / corrected token included.

The module reads in the page's order: β and the residual, standardisation (temperature, top-p), one
verification step (:func:`verify`, :func:`verify_batch`), drafters, the decoding loops.

A *model* is any callable ``model(tokens) -> probs``: ``tokens`` a 1-D int array of length L, ``probs``
an (L, V) float array whose row i is the next-token distribution after ``tokens[:i+1]``.

A *drafter* proposes, the target disposes. Any object with a method ``propose(context, k, rng) -> Draft``
is a drafter: from the tokens so far it proposes at most k tokens, with the (j, V) rows p_D they were
drawn from and its cost in draft forward calls. A deterministic drafter gives one-hot rows, which
Algorithm 1 verifies losslessly like any other. :func:`speculative_decode` calls the drafter once per
step, scores context + draft with one target call and keeps what :func:`verify` keeps, so the output
follows p_T whatever the drafter proposes. Drafters here: :class:`ModelDrafter` (a draft model sampled
autoregressively: Leviathan's path), :class:`specdec.models.NGramDrafter` (an n-gram model read at its
last n − 1 tokens) and :class:`PromptLookup` (Saxena 2023: copy what followed an earlier occurrence of
the context's last n-gram).

Trees. A tree-shaped draft (Medusa, EAGLE, SpecInfer: several candidates per position, verified in one
target forward under a tree attention mask) extends this seam instead of replacing it: :mod:`specdec.tree`
holds it. A tree draft is the tokens, their p_D rows and one parent index per drafted token (a chain is
the tree whose parents are -1, 0, 1, ...); the target returns one p_T row per node; verification walks
from the root, trying the children of an accepted node one after another with the acceptance test used
here, each rejection replacing p_T by its residual for the next sibling (the multi-candidate rule of
SpecInfer, Miao et al. 2023). Its decoding loop returns the :class:`SpeculativeResult` defined here.

All randomness comes from the ``numpy.random.Generator`` passed in; the global RNG is never touched.
Bad input raises ``TypeError`` for a wrong type and ``ValueError`` for a wrong value, naming the argument
and the rule it broke (checks in the private module ``specdec._arrays``). Nothing is renormalised,
clipped or guessed: a row must already be a distribution (non-negative, finite, summing to 1 within
``ROW_SUM_TOL``). The only renormalisations are the ones that *define* an operation:
norm(max(0, p_T − p_D)) and temperature / top-p (Leviathan section 2.2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from specdec import _arrays, _checks
from specdec._arrays import ROW_SUM_TOL

__all__ = [
    "ROW_SUM_TOL",
    "beta",
    "residual",
    "standardize",
    "verify",
    "verify_batch",
    "Draft",
    "Drafter",
    "ModelDrafter",
    "PromptLookup",
    "DecodeResult",
    "SpeculativeResult",
    "autoregressive_decode",
    "speculative_decode",
]

Model = Callable[[np.ndarray], np.ndarray]


def _check_sampling(temperature: object, top_p: object) -> tuple[float, float]:
    """Temperature a finite float >= 0 (0 means greedy), top_p a float in (0, 1]."""
    return _checks.nonnegative("temperature", temperature), _checks.probability("top_p", top_p, zero=False)


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


def _residual_weights(p_T: np.ndarray, p_D: np.ndarray, out: np.ndarray | None = None):
    """The weights a rejected row resamples from: (..., V), (..., V) -> ((..., V), (...)) row masses.

    max(0, p_T − p_D), unnormalised, computed as p_T − min(p_T, p_D) (into ``out`` when given, which may be
    ``p_D`` itself). A row with no residual mass (p_T ≤ p_D everywhere, so p_T = p_D for distributions)
    cannot be rejected; it falls back to its p_T row instead of being all zeros. Returns the weights and the
    residual mass of each row (1 − β; 0 on the fall-back rows). The only implementation of the residual:
    :func:`residual`, :func:`verify` and :func:`verify_batch` all go through it.
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
    w, mass = _residual_weights(p_T, p_D)  # (..., V), (...) mass = 1 − β of the row
    return w / np.where(mass > 0, mass, 1.0)[..., None]  # fall-back rows hold p_T, divided by 1


# ----------------------------------------------------------------------------------------------
# standardised sampling (Leviathan section 2.2) and drawing one token per row
# ----------------------------------------------------------------------------------------------


_TOP_P_TOL = 1e-12
"""Top-p: a cumulative mass of at least ``top_p - _TOP_P_TOL`` counts as reaching ``top_p``
(summation rounding)."""


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
    temperature, top_p = _check_sampling(temperature, top_p)
    p = _arrays.distribution("p", p, max(np.ndim(p), 1))
    return _standardize(p, temperature, top_p)


def _standardize(p: np.ndarray, temperature: float, top_p: float) -> np.ndarray:
    """:func:`standardize` on rows already checked; a new array whatever the arguments."""
    if temperature == 1.0 and top_p == 1.0:
        return p.copy()
    if temperature == 0.0:
        out = np.zeros_like(p)  # (..., V)
        np.put_along_axis(out, p.argmax(axis=-1)[..., None], 1.0, axis=-1)
        return out
    if temperature != 1.0:
        # log(0) = -inf is wanted; a tiny temperature overflows the division to -inf (also wanted), and if it
        # rounds to 0 in p's dtype, 0/0 at the maxima is replaced by 0: the limit is the argmax row, never NaN
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            log_p = np.log(p)  # (..., V), -inf where p == 0
            gap = log_p - log_p.max(axis=-1, keepdims=True)  # <= 0, and 0 at the maxima
            z = np.where(gap == 0, 0.0, gap / temperature)
        out = np.exp(z)  # 1 at the maxima, so every row sum is >= 1
        out /= out.sum(axis=-1, keepdims=True)
    else:
        out = p
    if top_p < 1.0:
        order = np.argsort(-out, axis=-1, kind="stable")  # (..., V) most probable first
        out_sorted = np.take_along_axis(out, order, axis=-1)
        mass = np.cumsum(out_sorted, axis=-1)  # (..., V)
        mass_before = np.concatenate([np.zeros_like(mass[..., :1]), mass[..., :-1]], axis=-1)  # exclusive
        keep_sorted = mass_before < top_p - _TOP_P_TOL  # mass within _TOP_P_TOL of top_p has reached it
        keep_sorted[..., 0] = True  # the most probable token is always kept
        keep = np.zeros(out.shape, dtype=bool)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        out = np.where(keep, out, 0.0)
        out /= out.sum(axis=-1, keepdims=True)
    return out


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
    p_T, p_D, draft_tokens = _arrays.step(p_target, p_draft, draft_tokens, rng, batched=False)
    return _verify(p_T, p_D, draft_tokens, rng)


def _verify(p_T: np.ndarray, p_D: np.ndarray, draft_tokens: np.ndarray, rng: np.random.Generator):
    """:func:`verify` on inputs already checked: (k+1, V), (k, V), (k,), k >= 0 (k = 0 is one plain step)."""
    k = draft_tokens.shape[0]
    rows = np.arange(k)
    p_T_of_x = p_T[rows, draft_tokens]  # (k,) p_T(x_i)
    p_D_of_x = p_D[rows, draft_tokens]  # (k,) p_D(x_i)
    _arrays.drafted(p_D_of_x)
    r = rng.random(k)  # (k,)
    n = k
    for i in range(k):
        if not r[i] * p_D_of_x[i] < p_T_of_x[i]:  # rejected with probability 1 − p_T(x_i)/p_D(x_i)
            n = i
            break
    if n < k:
        weights, _ = _residual_weights(p_T[n], p_D[n])  # (V,) max(0, p_T − p_D), or p_T if no mass
    else:
        weights = p_T[k]  # (V,) all accepted: the bonus token
    last = _sample(weights, rng)
    return np.append(draft_tokens[:n], last).astype(np.int64), n


def _last_token_weights(p_T: np.ndarray, p_D: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Weights of the token that ends each step: (B, k+1, V), (B, k, V), (B,) accepted -> (B, V).

    max(0, p_T[n] − p_D[n]) after a rejection at row n; p_T[k] when all k drafts were accepted;
    p_T[n] when the residual has no mass (see :func:`residual`). Unnormalised.
    """
    B, k = p_D.shape[:2]
    b = np.arange(B)
    p_T_n = p_T[b, n]  # (B, V)
    p_D_n = p_D[b, np.minimum(n, k - 1)]  # (B, V) a copy, turned into the residual in place
    weights, _ = _residual_weights(p_T_n, p_D_n, out=p_D_n)
    bonus = n == k  # (B,) all accepted: row k of p_T, not a residual
    if bonus.any():
        weights[bonus] = p_T_n[bonus]
    return weights


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
    p_T, p_D, draft_tokens = _arrays.step(p_target, p_draft, draft_tokens, rng, batched=True)
    B, k = draft_tokens.shape
    b = np.arange(B)
    i = np.arange(k)
    p_T_of_x = p_T[b[:, None], i, draft_tokens]  # (B, k) p_T(x_i)
    p_D_of_x = p_D[b[:, None], i, draft_tokens]  # (B, k) p_D(x_i)
    _arrays.drafted(p_D_of_x)
    r = rng.random((B, k))  # (B, k)
    rejected = ~(r * p_D_of_x < p_T_of_x)  # (B, k)
    n = np.where(rejected.any(axis=1), rejected.argmax(axis=1), k)  # (B,) first rejection, or k

    u = rng.random(B)  # (B,) one uniform per sequence for its last token

    last = np.empty(B, dtype=np.int64)  # (B,)
    step = max(1, _arrays.BLOCK_BYTES // (p_T.shape[-1] * p_T.itemsize))
    for start in range(0, B, step):  # cache-sized blocks of rows (one block unless B·V is large)
        blk = slice(start, start + step)
        last[blk] = _sample_rows(_last_token_weights(p_T[blk], p_D[blk], n[blk]), u[blk])

    tokens = np.full((B, k + 1), -1, dtype=np.int64)  # (B, k+1)
    tokens[:, :k] = np.where(i < n[:, None], draft_tokens, -1)
    tokens[b, n] = last
    return tokens, n.astype(np.int64)


# ----------------------------------------------------------------------------------------------
# drafters: what proposes the k tokens of a step
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """What a drafter proposes for one step.

    ``tokens`` (j,) int64, j <= k (j = 0: nothing to propose, the step is one plain target step).
    ``p_D`` (j, V) float: row i is the distribution ``tokens[i]`` was drawn from (one-hot for a
    deterministic drafter). ``cost``: draft forward calls spent, in units of one draft-model forward
    (0 for a drafter that runs no model, such as :class:`PromptLookup`).
    """

    tokens: np.ndarray
    p_D: np.ndarray
    cost: int

    def __repr__(self) -> str:
        return f"Draft(tokens={self.tokens.tolist()}, p_D shape {self.p_D.shape}, cost={self.cost})"


class Drafter:
    """The drafter protocol: ``propose(context, k, rng) -> Draft`` with at most ``k`` tokens.

    ``context``: the prompt and every token emitted so far, a 1-D int64 array. ``rng``: the
    ``numpy.random.Generator`` of the decoding loop, for drafters that sample. Subclassing is optional:
    :func:`speculative_decode` accepts any object with a ``propose`` method.
    """

    def propose(self, context: np.ndarray, k: int, rng: np.random.Generator) -> Draft:
        raise NotImplementedError


def _one_hot(tokens: np.ndarray, V: int) -> np.ndarray:
    """(j,) token ids -> (j, V) float64 rows, each one-hot on its token."""
    rows = np.zeros((tokens.shape[0], V))  # (j, V)
    rows[np.arange(tokens.shape[0]), tokens] = 1.0
    return rows


class ModelDrafter(Drafter):
    """Leviathan's draft model: k tokens drawn autoregressively from the standardised p_D of ``model``.

    ``model`` follows the model protocol ((L,) -> (L, V)); ``temperature`` and ``top_p`` standardise its
    rows before each draw (use the target's, for the best acceptance; any choice stays exact). Each
    drafted token costs one call of ``model``, on the whole context so far. Attribute ``name`` names
    the model in error messages.
    """

    def __init__(self, model: Model, *, temperature: float = 1.0, top_p: float = 1.0, name: str = "draft"):
        if not callable(model):
            raise TypeError(
                f"model must be callable, (L,) tokens -> (L, V) probabilities, got {type(model).__name__}"
            )
        self.model = model
        self.temperature, self.top_p = _check_sampling(temperature, top_p)
        self.name = name

    def _next_row(self, tokens: np.ndarray, V: int | None) -> np.ndarray:
        """(L,) tokens -> (V,) p_D after them, before standardisation, checked."""
        return _call(self.model, self.name, tokens, V, tokens.shape[0] - 1)[0]

    def propose(self, context, k: int, rng) -> Draft:
        context = _arrays.token_array("context", context).astype(np.int64)
        k = _checks.integer("k", k, 1, None)
        return self._propose(context, k, _arrays.check_rng(rng))

    def _propose(self, context: np.ndarray, k: int, rng: np.random.Generator) -> Draft:
        tokens, rows, V = context, [], None
        for _ in range(k):
            p_D = _standardize(self._next_row(tokens, V), self.temperature, self.top_p)  # (V,)
            V = p_D.shape[0]
            rows.append(p_D)
            tokens = np.append(tokens, _sample(p_D, rng))
        return Draft(tokens=tokens[context.shape[0] :], p_D=np.stack(rows), cost=k)  # (k,), (k, V)

    def __repr__(self) -> str:
        return f"ModelDrafter({self.model!r}, temperature={self.temperature:g}, top_p={self.top_p:g})"


def _prompt_lookup(context: np.ndarray, k: int, max_ngram: int) -> np.ndarray:
    """(L,) -> (j,), j <= k: what followed the last earlier occurrence of the context's final n-gram.

    n runs from ``max_ngram`` down to 1; the first n with an earlier match wins. Empty when nothing matches.
    """
    L = context.shape[0]
    for n in range(min(max_ngram, L - 1), 0, -1):
        windows = np.lib.stride_tricks.sliding_window_view(context[:-1], n)  # (L-n, n), starts 0 .. L-n-1
        starts = np.flatnonzero((windows == context[-n:]).all(axis=1))  # earlier matches of the last n tokens
        if starts.size:
            after = starts[-1] + n  # the token after the last earlier match, < L
            return context[after : after + k]
    return context[:0]


class PromptLookup(Drafter):
    """Prompt lookup decoding (Saxena 2023): draft by copying from the prompt and the output so far.

    The context's final n tokens are searched for earlier in the context, n from ``max_ngram`` down to
    1; the tokens that followed the last earlier match (at most k) are the draft, with one-hot p_D rows.
    No match gives an empty draft, and that step is a plain target step. It runs no model: its cost is
    0 draft calls, and it pays off where the output repeats its input (editing, summarising, grammar
    correction). ``vocab_size`` (V) sizes the one-hot rows; ``max_ngram`` >= 1.
    """

    def __init__(self, vocab_size: int, *, max_ngram: int = 3):
        self.vocab_size = _checks.integer("vocab_size", vocab_size, 1, None)
        self.max_ngram = _checks.integer("max_ngram", max_ngram, 1, None)

    def propose(self, context, k: int, rng) -> Draft:
        context = _arrays.token_array("context", context).astype(np.int64)
        _arrays.check_token_range("context", context, self.vocab_size)
        k = _checks.integer("k", k, 1, None)
        _arrays.check_rng(rng)  # unused: the draft is deterministic
        tokens = _prompt_lookup(context, k, self.max_ngram)  # (j,)
        return Draft(tokens=tokens, p_D=_one_hot(tokens, self.vocab_size), cost=0)

    def __repr__(self) -> str:
        return f"PromptLookup(V={self.vocab_size}, max_ngram={self.max_ngram})"


def _as_drafter(drafter: object, temperature: float, top_p: float) -> Drafter:
    """A drafter passes through; a bare model becomes a :class:`ModelDrafter` standardised like the target."""
    if callable(getattr(drafter, "propose", None)):
        return drafter  # type: ignore[return-value]
    if callable(drafter):
        return ModelDrafter(drafter, temperature=temperature, top_p=top_p, name="drafter")
    raise TypeError(
        "drafter must be a drafter (an object with a propose(context, k, rng) method, such as "
        "PromptLookup) or a model callable, (L,) tokens -> (L, V) probabilities; "
        f"got {type(drafter).__name__}"
    )


# ----------------------------------------------------------------------------------------------
# decoding loops
# ----------------------------------------------------------------------------------------------


@dataclass
class DecodeResult:
    """What a decoding loop returns.

    ``tokens``: the ``max_new_tokens`` generated tokens (prompt excluded), an int64 array.
    ``target_calls``: target forward calls. ``draft_calls``: draft forward calls, the sum of the
    drafts' costs (0 for plain decoding and for drafters that run no model).
    """

    tokens: np.ndarray
    target_calls: int
    draft_calls: int


@dataclass
class SpeculativeResult(DecodeResult):
    """A :class:`DecodeResult` plus the per-step record of speculative decoding.

    ``k``: the most drafts per step. ``accepted_per_step``: accepted drafts of each step (one step = one
    target call). ``drafted_per_step``: drafts of each step, at most min(k, tokens still needed); a
    draft model drafts exactly that, a lookup drafter may draft fewer. ``None`` (for a result built by
    hand) means k in every step.
    """

    k: int
    accepted_per_step: list
    drafted_per_step: list | None = field(default=None)

    def _drafted(self) -> list:
        return (
            [self.k] * len(self.accepted_per_step) if self.drafted_per_step is None else self.drafted_per_step
        )

    @property
    def tokens_per_target_call(self) -> float:
        """τ: mean tokens a step emitted (accepted drafts + the one corrected / bonus token).

        Counts the tokens the sampler produced, including the one it may produce past ``max_new_tokens``
        in the last step (its bonus token); NaN when no step ran.
        """
        steps = len(self.accepted_per_step)
        return (sum(self.accepted_per_step) + steps) / steps if steps else math.nan

    @property
    def accepted_fraction(self) -> float:
        """Accepted drafts ÷ drafted tokens, ``sum(accepted_per_step) / sum(drafted_per_step)``; NaN when
        nothing was drafted. When every step drafted k tokens it is (τ − 1) / k.

        Not the acceptance rate α = E[β]: the drafts after a rejection are discarded untested, so with a
        constant α a step of k drafts accepts (α − αᵏ⁺¹) / (1 − α) on average, and this fraction tends to
        (α − αᵏ⁺¹) / ((1 − α)·k), which is below α.
        """
        drafted = sum(self._drafted())
        return sum(self.accepted_per_step) / drafted if drafted else math.nan


def _call(model: Model, name: str, tokens: np.ndarray, V: int | None, first_row: int) -> np.ndarray:
    """Call ``model`` (the argument ``name``) on ``tokens`` and return its rows ``first_row:``, checked."""
    return _arrays.model_output(name, model(tokens), tokens.shape[0], V, first_row)


def _vocab_size(model: object) -> int | None:
    """The model's ``vocab_size`` attribute when it has an int one (every model in specdec.models does)."""
    V = getattr(model, "vocab_size", None)
    return int(V) if isinstance(V, (int, np.integer)) and not isinstance(V, bool) and V > 0 else None


def _check_prompt_range(prompt: np.ndarray, V: int | None) -> None:
    if V is not None and prompt.max() >= V:
        raise ValueError(f"prompt token ids must be < V={V}, got {int(prompt.max())}")


def _check_loop(target: object, prompt: object, max_new_tokens: object, rng: object, temperature, top_p):
    """The arguments both decoding loops share, checked; V from ``target.vocab_size`` when it has one."""
    if not callable(target):
        raise TypeError(
            f"target must be a model callable, (L,) tokens -> (L, V) probabilities, got "
            f"{type(target).__name__}"
        )
    prompt = _arrays.prompt(prompt)
    V = _vocab_size(target)
    _check_prompt_range(prompt, V)
    max_new_tokens = _checks.integer("max_new_tokens", max_new_tokens, 0, None)
    temperature, top_p = _check_sampling(temperature, top_p)
    return prompt, V, max_new_tokens, _arrays.check_rng(rng), temperature, top_p


def autoregressive_decode(
    target: Model, prompt, max_new_tokens: int, rng, *, temperature: float = 1.0, top_p: float = 1.0
) -> DecodeResult:
    """Plain decoding: one target call per new token, each drawn from standardised p_T.

    ``temperature`` 0 is greedy (argmax). Returns a :class:`DecodeResult` with ``draft_calls`` 0.
    """
    prompt, V, max_new_tokens, rng, temperature, top_p = _check_loop(
        target, prompt, max_new_tokens, rng, temperature, top_p
    )
    tokens = prompt
    for _ in range(max_new_tokens):
        p_T = _call(target, "target", tokens, V, len(tokens) - 1)  # (1, V) last row
        if V is None:
            V = p_T.shape[1]
            _check_prompt_range(prompt, V)
        p_T = _standardize(p_T[0], temperature, top_p)  # (V,)
        tokens = np.append(tokens, _sample(p_T, rng))
    return DecodeResult(tokens=tokens[len(prompt) :], target_calls=max_new_tokens, draft_calls=0)


def speculative_decode(
    target: Model,
    drafter,
    prompt,
    max_new_tokens: int,
    k: int,
    rng,
    *,
    temperature: float = 1.0,
    top_p: float = 1.0,
) -> SpeculativeResult:
    """Speculative decoding (Leviathan Algorithm 1, repeated) with any drafter: the output follows p_T
    exactly.

    ``drafter``: an object with ``propose(context, k, rng) -> Draft`` (:class:`ModelDrafter`,
    :class:`PromptLookup`, :class:`specdec.models.NGramDrafter`, your own), or a bare draft model, which
    is drafted from as ``ModelDrafter(model, temperature=temperature, top_p=top_p)``.

    Each step asks the drafter for at most j = min(k, tokens still needed) tokens, scores the context
    and the draft with one target call, and keeps what :func:`verify` keeps (1 to j + 1 tokens). Each
    step is a whole step of Leviathan's Algorithm 1, so the output stays exact, and no draft is asked
    for that could not be used: a huge k costs nothing when few tokens are needed. Temperature and top-p
    standardise p_T *before* the acceptance test. The last step may produce one token more than needed
    (its bonus token); the output is cut to ``max_new_tokens`` (a prefix of an exact sample is an exact
    sample).
    """
    prompt, V, max_new_tokens, rng, temperature, top_p = _check_loop(
        target, prompt, max_new_tokens, rng, temperature, top_p
    )
    k = _checks.integer("k", k, 1, None)
    drafter = _as_drafter(drafter, temperature, top_p)
    return _speculative_decode(target, drafter, prompt, V, max_new_tokens, k, rng, temperature, top_p)


def _speculative_decode(
    target: Model,
    drafter: Drafter,
    prompt: np.ndarray,
    V: int | None,
    max_new_tokens: int,
    k: int,
    rng: np.random.Generator,
    temperature: float,
    top_p: float,
) -> SpeculativeResult:
    """:func:`speculative_decode` on checked arguments; V, when not yet known, from the first draft."""
    tokens = prompt
    accepted: list[int] = []
    drafted: list[int] = []
    draft_calls = 0
    while len(tokens) - len(prompt) < max_new_tokens:
        k_step = min(k, max_new_tokens - (len(tokens) - len(prompt)))  # never draft what cannot be used
        d = drafter.propose(tokens, k_step, rng)
        x, p_D, cost = _arrays.draft(d.tokens, d.p_D, d.cost, k_step, V)  # (j,), (j, V)
        if V is None:
            V = p_D.shape[1]
            _check_prompt_range(prompt, V)
        p_T = _call(target, "target", np.concatenate([tokens, x]), V, len(tokens) - 1)  # (j+1, V)
        new, n = _verify(_standardize(p_T, temperature, top_p), p_D, x.astype(np.intp), rng)
        accepted.append(n)
        drafted.append(x.shape[0])
        draft_calls += cost
        tokens = np.concatenate([tokens, new])
    return SpeculativeResult(
        tokens=tokens[len(prompt) : len(prompt) + max_new_tokens],
        target_calls=len(accepted),
        draft_calls=draft_calls,
        k=k,
        accepted_per_step=accepted,
        drafted_per_step=drafted,
    )
