"""Speculative decoding on the tutor: a KV-cached target that verifies in ONE forward, and drafters.

:class:`CachedTarget` wraps a :class:`~specdec.tutor.api.Tutor` as an efficient target. Its cache always
holds every committed token but the newest (the *pending* token, whose row is not computed yet). One
verification is one :meth:`Tutor.forward <specdec.tutor.api.Tutor.forward>` over the pending token and
the drafted ones, T = k + 1 new tokens for a chain of k drafts (:meth:`CachedTarget.score_chain`), or
1 + n under the tree attention mask of :mod:`specdec.tree` for a tree of n nodes
(:meth:`CachedTarget.score_tree`), or any tokens under any mask (:meth:`CachedTarget.score`, which
Lookahead uses). :meth:`CachedTarget.commit` then keeps the accepted positions and rolls the cache back:
a prefix is kept by truncation; the accepted nodes of a tree are first moved into a contiguous chain.
The keys and values of a position depend only on what it attends to and on its position id, so a kept
node's entries are those a chain forward would have written, up to float32 rounding.

Drafters (the seam of :mod:`specdec.sampling`, ``propose(context, k, rng) -> Draft``):
:class:`CachedModelDrafter` (the tutor's draft model, k tokens one after another, its own KV cache),
:func:`ngram_drafter` (an n-gram model of the tutor's training sequences, an
:class:`specdec.models.NGramDrafter`) and :class:`specdec.sampling.PromptLookup` as it is.
:func:`speculative_correct` is the decoding loop: Algorithm 1 of Leviathan et al. at any
temperature, the plain argmax rule at temperature 0 (it emits the autoregressive greedy output).
With no drafter it is autoregressive decoding on the same code path: the harness's baseline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from specdec import _arrays, _checks, tree
from specdec.models import NGramDrafter, NGramModel
from specdec.sampling import Draft, _standardize, _verify
from specdec.tutor import model
from specdec.tutor.api import Tutor
from specdec.tutor.tokenizer import MAX_CORRECTION_TOKENS

__all__ = [
    "CachedTarget",
    "CachedModelDrafter",
    "ngram_drafter",
    "probabilities",
    "greedy_accept",
    "Run",
    "speculative_correct",
    "MAX_TOKENS",
]

MAX_TOKENS = MAX_CORRECTION_TOKENS + 1
"""Most tokens a correction may write, ``<eos>`` included (as :func:`specdec.tutor.decode.greedy`)."""


def probabilities(logits: np.ndarray, temperature: float) -> np.ndarray:
    """(..., V) float32 logits -> (..., V) float64 rows: softmax, then standardised by ``temperature``
    (0: one-hot on the argmax), as :func:`specdec.sampling.standardize` does."""
    z = logits.astype(np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return _standardize(e / e.sum(axis=-1, keepdims=True), temperature, 1.0)


class CachedTarget:
    """The tutor as a target: verification in one KV-cached forward, with rollback.

    ``start(prompt)`` runs the prompt's forward and returns the (V,) logits after it; the first token
    written from them is the pending token. ``score_chain``, ``score_tree`` and ``score`` run one
    forward over the pending token and the candidates and return their (T, V) logits;
    ``commit(keep)`` keeps the new positions ``keep`` (indices into that forward's T tokens, the
    pending token first) and drops the rest. ``forwards`` counts target forwards since ``start``;
    ``forward_s`` is the wall time of those after the prompt's. ``capacity``: cache slots (positions
    scored and then dropped need room too; position ids stay below n_ctx).
    """

    def __init__(self, tutor: Tutor, *, capacity: int = 128):
        if not isinstance(tutor, Tutor):
            raise TypeError(f"tutor must be a Tutor, got {type(tutor).__name__}")
        self.tutor = tutor
        self.cache = model.KVCache(tutor.cfg, capacity)  # room for positions that are scored, then dropped
        self.forwards = 0
        self.forward_s = 0.0  # wall time of the forwards after the prompt's
        self._base = 0  # cache length before the last forward
        self._T = 0  # new tokens of the last forward

    def _forward(self, tokens: np.ndarray, positions: np.ndarray, mask) -> np.ndarray:
        self._base, self._T = self.cache.length, tokens.shape[0]
        self.forwards += 1
        t0 = time.perf_counter()
        logits = self.tutor.forward(tokens, positions, self.cache, mask)[0]  # (T, V)
        if self.forwards > 1:
            self.forward_s += time.perf_counter() - t0
        return logits

    def start(self, prompt) -> np.ndarray:
        """Empty the cache, run the prompt's forward; (V,) logits after its last token."""
        prompt = _arrays.prompt(prompt)
        self.cache.truncate(0)
        self.forwards, self.forward_s = 0, 0.0
        return self._forward(prompt, np.arange(prompt.shape[0]), None)[-1]

    def score(self, tokens, positions, mask) -> np.ndarray:
        """Any T new tokens (the pending one first) with position ids (T,) and a (T, T) bool mask among
        them; every new token also sees the whole cache. Returns (T, V) logits."""
        tokens = np.asarray(tokens, dtype=np.intp)
        P, T = self.cache.length, tokens.shape[0]
        full = np.ones((T, P + T), dtype=bool)  # (T, S)
        full[:, P:] = mask
        return self._forward(tokens, np.asarray(positions, dtype=np.intp), full)

    def score_chain(self, pending: int, draft) -> np.ndarray:
        """(k + 1, V) logits of the pending token and k drafts, causal: row i after draft i (row 0 after
        the pending token), row k for the bonus token."""
        tokens = np.concatenate([[pending], np.asarray(draft, dtype=np.intp)]).astype(np.intp)  # (k+1,)
        P = self.cache.length
        return self._forward(tokens, np.arange(P, P + tokens.shape[0]), None)

    def score_tree(self, pending: int, tokens, parents) -> np.ndarray:
        """(n + 1, V) logits laid out as :func:`specdec.tree.tree_target_rows` lays out rows: row 0 after
        the pending token, row i + 1 after node i's path. One forward under
        :func:`specdec.tree.tree_attention_mask`, at :func:`specdec.tree.position_ids`."""
        tokens, parents = tree.check_tree(tokens, parents, self.tutor.vocab_size)
        P = self.cache.length
        mask = tree.tree_attention_mask(P + 1, parents)[P:]  # (1 + n, P + 1 + n): pending + nodes
        positions = tree.position_ids(P + 1, parents)[P:]  # (1 + n,)
        new = np.concatenate([[pending], tokens]).astype(np.intp)
        return self._forward(new, positions, mask)

    def commit(self, keep) -> None:
        """Keep the last forward's new positions ``keep`` (in order, as a chain), drop the others."""
        keep = np.asarray(keep, dtype=np.intp)
        if keep.size and (keep.min() < 0 or keep.max() >= self._T or np.any(np.diff(keep) <= 0)):
            raise ValueError(f"keep must be increasing indices in [0, {self._T}), got {keep.tolist()}")
        P, n = self._base, keep.shape[0]
        if not np.array_equal(keep, np.arange(n)):  # a tree path: move it into a chain
            c = self.cache
            c.k[:, :, P : P + n] = c.k[:, :, P + keep]  # fancy indexing copies before writing
            c.v[:, :, P : P + n] = c.v[:, :, P + keep]
        self.cache.truncate(P + n)


class CachedModelDrafter:
    """Vanilla drafting with the tutor's draft model: k tokens one after another, with its own KV cache.

    Each call first brings the draft cache up to the context (one forward over the tokens it has not
    seen: the target's correction and the drafts it accepted), then drafts k tokens, one forward each
    (the first comes from the catch-up forward): ``cost`` k draft forwards. Rows are the draft's softmax
    standardised by ``temperature`` (0: one-hot argmax), so the draft is exact under Algorithm 1.
    """

    def __init__(self, draft: Tutor, *, temperature: float = 0.0):
        if not isinstance(draft, Tutor):
            raise TypeError(f"draft must be a Tutor, got {type(draft).__name__}")
        self.draft = draft
        self.temperature = _checks.nonnegative("temperature", temperature)
        self.cache = draft.new_cache()
        self._seen = np.zeros(0, dtype=np.int64)  # the tokens whose keys and values are cached
        self.forwards = 0

    def _catch_up(self, context: np.ndarray) -> np.ndarray:
        """Forward the context's tokens the cache lacks (at least its last); (V,) logits after them."""
        n = min(self._seen.shape[0], context.shape[0] - 1)
        same = np.flatnonzero(self._seen[:n] != context[:n])
        common = int(same[0]) if same.size else n
        self.cache.truncate(common)
        self.forwards += 1
        new = context[common:]
        self._seen = context.copy()
        return self.draft.forward(new, np.arange(common, context.shape[0]), self.cache)[0][-1]

    def propose(self, context, k: int, rng: np.random.Generator) -> Draft:
        context = _arrays.token_array("context", context).astype(np.int64)
        k = _checks.integer("k", k, 1, None)
        rng = _arrays.check_rng(rng)
        logits, tokens, rows = self._catch_up(context), [], []
        for i in range(k):
            p = probabilities(logits, self.temperature)  # (V,)
            x = int(p.argmax()) if self.temperature == 0.0 else int(rng.choice(p.shape[0], p=p))
            tokens.append(x)
            rows.append(p)
            if i + 1 < k:
                self.forwards += 1
                logits = self.draft.forward(np.array([x]), np.array([self.cache.length]), self.cache)[0][0]
                self._seen = np.append(self._seen, x)
        return Draft(tokens=np.array(tokens, dtype=np.int64), p_D=np.stack(rows), cost=k)

    def __repr__(self) -> str:
        return f"CachedModelDrafter({self.draft.name!r}, temperature={self.temperature:g})"


def ngram_drafter(tutor: Tutor, sequences, *, n: int = 3, temperature: float = 0.0) -> NGramDrafter:
    """An n-gram drafter over the tutor's token ids, fitted on ``sequences`` (word lists such as
    ``learner + ["<sep>"] + correct + ["<eos>"]``). Its vocabulary is the tutor's with ``<pad>`` (never
    written) replaced by the n-gram boundary ``<s>``, so the ids agree."""
    vocab = ["<s>", *tutor.tokenizer.words[1:]]
    return NGramDrafter(NGramModel(sequences, n, smoothing=1e-3, vocab=vocab), temperature=temperature)


def greedy_accept(logits: np.ndarray, draft: np.ndarray) -> tuple[np.ndarray, int]:
    """Temperature 0: (k + 1, V) logits, (k,) drafts -> (emitted (n + 1,), n accepted).

    Drafts are accepted while each equals the argmax of the row before it; the argmax of the first
    mismatching row (or of row k) ends the step. This is :func:`specdec.sampling.verify` with one-hot
    rows, without building them."""
    best = logits.argmax(axis=-1)  # (k + 1,)
    miss = np.flatnonzero(best[:-1] != draft)
    n = int(miss[0]) if miss.size else draft.shape[0]
    return np.append(draft[:n], best[n]).astype(np.int64), n


@dataclass
class Run:
    """One correction. ``ids``: tokens written, ``<eos>`` included when written; ``target_forwards``:
    the prompt's forward and one per step; ``draft_forwards``; ``accepted`` / ``drafted``: per step;
    ``new_tokens``: new tokens per target forward (the prompt's first); ``prefill_s``, ``total_s``;
    ``verify_s``: wall time of the target forwards after the prompt's."""

    ids: list
    target_forwards: int
    draft_forwards: int
    accepted: list = field(default_factory=list)
    drafted: list = field(default_factory=list)
    new_tokens: list = field(default_factory=list)
    prefill_s: float = 0.0
    total_s: float = 0.0
    verify_s: float = 0.0

    @property
    def tau(self) -> float:
        """τ of the steps after the prompt's forward: tokens they wrote per step (bonus included)."""
        return (sum(self.accepted) + len(self.accepted)) / len(self.accepted) if self.accepted else 1.0


def _first_token(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    if temperature == 0.0:
        return int(logits.argmax())
    p = probabilities(logits, temperature)
    return int(rng.choice(p.shape[0], p=p))


def speculative_correct(
    target: CachedTarget, drafter, prompt, k: int, rng, *, temperature: float = 0.0, max_tokens=MAX_TOKENS
) -> Run:
    """One correction by speculative decoding with ``drafter`` (``None``: autoregressive decoding).

    Each step asks for j <= min(k, tokens still allowed − 1) drafts, scores pending token + drafts in
    one forward, accepts (argmax rule at temperature 0, Algorithm 1 otherwise) and rolls the cache back
    to the accepted length. Stops after ``<eos>`` or ``max_tokens`` tokens; the output is cut there."""
    k = _checks.integer("k", k, 1, None)
    rng = _arrays.check_rng(rng)
    temperature = _checks.nonnegative("temperature", temperature)
    prompt = _arrays.prompt(prompt).astype(np.int64)
    eos = target.tutor.tokenizer.eos
    t0 = time.perf_counter()
    ids = [_first_token(target.start(prompt), temperature, rng)]
    run = Run(ids, 1, 0, new_tokens=[prompt.shape[0]], prefill_s=time.perf_counter() - t0)
    while eos not in ids and len(ids) < max_tokens:
        j = min(k, max_tokens - len(ids) - 1)
        if drafter is None or j == 0:
            d = Draft(np.zeros(0, dtype=np.int64), np.zeros((0, target.tutor.vocab_size)), 0)
        else:
            d = drafter.propose(np.concatenate([prompt, ids]), j, rng)
        logits = target.score_chain(ids[-1], d.tokens)  # (j + 1, V)
        if temperature == 0.0:
            new, n = greedy_accept(logits, d.tokens)
        else:
            new, n = _verify(probabilities(logits, temperature), d.p_D, d.tokens.astype(np.intp), rng)
        target.commit(np.arange(n + 1))
        ids.extend(new.tolist())
        run.accepted.append(n)
        run.drafted.append(int(d.tokens.shape[0]))
        run.new_tokens.append(int(d.tokens.shape[0]) + 1)
        run.draft_forwards += d.cost
    run.target_forwards, run.verify_s = target.forwards, target.forward_s
    run.total_s = time.perf_counter() - t0
    run.ids = _cut(ids, eos, max_tokens)
    return run


def _cut(ids: list, eos: int, max_tokens: int) -> list:
    """The tokens up to the first ``<eos>`` (included) and at most ``max_tokens``."""
    ids = ids[:max_tokens]
    return ids[: ids.index(eos) + 1] if eos in ids else ids
