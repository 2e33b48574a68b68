"""The tutor's subword tokenizer, its input checks and the sentence splitter."""

import numpy as np
import pytest

from specdec.tutor.api import WEIGHTS
from specdec.tutor.tokenizer import (
    MAX_CORRECTION_TOKENS,
    MAX_SENTENCE_TOKENS,
    N_CTX,
    Tokenizer,
    check_sentence,
    normalize,
    split_sentences,
)


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.load(WEIGHTS / "tokenizer.model")


TEXTS = [
    "She go to school yesterday.",
    "Ahmed's sister doesn't live in Zürich, she lives in São Paulo since 2019!",
    "I paid 12.50 dollars at 3:30 for Krzysztof's ticket (row 17).",
    "sunday is my favourite day, isn't it?",
    "Qwxyzzy flibbertigibbet wrote 1,234,567 e-mails @ 99% speed.",
]


@pytest.mark.parametrize("text", TEXTS)
def test_round_trip_keeps_case_punctuation_numbers_and_names(tok, text):
    ids = tok.encode(text)
    assert ids.dtype == np.int64 and (ids > tok.sep).all()  # no special id, no <unk>
    assert tok.decode(ids) == text


def test_unseen_characters_fall_back_to_bytes(tok):
    pieces = tok.pieces(tok.encode("Łódź"))
    assert any(p.startswith("<0x") for p in pieces) and tok.decode(tok.encode("Łódź")) == "Łódź"


def test_digits_are_split_one_by_one(tok):
    digits = [p.strip("\u2581") for p in tok.pieces(tok.encode("in 1987"))]
    assert digits[-4:] == ["1", "9", "8", "7"]


def test_prompt_and_sequence_frame_the_correction(tok):
    prompt = tok.prompt("He go home.")
    assert prompt[-1] == tok.sep and tok.decode(prompt) == "He go home."
    seq = tok.sequence("He go home.", "He goes home.")
    assert seq[len(prompt) - 1] == tok.sep and seq[-1] == tok.eos
    assert tok.decode(seq[len(prompt) :]) == "He goes home."


def test_a_typed_separator_is_text_not_the_control_token(tok):
    assert tok.sep not in tok.encode("a <sep> b </s>").tolist()


def test_context_fits_the_longest_sentence_and_correction():
    assert N_CTX == MAX_SENTENCE_TOKENS + MAX_CORRECTION_TOKENS + 2 == 128


def test_normalize():
    assert normalize("  She\u2019s   \u201cfine\u201d\u00a0 ") == 'She\'s "fine"'


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("", "at least one word"),
        ("   \t ", "at least one word"),
        ("...", "only digits and punctuation"),
        ("12 345 !", "only digits and punctuation"),
        ("I like pizza \U0001f355", "cannot read .*U0001f355|cannot read"),
        ("Я люблю чай.", "cannot read"),
        ("我喜欢茶", "cannot read"),
    ],
)
def test_unreadable_text_is_refused_naming_the_rule(text, pattern):
    with pytest.raises(ValueError, match=pattern):
        check_sentence(text)


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError, match="sentence"):
        check_sentence(b"bytes")
    with pytest.raises(TypeError, match="text"):
        split_sentences(42)


def test_too_long_sentence_names_the_limit(tok):
    with pytest.raises(ValueError, match=f"at most {MAX_SENTENCE_TOKENS} tokens"):
        tok.prompt("My friend and I " * 20 + "go home.")


@pytest.mark.parametrize(
    "text, sentences",
    [
        (
            "My sister works in a bank. My brother have three cat.",
            ["My sister works in a bank.", "My brother have three cat."],
        ),
        ("i go home. she go too", ["i go home.", "she go too"]),
        (
            "Where is it? I don't know! Really...  Yes.",
            ["Where is it?", "I don't know!", "Really...", "Yes."],
        ),
        ("Mr. Smith met Dr. Jones at 5 p.m. on Monday.", ["Mr. Smith met Dr. Jones at 5 p.m. on Monday."]),
        ("J. K. Rowling wrote it. He read it.", ["J. K. Rowling wrote it.", "He read it."]),
        ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
        ("It costs 3.50 dollars.", ["It costs 3.50 dollars."]),
        ("", []),
    ],
)
def test_split_sentences(text, sentences):
    assert split_sentences(text) == sentences


@pytest.mark.parametrize("text", ["one. two? three! four", "  Mr. Li  came.  i  left  ", "Why?!  OK."])
def test_split_keeps_every_character(text):
    assert " ".join(split_sentences(text)) == normalize(text)


def test_bad_tokenizer_files(tmp_path):
    with pytest.raises(ValueError, match="missing"):
        Tokenizer.load(tmp_path / "nothing.model")
    (tmp_path / "junk.model").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a SentencePiece model"):
        Tokenizer.load(tmp_path / "junk.model")
    with pytest.raises(TypeError, match="model_proto"):
        Tokenizer("text")


def test_a_tokenizer_trains_with_the_reserved_ids():
    tok = Tokenizer.train(["She goes to school every day."] * 50 + ["He has 2 cats."] * 50, 300)
    assert (tok.pad, tok.eos, tok.sep) == (0, 1, 3) and tok.vocab_size == 300
    assert tok.decode(tok.encode("She has 25 cats.")) == "She has 25 cats."
