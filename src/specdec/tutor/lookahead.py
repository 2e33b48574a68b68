"""Lookahead decoding (Fu et al. 2024) on the tutor, greedy: Jacobi n-grams verified in the same forward.

No draft model. Each step is ONE target forward over three groups of new tokens after the cache:

- the *pending* token (the newest committed token), at relative position 0;
- the *lookahead branch*: a 2-D window of ``levels`` (up to N − 1) levels of W guessed tokens. The
  token at level l, column j sits at relative position 1 + l + j and sees the pending token, the level-0
  tokens of columns 0 … j and the tokens of its own column at levels 1 … l: one token for every
  position from 0 to its own, so it is one step of Jacobi iteration along that trajectory. The
  argmax at the last level's column j is a new guess for position N + j; the column, read top to
  bottom plus that guess, is an N-gram, stored in a pool keyed by its first token;
- the *verification branch*: up to G n-grams of the pool whose first token is the pending token, their
  N − 1 following tokens at relative positions 1 … N − 1, each candidate causal within itself and
  seeing only the pending token (not the other candidates, not the lookahead branch).

:func:`lookahead_mask` builds that (T, T) mask among the new tokens (every new token also sees the whole
cache) and :func:`lookahead_positions` their relative positions; the layout is the one of the
LookaheadDecoding repository and of Figure 2 of the paper. Verification is greedy: the candidate with
the longest prefix of argmax tokens wins (the first on ties), plus the argmax after it, so the output is
the autoregressive greedy output token for token. The window then moves down one level (the oldest
dropped, the new guesses appended); while it has fewer than N − 1 levels it grows instead and no n-gram
is collected. Sampling verification of Lookahead is not implemented here: it is greedy-only.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from specdec import _arrays, _checks
from specdec.tutor.speculative import MAX_TOKENS, CachedTarget, Run, _cut

__all__ = ["lookahead_mask", "lookahead_positions", "Lookahead"]


def _check_shape(levels: int, window: int, candidates: Sequence[int]) -> list[int]:
    _checks.integer("levels", levels, 0, None)
    _checks.integer("window", window, 0, None)
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Sequence):
        raise TypeError(
            f"candidates must be a sequence of candidate lengths, got {type(candidates).__name__}"
        )
    return [_checks.integer(f"candidates[{g}]", c, 1, None) for g, c in enumerate(candidates)]


def lookahead_mask(levels: int, window: int, candidates: Sequence[int]) -> np.ndarray:
    """(T, T) bool attention mask among the new tokens of one Lookahead step, True = may attend.

    Order: the pending token; the lookahead branch level by level (``levels`` levels of ``window``
    tokens, level 0 first); the verification branch, candidate after candidate (``candidates[g]``
    tokens each). T = 1 + levels·window + Σ candidates.
    """
    cands = _check_shape(levels, window, candidates)
    la, T = levels * window, 1 + levels * window + sum(cands)
    mask = np.zeros((T, T), dtype=bool)
    mask[:, 0] = True  # everything sees the pending token
    mask[0, 0] = True
    col = np.arange(window)
    lower = col[None, :] <= col[:, None]  # (W, W): column j sees columns 0 … j of level 0
    for lev in range(levels):
        rows = 1 + lev * window + col  # (W,)
        mask[np.ix_(rows, 1 + col)] = lower  # level 0, causal
        for up in range(1, lev + 1):
            mask[rows, 1 + up * window + col] = True  # the same column at levels 1 … lev
    start = 1 + la
    for c in cands:  # each candidate: causal within itself
        idx = start + np.arange(c)
        mask[np.ix_(idx, idx)] = np.tri(c, dtype=bool)
        start += c
    return mask


def lookahead_positions(levels: int, window: int, candidates: Sequence[int]) -> np.ndarray:
    """(T,) int64 relative position ids in :func:`lookahead_mask`'s order: 0 for the pending token,
    1 + l + j at level l, column j, and 1 … c for a candidate of c tokens."""
    cands = _check_shape(levels, window, candidates)
    la = (1 + np.arange(levels)[:, None] + np.arange(window)[None, :]).ravel()  # (levels·W,)
    vb = [np.arange(1, c + 1) for c in cands]
    return np.concatenate([[0], la, *vb]).astype(np.int64)


class Lookahead:
    """Greedy Lookahead decoding with window ``W``, n-gram size ``N`` (N − 1 levels) and at most ``G``
    candidates verified per step. ``rng`` seeds the first level of the window (tokens of the prompt)."""

    def __init__(self, target: CachedTarget, *, W: int = 3, N: int = 3, G: int = 3):
        if not isinstance(target, CachedTarget):
            raise TypeError(f"target must be a CachedTarget, got {type(target).__name__}")
        self.target = target
        self.W = _checks.integer("W", W, 1, None)
        self.N = _checks.integer("N", N, 2, None)
        self.G = _checks.integer("G", G, 0, None)

    def _candidates(self, pool: dict, pending: int, room: int) -> list[tuple]:
        """Up to G n-grams of the pool after ``pending`` (newest first), cut to ``room`` tokens."""
        if room < 1:
            return []
        return list(dict.fromkeys(c[:room] for c in reversed(pool.get(pending, []))))[: self.G]

    def _step(self, window: np.ndarray, pending: int, cands: list, room: int):
        """One forward; returns (emitted tokens, new guesses (W',) or None)."""
        levels, W = window.shape if room > 0 else (0, 0)
        lens = [len(c) for c in cands]
        tokens = np.concatenate([[pending], window.ravel()[: levels * W], *[np.array(c) for c in cands]])
        P = self.target.cache.length
        logits = self.target.score(
            tokens.astype(np.intp),
            P + lookahead_positions(levels, W, lens),
            lookahead_mask(levels, W, lens),
        )
        best = logits.argmax(axis=-1)  # (T,)
        start, top, keep = 1 + levels * W, -1, [0]
        emitted = [int(best[0])]
        for c in cands:  # the longest candidate prefix the target agrees with
            rows = np.concatenate([[0], start + np.arange(len(c))])  # rows before each token, then after
            miss = np.flatnonzero(best[rows[:-1]] != np.array(c))
            n = int(miss[0]) if miss.size else len(c)
            if n > top:
                top, keep = n, [0, *rows[1 : n + 1].tolist()]
                emitted = [*c[:n], int(best[rows[n]])]
            start += len(c)
        self.target.commit(np.array(keep))
        guesses = best[1 + (levels - 1) * W : 1 + levels * W] if levels else None
        return emitted, guesses

    def correct(self, prompt, rng: np.random.Generator, max_tokens: int = MAX_TOKENS) -> Run:
        """One greedy correction of ``prompt``; the :class:`~specdec.tutor.speculative.Run` record."""
        prompt = _arrays.prompt(prompt).astype(np.int64)
        rng = _arrays.check_rng(rng)
        eos, n_ctx = self.target.tutor.tokenizer.eos, self.target.tutor.cfg.n_ctx
        t0 = time.perf_counter()
        ids = [int(self.target.start(prompt).argmax())]
        run = Run(ids, 1, 0, new_tokens=[prompt.shape[0]], prefill_s=time.perf_counter() - t0)
        window = rng.choice(prompt, size=(1, self.W))  # (levels, W), grows to N − 1 levels
        pool: dict[int, list[tuple]] = {}
        while eos not in ids and len(ids) < max_tokens:
            P = self.target.cache.length  # the pending token's position
            room = min(self.N - 1, max_tokens - len(ids) - 1)
            W = min(self.W, n_ctx - P - window.shape[0])  # lookahead positions stay below n_ctx
            cands = self._candidates(pool, ids[-1], room)
            run.new_tokens.append(1 + window.shape[0] * max(W, 0) + sum(len(c) for c in cands))
            emitted, guesses = self._step(window[:, : max(W, 0)], ids[-1], cands, max(W, 0))
            if guesses is not None:
                window = self._advance(window, guesses, pool)
            ids.extend(emitted)
            run.accepted.append(len(emitted) - 1)
            run.drafted.append(sum(len(c) for c in cands))
        run.target_forwards, run.verify_s = self.target.forwards, self.target.forward_s
        run.total_s = time.perf_counter() - t0
        run.ids = _cut(ids, eos, max_tokens)
        return run

    def _advance(self, window: np.ndarray, guesses: np.ndarray, pool: dict) -> np.ndarray:
        """Collect the columns' n-grams (window full) and move the window down one level."""
        W = guesses.shape[0]
        new = window[-1].copy()
        new[:W] = guesses
        if window.shape[0] < self.N - 1:
            return np.vstack([window, new])
        for j in range(W):
            gram = (*window[:, j].tolist(), int(new[j]))
            grams = pool.setdefault(gram[0], [])
            if gram[1:] in grams:
                grams.remove(gram[1:])
            grams.append(gram[1:])
        return np.vstack([window[1:], new])
