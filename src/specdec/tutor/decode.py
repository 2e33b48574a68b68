"""Greedy decoding with the KV cache, timed: the tutor's plain (non-speculative) correction loop."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from specdec.tutor import model
from specdec.tutor.tokenizer import MAX_CORRECTION_TOKENS, Tokenizer


@dataclass(frozen=True)
class Greedy:
    """One greedy correction. ``ids``: the generated token ids, ``<eos>`` included when it was written;
    ``prefill_s``: the forward over the prompt;
    ``decode_s``: the one-token forwards after it, each producing the next token; ``finished``: whether
    ``<eos>`` came within :data:`~specdec.tutor.tokenizer.MAX_CORRECTION_TOKENS`."""

    ids: list[int]
    prefill_s: float
    decode_s: float
    finished: bool

    @property
    def new_tokens(self) -> int:
        """Tokens the model wrote, ``<eos>`` included: one forward each (the prefill writes the first)."""
        return len(self.ids)

    @property
    def ms_per_token(self) -> float:
        """Mean wall time per written token, prefill included: (prefill + decode) / tokens written."""
        return (self.prefill_s + self.decode_s) * 1e3 / self.new_tokens


def greedy(
    p: dict,
    cfg: model.Config,
    tok: Tokenizer,
    prompt: np.ndarray,
    max_tokens: int = MAX_CORRECTION_TOKENS + 1,
) -> Greedy:
    """Greedy decode from ``prompt`` (ids of ``learner <sep>``) until ``<eos>`` or ``max_tokens`` tokens."""
    cache = model.KVCache(cfg)
    L = prompt.shape[0]
    t0 = time.perf_counter()
    logits, _ = model.forward(p, cfg, prompt, np.arange(L), cache)  # (L, V)
    nxt = int(logits[-1].argmax())
    t1 = time.perf_counter()
    ids = [nxt]
    while nxt != tok.eos and len(ids) < max_tokens and cache.length < cfg.n_ctx:
        logits, _ = model.forward(p, cfg, np.array([nxt]), np.array([cache.length]), cache)  # (1, V)
        nxt = int(logits[0].argmax())
        ids.append(nxt)
    t2 = time.perf_counter()
    return Greedy(ids, t1 - t0, t2 - t1, ids[-1] == tok.eos)
