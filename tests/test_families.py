"""The families on the tutor, through the one loop: one-forward verification with the KV cache, greedy
identity with autoregressive decoding, the Lookahead tree, and sampling that stays lossless.

Tolerances: rows of a cached chain / tree forward equal the softmax of a full recompute within 1e-4 absolute
(float32 matmuls of different shapes round differently); cache entries after a commit equal a fresh prefill
within 1e-5. Sampling: the first two tokens of a correction at temperature 0.7, with the tutor as target,
fit their exact law by chi-square (p > 1e-3, fixed seeds). Assertions hold for any trained weights: they
compare token ids between decoding methods, never with a particular correction.
"""

from __future__ import annotations

import numpy as np
import pytest

from lossless import P_MIN, TUTOR_TV, chisquare_p
from specdec.core.rows import probabilities, softmax
from specdec.core.tree import path_to, tree_from_paths
from specdec.decode import MAX_NEW_TOKENS, autoregressive_decode, decode
from specdec.drafters.cached import CachedModelDrafter
from specdec.drafters.input_guided import InputGuided
from specdec.drafters.lookahead import Lookahead, lookahead_mask, lookahead_positions
from specdec.drafters.lookup import PromptLookup
from specdec.drafters.model import ModelTreeDrafter
from specdec.drafters.ngram import ngram_drafter
from specdec.speedup import expected_tokens_per_step, speedup_from_tau, walltime_speedup
from specdec.targets.cached import CachedTarget
from specdec.tutor import Tutor

ROW_TOL = 1e-4
CACHE_TOL = 1e-5
SENTENCES = [
    "She go to school yesterday.",
    "My brother have three cat.",
    "He is engineer.",
    "Tom drinks always coffee.",
    "I have been to London last year.",
]
MAX_TOKENS = 24  # a correction's most tokens, <eos> included


@pytest.fixture(scope="module")
def tutor():
    return Tutor.load()


@pytest.fixture(scope="module")
def draft():
    return Tutor.load("draft")


def full_rows(tutor, seq):
    """(L, V) probability rows of a whole sequence from scratch (no reuse)."""
    return softmax(tutor.forward(np.asarray(seq), np.arange(len(seq)), tutor.new_cache())[0])


def assert_cache_is_a_fresh_prefill(tutor, target, kept):
    fresh = tutor.new_cache()
    tutor.forward(kept, np.arange(len(kept)), fresh)
    n = len(kept)
    assert target.cache.length == n
    np.testing.assert_allclose(target.cache.k[:, :, :n], fresh.k[:, :, :n], atol=CACHE_TOL, rtol=0)
    np.testing.assert_allclose(target.cache.v[:, :, :n], fresh.v[:, :, :n], atol=CACHE_TOL, rtol=0)


def correct(tutor, drafter, prompt, k, rng=None, **kw):
    target = CachedTarget(tutor, capacity=2 * tutor.cfg.n_ctx)
    rng = np.random.default_rng(0) if rng is None else rng
    kw = {"temperature": 0.0, **kw}
    return decode(target, drafter, prompt, MAX_TOKENS, rng, k=k, stop=tutor.tokenizer.eos, **kw)


def test_chain_rows_equal_a_full_recompute_and_rollback_equals_a_fresh_prefill(tutor):
    prompt = tutor.prompt("She go to school yesterday.")
    target = CachedTarget(tutor)
    row, features = target.start(prompt)  # (V,) logits after the prompt, (L, d)
    assert row.shape == (tutor.vocab_size,) and features.shape == (len(prompt), tutor.cfg.d_model)
    np.testing.assert_allclose(softmax(row), full_rows(tutor, prompt)[-1], atol=ROW_TOL, rtol=0)
    first = int(row.argmax())
    draft = np.random.default_rng(0).integers(3, tutor.vocab_size, 4)
    tokens = np.concatenate([[first], draft])
    logits, hidden = target.score(tokens, np.arange(-1, 4))  # (5, V) logits, (5, d)
    seq = np.concatenate([prompt, tokens])
    np.testing.assert_allclose(softmax(logits), full_rows(tutor, seq)[len(prompt) :], atol=ROW_TOL, rtol=0)
    assert hidden.shape == (5, tutor.cfg.d_model)
    target.commit(np.arange(3))  # keep the pending token and two drafts
    assert_cache_is_a_fresh_prefill(tutor, target, seq[: len(prompt) + 3])


def test_tree_rows_equal_full_recomputes_and_a_kept_path_equals_a_fresh_prefill(tutor):
    prompt = tutor.prompt("He is engineer.")
    a, b, c, d, e = np.random.default_rng(1).integers(3, tutor.vocab_size, 5).tolist()
    tokens, parents = tree_from_paths([[a, b, c], [a, d], [e, b]])
    target = CachedTarget(tutor)
    pending = int(target.start(prompt)[0].argmax())
    logits, _ = target.score(np.append(pending, tokens), np.append(-1, parents + 1))  # (n + 1, V)
    rows = softmax(logits)
    context = np.append(prompt, pending)
    np.testing.assert_allclose(rows[0], full_rows(tutor, context)[-1], atol=ROW_TOL, rtol=0)
    for i in range(len(tokens)):
        want = full_rows(tutor, np.concatenate([context, tokens[path_to(parents, i)]]))[-1]
        np.testing.assert_allclose(rows[i + 1], want, atol=ROW_TOL, rtol=0)
    keep = path_to(parents, 4)  # "e b": nodes 3, 4, not a prefix of the forward's tokens
    target.commit(np.array([0, *(np.array(keep) + 1)]))
    assert_cache_is_a_fresh_prefill(tutor, target, np.concatenate([context, tokens[keep]]))


@pytest.fixture(scope="module")
def drafters(tutor, draft):
    """Every drafter of the benchmark; the n-gram fitted on greedy corrections of the test sentences."""
    eos = tutor.tokenizer.eos
    seqs = [np.append(tutor.prompt(s), correct(tutor, None, tutor.prompt(s), 0).tokens) for s in SENTENCES]
    return {
        "draft model": (CachedModelDrafter(draft), 3),
        "n-gram": (ngram_drafter(tutor.vocab_size, [s[s != eos] for s in seqs] + seqs), 3),
        "prompt lookup": (PromptLookup(tutor.vocab_size), 8),
        "input-guided": (InputGuided(tutor.vocab_size, separator=tutor.tokenizer.sep, eos=eos), 64),
        "draft tree": (ModelTreeDrafter(draft, (2, 2), rule="one-hot", temperature=0), 2),
        "Lookahead": (Lookahead(tutor.vocab_size, W=5, N=3, G=5), 6),
        "Lookahead W=2 N=4": (Lookahead(tutor.vocab_size, W=2, N=4, G=2), 4),
    }


@pytest.mark.parametrize(
    "name",
    [
        "draft model",
        "n-gram",
        "prompt lookup",
        "input-guided",
        "draft tree",
        "Lookahead",
        "Lookahead W=2 N=4",
    ],
)
def test_every_drafter_gives_autoregressive_greedy_output(tutor, drafters, name):
    """Greedy output equals autoregressive greedy output, recomputed without a cache, and τ counts only
    the tokens written: τ × steps = tokens written − the first (written by the prompt's forward)."""
    drafter, k = drafters[name]
    accepted = 0
    for s in SENTENCES:
        prompt = tutor.prompt(s)
        run = correct(tutor, drafter, prompt, k)
        plain = autoregressive_decode(tutor, prompt, len(run.tokens), np.random.default_rng(0), temperature=0)
        np.testing.assert_array_equal(run.tokens, plain.tokens)
        assert run.finished and run.target_calls == 1 + run.steps
        assert run.tau * run.steps == pytest.approx(len(run.tokens) - 1, abs=1e-9)
        accepted += sum(run.accepted_per_step)
    assert accepted > 0  # the drafter did draft something the target kept


def test_tau_counts_nothing_after_the_stop_token(tutor):
    """The target as its own draft, greedily: every draft is accepted, also past <eos>, but only what the
    output keeps is written and counted in τ."""
    prompt = tutor.prompt("My brother have three cat.")
    ref = correct(tutor, None, prompt, 0).tokens
    for k in (2, 3, 5, 7):
        run = correct(tutor, CachedModelDrafter(tutor), prompt, k)
        np.testing.assert_array_equal(run.tokens, ref)
        assert run.tokens[-1] == tutor.tokenizer.eos and run.finished
        assert run.drafted_per_step[:-1] == run.accepted_per_step[:-1]  # all accepted but maybe the last
        written = [a + 1 for a in run.accepted_per_step]
        assert run.written_per_step[:-1] == written[:-1] and run.written_per_step[-1] <= written[-1]
        assert run.tau * run.steps == len(run.tokens) - 1


def test_lookahead_accepts_ngrams_on_a_long_correction(tutor):
    prompt = tutor.prompt("I have been to London last year.")
    run = correct(tutor, Lookahead(tutor.vocab_size, W=5, N=3, G=5), prompt, 6)
    assert run.tau > 1.0 and len(run.tokens) / run.target_calls > 1.0


def direct_mask(levels, window, candidates):
    """The mask from its definition, one pair (query, key) at a time."""
    names = [("pending",)]
    names += [("la", lev, j) for lev in range(levels) for j in range(window)]
    names += [("vb", g, i) for g, c in enumerate(candidates) for i in range(c)]
    T = len(names)
    m = np.zeros((T, T), dtype=bool)
    for a, q in enumerate(names):
        for b, key in enumerate(names):
            if key[0] == "pending":
                m[a, b] = True
            elif q[0] == "la" and key[0] == "la":
                _, lq, jq = q
                _, lk, jk = key
                m[a, b] = (lk == 0 and jk <= jq) or (jk == jq and 1 <= lk <= lq)
            elif q[0] == "vb" and key[0] == "vb":
                m[a, b] = q[1] == key[1] and key[2] <= q[2]
    return m


@pytest.mark.parametrize(
    ("levels", "window", "cands"), [(2, 3, [2, 2]), (1, 4, [1]), (3, 5, [3, 3, 2]), (0, 0, [])]
)
def test_lookahead_mask_equals_a_direct_construction(levels, window, cands):
    mask = lookahead_mask(levels, window, cands)
    assert np.array_equal(mask, direct_mask(levels, window, cands))
    pos = lookahead_positions(levels, window, cands)
    for row in range(1, 1 + levels * window):  # a lookahead token sees one token per position 0 … its own
        assert sorted(pos[mask[row]].tolist()) == list(range(pos[row] + 1))


def test_lookahead_mask_small_case_literal():
    want = """
    10000000000
    11000000000
    11100000000
    11110000000
    11001000000
    11100100000
    11110010000
    10000001000
    10000001100
    10000000010
    10000000011"""
    rows = [[int(c) for c in line.strip()] for line in want.strip().splitlines()]
    assert np.array_equal(lookahead_mask(2, 3, [2, 2]), np.array(rows, dtype=bool))


def test_bad_arguments_name_themselves(tutor):
    with pytest.raises(TypeError, match="^model must have forward"):
        CachedTarget("tutor")
    target = CachedTarget(tutor)
    target.start(tutor.prompt("He is engineer."))
    target.score(np.array([3, 4, 5]), np.array([-1, 0, 0]))
    with pytest.raises(ValueError, match="^path must be increasing"):
        target.commit([0, 0])
    with pytest.raises(ValueError, match="does not fit"):
        target.score(np.full(tutor.cfg.n_ctx, 3), np.arange(-1, tutor.cfg.n_ctx - 1))
    with pytest.raises(TypeError, match="parents must be an integer array"):  # a chain's too
        target.score(np.array([3, 4]), np.array([-1.0, 0.0]))
    with pytest.raises(ValueError, match="^W must be >= 1"):
        Lookahead(tutor.vocab_size, W=0)
    with pytest.raises(TypeError, match="^candidates must be a sequence"):
        lookahead_mask(1, 2, "ab")
    for bad in (-1, float("nan")):
        with pytest.raises(ValueError, match="^temperature must be"):
            probabilities(np.zeros(4, np.float32), bad)
    with pytest.raises(ValueError, match=f"^max_new_tokens must be <= {MAX_NEW_TOKENS}"):
        decode(target, None, tutor.prompt("He is engineer."), MAX_NEW_TOKENS + 1, np.random.default_rng(0))


def test_speedup_from_tau_matches_the_alpha_form():
    tau = expected_tokens_per_step(0.8, 4)
    assert speedup_from_tau(tau, 4, 0.1, 1.5) == pytest.approx(walltime_speedup(0.8, 4, 0.1, 1.5), rel=1e-12)
    with pytest.raises(ValueError, match="tau"):
        speedup_from_tau(0.5, 4, 0.1)
    with pytest.raises(TypeError, match="c_verify"):
        speedup_from_tau(2.0, 4, 0.1, "1")


def last_row(tutor, seq, temperature):
    return probabilities(tutor.forward(seq, np.arange(len(seq)), tutor.new_cache())[0][-1], temperature)


def exact_two_token_law(tutor, prompt, temperature, at_least):
    """{(y1, y2): probability} of the first two tokens of a correction sampled from the tutor, for every
    pair of probability >= ``at_least`` (the cells a chi-square test can use; the rest is one cell)."""
    p1 = last_row(tutor, prompt, temperature)
    law = {}
    for y1 in np.flatnonzero(p1 >= at_least).tolist():
        p2 = last_row(tutor, np.append(prompt, y1), temperature)
        for y2 in np.flatnonzero(p1[y1] * p2 >= at_least).tolist():
            law[(y1, y2)] = p1[y1] * p2[y2]
    return law


def two_token_fit(tutor, drafter, sentence, k, runs=400):
    """Chi-square p-value of the first two tokens of ``runs`` sampled corrections (temperature 0.7) against
    their exact law: the prompt's forward writes the first, verification of a one-token-deep draft the
    second. Also: how many of those first steps drafted, and how many accepted a draft."""
    prompt = tutor.prompt(sentence)
    law = exact_two_token_law(tutor, prompt, 0.7, 5 / runs)  # cells of at least 5 expected counts
    target, counts, drafted, accepted = CachedTarget(tutor, capacity=2 * tutor.cfg.n_ctx), {}, 0, 0
    for seed in range(runs):
        run = decode(target, drafter, prompt, 3, np.random.default_rng(seed), k=k, temperature=0.7)
        key = tuple(run.tokens[:2].tolist())
        counts[key] = counts.get(key, 0) + 1
        drafted += run.drafted_per_step[0] > 0
        accepted += run.accepted_per_step[0] > 0
    big = list(law)
    rest = [runs - sum(counts.get(key, 0) for key in big)]
    obs = np.array([counts.get(key, 0) for key in big] + rest)
    exp = np.array([law[key] for key in big] + [1 - sum(law[key] for key in big)])
    assert len(big) >= 3
    return chisquare_p(obs, exp, max_tv=TUTOR_TV), drafted, accepted


@pytest.mark.parametrize(
    ("name", "sentence"),
    # sentences the tutor is unsure about at temperature 0.7
    [
        ("draft model", "What you doing?"),
        ("prompt lookup", "He explained me the problem."),
        ("input-guided", "What you doing?"),
    ],
)
def test_sampling_with_the_tutor_as_target_is_lossless(tutor, draft, name, sentence):
    drafter = {
        "draft model": CachedModelDrafter(draft, temperature=0.7),
        "prompt lookup": PromptLookup(tutor.vocab_size),
        "input-guided": InputGuided(tutor.vocab_size, separator=tutor.tokenizer.sep, eos=tutor.tokenizer.eos),
    }[name]
    p, drafted, _ = two_token_fit(tutor, drafter, sentence, 3)
    assert p > P_MIN
    assert drafted > 200  # most second tokens were written by verifying a draft


def test_tree_sampling_with_the_tutor_as_target_is_lossless(tutor, draft):
    """Multi-candidate tree verification (i.i.d. candidates) in the cached tree loop, the tutor as target
    and its draft model drafting two candidates: the first two tokens at temperature 0.7 fit their exact law.
    On this sentence the two models disagree, so many steps end in the residual after both candidates are
    rejected, and some accept a drafted token: both paths run. (The exact, enumerated proof for every
    candidate rule is in test_tree.py.)"""
    drafter = ModelTreeDrafter(draft, (2, 2), rule="iid", temperature=0.7)
    p, drafted, accepted = two_token_fit(tutor, drafter, "What you doing?", 2)
    assert p > P_MIN
    assert drafted == 400 and 0 < accepted < 400
