"""The tutor's data (rule-injected errors), tokenizer and training loop."""

from __future__ import annotations

import importlib.util
import io
import os
from collections import Counter

import numpy as np
import pytest

from specdec.models import load_learner_corpus, tokenize
from specdec.tutor import data
from specdec.tutor.tokenizer import MAX_SENTENCE_TOKENS, SPECIALS, Tokenizer, detokenize


@pytest.fixture(scope="module")
def splits():
    return data.make_splits(6000, 1500, 0)


@pytest.fixture(scope="module")
def tok():
    return Tokenizer.build()


def test_generation_is_seeded_and_every_kind_occurs(splits):
    train, test = splits
    assert data.generate_pairs(200, 7) == data.generate_pairs(200, 7)
    assert data.generate_pairs(200, 7) != data.generate_pairs(200, 8)
    counts = Counter(kind for *_, kind in train)
    assert set(counts) == set(data.KINDS)
    share = {k: counts[k] / len(train) for k in data.KINDS}
    for kind, weight in zip(data.KINDS, data.KIND_WEIGHTS):
        assert abs(share[kind] - weight / sum(data.KIND_WEIGHTS)) < 0.03, kind


def test_test_inputs_are_never_training_inputs(splits):
    train, test = splits
    assert not {tuple(s) for s, _, _ in train} & {tuple(s) for s, _, _ in test}


def test_clean_pairs_copy_and_error_pairs_differ(splits):
    for learner, correct, kind in splits[0]:
        assert (learner == correct) == (kind == "clean"), (learner, correct, kind)


def _diff(a: list[str], b: list[str]) -> tuple[list[str], list[str]]:
    """What differs between two token lists after their common prefix and suffix."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    j = 0
    while j < min(len(a), len(b)) - i and a[-1 - j] == b[-1 - j]:
        j += 1
    return a[i : len(a) - j], b[i : len(b) - j]


def test_each_rule_makes_the_edit_it_documents(splits):
    singular_of = {v: k for k, v in data.PLURALS.items()}
    for learner, correct, kind in splits[0]:
        wrong, right = _diff(learner, correct)
        if kind == "plural":
            assert len(wrong) == len(right) == 1 and singular_of[right[0]] == wrong[0]
        elif kind == "spelling":
            assert len(wrong) == len(right) == 1 and wrong[0] in data.MISSPELLINGS[right[0]]
        elif kind == "word_order":
            assert sorted(learner) == sorted(correct)
        elif kind == "article":
            assert set(wrong + right) <= {"a", "an", "the"} or sorted(wrong + right)[0] in {"a", "an", "the"}
        elif kind == "agreement":
            assert len(wrong) == len(right) == 1
        elif kind == "tense":
            assert any(w in correct for w in ("has", "have") + tuple(v[1] for v in data.VERBS.values()))


def test_the_generator_writes_only_lexicon_words(splits):
    words = {w for src, dst, _ in splits[0] + splits[1] for w in src + dst}
    assert words <= data.lexicon()


# --- tokenizer ------------------------------------------------------------------------------------


def test_vocabulary_covers_the_generator_and_the_learner_corpus(tok):
    assert tok.words[:3] == SPECIALS and (tok.pad, tok.sep, tok.eos) == (0, 1, 2)
    corpus = {w for pair in load_learner_corpus() for s in pair for w in tokenize(s)}
    assert corpus <= set(tok.words) and data.lexicon() <= set(tok.words)


def test_prompt_format(tok):
    ids = tok.prompt("She go to school.")
    assert tok.words_of(ids) == ["she", "go", "to", "school", ".", "<sep>"]
    seq = tok.sequence(["she", "go"], ["she", "goes"])
    assert tok.words_of(seq) == ["she", "go", "<sep>", "she", "goes", "<eos>"]


@pytest.mark.parametrize(
    ("sentence", "error", "pattern"),
    [
        ("", ValueError, "at least one word"),
        ("   ", ValueError, "at least one word"),
        ("she go " * 9, ValueError, f"at most {MAX_SENTENCE_TOKENS} tokens .* got 18"),
        (
            "she go to xylophone school with zork.",
            ValueError,
            "vocabulary of 49\\d words: 'xylophone', 'zork'",
        ),
        ("she <sep> go", ValueError, "'<sep>'"),
        (42, TypeError, "sentence must be a string, got 42"),
        (["she", "go"], TypeError, "sentence must be a string"),
    ],
)
def test_bad_sentences_are_refused_clearly(tok, sentence, error, pattern):
    with pytest.raises(error, match=pattern):
        tok.prompt(sentence)


def test_detokenize():
    assert detokenize(["i", "met", "anna", "on", "monday", "."]) == "I met Anna on Monday."
    assert detokenize(["is", "she", "at", "home", "?"]) == "Is she at home?"


def test_vocabulary_file_errors(tmp_path):
    with pytest.raises(ValueError, match="vocabulary file .* is missing"):
        Tokenizer.load(tmp_path / "vocab.json")
    (tmp_path / "vocab.json").write_text('{"words": [1, 2]}')
    with pytest.raises(ValueError, match="'words' must be a list of strings"):
        Tokenizer.load(tmp_path / "vocab.json")


# --- training (needs the optional extra `train`: JAX) ---------------------------------------------

HAVE_JAX = importlib.util.find_spec("jax") is not None
REQUIRED = "train" in os.environ.get("SPECDEC_EXTRAS", "").split(",")


@pytest.mark.skipif(not HAVE_JAX and not REQUIRED, reason="the optional extra 'train' (JAX) is not installed")
def test_a_tiny_model_trains_and_its_loss_falls(splits, tok):
    """A few steps of the real training loop on a tiny configuration (seconds): the loss must fall."""
    from specdec.tutor import model, train

    x, y, w = train.encode_pairs(tok, splits[0][:2000], 23)
    cfg = model.Config(vocab_size=tok.vocab_size, **train.TINY)
    out = io.StringIO()
    params, rec = train.train_model(
        "tiny", cfg, x, y, w, steps=40, batch=32, lr=3e-3, seed=0, log_every=10, out=out
    )
    losses = [loss for _, loss in rec["loss_curve"]]
    assert len(losses) == 4 and "tiny step    40/40" in out.getvalue()
    assert losses == sorted(losses, reverse=True) and losses[-1] < 0.85 * losses[0], losses
    assert losses[0] < 1.2 * np.log(tok.vocab_size)  # starts near chance, log V
    assert all(a.dtype == np.float32 for a in params.values()) and params["wte"].shape == (tok.vocab_size, 32)
