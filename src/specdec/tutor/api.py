"""The tutor as one object: :class:`Tutor` (weights + tokenizer) and its :class:`Correction`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from specdec import _arrays
from specdec.decode import decode
from specdec.targets.cached import CachedTarget
from specdec.tutor import model
from specdec.tutor.tokenizer import MAX_CORRECTION_TOKENS, MAX_SENTENCE_TOKENS, Tokenizer, detokenize

__all__ = ["Tutor", "Correction", "WEIGHTS", "MAX_SENTENCE_TOKENS"]

WEIGHTS = Path(__file__).resolve().parent / "weights"
"""Folder of the shipped weights: ``tutor.npz|json``, ``draft.npz|json`` and the shared ``vocab.json``."""


@dataclass(frozen=True)
class Correction:
    """What :meth:`Tutor.correct` returns.

    ``text``: the corrected sentence, capitalised; ``tokens``: its tokens as the model wrote them;
    ``learner``: the input's tokens; ``new_tokens``: forwards run after the prompt's, one per written
    token, ``<eos>`` included; ``ms_per_token``: wall time of the whole correction (prompt included)
    per written token, measured on this call; ``changed``: whether the correction differs from the input.
    """

    text: str
    tokens: list[str]
    learner: list[str]
    new_tokens: int
    ms_per_token: float
    finished: bool

    @property
    def changed(self) -> bool:
        return self.tokens != self.learner


class Tutor:
    """A trained model with its tokenizer. ``Tutor.load("draft")`` loads the draft model instead."""

    def __init__(self, params: dict, cfg: model.Config, tokenizer: Tokenizer, name: str = "tutor"):
        if cfg.vocab_size != tokenizer.vocab_size:
            raise ValueError(
                f"{name}: the model has {cfg.vocab_size} token ids, the vocabulary {tokenizer.vocab_size}"
            )
        self.params, self.cfg, self.tokenizer, self.name = params, cfg, tokenizer, name

    @classmethod
    def load(cls, name: str = "tutor", folder: str | Path = WEIGHTS) -> Tutor:
        """The model ``folder/name.npz|json`` and the vocabulary ``folder/vocab.json`` (``ValueError``
        naming the file for anything missing, truncated or misshapen)."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__}")
        if not isinstance(folder, (str, Path)):
            raise TypeError(f"folder must be a path, got {type(folder).__name__}")
        params, cfg, _ = model.load(Path(folder) / name)
        return cls(params, cfg, Tokenizer.load(Path(folder) / "vocab.json"), name)

    @property
    def vocab_size(self) -> int:
        return self.cfg.vocab_size

    def __repr__(self) -> str:
        c = self.cfg
        return (
            f"Tutor({self.name!r}: {model.param_count(c):,} parameters, {c.n_layers} layers, "
            f"d_model {c.d_model}, {c.n_heads} heads, V={c.vocab_size})"
        )

    def prompt(self, sentence: object) -> np.ndarray:
        """Token ids of ``learner <sep>`` for ``sentence``, checked by
        :meth:`~specdec.tutor.tokenizer.Tokenizer.split`."""
        return self.tokenizer.prompt(sentence)

    def correct(self, sentence: object) -> Correction:
        """Correct one sentence greedily. ``TypeError`` for a non-string; ``ValueError`` for an empty
        sentence, one over :data:`~specdec.tutor.tokenizer.MAX_SENTENCE_TOKENS` tokens, or one with
        words outside the vocabulary."""
        prompt, eos = self.prompt(sentence), self.tokenizer.eos
        rng = np.random.default_rng(0)  # unused: greedy
        run = decode(
            CachedTarget(self), None, prompt, MAX_CORRECTION_TOKENS + 1, rng, k=0, temperature=0, stop=eos
        )
        ids = run.tokens.tolist()
        words = self.tokenizer.words_of(ids[:-1] if run.finished else ids)
        learner = self.tokenizer.words_of(prompt[:-1])
        ms = run.total_s * 1e3 / len(ids)
        return Correction(detokenize(words), words, learner, len(ids), ms, run.finished)

    def forward(self, tokens, positions, cache: model.KVCache, mask=None):
        """:func:`specdec.tutor.model.forward` with these weights: (T, V) logits, (T, d) hidden states."""
        return model.forward(self.params, self.cfg, tokens, positions, cache, mask)

    def new_cache(self) -> model.KVCache:
        return model.KVCache(self.cfg)

    def __call__(self, tokens) -> np.ndarray:
        """The sampler's model protocol: (L,) ids -> (L, V) next-token probabilities (float64 rows,
        softmax of the float32 logits), recomputed from scratch (L <= n_ctx)."""
        tokens = _arrays.token_array("tokens", tokens)
        _arrays.check_token_range("tokens", tokens, self.vocab_size)
        if tokens.shape[0] > self.cfg.n_ctx:
            raise ValueError(f"tokens must be at most n_ctx = {self.cfg.n_ctx} long, got {tokens.shape[0]}")
        logits, _ = self.forward(tokens, np.arange(tokens.shape[0]), self.new_cache())
        z = logits.astype(np.float64)
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
