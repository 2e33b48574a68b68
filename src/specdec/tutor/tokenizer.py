"""The tutor's subword tokenizer, its sentence splitter and the prompt format.

The tokenizer is a byte-fallback BPE model trained with `SentencePiece
<https://github.com/google/sentencepiece>`_ on the generated training text and stored beside the
weights (``weights/tokenizer.model``), so a model and its tokenizer cannot drift apart. SentencePiece
because it does three things this tutor needs in one small, dependency-free library: *byte fallback*
(a character outside the learned pieces becomes its UTF-8 bytes, so no input is refused for its
words), *lossless round trips* (spaces are pieces too, so ``decode(encode(text)) == text`` keeps case,
commas, apostrophes and numbers exactly) and *digits split one by one* (a number the model has never
seen is copied digit by digit). The ids: ``<pad>`` 0, ``<eos>`` 1, ``<unk>`` 2 (never produced:
bytes cover everything), ``<sep>`` 3, the 256 byte pieces, then the learned pieces.

What the tutor reads (:func:`check_sentence`): one English sentence in the Latin alphabet, at most
:data:`MAX_SENTENCE_TOKENS` tokens (about 45 words). Curly quotes become straight ones and runs of
white space one space (:func:`normalize`). Text with no letter, or with characters of another
script or emoji, is refused with a ``ValueError`` that names them: the tutor was trained on English
only and would answer such input with confident garbage. Several sentences are split first by
:func:`split_sentences` and corrected one by one.

Prompt format, one sequence per correction::

    learner tokens ... <sep> corrected tokens ... <eos>

The model reads the learner's sentence and ``<sep>``, then writes the correction until it writes
``<eos>``. A correction mostly repeats its input, so the tokens after ``<sep>`` can usually be found
verbatim before it: that is what prompt lookup and input-guided drafting copy from.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from specdec import _checks

__all__ = [
    "MAX_SENTENCE_TOKENS",
    "MAX_CORRECTION_TOKENS",
    "N_CTX",
    "Tokenizer",
    "normalize",
    "split_sentences",
    "check_sentence",
]

PAD_ID, EOS_ID, UNK_ID, SEP_ID = 0, 1, 2, 3

MAX_SENTENCE_TOKENS = 60
"""Longest learner sentence accepted, in tokens (about 45 words of everyday English)."""

MAX_CORRECTION_TOKENS = 66
"""Most tokens a correction may have before the tutor gives up (``<eos>`` not counted)."""

N_CTX = MAX_SENTENCE_TOKENS + 1 + MAX_CORRECTION_TOKENS + 1
"""Positions a model needs: the longest sentence, ``<sep>``, the longest correction and ``<eos>`` (128)."""

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
_PUNCT = set(" .,;:!?'\"-()&%$\u20ac\u00a3/@#*+=")


def normalize(text: str) -> str:
    """Curly quotes to straight ones, no-break spaces to spaces, runs of white space to one space,
    stripped; nothing else changes (case, punctuation and spelling are the tutor's to correct)."""
    return " ".join(_checks.text("text", text).translate(_QUOTES).split())


def _is_latin_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha() or ("\u00c0" <= ch <= "\u024f" and ch not in "\u00d7\u00f7")


def check_sentence(sentence: object) -> str:
    """``sentence`` normalised, or ``TypeError`` (not a str) / ``ValueError`` naming the rule: blank, no
    letter, characters outside the Latin alphabet, digits and common punctuation."""
    text = normalize(_checks.text("sentence", sentence))
    if not text:
        raise ValueError("sentence must hold at least one word, got an empty or blank string")
    bad = [ch for ch in text if not (_is_latin_letter(ch) or ch.isdigit() and ch.isascii() or ch in _PUNCT)]
    if bad:
        shown = ", ".join(repr(ch) for ch in dict.fromkeys(bad))
        raise ValueError(
            f"sentence has characters the tutor cannot read ({shown}): it corrects English written "
            "in the Latin alphabet, with digits and common punctuation"
        )
    if not any(ch.isalpha() for ch in text):
        raise ValueError(f"sentence must hold at least one word, got only digits and punctuation: {text!r}")
    return text


_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "prof", "vs", "etc", "e.g", "i.e", "a.m", "p.m", "no", "jr"}
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+")


def split_sentences(text: object) -> list[str]:
    """``text`` cut into sentences after ``.``, ``!`` or ``?`` (and any closing quote or bracket)
    followed by white space, whatever the case of the next word (learners often write a lower-case
    start); not after a common abbreviation (Mr., Dr., e.g., a.m., ...) or a one-letter initial.
    Every character of the input except the white space between sentences is kept, in order."""
    text = normalize(text)
    out, start = [], 0
    for m in _BOUNDARY.finditer(text):
        word = text[start : m.start()].rsplit(" ", 1)[-1].lower()
        if m.group().startswith(".") and (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())):
            continue
        out.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


class Tokenizer:
    """Ids of a trained SentencePiece BPE model: ``pad``, ``eos``, ``sep`` and ``vocab_size``."""

    pad, eos, unk, sep = PAD_ID, EOS_ID, UNK_ID, SEP_ID

    def __init__(self, model_proto: bytes):
        import sentencepiece

        if not isinstance(model_proto, bytes):
            raise TypeError(f"model_proto must be bytes, got {type(model_proto).__name__}")
        self.proto = model_proto
        self.sp = sentencepiece.SentencePieceProcessor(model_proto=model_proto)
        specials = [self.sp.id_to_piece(i) for i in range(4)]
        if specials != ["<pad>", "</s>", "<unk>", "<sep>"]:
            raise ValueError(f"tokenizer model must start with <pad>, </s>, <unk>, <sep>; got {specials}")

    @classmethod
    def train(cls, texts, vocab_size: int) -> Tokenizer:
        """A BPE model with byte fallback trained on ``texts`` (an iterable of str)."""
        import io

        import sentencepiece

        vocab_size = _checks.integer("vocab_size", vocab_size, 300, 1 << 16)
        buf = io.BytesIO()
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(texts),
            model_writer=buf,
            vocab_size=vocab_size,
            model_type="bpe",
            byte_fallback=True,
            character_coverage=1.0,
            normalization_rule_name="identity",
            split_digits=True,
            pad_id=PAD_ID,
            eos_id=EOS_ID,
            unk_id=UNK_ID,
            bos_id=-1,
            control_symbols=["<sep>"],
            input_sentence_size=2_000_000,
            shuffle_input_sentence=True,
            num_threads=2,
            minloglevel=2,
        )
        return cls(buf.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> Tokenizer:
        try:
            return cls(Path(path).read_bytes())
        except FileNotFoundError:
            raise ValueError(f"tokenizer file {path} is missing") from None
        except RuntimeError as exc:  # SentencePiece's parse error
            raise ValueError(f"tokenizer file {path} is not a SentencePiece model ({exc})") from None

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.proto)

    @property
    def vocab_size(self) -> int:
        return self.sp.get_piece_size()

    def encode(self, text: str) -> np.ndarray:
        """(n,) int64 ids of ``text`` (no checks: see :meth:`prompt`)."""
        return np.array(self.sp.encode(text), dtype=np.int64)

    def decode(self, ids) -> str:
        """Text of ``ids``; ``<sep>``, ``<eos>`` and ``<pad>`` are dropped."""
        return self.sp.decode([int(i) for i in ids if int(i) > SEP_ID])

    def pieces(self, ids) -> list[str]:
        """The pieces of ``ids`` as SentencePiece writes them (``▁`` marks a space)."""
        return [self.sp.id_to_piece(int(i)) for i in ids]

    def prompt(self, sentence: object) -> np.ndarray:
        """Ids of ``learner <sep>`` for one sentence, checked by :func:`check_sentence` and against
        :data:`MAX_SENTENCE_TOKENS` (``ValueError`` naming the rule)."""
        ids = self.encode(check_sentence(sentence))
        if ids.shape[0] > MAX_SENTENCE_TOKENS:
            raise ValueError(
                f"sentence must have at most {MAX_SENTENCE_TOKENS} tokens (about 45 words), "
                f"got {ids.shape[0]}: split it into shorter sentences"
            )
        return np.append(ids, SEP_ID)

    def sequence(self, learner: str, correct: str) -> list[int]:
        """A training sequence ``learner <sep> correct <eos>`` as ids."""
        return [*self.sp.encode(learner), SEP_ID, *self.sp.encode(correct), EOS_ID]
