"""Input-guided drafting: the alignment walk, the drafts it makes, and its argument checks. (Its exact law
is in test_drafters.py; greedy identity and sampling on the tutor in test_families.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from specdec.drafters.input_guided import InputGuided, _resync, align

SEP, EOS = 9, 1
SRC = np.array([20, 21, 22, 23, 24, EOS])  # "he go to the school", then eos


@pytest.mark.parametrize(
    ("out", "want"),
    [
        ([], (0, "copy")),  # nothing written: copy from the start
        ([20, 21], (2, "copy")),  # a copy so far
        ([20, 30], (2, "guess")),  # a substitution (30 for 21): step over one source token
        ([20, 30, 22], (3, "copy")),  # ... and back in step
        ([20, 21, 22, 24], (5, "match")),  # a deletion (23 dropped): 24 found again, copy after it
        ([20, 31, 21], (2, "match")),  # an insertion (31): the substitution guess misses, 21 re-syncs
        ([20, 31, 21, 22], (3, "copy")),
        ([20, 21, 22, 23, 24, EOS], (6, "copy")),  # the whole copy, eos included: nothing left
    ],
)
def test_align_follows_copies_and_resynchronises_after_edits(out, want):
    assert align(SRC, np.array(out, dtype=np.int64), 3) == want


def test_resync_takes_the_longest_tail_then_the_nearest_match():
    src = np.array([5, 6, 7, 5, 6, 8, 5, EOS])
    # out's tail (5, 6) occurs twice: the nearest end to the aligned position wins
    assert align(src, np.array([5, 6, 7, 5, 40, 5, 6]), 3) == (5, "match")
    # the tail (7, 5, 6) ends at 3; its last two tokens also end at 7, nearer: the longer match wins
    src = np.array([7, 5, 6, 1, 2, 5, 6, 3, EOS])
    assert _resync(src, np.array([40, 7, 5, 6]), 6, 3) == (3, True)
    assert _resync(src, np.array([40, 7, 5, 6]), 6, 2) == (7, True)
    assert _resync(src, np.array([40, 41]), 6, 3) == (7, False)  # no match: step over one source token


def test_drafts_the_remainder_after_a_copy_and_a_few_tokens_after_an_edit():
    ig = InputGuided(40, separator=SEP, eos=EOS, after_edit=2)
    rng = np.random.default_rng(0)
    d = ig.propose(np.array([*SRC[:-1], SEP, 20]), 10, rng)
    assert d.tokens.tolist() == [21, 22, 23, 24, EOS] and d.cost == 0 and d.rule == "one-hot"
    np.testing.assert_array_equal(d.p_D.argmax(axis=1), d.tokens)
    assert d.p_D.sum() == 5.0
    assert ig.propose(np.array([*SRC[:-1], SEP, 20]), 3, rng).tokens.tolist() == [21, 22, 23]  # k
    assert ig.propose(np.array([*SRC[:-1], SEP, 20, 30]), 10, rng).tokens.tolist() == [22, 23]  # edit
    assert ig.propose(np.array([*SRC[:-1], SEP, *SRC]), 10, rng).tokens.size == 0  # all copied
    # 30 is nowhere in the source but earlier in the output, followed by 31 32: the output repeats itself
    assert ig.propose(np.array([*SRC[:-1], SEP, 30, 31, 32, 30]), 10, rng).tokens.tolist() == [31, 32]


def test_bad_arguments_name_the_argument_and_the_rule():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="separator"):
        InputGuided(40, separator=40, eos=EOS)
    with pytest.raises(ValueError, match="eos and separator must differ"):
        InputGuided(40, separator=3, eos=3)
    with pytest.raises(ValueError, match="after_edit"):
        InputGuided(40, separator=SEP, eos=EOS, after_edit=0)
    with pytest.raises(TypeError, match="max_ngram"):
        InputGuided(40, separator=SEP, eos=EOS, max_ngram=2.5)
    ig = InputGuided(40, separator=SEP, eos=EOS)
    with pytest.raises(ValueError, match="context must hold the separator token 9"):
        ig.propose(np.array([20, 21]), 3, rng)
    with pytest.raises(ValueError, match="k"):
        ig.propose(np.array([20, SEP]), 0, rng)
    with pytest.raises(ValueError, match="context"):
        ig.propose(np.array([20, 45, SEP]), 2, rng)


def test_the_cached_walk_gives_the_drafts_a_fresh_drafter_gives():
    """The drafter caches its last alignment walk; drafts equal a fresh drafter's at every step, across a
    change of source, an output that does not extend the last one, and a reset."""
    rng = np.random.default_rng(0)
    cached = InputGuided(40, separator=SEP, eos=EOS)
    other = np.array([24, 23, 22, 21, 20])
    outs = [[20], [20, 21], [20, 30, 22], [20, 30, 22, 23], [20], [20, 31, 21]]
    for src in (SRC[:-1], other, SRC[:-1]):
        for out in outs:
            context = np.array([*src, SEP, *out])
            want = InputGuided(40, separator=SEP, eos=EOS).propose(context, 10, rng).tokens
            np.testing.assert_array_equal(cached.propose(context, 10, rng).tokens, want)
        cached.reset()
