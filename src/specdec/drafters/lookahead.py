"""Lookahead decoding (Fu et al. 2024) as a drafter: Jacobi n-grams, verified in the same forward.

No draft model. Each step's draft is ONE tree under the written token that is pending at the root, in two
groups the target scores in one forward:

- the *verification branch*: up to G n-grams of the pool whose first token is the pending token, their
  N − 1 following tokens merged into a trie (:func:`specdec.core.tree.tree_from_paths`), first in index
  order, so greedy verification tries them first and keeps the longest prefix the target agrees with;
- the *lookahead branch*: a 2-D window of ``levels`` (up to N − 1) levels of W guessed tokens. The token at
  level l, column j sits at depth l + j and sees the pending token, the level-0 tokens of columns 0 … j and
  the tokens of its own column at levels 1 … l: one token for every position up to its own, so it is one
  step of Jacobi iteration along that trajectory. As a tree, level 0 is a chain and level l, column j is
  the child of level l − 1, column j (:func:`window_parents`), so the tree attention mask of
  :mod:`specdec.core.tree` is exactly the mask of the LookaheadDecoding repository and of Figure 2 of the
  paper (:func:`lookahead_mask` builds it in the paper's order).

The target's argmax at the last level's column j is a new guess for depth N − 1 + j (read by the next
:meth:`Lookahead.propose` from ``context.scored``); the column, read top to bottom plus that guess, is an
N-gram, stored in a pool keyed by its first token. The window then moves down one level (the oldest
dropped, the new guesses appended); while it has fewer than N − 1 levels it grows instead and no n-gram
is collected. Every node is reported with the one-hot row of its token (rule ``"one-hot"``), so any
verification keeps the output exact; greedily it is the autoregressive greedy output.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from specdec import _arrays, _checks
from specdec.core.rows import one_hot
from specdec.core.tree import ancestor_mask, depths, tree_from_paths
from specdec.drafters.base import Context, Draft, Drafter, as_context

__all__ = ["window_parents", "lookahead_parents", "lookahead_mask", "lookahead_positions", "Lookahead"]


def window_parents(levels: int, width: int, offset: int = 0, root: int = -1) -> np.ndarray:
    """(levels·width,) parents of the lookahead window's nodes, numbered level by level from ``offset``:
    level 0 a chain under ``root``, level l column j the child of level l − 1 column j."""
    idx = offset + np.arange(levels * width).reshape(levels, width)  # (levels, width) node numbers
    parents = np.empty((levels, width), dtype=np.int64)
    if levels:
        parents[0] = np.concatenate([[root], idx[0, :-1]])
        parents[1:] = idx[:-1]
    return parents.ravel()


def _check_shape(levels: int, window: int, candidates: Sequence[int]) -> list[int]:
    _checks.integer("levels", levels, 0, None)
    _checks.integer("window", window, 0, None)
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence):
        raise TypeError(
            f"candidates must be a sequence of candidate lengths, got {type(candidates).__name__}"
        )
    return [_checks.integer(f"candidates[{g}]", c, 1, None) for g, c in enumerate(candidates)]


def lookahead_parents(levels: int, window: int, candidates: Sequence[int]) -> np.ndarray:
    """(T,) parents of the new tokens of one Lookahead step in the paper's order: the pending token (the
    root, parent −1); the lookahead branch level by level; the verification branch, candidate after
    candidate (``candidates[g]`` tokens each, a chain under the pending token). T = 1 + levels·window + Σ
    candidates."""
    cands = _check_shape(levels, window, candidates)
    out = [np.array([-1]), window_parents(levels, window, offset=1, root=0)]
    start = 1 + levels * window
    for c in cands:
        out.append(np.concatenate([[0], start + np.arange(c - 1)]))
        start += c
    return np.concatenate(out).astype(np.int64)


def lookahead_mask(levels: int, window: int, candidates: Sequence[int]) -> np.ndarray:
    """(T, T) bool attention mask among the new tokens of one Lookahead step, True = may attend: the
    tree attention mask of :func:`lookahead_parents` (every new token also sees the whole cache)."""
    return ancestor_mask(lookahead_parents(levels, window, candidates))


def lookahead_positions(levels: int, window: int, candidates: Sequence[int]) -> np.ndarray:
    """(T,) int64 relative position ids in :func:`lookahead_mask`'s order: 0 for the pending token,
    1 + l + j at level l, column j, and 1 … c for a candidate of c tokens (the tree depths)."""
    return depths(lookahead_parents(levels, window, candidates))


class Lookahead(Drafter):
    """Lookahead drafting with window ``W``, n-gram size ``N`` (N − 1 levels) and at most ``G`` candidates
    per step, over a vocabulary of ``vocab_size`` ids (for the one-hot rows). A draft is at most k tokens
    deep: candidates are cut to min(N − 1, k) tokens and the window to the columns that fit (the loop's
    ``k`` of W + N − 2 keeps the whole window). The first level of the window is drawn from the context
    with the loop's ``rng``; :meth:`reset` forgets the window and the pool."""

    def __init__(self, vocab_size: int, *, W: int = 3, N: int = 3, G: int = 3):
        self.vocab_size = _checks.integer("vocab_size", vocab_size, 1, None)
        self.W = _checks.integer("W", W, 1, None)
        self.N = _checks.integer("N", N, 2, None)
        self.G = _checks.integer("G", G, 0, None)
        self.reset()

    def reset(self) -> None:
        self.window: np.ndarray | None = None  # (levels, W), grows to N − 1 levels
        self.pool: dict[int, list[tuple]] = {}
        self._last_level: np.ndarray | None = None  # node indices of the last level in the last draft

    def propose(self, context: Context, k: int, rng) -> Draft:
        context = as_context(context)
        tokens, k, rng = context.tokens, _checks.integer("k", k, 1, None), _arrays.check_rng(rng)
        if self.window is None:
            self.window = rng.choice(tokens, size=(1, self.W))
        elif context.scored is not None and self._last_level is not None:
            self._advance(context.scored.rows[1 + self._last_level].argmax(axis=-1))
        pending = int(tokens[-1])
        length = min(self.N - 1, k)
        cands = list(dict.fromkeys(c[:length] for c in reversed(self.pool.get(pending, []))))[: self.G]
        room = k * (self.G + self.W) if context.room is None else context.room  # most nodes
        x, parents = self._trie(cands, room)
        levels = self.window.shape[0]
        width = min(self.W, k - levels + 1, (room - x.shape[0]) // levels)
        self._last_level = None
        if width >= 1:
            offset = x.shape[0]
            x = np.concatenate([x, self.window[:, :width].ravel()]).astype(np.int64)
            parents = np.concatenate([parents, window_parents(levels, width, offset)])
            self._last_level = offset + (levels - 1) * width + np.arange(width)
        return Draft(x, one_hot(x, self.vocab_size), 0, parents, "one-hot")

    @staticmethod
    def _trie(cands: list[tuple], room: int) -> tuple[np.ndarray, np.ndarray]:
        """The candidates as one trie of at most ``room`` nodes (the newest candidates kept first)."""
        while cands:
            x, parents = tree_from_paths(cands)
            if x.shape[0] <= room:
                return x, parents
            cands = cands[:-1]
        return np.zeros(0, np.int64), np.zeros(0, np.int64)

    def _advance(self, guesses: np.ndarray) -> None:
        """Collect the columns' n-grams (window full) and move the window down one level."""
        window, W = self.window, guesses.shape[0]
        new = window[-1].copy()
        new[:W] = guesses
        if window.shape[0] < self.N - 1:
            self.window = np.vstack([window, new])
            return
        for j in range(W):
            gram = (*window[:, j].tolist(), int(new[j]))
            grams = self.pool.setdefault(gram[0], [])
            if gram[1:] in grams:
                grams.remove(gram[1:])
            grams.append(gram[1:])
        self.window = np.vstack([window[1:], new])

    def __repr__(self) -> str:
        return f"Lookahead(W={self.W}, N={self.N}, G={self.G})"
