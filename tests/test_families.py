"""The families on the tutor: one-forward verification with the KV cache, greedy identity, the Lookahead mask.

Tolerances: logits of a cached chain / tree forward equal a full recompute within 1e-4 absolute (float32
matmuls of different shapes round differently; logits are O(10)); cache entries after a rollback equal a
fresh prefill within 1e-5. Sampling: the first two tokens of a correction at temperature 0.7, with the
tutor as target, fit their exact law by chi-square (p > 1e-3, fixed seeds).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from lossless import P_MIN, chisquare_p
from specdec import tree
from specdec.sampling import PromptLookup, verify
from specdec.speedup import expected_tokens_per_step, speedup_from_tau, walltime_speedup
from specdec.tutor import Tutor, data
from specdec.tutor.decode import greedy
from specdec.tutor.lookahead import Lookahead, lookahead_mask, lookahead_positions
from specdec.tutor.speculative import (
    CachedModelDrafter,
    CachedTarget,
    greedy_accept,
    ngram_drafter,
    probabilities,
    speculative_correct,
)

LOGIT_TOL = 1e-4
CACHE_TOL = 1e-5
SENTENCES = [
    "She go to school yesterday.",
    "My brother have three cat.",
    "He is engineer.",
    "They are interested on music.",
    "My freind works in a bank.",
    "Tom drinks always coffee.",
    "I have been to London last year.",
]


@pytest.fixture(scope="module")
def tutor():
    return Tutor.load()


@pytest.fixture(scope="module")
def draft():
    return Tutor.load("draft")


def full_logits(tutor, seq):
    """(L, V) logits of a whole sequence from scratch (no reuse)."""
    return tutor.forward(np.asarray(seq), np.arange(len(seq)), tutor.new_cache())[0]


def test_chain_rows_equal_a_full_recompute_and_rollback_equals_a_fresh_prefill(tutor):
    prompt = tutor.prompt("She go to school yesterday.")
    target = CachedTarget(tutor)
    first = int(target.start(prompt).argmax())
    draft = np.array([tutor.tokenizer.index[w] for w in ["went", "to", "the", "park"]])
    rows = target.score_chain(first, draft)  # (5, V)
    seq = np.concatenate([prompt, [first], draft])
    np.testing.assert_allclose(rows, full_logits(tutor, seq)[len(prompt) :], atol=LOGIT_TOL, rtol=0)
    assert target.forwards == 2
    target.commit(np.arange(3))  # keep pending, "went", "to"
    kept = seq[: len(prompt) + 3]
    fresh = tutor.new_cache()
    tutor.forward(kept, np.arange(len(kept)), fresh)
    assert target.cache.length == len(kept)
    n = len(kept)
    np.testing.assert_allclose(target.cache.k[:, :, :n], fresh.k[:, :, :n], atol=CACHE_TOL, rtol=0)
    np.testing.assert_allclose(target.cache.v[:, :, :n], fresh.v[:, :, :n], atol=CACHE_TOL, rtol=0)


def test_tree_rows_equal_full_recomputes_and_a_kept_path_equals_a_fresh_prefill(tutor):
    prompt = tutor.prompt("He is engineer.")
    ix = tutor.tokenizer.index
    paths = [[ix["is"], ix["an"], ix["engineer"]], [ix["is"], ix["a"]], [ix["are"], ix["an"]]]
    tokens, parents = tree.tree_from_paths(paths)
    target = CachedTarget(tutor)
    pending = int(target.start(prompt).argmax())
    rows = target.score_tree(pending, tokens, parents)  # (n + 1, V)
    context = np.append(prompt, pending)
    np.testing.assert_allclose(rows[0], full_logits(tutor, context)[-1], atol=LOGIT_TOL, rtol=0)
    for i in range(len(tokens)):
        path = tree._path(parents, i)
        want = full_logits(tutor, np.concatenate([context, tokens[path]]))[-1]
        np.testing.assert_allclose(rows[i + 1], want, atol=LOGIT_TOL, rtol=0)
    keep_nodes = tree._path(parents, 4)  # "are an": nodes 3, 4 (not a prefix of the forward's tokens)
    target.commit(np.array([0, *(np.array(keep_nodes) + 1)]))
    kept = np.concatenate([context, tokens[keep_nodes]])
    fresh = tutor.new_cache()
    tutor.forward(kept, np.arange(len(kept)), fresh)
    n = len(kept)
    assert target.cache.length == n
    np.testing.assert_allclose(target.cache.k[:, :, :n], fresh.k[:, :, :n], atol=CACHE_TOL, rtol=0)
    np.testing.assert_allclose(target.cache.v[:, :, :n], fresh.v[:, :, :n], atol=CACHE_TOL, rtol=0)


def test_greedy_accept_is_verify_with_one_hot_rows():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 7)).astype(np.float32)
    best = logits.argmax(axis=1)
    for draft in (best[:4], np.array([best[0], best[1], (best[2] + 1) % 7, best[3]])):
        p_T = probabilities(logits, 0.0)
        p_D = np.eye(7)[draft]
        want, n_want = verify(p_T, p_D, draft, np.random.default_rng(1))
        got, n = greedy_accept(logits, draft)
        assert n == n_want and got.tolist() == want.tolist()


@pytest.fixture(scope="module")
def drafters(tutor, draft):
    seqs = [a + ["<sep>"] + b + ["<eos>"] for a, b, _ in data.generate_pairs(1500, 1)]
    return {
        "draft model": (CachedModelDrafter(draft), 3),
        "n-gram": (ngram_drafter(tutor, seqs), 3),
        "prompt lookup": (PromptLookup(tutor.vocab_size), 8),
    }


@pytest.mark.parametrize("name", ["draft model", "n-gram", "prompt lookup"])
def test_every_chain_drafter_gives_autoregressive_greedy_output(tutor, drafters, name):
    drafter, k = drafters[name]
    target = CachedTarget(tutor)
    accepted = 0
    for s in SENTENCES:
        prompt = tutor.prompt(s)
        run = speculative_correct(target, drafter, prompt, k, np.random.default_rng(0))
        assert run.ids == greedy(tutor.params, tutor.cfg, tutor.tokenizer, prompt).ids
        assert run.target_forwards == 1 + len(run.accepted)
        accepted += sum(run.accepted)
    assert accepted > 0  # the drafter did draft something the target kept


@pytest.mark.parametrize(("W", "N", "G"), [(5, 3, 5), (3, 2, 3), (2, 4, 2)])
def test_lookahead_gives_autoregressive_greedy_output(tutor, W, N, G):
    la = Lookahead(CachedTarget(tutor), W=W, N=N, G=G)
    for s in SENTENCES:
        prompt = tutor.prompt(s)
        run = la.correct(prompt, np.random.default_rng(0))
        assert run.ids == greedy(tutor.params, tutor.cfg, tutor.tokenizer, prompt).ids


def test_lookahead_accepts_ngrams_on_a_long_correction(tutor):
    prompt = tutor.prompt("I have been to London last year.")
    run = Lookahead(CachedTarget(tutor), W=5, N=3, G=5).correct(prompt, np.random.default_rng(0))
    assert run.tau > 1.0 and len(run.ids) / run.target_forwards > 1.0


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
    with pytest.raises(TypeError, match="tutor"):
        CachedTarget("tutor")
    target = CachedTarget(tutor)
    target.start(tutor.prompt("He is engineer."))
    target.score_chain(3, [4, 5])
    with pytest.raises(ValueError, match="keep"):
        target.commit([0, 0])
    with pytest.raises(ValueError, match="W"):
        Lookahead(target, W=0)
    with pytest.raises(TypeError, match="candidates"):
        lookahead_mask(1, 2, "ab")


def test_speedup_from_tau_matches_the_alpha_form():
    tau = expected_tokens_per_step(0.8, 4)
    assert speedup_from_tau(tau, 4, 0.1, 1.5) == pytest.approx(walltime_speedup(0.8, 4, 0.1, 1.5), rel=1e-12)
    with pytest.raises(ValueError, match="tau"):
        speedup_from_tau(0.5, 4, 0.1)
    with pytest.raises(TypeError, match="c_verify"):
        speedup_from_tau(2.0, 4, 0.1, "1")


def exact_two_token_law(tutor, prompt, temperature):
    """{(y1, y2): probability} of the first two tokens of a correction sampled from the tutor."""
    p1 = probabilities(full_logits(tutor, prompt)[-1], temperature)
    law = {}
    for y1 in np.flatnonzero(p1 > 1e-9).tolist():
        p2 = probabilities(full_logits(tutor, np.append(prompt, y1))[-1], temperature)
        for y2 in np.flatnonzero(p2 > 1e-9).tolist():
            law[(y1, y2)] = p1[y1] * p2[y2]
    return law


@pytest.mark.parametrize(
    ("name", "sentence"),
    # sentences the tutor is unsure about at temperature 0.7; prompt lookup drafts after "i" (a copy)
    [("draft model", "It depends of the weather."), ("prompt lookup", "I really like my neighbor.")],
)
def test_sampling_with_the_tutor_as_target_is_lossless(tutor, draft, name, sentence):
    prompt = tutor.prompt(sentence)
    temperature, runs = 0.7, 1000
    law = exact_two_token_law(tutor, prompt, temperature)
    drafter = CachedModelDrafter(draft, temperature=temperature) if name == "draft model" else None
    drafter = drafter or PromptLookup(tutor.vocab_size)
    target, counts, drafted = CachedTarget(tutor), {}, 0
    for seed in range(runs):
        run = speculative_correct(
            target, drafter, prompt, 3, np.random.default_rng(seed), temperature=temperature, max_tokens=4
        )
        key = tuple(run.ids[:2])
        counts[key] = counts.get(key, 0) + 1
        drafted += sum(run.drafted)
    big = [key for key, p in law.items() if p * runs >= 5]
    obs = [counts.get(key, 0) for key in big] + [runs - sum(counts.get(key, 0) for key in big)]
    exp = [law[key] * runs for key in big] + [runs * (1 - sum(law[key] for key in big))]
    assert len(big) >= 4
    assert drafted > runs // 2  # the first step drafted (max_tokens=4 leaves room for 2 drafts)
    assert stats.chisquare(obs, exp).pvalue > 1e-3


def test_tree_sampling_with_the_tutor_as_target_is_lossless(tutor, draft):
    """Multi-candidate tree verification (specdec.tree, i.i.d. candidates) with the tutor as target and
    its draft model drafting a (2, 2) tree: the first two tokens at temperature 0.7 fit their exact law
    (chi-square, p > 1e-3, fixed seeds). On this sentence the two models disagree, so most steps end in
    the residual after both candidates are rejected, and some accept a drafted token: both paths run.
    (The exact, enumerated proof for every candidate rule is in test_tree.py.)"""
    rule = "iid"
    prompt = tutor.prompt("It depends of the weather.")
    temperature, runs = 0.7, 1000
    law = exact_two_token_law(tutor, prompt, temperature)
    drafter = tree.ModelTreeDrafter(draft, (2, 2), rule=rule, temperature=temperature)
    counts, accepted = {}, 0
    for seed in range(runs):
        res = tree.tree_speculative_decode(
            tutor, drafter, prompt, 2, np.random.default_rng(seed), temperature=temperature
        )
        key = tuple(int(t) for t in res.tokens[:2])
        counts[key] = counts.get(key, 0) + 1
        accepted += res.accepted_per_step[0]
    big = [key for key, p in law.items() if p * runs >= 5]
    obs = [counts.get(key, 0) for key in big] + [runs - sum(counts.get(key, 0) for key in big)]
    exp = [law[key] * runs for key in big] + [runs * (1 - sum(law[key] for key in big))]
    assert len(big) >= 4
    assert 0 < accepted < runs
    assert stats.chisquare(obs, exp).pvalue > 1e-3
