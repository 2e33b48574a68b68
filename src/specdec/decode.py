"""The decoding loop: one loop for chains and trees, greedy and sampling, any target, any drafter.

Each run starts the target on the prompt (its forward writes the first token), then repeats one *step*:
the drafter proposes a chain or a tree from a :class:`~specdec.drafters.base.Context` (the tokens so far
and the target's features for them), the target scores the newest written token and the draft under it
in ONE forward, and verification keeps a path of the draft plus one token of the target's own:

- temperature 0: the greedy walk of :func:`~specdec.core.verify.greedy_verify_tree` on the rows' argmaxes
  (:func:`~specdec.core.verify.greedy_accept`), so the output is the autoregressive greedy output, token
  for token;
- otherwise, on rows standardised by temperature and top-p: a chain by Leviathan et al.'s Algorithm 1
  (:func:`~specdec.core.verify.accept_chain`, :func:`~specdec.core.verify.verify` without its checks:
  the loop checks what it is given once), a tree by multi-candidate recursive rejection sampling
  (:func:`~specdec.core.verify.verify_tree`) under the draft's sibling rule; the output follows p_T exactly.

No draft is deeper than the tokens still allowed, so a step never writes past ``max_new_tokens``; the output
ends at the first ``stop`` token when one is given. The :class:`DecodeResult` counts only tokens written:
τ × steps = tokens written − the first token (the prompt's forward writes it).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from specdec import _arrays, _checks
from specdec.core.rows import check_sampling, sample, standardize_logit_rows, standardize_rows
from specdec.core.tree import is_chain
from specdec.core.typical import typical_rows, typical_verify_tree
from specdec.core.verify import accept_chain, greedy_accept, verify_tree
from specdec.drafters.base import Context, Scored, check_draft
from specdec.drafters.model import ModelDrafter
from specdec.targets.model import ModelTarget

__all__ = [
    "MAX_NEW_TOKENS",
    "ACCEPTANCE",
    "DecodeResult",
    "decode",
    "autoregressive_decode",
    "speculative_decode",
    "tree_speculative_decode",
]

MAX_NEW_TOKENS = 100_000
"""The most tokens one run may write: ``max_new_tokens`` above it is refused with a ``ValueError`` (a toy
target recomputes its whole context every forward, so a run costs O(max_new_tokens²))."""

ACCEPTANCE = ("exact", "typical")
"""``decode``'s acceptance rules: the lossless ones, or Medusa's lossy typical acceptance."""


@dataclass
class DecodeResult:
    """What the decoding loop returns.

    ``tokens``: the written tokens (prompt excluded), int64, at most ``max_new_tokens``, ending at the first
    ``stop`` token when one was written (``finished``). ``target_calls``: target forwards, the prompt's
    included; ``draft_calls``: the drafts' costs summed. Per step (one target forward after the prompt's):
    ``accepted_per_step`` drafts accepted, ``drafted_per_step`` tokens drafted (tree nodes),
    ``written_per_step`` tokens written (accepted drafts that were kept, plus the target's own token),
    ``scored_per_step`` new tokens in the forward. ``k``: the most tokens a draft was allowed. Wall times:
    ``prefill_s`` (the prompt's forward and first token), ``score_s`` (the target forwards after it),
    ``total_s``.
    """

    tokens: np.ndarray
    target_calls: int
    draft_calls: int = 0
    k: int = 0
    accepted_per_step: list = field(default_factory=list)
    drafted_per_step: list = field(default_factory=list)
    written_per_step: list = field(default_factory=list)
    scored_per_step: list = field(default_factory=list)
    finished: bool = False
    prefill_s: float = 0.0
    score_s: float = 0.0
    total_s: float = 0.0

    @property
    def steps(self) -> int:
        """Target forwards after the prompt's."""
        return len(self.written_per_step)

    @property
    def tau(self) -> float:
        """τ: tokens written per step (accepted drafts that were kept + the target's own token), the first
        token excluded; NaN when no step ran. τ × steps = len(tokens) − 1."""
        return sum(self.written_per_step) / self.steps if self.steps else math.nan

    @property
    def tokens_per_target_call(self) -> float:
        """τ, as :attr:`tau`."""
        return self.tau

    @property
    def accepted_fraction(self) -> float:
        """Accepted drafts ÷ drafted tokens; NaN when nothing was drafted. For chains of k tokens it is
        (τ − 1) / k, up to the last step.

        Not the acceptance rate α = E[β]: the drafts after a rejection are discarded untested, so with a
        constant α a step of k drafts accepts (α − αᵏ⁺¹) / (1 − α) on average, and this fraction tends to
        (α − αᵏ⁺¹) / ((1 − α)·k), which is below α.
        """
        drafted = sum(self.drafted_per_step)
        return sum(self.accepted_per_step) / drafted if drafted else math.nan


def _as_target(target: object):
    if all(callable(getattr(target, m, None)) for m in ("start", "score", "commit")):
        return target
    if callable(target):
        return ModelTarget(target)
    raise TypeError(
        "target must be a model callable, (L,) tokens -> (L, V) probabilities, or a Target (start, "
        f"score, commit), got {type(target).__name__}"
    )


def _as_drafter(drafter: object, temperature: float, top_p: float):
    """A drafter passes through; a bare model becomes a :class:`ModelDrafter` standardised like the target."""
    if drafter is None or callable(getattr(drafter, "propose", None)):
        return drafter
    if callable(drafter):
        return ModelDrafter(drafter, temperature=temperature, top_p=top_p, name="drafter")
    raise TypeError(
        "drafter must be a drafter (an object with a propose(context, k, rng) method, such as "
        "PromptLookup) or a model callable, (L,) tokens -> (L, V) probabilities; "
        f"got {type(drafter).__name__}"
    )


@dataclass
class _Run:
    """The loop's state: the checked arguments, the written tokens, the features, the last forward."""

    target: object
    drafter: object
    prompt: np.ndarray
    max_new: int
    k: int
    rng: np.random.Generator
    temperature: float
    top_p: float
    stop: int | None
    acceptance: str = "exact"
    logits: bool = False  # the target returns logits, not distributions
    rows_checked: bool = False  # the target checks its rows itself
    written: list = field(default_factory=list)
    features: np.ndarray | None = None
    scored: Scored | None = None


def _standardized(r: _Run, rows: np.ndarray) -> np.ndarray:
    """The target's rows as float64 distributions standardised by the run's temperature and top-p: from
    logits in one softmax of z / temperature, from distributions by :func:`standardize_rows`."""
    if r.logits:
        return standardize_logit_rows(rows, r.temperature, r.top_p)
    return standardize_rows(rows, r.temperature, r.top_p)


def _check_rows(r: _Run, rows: np.ndarray, call: str) -> None:
    """A target that does not check its own rows (``rows_checked``) has them checked here, every call:
    finite floating-point logits, or distributions."""
    if r.rows_checked:
        return
    name = f"target's {call} rows"
    if not r.logits:
        _arrays.check_rows(name, _arrays.float_array(name, rows, rows.ndim))
    elif rows.dtype.kind != "f" or not np.isfinite(rows).all():
        raise ValueError(f"{name} must be finite floating-point logits, got dtype {rows.dtype} or a NaN/inf")


def _pick(row: np.ndarray, r: _Run) -> int:
    """One token from a (V,) target row: its argmax at temperature 0 (of the logits or of the
    distribution: the same token), else a draw from the standardised row."""
    if r.temperature == 0.0:
        return int(row.argmax())
    p = _standardized(r, row)
    return sample(typical_rows(p) if r.acceptance == "typical" else p, r.rng)


def _draft(r: _Run, V: int):
    """This step's draft, checked: (tokens, parents, p_D, cost, rule); empty when nothing may be drafted."""
    slots, depth = r.target.room() if callable(getattr(r.target, "room", None)) else (None, None)
    k = min(r.k, r.max_new - len(r.written) - 1, r.k if depth is None else depth - 1)
    if r.drafter is None or k < 1:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros((0, V)), 0, "iid"
    tokens = np.concatenate([r.prompt, np.array(r.written, dtype=np.int64)])
    ctx = Context(tokens, r.features, r.scored, None if slots is None else slots - 1)
    # at temperature 0 the draft's rows are never read: only their shape is checked
    return check_draft(r.drafter.propose(ctx, k, r.rng), k, V, check_rows=r.temperature > 0.0)


def _verify(r: _Run, x, parents, p_D, rule, rows) -> tuple[np.ndarray, np.ndarray]:
    """Emitted tokens and accepted node indices of one step: greedy (on the rows' argmaxes alone),
    Algorithm 1 on a chain, or the tree rule. The draft was checked by ``check_draft`` and the rows' shape
    by the step, so nothing is checked twice."""
    if r.temperature == 0.0:
        return greedy_accept(x, parents, rows.argmax(axis=-1))
    p_T = _standardized(r, rows)  # (n + 1, V)
    if r.acceptance == "typical":
        return typical_verify_tree(x, parents, p_T, r.rng)
    if x.shape[0] and is_chain(parents):
        emitted, n = accept_chain(p_T, p_D, x, r.rng)
        return emitted, np.arange(n)
    return verify_tree(x, parents, p_T, p_D, r.rng, rule=rule)


def _step(r: _Run, result: DecodeResult, V: int) -> None:
    """One draft, one target forward, one verification; the result's per-step records."""
    x, parents, p_D, cost, rule = _draft(r, V)
    tokens = np.concatenate([[r.written[-1]], x]).astype(np.int64)  # the pending token at the root
    tree = np.concatenate([[-1], parents + 1]).astype(np.int64)  # the draft's roots under the pending token
    t0 = time.perf_counter()
    rows, features = r.target.score(tokens, tree)  # (n + 1, V), (n + 1, d)
    result.score_s += time.perf_counter() - t0
    if getattr(rows, "shape", None) != (tokens.shape[0], V):
        raise ValueError(
            f"target's score must return ({tokens.shape[0]}, {V}) rows for {tokens.shape[0]} new tokens, "
            f"got shape {getattr(rows, 'shape', None)}"
        )
    _check_rows(r, rows, "score")
    emitted, accepted = _verify(r, x, parents, p_D, rule, rows)
    path = np.concatenate([[0], accepted + 1]).astype(np.intp)
    r.target.commit(path)
    r.features = np.concatenate([r.features, np.asarray(features)[path]])
    r.scored = Scored(tokens, tree, rows)
    emitted = emitted[: r.max_new - len(r.written)].tolist()
    if r.stop is not None and r.stop in emitted:
        emitted = emitted[: emitted.index(r.stop) + 1]
    r.written.extend(emitted)
    result.accepted_per_step.append(int(accepted.shape[0]))
    result.drafted_per_step.append(int(x.shape[0]))
    result.written_per_step.append(len(emitted))
    result.scored_per_step.append(int(tokens.shape[0]))
    result.draft_calls += cost


def _check(target, drafter, prompt, max_new_tokens, k, rng, temperature, top_p, stop, acceptance) -> _Run:
    temperature, top_p = check_sampling(temperature, top_p)
    if not isinstance(acceptance, str):
        raise TypeError(f'acceptance must be a str, "exact" or "typical", got {type(acceptance).__name__}')
    if acceptance not in ACCEPTANCE:
        raise ValueError(f"acceptance must be one of {ACCEPTANCE}, got {acceptance!r}")
    return _Run(
        _as_target(target),
        _as_drafter(drafter, temperature, top_p),
        _arrays.prompt(prompt),
        _checks.integer("max_new_tokens", max_new_tokens, 0, MAX_NEW_TOKENS),
        _checks.integer("k", k, 0, None),
        _arrays.check_rng(rng),
        temperature,
        top_p,
        None if stop is None else _checks.integer("stop", stop, 0, None),
        acceptance,
    )


def decode(
    target,
    drafter,
    prompt,
    max_new_tokens: int,
    rng,
    *,
    k: int = 1,
    temperature=1.0,
    top_p=1.0,
    stop=None,
    acceptance: str = "exact",
) -> DecodeResult:
    """Decode up to ``max_new_tokens`` tokens after ``prompt`` (the module docstring); a
    :class:`DecodeResult`.

    ``target``: a :class:`~specdec.targets.base.Target` or a model callable (wrapped as a
    :class:`~specdec.targets.model.ModelTarget`). ``drafter``: ``None`` (autoregressive decoding on the
    same code path), an object with ``propose(context, k, rng) -> Draft`` (its ``reset()`` is called
    first), or a bare draft model, drafted from as ``ModelDrafter(model)`` at the loop's temperature and
    top-p. ``k``: the most tokens a draft may be deep. ``max_new_tokens`` in [0, :data:`MAX_NEW_TOKENS`].
    ``stop``: a token id that ends the output (``<eos>``), or ``None``. ``acceptance``: ``"exact"`` (the
    lossless rules) or ``"typical"``, Medusa's lossy typical acceptance at temperature > 0
    (:mod:`specdec.core.typical`; every token, the first included, then comes from the truncated row);
    at temperature 0 both are greedy.
    """
    r = _check(target, drafter, prompt, max_new_tokens, k, rng, temperature, top_p, stop, acceptance)
    result = DecodeResult(tokens=np.zeros(0, dtype=np.int64), target_calls=0, k=r.k)
    if r.max_new == 0:
        return result
    if callable(getattr(r.drafter, "reset", None)):
        r.drafter.reset()
    t0 = time.perf_counter()
    row, features = r.target.start(r.prompt)  # (V,), (L, d)
    if getattr(row, "ndim", None) != 1:
        raise ValueError(
            f"target's start must return the (V,) row after the prompt, got {type(row).__name__}"
            f" of shape {getattr(row, 'shape', None)}"
        )
    V = row.shape[0]
    _arrays.check_prompt_range(r.prompt, V)
    r.logits = getattr(r.target, "logits", False) is True
    r.rows_checked = _arrays.rows_checked(r.target)
    _check_rows(r, row, "start")
    r.written, r.features = [_pick(row, r)], np.asarray(features)
    result.prefill_s = time.perf_counter() - t0
    result.finished = r.written[-1] == r.stop
    while not result.finished and len(r.written) < r.max_new and _has_room(r.target):
        _step(r, result, V)
        result.finished = r.written[-1] == r.stop
    result.tokens = np.array(r.written, dtype=np.int64)
    result.target_calls = 1 + result.steps
    result.total_s = time.perf_counter() - t0
    return result


def _has_room(target) -> bool:
    """Whether the target can take one more token (a cached target's positions run out at n_ctx)."""
    room = target.room() if callable(getattr(target, "room", None)) else (None, None)
    return all(x is None or x >= 1 for x in room)


def autoregressive_decode(target, prompt, max_new_tokens: int, rng, *, temperature=1.0, top_p=1.0):
    """Plain decoding: one target call per new token, each drawn from standardised p_T (temperature 0:
    argmax). :func:`decode` with no drafter."""
    return decode(target, None, prompt, max_new_tokens, rng, k=0, temperature=temperature, top_p=top_p)


def speculative_decode(
    target, drafter, prompt, max_new_tokens: int, k: int, rng, *, temperature=1.0, top_p=1.0
):
    """Speculative decoding (Leviathan Algorithm 1, repeated) with any drafter: :func:`decode` with drafts
    of at most ``k`` (>= 1) tokens. The output follows p_T exactly; at temperature 0 it is the greedy
    output."""
    k = _checks.integer("k", k, 1, None)
    return decode(target, drafter, prompt, max_new_tokens, rng, k=k, temperature=temperature, top_p=top_p)


def tree_speculative_decode(target, drafter, prompt, max_new_tokens: int, rng, *, temperature=1.0, top_p=1.0):
    """Speculative decoding with a draft tree per step (such as a
    :class:`~specdec.drafters.model.ModelTreeDrafter`): :func:`decode` with drafts as deep as the drafter
    makes them. Lossless under the draft's sibling rule; at temperature 0 the greedy output."""
    k = _checks.integer("max_new_tokens", max_new_tokens, 0, MAX_NEW_TOKENS)
    return decode(target, drafter, prompt, max_new_tokens, rng, k=k, temperature=temperature, top_p=top_p)
