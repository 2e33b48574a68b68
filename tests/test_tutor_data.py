"""The tutor's training data: natural sentences with learner errors injected by rule (specdec.tutor.data)."""

from __future__ import annotations

import difflib
import random
import re
import statistics
from collections import Counter

import numpy as np
import pytest

pytest.importorskip("wordfreq")
pytest.importorskip("lemminflect")

from lemminflect import getAllLemmas  # noqa: E402

from specdec.tutor import data  # noqa: E402

N = 4000
PREPOSITIONS = {"to", "at", "in", "on", "of", "for", "with", "from", "about", "into", "than"}
PRONOUNS = {"i", "me", "he", "him", "she", "her", "we", "us", "they", "them"}
AUXILIARIES = {"do", "does", "did", "not", "has", "have", "had", "is", "are", "am", "was", "were"}
AUXILIARIES |= {w + "n't" for w in AUXILIARIES} | {"don't", "doesn't", "didn't"}


@pytest.fixture(scope="module")
def pairs():
    return data.generate_pairs(N, np.random.default_rng(0))


def words(text: str) -> list[str]:
    """Words without their punctuation, as written."""
    return [w.strip(".,?") for w in text.split()]


def changed(learner: str, correct: str) -> tuple[list[str], list[str]]:
    """The words of the learner text and of the correction that differ (difflib's alignment)."""
    a, b = words(learner), words(correct)
    out_a, out_b = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op != "equal":
            out_a += a[i1:i2]
            out_b += b[j1:j2]
    return out_a, out_b


def single(pairs, kind: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b, kinds in pairs if kinds == (kind,)]


def same_noun(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` are forms of one noun (wife, wives)."""
    return bool(set(getAllLemmas(a).get("NOUN", (a,))) & set(getAllLemmas(b).get("NOUN", (b,))))


def is_verb(word: str) -> bool:
    lemmas = getAllLemmas(word.lower())
    return word.lower() in AUXILIARIES or "VERB" in lemmas or "AUX" in lemmas


def test_pairs_are_natural_text_and_seeded(pairs):
    rng_state = np.random.get_state()[1].copy()
    py_state = random.getstate()
    first = data.generate_pairs(300, np.random.default_rng(5))
    assert first == data.generate_pairs(300, np.random.default_rng(5))
    assert first != data.generate_pairs(300, np.random.default_rng(6))
    assert (np.random.get_state()[1] == rng_state).all() and random.getstate() == py_state
    for learner, correct, kinds in pairs:
        assert isinstance(learner, str) and isinstance(correct, str) and kinds
        assert correct[0].isupper() and correct[-1] in ".?", correct
        assert " ." not in correct and " ," not in correct and "  " not in correct
        assert set(kinds) <= set(data.KINDS)
        assert (learner == correct) == (kinds == ("clean",)), (learner, kinds)


def test_every_kind_occurs_at_about_its_rate(pairs):
    counts = Counter(k for *_, kinds in pairs for k in kinds)
    assert set(counts) == set(data.KINDS)
    assert 0.20 <= counts["clean"] / N <= 0.30
    n_errors = Counter(len(kinds) for *_, kinds in pairs if kinds != ("clean",))
    assert (n_errors[1] + n_errors[2]) / sum(n_errors.values()) >= 0.85
    assert 0 < n_errors[3] / N < 0.1 and max(n_errors) == 3
    mean_errors = sum(n * p for n, p in enumerate(data.N_ERRORS_P))
    total = sum(data.KIND_WEIGHTS.values())
    for kind, weight in data.KIND_WEIGHTS.items():
        expected = mean_errors * weight / total
        assert 0.5 < counts[kind] / N / expected < 1.6, (kind, counts[kind] / N, expected)


def test_lengths_are_those_of_real_sentences(pairs):
    lengths = [len(correct.split()) for _, correct, _ in pairs]
    assert min(lengths) >= 3 and max(lengths) >= 40
    assert 10 <= statistics.median(lengths) <= 20
    assert 0.05 <= sum(n >= 25 for n in lengths) / N <= 0.3
    assert sum(10 <= n <= 25 for n in lengths) / N >= 0.5
    assert sum(c.endswith("?") for _, c, _ in pairs) / N > 0.1
    assert sum(", " in c for _, c, _ in pairs) / N > 0.1


def test_word_level_kinds_change_what_they_say(pairs):
    for kind, allowed in (
        ("determiner", {"a", "an", "the", "some"}),
        ("preposition", PREPOSITIONS),
        ("pronoun_case", PRONOUNS),
    ):
        examples = single(pairs, kind)
        assert len(examples) > 30, kind
        for learner, correct in examples:
            a, b = changed(learner, correct)
            assert a or b, (kind, learner)
            assert {w.lower() for w in a + b} <= allowed | {w.lower() for w in set(a) & set(b)}, (
                learner,
                correct,
            )


def test_verb_kinds_change_a_verb(pairs):
    for kind in ("verb_sva", "verb_tense", "verb_form", "do_support"):
        examples = single(pairs, kind)
        assert len(examples) > 30, kind
        for learner, correct in examples:
            a, b = changed(learner, correct)
            assert any(is_verb(w) for w in a + b), (kind, learner, correct)
    for learner, correct in single(pairs, "verb_sva"):
        assert len(words(learner)) == len(words(correct))


def test_noun_and_adjective_kinds_change_a_form(pairs):
    for kind in ("noun_number", "uncountable"):
        for learner, correct in single(pairs, kind):
            a, b = changed(learner, correct)
            assert len(a) == len(b) == 1 and a[0] != b[0], (learner, correct)
            assert a[0][:3] == b[0][:3] or same_noun(a[0], b[0]), (learner, correct)
    for learner, correct in single(pairs, "uncountable"):
        assert changed(learner, correct)[1][0] in data.UNCOUNTABLE
    for learner, correct in single(pairs, "adjective_form"):
        a, b = changed(learner, correct)
        assert {"more", "most"} & set(a) or any(w.endswith(("er", "est")) for w in a), (learner, correct)


def test_form_only_kinds(pairs):
    for learner, correct in single(pairs, "capitalisation"):
        assert learner.lower() == correct.lower()
    for learner, correct in single(pairs, "punctuation"):
        assert learner.replace("'", "").rstrip(".?") == correct.replace("'", "").rstrip(".?")
    for learner, correct in single(pairs, "spelling"):
        a, b = changed(learner, correct)
        assert len(a) == len(b) == 1 and len(b[0]) >= 4 and a[0].lower() != b[0].lower()
        assert abs(len(a[0]) - len(b[0])) <= 2
    for learner, correct in single(pairs, "word_order"):
        ours, theirs = Counter(map(str.lower, words(learner))), Counter(map(str.lower, words(correct)))
        extra, missing = ours - theirs, theirs - ours
        assert learner != correct and (not extra and not missing or {"do", "does"} & set(extra)), learner
        assert sum(missing.values()) <= 1  # a reordering, or "where she lives" -> "where does she live"
    for learner, correct in single(pairs, "missing_word"):
        a, b = changed(learner, correct)
        assert not a and len(b) == 1
    for learner, correct in single(pairs, "extra_word"):
        a, b = changed(learner, correct)
        assert not b and len(a) == 1


def test_names_and_numbers_are_copied(pairs):
    with_number = with_name = 0
    for learner, correct, kinds in pairs:
        numbers = re.findall(r"\d+(?:[.:]\d+)?", correct)
        assert numbers == re.findall(r"\d+(?:[.:]\d+)?", learner)
        with_number += bool(numbers)
        names = [w for w in words(correct)[1:] if w[:1].isupper() and w != "I"]
        with_name += bool(names)
        for name in names:
            assert name in learner or ("capitalisation" in kinds and name.lower() in learner), (learner, name)
    assert with_number / N > 0.1 and with_name / N > 0.2
    made_up = Counter(w for _, c, _ in pairs for w in words(c)[1:] if w[:1].isupper())
    assert sum(1 for w, n in made_up.items() if n == 1) > 200  # many names are seen only once


def test_proper_names_are_capitalised_unknown_words():
    names = data.proper_names()
    assert names is data.proper_names() and len(names) > 2000
    assert all(n[0].isupper() and n[1:].islower() and n.isalpha() and len(n) >= 4 for n in names)
    assert not any(getAllLemmas(n.lower()) for n in names[:300])  # words lemminflect does not know
    assert not any(n.lower().endswith(("ly", "ed", "ing")) for n in names)
    assert not any(bad in n.lower() for n in names for bad in data.OFFENSIVE)


def test_the_wider_frames_occur_and_are_never_the_error(pairs):
    """Open verbs with any object, everyday adjuncts without an article and bare places all occur in
    correct sentences; the determiner error that adds "the" before a bare place is undone."""
    correct = [c for _, c, _ in pairs]
    adjunct = sum(any(f" {a} " in f" {c.rstrip('.?')} " for a in data.ADJUNCTS) for c in correct)
    bare = [c for c in correct if re.search(rf"\bto ({'|'.join(data.BARE_PLACES)})\b", c)]
    verbs = "|".join(data.OPEN_VERBS[:12])
    open_verb = [c for c in correct if re.search(rf"\b({verbs})(s|ed)? (the|a|an) ", c)]
    assert adjunct / N > 0.05 and len(bare) > 20 and len(open_verb) > 20
    added_the = [
        (a, b)
        for a, b in single(pairs, "determiner")
        if re.search(rf"\bto the ({'|'.join(data.BARE_PLACES)})\b", a)
    ]
    assert added_the  # the error occurs, and its correction drops exactly that "the"
    for learner, correct in added_the:
        assert changed(learner, correct) == (["the"], [])


def test_lexicon_is_data_driven_and_cached():
    lex = data.lexicon()
    assert lex is data.lexicon()
    assert len(lex["nouns"]) + len(lex["rare_nouns"]) > 2000 and len(lex["adjectives"]) > 150
    for name in ("nouns", "rare_nouns", "adjectives", "rare_adjectives"):
        assert all(w.isalpha() and w.islower() and w.isascii() for w in lex[name])
        assert not {n.lower() for n in data.FIRST_NAMES + data.CITIES} & set(lex[name])
    assert (
        data.article("hour") == "an" and data.article("university") == "a" and data.article("apple") == "an"
    )


def test_splits_hold_out_test_inputs_and_the_hand_written_pairs():
    train, test = data.make_splits(2000, 500, 3)
    assert len(train) == 2000 and len(test) == 500
    assert not {p[0] for p in test} & {p[0] for p in train}
    assert not {a for a, _ in data.learner_corpus_pairs()} & {p[0] for p in train}
    assert (train, test) == data.make_splits(2000, 500, 3)


def test_learner_corpus_pairs_are_natural_text():
    pairs = data.learner_corpus_pairs()
    assert len(pairs) == 382
    for learner, correct in pairs:
        for text in (learner, correct):
            assert text[0].isupper() and text[-1] in ".?" and " ." not in text and " ?" not in text
            assert not re.search(r"\bi\b", text), text
    assert data.naturalise("i not like coffee .") == "I not like coffee."
    assert (
        data.naturalise("anna went to london on sunday , i think .")
        == "Anna went to London on Sunday, I think."
    )


@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda: data.generate_pairs(-1, np.random.default_rng(0)), ValueError, "n"),
        (lambda: data.generate_pairs(2.5, np.random.default_rng(0)), TypeError, "n"),
        (lambda: data.generate_pairs(True, np.random.default_rng(0)), TypeError, "n"),
        (lambda: data.generate_pairs(3, 42), TypeError, "rng"),
        (lambda: data.make_splits("10", 5, 0), TypeError, "n_train"),
        (lambda: data.make_splits(10, -5, 0), ValueError, "n_test"),
        (lambda: data.make_splits(10, 5, -1), ValueError, "seed"),
    ],
)
def test_bad_arguments_are_named(call, error, name):
    with pytest.raises(error, match=rf"^{name}\b"):
        call()
