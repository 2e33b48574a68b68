"""A transformer with a KV cache as a target: one forward per step, over a chain or a tree, with rollback.

The cache holds every committed token; one :meth:`CachedTarget.score` is one ``forward`` over the new
tokens (the written token pending at the root and the draft under it) under the tree attention mask of
:mod:`specdec.core.tree`, at position ids committed length + depth. :meth:`CachedTarget.commit` then keeps
the accepted path and rolls the cache back: a prefix is kept by truncation; the nodes of a tree path are
first moved into a contiguous chain. The keys and values of a position depend only on what it attends to
and on its position id, so a kept node's entries are those a chain forward would have written, up to
float32 rounding (the tests: within 1e-5 of a fresh prefill).
"""

from __future__ import annotations

import numpy as np

from specdec import _arrays, _checks
from specdec.core.tree import is_chain, layout
from specdec.targets.base import Target

__all__ = ["CachedTarget"]


class CachedTarget(Target):
    """A model with ``forward(tokens, positions, cache, mask=None, last_only=False) -> (logits, hidden)``,
    ``new_cache()``, ``cfg.n_ctx`` and ``vocab_size`` (a :class:`~specdec.tutor.api.Tutor`) as a
    target; its rows are the model's float32 logits (``logits = True``: the loop turns them into
    distributions only when it samples) and its features the (T, d) last hidden states of each forward.
    ``capacity``: cache slots, by default the cache ``new_cache()`` makes; scored positions that are
    then dropped need room too, and :meth:`room` says how many new tokens, and how deep, the next
    forward can take (cache slots, position ids below n_ctx)."""

    logits = True
    rows_checked = True  # the model's own logits: the loop does not check them again

    def __init__(self, model, *, capacity: int | None = None):
        if not (callable(getattr(model, "forward", None)) and callable(getattr(model, "new_cache", None))):
            raise TypeError(
                f"model must have forward() and new_cache() (a Tutor), got {type(model).__name__}"
            )
        self.model, self.vocab_size = model, model.vocab_size
        self.cache = model.new_cache()
        if capacity is not None:  # a larger cache of the same kind
            capacity = _checks.integer("capacity", capacity, 1, None)
            self.cache = type(self.cache)(model.cfg, capacity)
        self._base = self._n = 0  # cache length before the last score, and its new tokens

    def start(self, prompt) -> tuple[np.ndarray, np.ndarray]:
        """Empty the cache and run the prompt's forward: the (V,) logits after the whole prompt (the head
        runs on the last position only) and the (L, d) hidden states."""
        prompt = _arrays.prompt(prompt)
        self.cache.truncate(0)
        self._base, self._n = 0, prompt.shape[0]
        logits, hidden = self.model.forward(prompt, np.arange(prompt.shape[0]), self.cache, last_only=True)
        return logits[-1], hidden  # (V,), (L, d)

    def score(self, tokens, parents) -> tuple[np.ndarray, np.ndarray]:
        """(n, V) logits and (n, d) hidden states of a tree of n new tokens, in one forward."""
        tokens = _arrays.token_array("tokens", tokens)
        _arrays.check_token_range("tokens", tokens, self.vocab_size)
        n = tokens.shape[0]
        parents = np.asarray(parents)
        chain = is_chain(parents) and parents.shape == (n,)  # the common case (layout checks the others)
        if chain:  # depths 0 … n − 1
            d, tree = np.arange(n), None
        else:
            d, tree = layout(parents)  # (n,), (n, n)
        if d.shape != tokens.shape:
            raise ValueError(f"parents must have the shape of tokens {tokens.shape}, got {d.shape}")
        P = self.cache.length
        slots, path = self.room()
        if n > slots or int(d.max(initial=-1)) >= path:
            raise ValueError(
                f"tokens: a tree of {n} new tokens, {int(d.max(initial=-1)) + 1} deep, does not fit after "
                f"{P} cached ones: room for {slots} tokens, {path} deep"
            )
        if chain:  # the model's default mask: the whole cache, causal among the new tokens
            mask = None
        else:
            mask = np.ones((n, P + n), dtype=bool)  # every new token sees the whole cache
            mask[:, P:] = tree
        self._base, self._n = P, n
        return self.model.forward(tokens, P + d, self.cache, mask)  # (n, V) logits, (n, d)

    def commit(self, path) -> None:
        """Keep the last forward's new positions ``path`` (increasing, as a chain), drop the others."""
        idx = np.asarray(path, dtype=np.intp).tolist()  # a few dozen at most: list checks are cheapest
        if idx and (idx[0] < 0 or idx[-1] >= self._n or any(b <= a for a, b in zip(idx, idx[1:]))):
            raise ValueError(f"path must be increasing indices in [0, {self._n}), got {idx}")
        P, n, c = self._base, len(idx), self.cache
        if idx != list(range(n)):  # a tree path: move it into a chain
            path = np.array(idx, dtype=np.intp)
            c.k[:, :, P : P + n] = c.k[:, :, P + path]  # fancy indexing copies before writing
            c.v[:, :, P : P + n] = c.v[:, :, P + path]
        c.truncate(P + n)

    def room(self) -> tuple[int, int]:
        """(new tokens, tokens on one path) the next forward can take: free cache slots, and position
        ids below n_ctx."""
        P = self.cache.length
        return self.cache.capacity - P, self.model.cfg.n_ctx - P

    def __repr__(self) -> str:
        return f"CachedTarget({getattr(self.model, 'name', 'model')!r}, capacity={self.cache.capacity})"
