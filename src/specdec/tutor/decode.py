"""Timed greedy correction for the training script and ``bench/bench_tutor.py``: the one decoding loop of
:mod:`specdec.decode` with no drafter, on the tutor's weights as a cached target."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from specdec.decode import decode
from specdec.targets.cached import CachedTarget
from specdec.tutor import model
from specdec.tutor.tokenizer import MAX_CORRECTION_TOKENS, Tokenizer


@dataclass(frozen=True)
class Greedy:
    """One greedy correction. ``ids``: the generated token ids, ``<eos>`` included when it was written;
    ``words``: the correction's words (no ``<eos>``); ``prefill_s``: the forward over the prompt;
    ``decode_s``: the one-token forwards after it, each producing the next token; ``finished``: whether
    ``<eos>`` came within :data:`~specdec.tutor.tokenizer.MAX_CORRECTION_TOKENS`."""

    ids: list[int]
    words: list[str]
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


@dataclass(frozen=True)
class _Weights:
    """Weights and configuration with the forward a :class:`~specdec.targets.cached.CachedTarget` calls."""

    params: dict
    cfg: model.Config

    @property
    def vocab_size(self) -> int:
        return self.cfg.vocab_size

    def forward(self, tokens, positions, cache, mask=None):
        return model.forward(self.params, self.cfg, tokens, positions, cache, mask)

    def new_cache(self) -> model.KVCache:
        return model.KVCache(self.cfg)


def greedy(
    p: dict,
    cfg: model.Config,
    tok: Tokenizer,
    prompt: np.ndarray,
    max_tokens: int = MAX_CORRECTION_TOKENS + 1,
) -> Greedy:
    """Greedy decode from ``prompt`` (ids of ``learner <sep>``) until ``<eos>`` or ``max_tokens`` tokens."""
    run = decode(
        CachedTarget(_Weights(p, cfg)), None, prompt, max_tokens, np.random.default_rng(0), k=0,
        temperature=0.0, stop=tok.eos,
    )  # fmt: skip
    ids = run.tokens.tolist()
    words = tok.words_of(ids[:-1] if run.finished else ids)
    return Greedy(ids, words, run.prefill_s, run.total_s - run.prefill_s, run.finished)
