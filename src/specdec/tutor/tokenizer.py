"""The word-level tokenizer every tutor model shares, and the prompt format.

Text is split by :func:`specdec.models.tokenize` (lower case; ``.``, ``?`` and ``,`` are tokens of their
own; an apostrophe stays inside its word, so ``doesn't`` is one token). The vocabulary is three special
tokens, then every word the data generator can write (:func:`specdec.tutor.data.lexicon`, correct and
misspelled) and every word of the project's 382 learner pairs, sorted. It is stored with the weights
(``weights/vocab.json``), so a model and its tokenizer cannot drift apart.

Unknown words: a word outside the vocabulary raises ``ValueError`` naming it (and every other unknown
word of the sentence). The tutor does not guess: a word it has never seen could be a name it should
copy or a misspelling it should fix, and a silent ``<unk>`` would make it print a correction that drops
or mangles the word.

Prompt format, one sequence per correction::

    learner tokens ... <sep> corrected tokens ... <eos>

The model reads the learner's sentence and ``<sep>``, then writes the correction token by token until
it writes ``<eos>``. Because a correction mostly repeats its input, the tokens after ``<sep>`` can
usually be found verbatim before it: that is what prompt lookup drafts from.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from specdec import _checks
from specdec.models import tokenize

__all__ = [
    "PAD",
    "SEP",
    "EOS",
    "SPECIALS",
    "MAX_SENTENCE_TOKENS",
    "MAX_CORRECTION_TOKENS",
    "Tokenizer",
    "detokenize",
]

PAD, SEP, EOS = "<pad>", "<sep>", "<eos>"
SPECIALS = (PAD, SEP, EOS)

MAX_SENTENCE_TOKENS = 16
"""Longest learner sentence accepted, in tokens (words and punctuation marks). The prompt, the
correction (at most this long plus 4 tokens) and the three framing tokens fit the model's 40 positions.
Generated training sentences have at most 12 tokens, so the tutor is weakest near the limit."""

MAX_CORRECTION_TOKENS = MAX_SENTENCE_TOKENS + 4
"""Most tokens a correction may have before the tutor gives up (``<eos>`` not counted)."""


class Tokenizer:
    """Word ids of a fixed vocabulary: ``<pad>`` = 0, ``<sep>`` = 1, ``<eos>`` = 2, then words."""

    def __init__(self, words):
        words = tuple(words)
        if words[: len(SPECIALS)] != SPECIALS or len(set(words)) != len(words):
            raise ValueError(f"vocabulary must start with {SPECIALS} and hold distinct words")
        self.words = words
        self.index = {w: i for i, w in enumerate(words)}
        self.pad, self.sep, self.eos = (self.index[s] for s in SPECIALS)

    @property
    def vocab_size(self) -> int:
        return len(self.words)

    @classmethod
    def build(cls) -> Tokenizer:
        """The shared vocabulary: specials, then the generator's lexicon and the learner corpus's words."""
        from specdec.models import load_learner_corpus
        from specdec.tutor.data import lexicon

        corpus = {w for pair in load_learner_corpus() for s in pair for w in tokenize(s)}
        return cls(SPECIALS + tuple(sorted(lexicon() | corpus)))

    @classmethod
    def load(cls, path: Path) -> Tokenizer:
        try:
            words = json.loads(Path(path).read_text(encoding="utf-8"))["words"]
        except FileNotFoundError:
            raise ValueError(f"vocabulary file {path} is missing") from None
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError):
            raise ValueError(f"vocabulary file {path} is not a JSON object with a 'words' list") from None
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError(f"vocabulary file {path}: 'words' must be a list of strings")
        return cls(words)

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"words": list(self.words)}, indent=0) + "\n", encoding="utf-8")

    def split(self, sentence: object) -> list[str]:
        """``sentence`` (a str) as tokens, checked: non-empty, at most :data:`MAX_SENTENCE_TOKENS`, all
        known."""
        sentence = _checks.text("sentence", sentence)
        words = tokenize(sentence)
        if not words:
            raise ValueError("sentence must hold at least one word, got an empty or blank string")
        if len(words) > MAX_SENTENCE_TOKENS:
            raise ValueError(
                f"sentence must have at most {MAX_SENTENCE_TOKENS} tokens (words and . , ?), got {len(words)}"
            )
        unknown = [w for w in words if w not in self.index or w in SPECIALS]
        if unknown:
            shown = ", ".join(repr(w) for w in dict.fromkeys(unknown))
            raise ValueError(
                f"sentence has words outside the tutor's vocabulary of {self.vocab_size} words: {shown}"
            )
        return words

    def encode_words(self, words: list[str]) -> np.ndarray:
        return np.array([self.index[w] for w in words], dtype=np.int64)

    def prompt(self, sentence: object) -> np.ndarray:
        """Token ids of ``learner <sep>``: what the tutor reads before it writes the correction."""
        return np.append(self.encode_words(self.split(sentence)), self.sep)

    def sequence(self, learner: list[str], correct: list[str]) -> list[int]:
        """A training sequence: ``learner <sep> correct <eos>`` as ids (words assumed known)."""
        return [self.index[w] for w in learner] + [self.sep] + [self.index[w] for w in correct] + [self.eos]

    def words_of(self, ids) -> list[str]:
        return [self.words[int(i)] for i in ids]


_NAMES = {
    "anna",
    "tom",
    "maria",
    "london",
    "monday",
    "friday",
    "sundays",
    "january",
    "english",
    "french",
    "spanish",
    "german",
    "i",
}


def detokenize(words: list[str]) -> str:
    """Tokens back to a sentence: capital first letter (and for names, days, languages and "I"),
    no space before ``.``, ``?`` or ``,``."""
    out = ""
    for i, w in enumerate(words):
        w = w.capitalize() if (i == 0 or w in _NAMES) else w
        out += w if (i == 0 or w in ".?,") else " " + w
    return out
