"""The tutor as one object: :class:`Tutor` (weights + tokenizer) and its :class:`Correction`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from specdec import _arrays
from specdec.decode import decode
from specdec.targets.cached import CachedTarget
from specdec.tutor import model
from specdec.tutor.tokenizer import (
    MAX_CORRECTION_TOKENS,
    MAX_SENTENCE_TOKENS,
    Tokenizer,
    check_sentence,
    split_sentences,
)

__all__ = ["Tutor", "Correction", "WEIGHTS", "TRAIN_RECORD", "BENCH_RECORD", "MAX_SENTENCE_TOKENS"]

WEIGHTS = Path(__file__).resolve().parent / "weights"
"""Folder of the shipped weights: ``tutor.npz|json``, ``draft.npz|json`` and the shared
``tokenizer.model``."""

_RESULTS = Path(__file__).resolve().parents[3] / "bench" / "results"
TRAIN_RECORD = _RESULTS / "tutor-train.json"
"""The training record of the shipped weights (read-only; exists in a checkout of the repository)."""
BENCH_RECORD = _RESULTS / "tutor-bench.json"
"""The recorded benchmark of the shipped weights, written by ``bench/bench_tutor.py --record``."""


@dataclass(frozen=True)
class Correction:
    """What :meth:`Tutor.correct` returns for one sentence.

    ``text``: the corrected sentence; ``learner``: the input as the tutor read it (normalised by
    :func:`~specdec.tutor.tokenizer.normalize`); ``ids``: the tokens the model wrote, ``<eos>``
    included when it was written; ``new_tokens``: tokens written, one forward each (the prompt's
    forward writes the first); ``prefill_s`` and ``decode_s``: wall time of the prompt's forward and
    of the one-token forwards after it, measured on this call; ``finished``: whether ``<eos>`` came
    within the length limit; ``changed``: whether the correction differs from the input.
    """

    text: str
    learner: str
    ids: list[int]
    prefill_s: float
    decode_s: float
    finished: bool

    @property
    def new_tokens(self) -> int:
        return len(self.ids)

    @property
    def ms_per_token(self) -> float:
        """Wall time of the whole correction (prompt included) per written token."""
        return (self.prefill_s + self.decode_s) * 1e3 / self.new_tokens

    @property
    def changed(self) -> bool:
        return self.text != self.learner


class Tutor:
    """A trained model with its tokenizer. ``Tutor.load("draft")`` loads the draft model instead."""

    def __init__(self, params: dict, cfg: model.Config, tokenizer: Tokenizer, name: str = "tutor"):
        if cfg.vocab_size != tokenizer.vocab_size:
            raise ValueError(
                f"{name}: the model has {cfg.vocab_size} token ids, the vocabulary {tokenizer.vocab_size}"
            )
        self.params, self.cfg, self.tokenizer, self.name = params, cfg, tokenizer, name
        self._inference = model.for_inference(params)  # the same weights, the head laid out for BLAS

    @classmethod
    def load(cls, name: str = "tutor", folder: str | Path = WEIGHTS) -> Tutor:
        """The model ``folder/name.npz|json`` and the tokenizer ``folder/tokenizer.model`` (``ValueError``
        naming the file for anything missing, truncated or misshapen)."""
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {type(name).__name__}")
        if not isinstance(folder, (str, Path)):
            raise TypeError(f"folder must be a path, got {type(folder).__name__}")
        params, cfg, _ = model.load(Path(folder) / name)
        return cls(params, cfg, Tokenizer.load(Path(folder) / "tokenizer.model"), name)

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
        """Token ids of ``learner <sep>`` for one sentence, checked by
        :meth:`~specdec.tutor.tokenizer.Tokenizer.prompt`."""
        return self.tokenizer.prompt(sentence)

    def correct(self, sentence: object) -> Correction:
        """Correct one sentence greedily. ``TypeError`` for a non-string; ``ValueError`` for text the
        tutor cannot read (see :func:`~specdec.tutor.tokenizer.check_sentence`), a sentence over
        :data:`~specdec.tutor.tokenizer.MAX_SENTENCE_TOKENS` tokens, or text holding several sentences
        (use :meth:`correct_all`: nothing is silently dropped)."""
        parts = split_sentences(check_sentence(sentence))
        if len(parts) > 1:
            raise ValueError(
                f"sentence holds {len(parts)} sentences; correct them with Tutor.correct_all, "
                "which returns one correction per sentence"
            )
        prompt = self.prompt(parts[0])
        rng = np.random.default_rng(0)  # unused: greedy
        run = decode(
            CachedTarget(self), None, prompt, MAX_CORRECTION_TOKENS + 1, rng, k=0, temperature=0,
            stop=self.tokenizer.eos,
        )  # fmt: skip
        ids = run.tokens.tolist()
        text = self.tokenizer.decode(ids)
        return Correction(text, parts[0], ids, run.prefill_s, run.total_s - run.prefill_s, run.finished)

    def correct_all(self, text: object) -> list[Correction]:
        """One correction per sentence of ``text``, in order (split by
        :func:`~specdec.tutor.tokenizer.split_sentences`). Every sentence is checked before any is
        corrected: ``ValueError`` names the first one refused."""
        parts = split_sentences(text)
        if not parts:
            raise ValueError("text must hold at least one sentence, got an empty or blank string")
        for n, part in enumerate(parts, 1):
            try:
                self.prompt(part)
            except ValueError as exc:
                raise ValueError(f"sentence {n} of {len(parts)}: {exc}") from None
        return [self.correct(part) for part in parts]

    def forward(self, tokens, positions, cache: model.KVCache, mask=None, last_only: bool = False):
        """:func:`specdec.tutor.model.forward` with these weights: (T, V) logits (``last_only``: (1, V), the
        last new token's), (T, d) hidden states."""
        return model.forward(self._inference, self.cfg, tokens, positions, cache, mask, last_only)

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
