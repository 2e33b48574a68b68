"""Token trees: the mask, the scoring adapter, greedy identity and lossless multi-candidate sampling.

Exactness is proven as the chain sampler's is (tests/test_drafters.py): for each candidate rule, every tree
the drafter can draw is enumerated with its probability, every accept / reject path of the verifier with
its probability (tree_step_law), and the law of the first two tokens of tree_speculative_decode equals the
target's to 1e-12, at temperature 1 and 0.7. Two wrong rules fail the same check by a wide margin.
Sampled runs fit by chi-square (p > 1e-3, fixed seeds). At temperature 0 the output is the target's
greedy output on random trees and in the decoding loop.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lossless import P_MIN, after_first_law, chisquare_p
from specdec.drafters.base import Draft
from specdec.models import MarkovChain, NGramModel
from specdec.sampling import autoregressive_decode, residual, standardize
from specdec.tree import (
    RULES,
    ModelTreeDrafter,
    ancestor_mask,
    check_tree,
    depths,
    greedy_verify_tree,
    position_ids,
    tree_attention_mask,
    tree_from_paths,
    tree_speculative_decode,
    tree_step_law,
    tree_target_rows,
    verify_tree,
)

EXACT = 1e-12

TARGET4 = MarkovChain(
    np.array([[0.5, 0.3, 0.2, 0], [0.1, 0.6, 0.3, 0], [0.3, 0, 0.4, 0.3], [0.25, 0.25, 0.25, 0.25]])
)
DRAFT4 = MarkovChain(np.array([[0.2, 0.2, 0.3, 0.3], [0.6, 0.4, 0, 0], [0.3, 0.3, 0.4, 0], [0, 0, 0.5, 0.5]]))
TARGET3 = MarkovChain(np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3], [0.3, 0.0, 0.7]]))
DRAFT3 = MarkovChain(np.array([[0.2, 0.5, 0.3], [0.6, 0.4, 0.0], [0.3, 0.3, 0.4]]))
CONTEXT = np.array([2, 1])


def path_tokens(tokens, parents, node: int) -> np.ndarray:
    """The tokens from the root down to ``node``, found by walking up the parent links."""
    path = []
    while node != -1:
        path.insert(0, int(tokens[node]))
        node = int(parents[node])
    return np.array(path, dtype=np.int64)


# ------------------------------------------------------------------------------------------------
# the tree, its mask and position ids
# ------------------------------------------------------------------------------------------------


def test_tree_from_paths_merges_shared_prefixes():
    tokens, parents = tree_from_paths([[5, 7], [5, 2], [9], [5, 7, 1]])
    assert tokens.tolist() == [5, 7, 2, 9, 1] and parents.tolist() == [-1, 0, 0, -1, 1]
    assert depths(parents).tolist() == [0, 1, 1, 0, 2]
    assert tree_from_paths([np.array([4, 4, 4])])[1].tolist() == [-1, 0, 1]  # a chain


def direct_mask(L: int, parents: np.ndarray) -> np.ndarray:
    """The mask built the slow way: a context position sees the ones before it; a node sees the context and
    every node met walking up its parent links."""
    n = len(parents)
    mask = np.zeros((L + n, L + n), dtype=int)
    for i in range(L + n):
        if i < L:
            mask[i, : i + 1] = 1
            continue
        mask[i, :L] = 1
        node = i - L
        while node != -1:
            mask[i, L + node] = 1
            node = parents[node]
    return mask


@pytest.mark.parametrize("seed", range(20))
def test_mask_and_positions_match_a_direct_construction(seed):
    rng = np.random.default_rng(seed)
    n, L = int(rng.integers(0, 12)), int(rng.integers(1, 5))
    parents = np.array([int(rng.integers(-1, i)) for i in range(n)], dtype=np.int64)  # parent < i
    np.testing.assert_array_equal(tree_attention_mask(L, parents), direct_mask(L, parents))
    walked = [len(path_tokens(np.zeros(n, dtype=int), parents, i)) - 1 for i in range(n)]  # ancestors
    np.testing.assert_array_equal(
        position_ids(L, parents), np.r_[np.arange(L), L + np.array(walked, dtype=int)]
    )


def test_a_chain_is_the_causal_mask():
    chain = np.arange(-1, 5)  # parents -1, 0, 1, 2, 3, 4
    np.testing.assert_array_equal(tree_attention_mask(3, chain), np.tri(9, dtype=bool))
    np.testing.assert_array_equal(ancestor_mask(chain), np.tri(6, dtype=bool))
    assert position_ids(3, chain).tolist() == list(range(9))


def test_siblings_do_not_see_each_other():
    _, parents = tree_from_paths([[1, 2], [1, 3], [4]])  # nodes 1, 2, 3, 4 -> indices 0 .. 3
    m = ancestor_mask(parents)
    assert m.astype(int).tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 1]]
    assert position_ids(2, parents).tolist() == [0, 1, 2, 3, 3, 2]


@pytest.mark.parametrize(
    ("tokens", "parents", "error", "match"),
    [
        ([1, 2], [-1, 1], ValueError, r"parents\[1\] must be -1 .* or the index of an earlier node"),
        ([1, 2], [-1, 5], ValueError, r"parents\[1\] .*no cycles\), got 5"),
        ([1, 2], [-2, 0], ValueError, r"parents\[0\] must be -1"),
        ([1, 2], [-1], ValueError, "parents must have the shape of tokens"),
        ([1.0, 2.0], [-1, 0], TypeError, "tokens must be an integer array"),
        ([1, 2], [-1.0, 0.0], TypeError, "parents must be an integer array"),
        ([1, -2], [-1, 0], ValueError, "tokens must be token ids >= 0"),
        ([1, 9], [-1, 0], ValueError, r"tokens must lie in \[0, V\) = \[0, 4\)"),
    ],
)
def test_a_bad_tree_is_refused_naming_the_argument(tokens, parents, error, match):
    with pytest.raises(error, match=match):
        check_tree(np.array(tokens), np.array(parents), 4)


def test_bad_paths_are_refused():
    with pytest.raises(ValueError, match=r"^paths\[1\] is empty"):
        tree_from_paths([[1], []])
    with pytest.raises(TypeError, match=r"^paths\[0\] must be a sequence of token ids"):
        tree_from_paths(["ab"])
    with pytest.raises(TypeError, match=r"^paths\[0\] must be an integer array"):
        tree_from_paths([[1.5]])
    with pytest.raises(TypeError, match="^paths must be a sequence"):
        tree_from_paths(3)
    with pytest.raises(ValueError, match="^context_len must be >= 1"):
        tree_attention_mask(0, [-1])


# ------------------------------------------------------------------------------------------------
# scoring with the toy models
# ------------------------------------------------------------------------------------------------


def test_target_rows_are_the_rows_after_each_path():
    target = NGramModel.from_corpus(n=3)
    context = target.encode("my sister")
    tokens, parents = tree_from_paths([[5, 7, 9], [5, 2], [11], [5, 7, 3]])
    rows = tree_target_rows(target, context, tokens, parents)
    assert rows.shape == (len(tokens) + 1, target.vocab_size)
    np.testing.assert_array_equal(rows[0], target(context)[-1])
    for i in range(len(tokens)):
        path = path_tokens(tokens, parents, i)
        np.testing.assert_array_equal(rows[i + 1], target(np.r_[context, path])[-1])
    empty = tree_target_rows(target, context, np.zeros(0, dtype=int), np.zeros(0, dtype=int))
    np.testing.assert_array_equal(empty, target(context)[-1:])


# ------------------------------------------------------------------------------------------------
# greedy: the longest argmax path is autoregressive greedy
# ------------------------------------------------------------------------------------------------


def random_tree(rng, target, context, n: int):
    """A random tree whose nodes are, half the time, the target's argmax after their path."""
    tokens, parents = [], []
    for i in range(n):
        parent = int(rng.integers(-1, i))
        best = int(np.argmax(target(np.r_[context, path_tokens(tokens, parents, parent)])[-1]))
        tokens.append(best if rng.random() < 0.5 else int(rng.integers(target.vocab_size)))
        parents.append(parent)
    return np.array(tokens, dtype=np.int64), np.array(parents, dtype=np.int64)


@pytest.fixture(scope="module")
def trigram():
    return NGramModel.from_corpus(n=3)


def test_greedy_tree_verification_is_autoregressive_greedy(trigram):
    rng = np.random.default_rng(12)
    ties = MarkovChain(np.array([[0.4, 0.4, 0.2], [0.1, 0.45, 0.45], [0.3, 0.3, 0.4]]))  # argmax ties
    longest = 0
    for seed in range(150):
        target = trigram if seed % 2 else ties
        context = np.array(
            [0, *rng.integers(target.vocab_size, size=int(rng.integers(0, 4)))], dtype=np.int64
        )
        tokens, parents = random_tree(rng, target, context, int(rng.integers(0, 14)))
        emitted, accepted = greedy_verify_tree(
            tokens, parents, tree_target_rows(target, context, tokens, parents)
        )
        greedy = autoregressive_decode(target, context, len(emitted), rng, temperature=0).tokens
        np.testing.assert_array_equal(emitted, greedy, err_msg=f"seed {seed}")
        assert tokens[accepted].tolist() == emitted[:-1].tolist()
        assert all(parents[a] == (accepted[j - 1] if j else -1) for j, a in enumerate(accepted))  # a path
        longest = max(longest, len(accepted))
    assert longest >= 4  # the trees were deep enough to test something


@pytest.mark.parametrize("rule", RULES)
def test_tree_decoding_at_temperature_0_is_autoregressive_greedy(trigram, rule):
    bigram = NGramModel.from_corpus(n=2)
    drafter = ModelTreeDrafter(bigram, (3, 2, 2), rule=rule)
    for prompt in ("", "she", "yesterday we", "my sister works in a bank . my sister"):
        ids = trigram.encode(prompt)
        greedy = autoregressive_decode(trigram, ids, 30, np.random.default_rng(0), temperature=0)
        res = tree_speculative_decode(trigram, drafter, ids, 30, np.random.default_rng(1), temperature=0)
        np.testing.assert_array_equal(res.tokens, greedy.tokens, err_msg=prompt)
        assert res.target_calls < greedy.target_calls  # the tree saved target calls
        assert res.draft_calls == sum(min(3, d) for d in _depths_drafted(res))


def _depths_drafted(res) -> list[int]:
    """Draft tokens allowed at each step of a result: the drafter drafted min(3, that) levels."""
    needed, out = len(res.tokens) - 1, []  # the prompt's forward wrote the first token
    for written in res.written_per_step:
        out.append(needed - 1)  # a step writes its own token after the draft
        needed -= written
    return out


# ------------------------------------------------------------------------------------------------
# sampling: the exact law of the first two tokens, by enumeration
# ------------------------------------------------------------------------------------------------


def children_options(row: np.ndarray, b: int, rule: str):
    """Every way the drafter can draw a node's children from its draft row: (probability, tokens, rows)."""
    V, positive = len(row), int(np.count_nonzero(row))
    if rule == "iid":
        for xs in itertools.product(range(V), repeat=b):
            yield float(np.prod(row[list(xs)])), list(xs), [row] * b
    elif rule == "one-hot":
        xs = [int(x) for x in np.argsort(-row, kind="stable")[: min(b, positive)]]
        yield 1.0, xs, [np.eye(V)[x] for x in xs]
    elif rule == "without-replacement":
        for xs in itertools.permutations(np.flatnonzero(row).tolist(), min(b, positive)):
            prob, q, rows = 1.0, row.copy(), []
            for x in xs:
                rows.append(q)
                prob *= q[x]
                q = q.copy()
                q[x] = 0
                q = q / q.sum() if q.sum() > 0 else q
            yield prob, list(xs), rows
    elif rule == "sampled-one-hot":  # i.i.d. draws, repeats dropped, one-hot rows: lossless all the same
        for xs in itertools.product(range(V), repeat=b):
            distinct = list(dict.fromkeys(xs))
            yield float(np.prod(row[list(xs)])), distinct, [np.eye(V)[x] for x in distinct]
    elif rule == "without-replacement-as-iid":  # a wrong drafter: drawn without replacement, full rows
        for prob, xs, _ in children_options(row, b, "without-replacement"):
            yield prob, xs, [row] * len(xs)


def tree_outcomes(draft, rule, branching, context, t):
    """Every tree ModelTreeDrafter(draft, branching, rule) can propose after ``context``, with its
    probability: (prob, tokens, parents, p_D), nodes numbered level by level as the drafter numbers them."""

    def level(prob, tokens, parents, rows, nodes, depth):
        if depth == len(branching) or not nodes:
            yield prob, np.array(tokens, dtype=np.int64), np.array(parents, dtype=np.int64), np.array(rows)
            return
        yield from expand(prob, tokens, parents, rows, nodes, 0, [], depth)

    def expand(prob, tokens, parents, rows, nodes, j, new, depth):
        if j == len(nodes):  # every node of this level has its children: on to the next level
            yield from level(prob, tokens, parents, rows, new, depth + 1)
            return
        row = standardize(draft(np.r_[context, path_tokens(tokens, parents, nodes[j])])[-1], t)
        for q, xs, qs in children_options(row, branching[depth], rule):
            if q > 0:
                added = list(range(len(tokens), len(tokens) + len(xs)))
                grown = (tokens + xs, parents + [nodes[j]] * len(xs), rows + qs)
                yield from expand(prob * q, *grown, nodes, j + 1, new + added, depth)

    yield from level(1.0, [], [], [], [-1], 0)


def markov_rows(target, context, tokens, t):
    """p_T rows of a Markov target, built directly: after the context, then after each node's token."""
    return standardize(target.transition[np.r_[context[-1], tokens]], t)  # (n + 1, V)


def loop_law(target, draft, rule, branching, t, step_law=tree_step_law, verify_rule=None):
    """P(first two tokens of tree_speculative_decode = (a, b)), exactly: a depth-2 step, and where it
    emitted one token, a depth-1 step after it (the loop never drafts deeper than what is still needed)."""
    verify_rule = verify_rule or rule

    def step(context, levels):
        law = {}
        for q, tokens, parents, p_D in tree_outcomes(draft, rule, levels, context, t):
            p_T = markov_rows(target, context, tokens, t)
            for s, w in step_law(tokens, parents, p_T, p_D, rule=verify_rule).items():
                law[s] = law.get(s, 0.0) + q * w
        return law

    law = np.zeros((target.vocab_size,) * 2)
    for s, w in step(CONTEXT, branching[:2]).items():
        if len(s) >= 2:
            law[s[:2]] += w
        else:
            for s2, w2 in step(np.r_[CONTEXT, s], branching[:1]).items():
                law[s[0], s2[0]] += w * w2
    return law


def target_law(target, t):
    p = standardize(target.transition, t)
    return p[CONTEXT[-1]][:, None] * p  # (V, V): P(a) P(b | a)


CASES = [  # rule, target, draft, branching: depth 2, two or three children per node
    ("iid", TARGET4, DRAFT4, (2, 2)),
    ("iid", TARGET3, DRAFT3, (3, 2)),
    ("one-hot", TARGET4, DRAFT4, (3, 2)),
    ("one-hot", TARGET3, DRAFT3, (2, 3)),
    ("without-replacement", TARGET4, DRAFT4, (2, 2)),
    ("without-replacement", TARGET3, DRAFT3, (3, 2)),
]


@pytest.mark.parametrize("t", [1.0, 0.7])
@pytest.mark.parametrize(("rule", "target", "draft", "branching"), CASES)
def test_exact_law_of_the_first_two_tokens_is_the_target_law(rule, target, draft, branching, t):
    law = loop_law(target, draft, rule, branching, t)
    assert np.abs(law - target_law(target, t)).max() < EXACT


def stale_step_law(tokens, parents, p_T, p_D, rule):
    """A wrong verifier: every sibling is tested against the node's own p_T row (never its residual), and
    when all are rejected the last token comes from the residual of the last sibling's row."""
    kids = [[c for c in range(len(parents)) if parents[c] == node] for node in range(-1, len(parents))]
    law = {}

    def walk(node, reach, prefix):
        p = p_T[node + 1]
        for c in kids[node + 1]:
            a = min(1.0, p[tokens[c]] / p_D[c, tokens[c]])
            walk(c, reach * a, (*prefix, int(tokens[c])))
            reach *= 1 - a
        last = residual(p, p_D[kids[node + 1][-1]]) if kids[node + 1] else p
        for y in range(len(p)):
            law[(*prefix, y)] = law.get((*prefix, y), 0.0) + reach * last[y]

    walk(-1, 1.0, ())
    return law


@pytest.mark.parametrize("branching", [(2, 2), (3, 2)])
def test_the_exact_check_fails_for_wrong_rules(branching):
    """The check can fail: a verifier that does not update p_T between siblings, and children drawn
    without replacement but reported with the full row q (verified as "iid"), are far from the target law.
    Both laws still sum to 1: they are distributions, just not p_T."""
    goal = target_law(TARGET4, 1.0)
    stale = loop_law(TARGET4, DRAFT4, "iid", branching, 1.0, step_law=stale_step_law)
    assert abs(stale.sum() - 1) < EXACT and np.abs(stale - goal).max() > 0.02
    unrenormalised = loop_law(
        TARGET4, DRAFT4, "without-replacement-as-iid", branching, 1.0, verify_rule="iid"
    )
    assert abs(unrenormalised.sum() - 1) < EXACT and np.abs(unrenormalised - goal).max() > 0.02


@pytest.mark.parametrize("t", [1.0, 0.7])
def test_one_hot_rows_are_lossless_however_the_candidates_were_picked(t):
    """Candidates sampled i.i.d. from the draft, repeats dropped, reported one-hot: exact, since given the
    draft a one-hot row is the law of its token."""
    law = loop_law(TARGET4, DRAFT4, "sampled-one-hot", (3, 2), t, verify_rule="one-hot")
    assert np.abs(law - target_law(TARGET4, t)).max() < EXACT


# ------------------------------------------------------------------------------------------------
# sampling: chi-square fits of sampled output
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES)
def test_verify_tree_samples_follow_tree_step_law(rule):
    draft = ModelTreeDrafter(DRAFT4, (3, 2), rule=rule).propose(CONTEXT, 2, np.random.default_rng(3))
    p_T = tree_target_rows(TARGET4, CONTEXT, draft.tokens, draft.parents)
    law = tree_step_law(draft.tokens, draft.parents, p_T, draft.p_D, rule=rule)
    outcomes = sorted(law)
    rng = np.random.default_rng(7)
    counts = dict.fromkeys(outcomes, 0)
    for _ in range(6000):
        emitted, _ = verify_tree(draft.tokens, draft.parents, p_T, draft.p_D, rng, rule=rule)
        counts[tuple(emitted.tolist())] += 1  # a KeyError would be an outcome of probability 0
    assert abs(sum(law.values()) - 1) < EXACT
    assert chisquare_p(np.array([counts[s] for s in outcomes]), np.array([law[s] for s in outcomes])) > P_MIN


@pytest.mark.parametrize(("rule", "t"), [("iid", 1.0), ("one-hot", 0.7), ("without-replacement", 1.0)])
def test_sampled_first_verified_tokens_of_the_loop_fit_the_target(rule, t):
    drafter = ModelTreeDrafter(DRAFT4, (2, 2), rule=rule, temperature=t)
    rng = np.random.default_rng(2024)
    counts = np.zeros((4, 4), dtype=np.int64)
    for _ in range(2500):  # enough for lossless.TOY_TV over 16 cells
        # tokens 2 and 3: the first step after the prompt's forward drafts the whole depth-2 tree
        a, b = tree_speculative_decode(TARGET4, drafter, CONTEXT, 4, rng, temperature=t).tokens[1:3]
        counts[a, b] += 1
    p = standardize(TARGET4.transition, t)
    assert chisquare_p(counts, after_first_law(p, p[CONTEXT[-1]])) > P_MIN


# ------------------------------------------------------------------------------------------------
# the loop's accounting, and refusals
# ------------------------------------------------------------------------------------------------


def test_the_loop_reports_tau_and_calls(trigram):
    drafter = ModelTreeDrafter(NGramModel.from_corpus(n=2), (2, 2, 1), rule="without-replacement")
    res = tree_speculative_decode(trigram, drafter, trigram.encode("yesterday"), 40, np.random.default_rng(5))
    steps = len(res.accepted_per_step)
    assert len(res.tokens) == 40 and res.target_calls == steps + 1  # + the prompt's forward
    assert res.tau * steps == len(res.tokens) - 1 and res.tokens_per_target_call > 1.5
    assert sum(res.written_per_step) <= sum(res.accepted_per_step) + steps
    assert max(res.drafted_per_step) <= 2 + 4 + 4
    assert res.draft_calls == sum(min(3, d) for d in _depths_drafted(res))


def valid_draft(rule):
    return ModelTreeDrafter(DRAFT4, (2, 2), rule=rule).propose(CONTEXT, 2, np.random.default_rng(0))


def test_rows_that_break_the_rule_are_refused():
    rng = np.random.default_rng(0)
    d = valid_draft("iid")
    p_T = tree_target_rows(TARGET4, CONTEXT, d.tokens, d.parents)
    with pytest.raises(ValueError, match='rule "one-hot": the p_draft rows of nodes .* must be one-hot'):
        verify_tree(d.tokens, d.parents, p_T, d.p_D, rng, rule="one-hot")
    with pytest.raises(ValueError, match="^rule must be one of 'iid', 'one-hot', 'without-replacement'"):
        verify_tree(d.tokens, d.parents, p_T, d.p_D, rng, rule="greedy")
    rows = d.p_D.copy()
    rows[1] = np.full(4, 0.25)
    with pytest.raises(ValueError, match='rule "iid": sibling nodes \\[0, 1\\] must share one p_draft row'):
        verify_tree(d.tokens, d.parents, p_T, rows, rng)
    w = valid_draft("without-replacement")
    rows = w.p_D.copy()
    rows[1] = rows[0]  # the second root child reported with the full row, not what was left
    with pytest.raises(ValueError, match='rule "without-replacement": the p_draft row of each of nodes'):
        verify_tree(w.tokens, w.parents, p_T, rows, rng, rule="without-replacement")
    zero = d.p_D.copy()
    zero[:2] = np.eye(4)[(d.tokens[0] + 1) % 4]
    with pytest.raises(ValueError, match="^tokens\\[0\\] has probability 0 under its p_draft row"):
        verify_tree(d.tokens, d.parents, p_T, zero, rng)
    with pytest.raises(ValueError, match="^p_target must have n \\+ 1 = 7 rows"):
        verify_tree(d.tokens, d.parents, p_T[:-1], d.p_D, rng)
    with pytest.raises(TypeError, match="^rng must be a numpy.random.Generator"):
        verify_tree(d.tokens, d.parents, p_T, d.p_D, 0)


def test_bad_drafters_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="^drafter must be a drafter"):
        tree_speculative_decode(TARGET4, 3, CONTEXT, 3, rng)
    with pytest.raises(ValueError, match="^branching\\[1\\] must be >= 1"):
        ModelTreeDrafter(DRAFT4, (2, 0))
    with pytest.raises(TypeError, match="^branching must be a non-empty sequence"):
        ModelTreeDrafter(DRAFT4, 2)
    with pytest.raises(ValueError, match="^rule must be one of"):
        ModelTreeDrafter(DRAFT4, rule="beam")

    class Liar:
        def propose(self, context, k, rng):
            return Draft(np.array([1, 2]), np.full((2, 4), 0.25), 0, np.array([-1, -1]), "one-hot")

    with pytest.raises(ValueError, match='rule "one-hot": the p_draft rows'):
        tree_speculative_decode(TARGET4, Liar(), CONTEXT, 3, rng)


@pytest.mark.parametrize(
    ("vocab_size", "error", "match"),
    [
        (float("nan"), TypeError, "^vocab_size must be an integer"),
        (0, ValueError, "^vocab_size must be >= 1"),
    ],
)
def test_check_tree_refuses_a_vocabulary_size_that_is_not_a_count(vocab_size, error, match):
    with pytest.raises(error, match=match):
        check_tree(np.array([1, 2]), np.array([-1, 0]), vocab_size=vocab_size)
    assert check_tree(np.array([1, 2]), np.array([-1, 0]), vocab_size=3)[1].tolist() == [-1, 0]


@pytest.mark.parametrize("n", [1, 2, 5, 17])
def test_the_chain_shortcuts_equal_the_general_tree_walks(n):
    """layout() and greedy_verify_tree() take a vectorised path for a chain; it gives what the general
    walks over the tree give, for every number of accepted drafts."""
    from specdec.core.tree import _ancestor_mask, _depths, layout
    from specdec.core.verify import greedy_verify_tree

    chain = np.arange(-1, n - 1)
    d, mask = layout(chain)
    np.testing.assert_array_equal(d, _depths(chain))
    np.testing.assert_array_equal(mask, _ancestor_mask(chain))
    rng = np.random.default_rng(n)
    rows = rng.dirichlet(np.ones(6), n + 1)  # (n + 1, V)
    best = rows.argmax(axis=1)
    for a in range(n + 1):  # drafts 0 … a − 1 are the argmax, draft a (if any) is not
        tokens = best[:n].copy()
        if a < n:
            tokens[a] = (best[a] + 1) % 6
        emitted, accepted = greedy_verify_tree(tokens, chain, rows)
        # the same chain given as a tree with an extra, never-matching branch takes the general walk
        tree_tokens = np.append(tokens, (best[0] + 1) % 6)
        tree_emitted, tree_accepted = greedy_verify_tree(
            tree_tokens, np.append(chain, -1), np.vstack([rows, rows[:1]])
        )
        np.testing.assert_array_equal(emitted, tree_emitted)
        np.testing.assert_array_equal(accepted, tree_accepted)
        assert accepted.tolist() == list(range(a)) and emitted[-1] == best[a]
