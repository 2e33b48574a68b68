"""Prompt lookup decoding (Saxena 2023): draft by copying what followed an earlier occurrence."""

from __future__ import annotations

import numpy as np

from specdec import _arrays, _checks
from specdec.core.rows import one_hot
from specdec.drafters.base import Context, Draft, Drafter, as_context

__all__ = ["tail_matches", "prompt_lookup", "PromptLookup"]


def tail_matches(seq: np.ndarray, tail: np.ndarray, n: int) -> np.ndarray:
    """(m,) sequence, (t,) tail, n <= t -> (e,) increasing indices i >= n − 1 where ``seq[i-n+1 : i+1]``
    equals the tail's last n tokens. The search starts from the positions of the tail's last token and
    keeps those whose n − 1 tokens before them match too: a few array operations, whatever the length."""
    ok = np.flatnonzero(seq == tail[-1])
    ok = ok[ok >= n - 1]  # the n-gram ending at each must fit in the sequence
    for back in range(1, n):
        ok = ok[seq[ok - back] == tail[-1 - back]]
    return ok


def prompt_lookup(context: np.ndarray, k: int, max_ngram: int) -> np.ndarray:
    """(L,) -> (j,), j <= k: what followed the last earlier occurrence of the context's final n-gram.

    n runs from ``max_ngram`` down to 1; the first n with an earlier match (:func:`tail_matches` in all but
    the last token) wins. Empty when nothing matches.
    """
    L = context.shape[0]
    for n in range(min(max_ngram, L - 1), 0, -1):
        ok = tail_matches(context[:-1], context, n)  # earlier n-grams equal to the last one, by their end
        if ok.size:
            after = int(ok[-1]) + 1  # the token after the last earlier match, < L
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

    def propose(self, context: Context, k: int, rng) -> Draft:
        tokens = as_context(context).tokens
        _arrays.check_token_range("context", tokens, self.vocab_size)
        k = _checks.integer("k", k, 1, None)
        _arrays.check_rng(rng)  # unused: the draft is deterministic
        x = prompt_lookup(tokens, k, self.max_ngram)  # (j,)
        return Draft(tokens=x, p_D=one_hot(x, self.vocab_size), cost=0, rule="one-hot")

    def __repr__(self) -> str:
        return f"PromptLookup(V={self.vocab_size}, max_ngram={self.max_ngram})"
