"""The drafter seam: what a drafter sees (:class:`Context`), what it returns (:class:`Draft`), the protocol.

A drafter proposes, the target disposes. Any object with a method ``propose(context, k, rng) -> Draft`` is
a drafter: from the :class:`Context` (the tokens so far *and* the target's features for them) it proposes
a chain or a tree at most ``k`` tokens deep, with the p_D rows its tokens were drawn from and its cost in
draft forward calls. A deterministic drafter gives one-hot rows, which verification keeps losslessly like
any other. An optional ``reset()`` is called by the decoding loop before every run, so no state (a KV
cache, an n-gram pool) leaks from one run into the next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from specdec import _arrays, _checks
from specdec.core.tree import chain_parents, check_tree
from specdec.core.verify import RULES

__all__ = ["Context", "Scored", "Draft", "Drafter", "as_context", "check_draft"]


@dataclass(frozen=True)
class Scored:
    """One target forward of the previous step: its ``tokens`` and ``parents`` (the written token that was
    pending at the root, parent −1, then the draft's nodes) and the target's (n, V) ``rows`` as the target
    gave them (distributions, or logits for a target with ``logits = True``: their argmaxes agree), row i
    after node i. What a drafter that learns from the target's outputs (Lookahead) reads."""

    tokens: np.ndarray
    parents: np.ndarray
    rows: np.ndarray


@dataclass(frozen=True)
class Context:
    """What a drafter sees.

    ``tokens`` (L,) int64: the prompt and every token written so far. ``features`` (L − 1, d) or ``None``:
    the target's features of every token but the newest (whose forward has not run yet), row i computed
    at ``tokens[i]``: a transformer's last hidden states, a model without hidden states its output rows.
    ``scored``: the previous step's forward (:class:`Scored`), ``None`` before the first step. ``room``:
    the most nodes the target can score in the next forward (``None``: no limit).
    """

    tokens: np.ndarray
    features: np.ndarray | None = None
    scored: Scored | None = None
    room: int | None = None


def as_context(context: object) -> Context:
    """A :class:`Context` as it is, or a 1-D int array of tokens wrapped as one (no features), checked."""
    if isinstance(context, Context):
        return context
    tokens = _arrays.token_array("context", context).astype(np.int64)
    return Context(tokens)


@dataclass(frozen=True)
class Draft:
    """What a drafter proposes for one step: a chain, or a tree when ``parents`` is given.

    ``tokens`` (n,) int64 (n = 0: nothing to propose, the step is one plain target step). ``p_D`` (n, V)
    float: row i is the distribution ``tokens[i]`` was drawn from (one-hot for a deterministic drafter).
    ``cost``: draft forward calls spent, in units of one draft-model forward (0 for a drafter that runs no
    model). ``parents`` (n,) or ``None`` for a chain (parents −1, 0, …, n − 2); ``rule``: how siblings
    were drawn, one of :data:`specdec.core.verify.RULES`.
    """

    tokens: np.ndarray
    p_D: np.ndarray
    cost: int = 0
    parents: np.ndarray | None = None
    rule: str = "iid"

    @property
    def tree_parents(self) -> np.ndarray:
        """The parents, a chain's when ``parents`` is ``None``."""
        return chain_parents(len(self.tokens)) if self.parents is None else np.asarray(self.parents)

    def __repr__(self) -> str:
        tree = "" if self.parents is None else f", parents={np.asarray(self.parents).tolist()}"
        rule = "" if self.parents is None else f", rule={self.rule!r}"
        return f"Draft(tokens={np.asarray(self.tokens).tolist()}{tree}, p_D shape {self.p_D.shape}{rule}, cost={self.cost})"  # noqa: E501


class Drafter:
    """The drafter protocol: ``propose(context, k, rng) -> Draft`` at most ``k`` tokens deep, and ``reset()``.

    ``context``: a :class:`Context` (or a bare 1-D int64 array of tokens). ``rng``: the
    ``numpy.random.Generator`` of the decoding loop, for drafters that sample. Subclassing is optional:
    the loop accepts any object with a ``propose`` method, and calls ``reset`` when there is one.
    """

    def reset(self) -> None:
        """Forget every earlier run (the base drafter keeps nothing)."""

    def propose(self, context: Context, k: int, rng: np.random.Generator) -> Draft:
        raise NotImplementedError


def _depth(parents: np.ndarray) -> int:
    """Tokens on the longest root-to-leaf path of checked ``parents``."""
    d = np.zeros(parents.shape[0], dtype=np.int64)
    for i, p in enumerate(parents.tolist()):
        d[i] = 1 if p < 0 else d[p] + 1
    return int(d.max(initial=0))


def check_draft(d: object, k: int, V: int | None, *, check_rows: bool = True):
    """What a drafter's ``propose(context, k, rng)`` returned, checked: a :class:`Draft` at most ``k`` deep,
    its (n, V) rows distributions (V columns when V is known), a cost >= 0 and a known rule.
    ``check_rows=False`` checks the rows' dtype and shape but not their values (greedy decoding never
    reads them).

    Returns ``(tokens, parents, p_D, cost, rule)``, tokens and parents int64.
    """
    if not isinstance(d, Draft):
        raise TypeError(f"drafter's propose must return a Draft, got {type(d).__name__}")
    tokens, parents = check_tree(_arrays.token_array("drafter's Draft.tokens", d.tokens), d.tree_parents)
    p_D = _arrays.float_array("drafter's Draft.p_D", d.p_D, 2)
    depth = tokens.shape[0] if d.parents is None else _depth(parents)  # a chain is as deep as it is long
    if depth > k:
        raise ValueError(f"drafter's Draft must be at most k={k} tokens deep, got {depth}")
    n = tokens.shape[0]
    if V is not None and p_D.shape[1] != V:
        raise ValueError(
            f"drafter's Draft.p_D has V={p_D.shape[1]} columns, the target V={V}: draft and target must "
            "share a vocabulary"
        )
    if p_D.shape[0] != n:
        want = f"({n}, {'V' if V is None else V})"
        raise ValueError(
            f"drafter's Draft.p_D must have shape {want}, one row per drafted token, got {p_D.shape}"
        )
    _arrays.check_token_range("drafter's Draft.tokens", tokens, p_D.shape[1])
    if check_rows:
        _arrays.check_rows("drafter's Draft.p_D", p_D)
    if isinstance(d.cost, bool) or not isinstance(d.cost, (int, np.integer)):
        raise TypeError(
            f"drafter's Draft.cost must be an int (draft forward calls), got {type(d.cost).__name__}"
        )
    cost = _checks.integer("drafter's Draft.cost", d.cost, 0, None)
    if d.rule not in RULES:
        raise ValueError(f"drafter's Draft.rule must be one of {', '.join(map(repr, RULES))}, got {d.rule!r}")
    return tokens, parents, p_D, cost, d.rule
