"""A draft transformer with its own KV cache: the vanilla draft model on a model with a cached forward."""

from __future__ import annotations

import numpy as np

from specdec import _arrays, _checks
from specdec.core.rows import probabilities, sample
from specdec.drafters.base import Context, Draft, Drafter, as_context

__all__ = ["CachedModelDrafter"]


class CachedModelDrafter(Drafter):
    """Vanilla drafting with a small transformer: k tokens one after another, with its own KV cache.

    ``draft``: a model with ``forward(tokens, positions, cache, last_only=False) -> (logits, hidden)`` and
    ``new_cache()`` (a :class:`~specdec.tutor.api.Tutor`). Each call first brings the draft cache up to the
    context (one forward over the tokens it has not seen: the target's correction and the drafts it
    accepted), then drafts k
    tokens, one forward each (the first comes from the catch-up forward): ``cost`` k draft forwards. Rows
    are the draft's softmax standardised by ``temperature`` (0: one-hot argmax), so the draft is exact
    under verification. :meth:`reset` empties the cache (the loop calls it before every run).
    """

    def __init__(self, draft, *, temperature: float = 0.0):
        if not (callable(getattr(draft, "forward", None)) and callable(getattr(draft, "new_cache", None))):
            raise TypeError(
                f"draft must be a model with forward() and new_cache() (a Tutor), got {type(draft).__name__}"
            )
        self.draft = draft
        self.temperature = _checks.nonnegative("temperature", temperature)
        self.cache = draft.new_cache()
        self.reset()

    def reset(self) -> None:
        """Empty the cache and the record of what it holds."""
        self.cache.truncate(0)
        self._seen = np.zeros(0, dtype=np.int64)  # the tokens whose keys and values are cached
        self.forwards = 0

    def _catch_up(self, context: np.ndarray) -> np.ndarray:
        """Forward the context's tokens the cache lacks (at least its last); (V,) logits after them."""
        n = min(self._seen.shape[0], context.shape[0] - 1, self.cache.length)
        same = np.flatnonzero(self._seen[:n] != context[:n])
        common = int(same[0]) if same.size else n
        self.cache.truncate(common)
        self.forwards += 1
        self._seen = context.copy()
        positions = np.arange(common, context.shape[0])
        return self.draft.forward(context[common:], positions, self.cache, last_only=True)[0][-1]

    def propose(self, context: Context, k: int, rng) -> Draft:
        context = as_context(context).tokens
        k = _checks.integer("k", k, 1, None)
        rng = _arrays.check_rng(rng)
        logits, tokens, rows = self._catch_up(context), [], []
        for i in range(k):
            p = probabilities(logits, self.temperature)  # (V,)
            x = sample(p, rng) if self.temperature > 0.0 else int(p.argmax())
            tokens.append(x)
            rows.append(p)
            if i + 1 < k:
                self.forwards += 1
                logits = self.draft.forward(np.array([x]), np.array([self.cache.length]), self.cache)[0][0]
                self._seen = np.append(self._seen, x)
        return Draft(tokens=np.array(tokens, dtype=np.int64), p_D=np.stack(rows), cost=k)

    def __repr__(self) -> str:
        return (
            f"CachedModelDrafter({getattr(self.draft, 'name', 'draft')!r}, temperature={self.temperature:g})"
        )
