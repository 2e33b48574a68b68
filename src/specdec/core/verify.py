"""Verification: what a target keeps of a draft, for a chain or a tree, greedy or by sampling.

- :func:`verify` -- one step of Leviathan, Kalman & Matias (2023), Algorithm 1 on a chain of k drafts:
  draft x_i is accepted when r_i · p_D(x_i) < p_T(x_i); at the first rejection one token is drawn from the
  residual norm(max(0, p_T − p_D)), and when all k are accepted, the bonus token from p_T[k].
  :func:`verify_batch` is the same for B sequences at once, with no Python loop over B.
- :func:`greedy_verify_tree` -- temperature 0: the longest path whose every token is the target's argmax,
  then the argmax after it. On a chain it is the greedy prefix match. The output is autoregressive greedy
  output, token for token.
- :func:`verify_tree` -- multi-candidate verification: SpecInfer's rule for i.i.d. candidates (Miao et al.
  2023), and for candidates drawn without replacement the rule RSD names recursive rejection sampling
  (Jeon et al. 2024), which EAGLE's code uses on its draft trees: at an accepted node, with p ← its p_T
  row, the children x_1, x_2, … are tried one after another; child x_i with draft row q_i is accepted
  with probability min(1, p(x_i)/q_i(x_i)); on rejection p ← norm(max(0, p − q_i)) for the next sibling;
  when all are rejected the step ends with one token drawn from the final p. :func:`tree_step_law` is
  the exact law of one such step for a fixed draft.

When a tree is lossless. The output follows p_T exactly when every child's token x_i has the law q_i
reported with it, given everything drafted before it (the path to its node, the earlier siblings and their
subtrees), and the verifier's uniforms are its own. By induction over the siblings: child 1 emits y with
probability min(p(y), q_1(y)); it is rejected with probability 1 − Σ min(p, q_1), and whatever was drawn
for it, the remaining siblings then face p' = norm(max(0, p − q_1)) with rows that meet the condition, so
by induction they emit p'; the two add up to p, as in Leviathan et al.'s proof for one candidate. The
``rule`` of a draft says how it meets the condition:

- ``"iid"``: the children of a node drawn independently from one row q (every q_i = q; a token may occur
  twice among siblings: a repeat of a rejected token then has p(x) = 0 and is never accepted);
- ``"one-hot"``: each candidate reported with the one-hot row of its own token, so a rejected x has its
  p(x) set to 0 and p renormalised. Given the draft, a one-hot row *is* the law of its token, so this
  holds however the candidates were picked (the draft's top k, a prompt lookup, Lookahead's n-grams, even
  samples with the repeats dropped), as long as the picking does not see the verifier's uniforms;
- ``"without-replacement"``: children drawn one after another from q with the earlier ones removed, each
  reported with the row it was drawn from: q_i = norm(q with x_1 … x_{i−1} set to 0).

:func:`verify_tree` refuses rows that break the stated rule where the inputs show it (sibling rows that
differ under ``"iid"``, a row that is not one-hot under ``"one-hot"``, a row that is not the renormalised
remainder under ``"without-replacement"``, a token of draft probability 0). What the inputs cannot show
stays the caller's promise: children drawn *without* replacement but reported with the full row q look
exactly like an ``"iid"`` draft that happened to draw distinct tokens, and are not lossless (the tests
compute that law and find it far from p_T).
"""

from __future__ import annotations

import numpy as np

from specdec import _arrays
from specdec.core.rows import residual_weights, sample, sample_rows
from specdec.core.tree import check_tree, children, is_chain

__all__ = [
    "RULES",
    "verify",
    "accept_chain",
    "verify_batch",
    "greedy_verify_tree",
    "greedy_accept",
    "verify_tree",
    "tree_step_law",
]

RULES = ("iid", "one-hot", "without-replacement")
"""How the siblings of a draft tree were drawn; each makes :func:`verify_tree` lossless (module docstring)."""

REMAINDER_TOL = 1e-9
"""``"without-replacement"``: a sibling's row may differ from the renormalised remainder by this much."""


# ----------------------------------------------------------------------------------------------
# a chain: Algorithm 1, single and batched
# ----------------------------------------------------------------------------------------------


def verify(p_target, p_draft, draft_tokens, rng):
    """One speculative-sampling verification step (Leviathan Algorithm 1, section 2.3).

    ``p_target`` (k+1, V): p_T after each drafted prefix; row k is for the bonus token.
    ``p_draft`` (k, V): p_D rows the drafts were drawn from. ``draft_tokens`` (k,) ints.
    ``rng``: a numpy Generator; the step draws k uniforms r, then one uniform for the last token.

    Draft x_i is accepted when r_i · p_D(x_i) < p_T(x_i), i.e. with probability min(1, p_T/p_D).
    At the first rejection (row n) one token is drawn from norm(max(0, p_T[n] − p_D[n])); when all k
    are accepted it is drawn from p_T[k].

    Returns ``(tokens, n_accepted)``: ``tokens`` a 1-D int array of length ``n_accepted + 1``.
    """
    p_T, p_D, x = _arrays.step(p_target, p_draft, draft_tokens, rng, batched=False)
    return accept_chain(p_T, p_D, x, rng)


def accept_chain(p_T: np.ndarray, p_D: np.ndarray, x: np.ndarray, rng) -> tuple[np.ndarray, int]:
    """:func:`verify` on inputs already checked (the decoding loop checks the target's rows and the draft
    once): the same draws, the same result; only a drafted token of draft probability 0 is still refused."""
    k = x.shape[0]
    rows = np.arange(k)
    p_T_of_x = p_T[rows, x]  # (k,) p_T(x_i)
    p_D_of_x = p_D[rows, x]  # (k,) p_D(x_i)
    _arrays.drafted(p_D_of_x)
    r = rng.random(k)  # (k,)
    rejected = np.flatnonzero(~(r * p_D_of_x < p_T_of_x))  # rejected with probability 1 − p_T/p_D
    n = int(rejected[0]) if rejected.size else k
    if n < k:
        weights, _ = residual_weights(p_T[n], p_D[n])  # (V,) max(0, p_T − p_D), or p_T if no mass
    else:
        weights = p_T[k]  # (V,) all accepted: the bonus token
    return np.append(x[:n], sample(weights, rng)).astype(np.int64), n


def _last_token_weights(p_T: np.ndarray, p_D: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Weights of the token that ends each step: (B, k+1, V), (B, k, V), (B,) accepted -> (B, V).

    max(0, p_T[n] − p_D[n]) after a rejection at row n; p_T[k] when all k drafts were accepted;
    p_T[n] when the residual has no mass. Unnormalised.
    """
    B, k = p_D.shape[:2]
    b = np.arange(B)
    p_T_n = p_T[b, n]  # (B, V)
    p_D_n = p_D[b, np.minimum(n, k - 1)]  # (B, V) a copy, turned into the residual in place
    weights, _ = residual_weights(p_T_n, p_D_n, out=p_D_n)
    bonus = n == k  # (B,) all accepted: row k of p_T, not a residual
    if bonus.any():
        weights[bonus] = p_T_n[bonus]
    return weights


def verify_batch(p_target, p_draft, draft_tokens, rng):
    """:func:`verify` for B independent sequences at once, with no Python loop over B.

    ``p_target`` (B, k+1, V), ``p_draft`` (B, k, V), ``draft_tokens`` (B, k). Draws a (B, k) block of
    uniforms, then B more, so ``verify_batch`` on B = 1 returns what ``verify`` returns for the same seed.
    Every operation covers the whole batch; the only loops walk memory in blocks of about 1 MiB (validation,
    and building the B residual rows), so the second pass over a block reads it from cache. For B·V·8
    bytes under 1 MiB that is a single iteration.
    Returns ``(tokens, n_accepted)``: ``tokens`` (B, k+1) int64, row b holding its ``n_accepted[b] + 1``
    tokens then -1 padding; ``n_accepted`` (B,).
    """
    p_T, p_D, draft_tokens = _arrays.step(p_target, p_draft, draft_tokens, rng, batched=True)
    B, k = draft_tokens.shape
    b = np.arange(B)
    i = np.arange(k)
    p_T_of_x = p_T[b[:, None], i, draft_tokens]  # (B, k) p_T(x_i)
    p_D_of_x = p_D[b[:, None], i, draft_tokens]  # (B, k) p_D(x_i)
    _arrays.drafted(p_D_of_x)
    r = rng.random((B, k))  # (B, k)
    rejected = ~(r * p_D_of_x < p_T_of_x)  # (B, k)
    n = np.where(rejected.any(axis=1), rejected.argmax(axis=1), k)  # (B,) first rejection, or k
    u = rng.random(B)  # (B,) one uniform per sequence for its last token
    last = np.empty(B, dtype=np.int64)  # (B,)
    step = max(1, _arrays.BLOCK_BYTES // (p_T.shape[-1] * p_T.itemsize))
    for start in range(0, B, step):  # cache-sized blocks of rows (one block unless B·V is large)
        blk = slice(start, start + step)
        last[blk] = sample_rows(_last_token_weights(p_T[blk], p_D[blk], n[blk]), u[blk])
    tokens = np.full((B, k + 1), -1, dtype=np.int64)  # (B, k+1)
    tokens[:, :k] = np.where(i < n[:, None], draft_tokens, -1)
    tokens[b, n] = last
    return tokens, n.astype(np.int64)


# ----------------------------------------------------------------------------------------------
# a tree: greedy, and multi-candidate recursive rejection sampling
# ----------------------------------------------------------------------------------------------


def greedy_verify_tree(tokens, parents, p_target) -> tuple[np.ndarray, np.ndarray]:
    """Greedy verification: the longest path whose every token is the target's argmax, plus the next one.

    ``p_target`` (n + 1, V): row 0 after the context, row i + 1 after node i's path. From the root, move to
    the first child (in index order) whose token is the argmax of the current row (ties to the lowest id,
    as ``np.argmax``), until no child is; then append that row's argmax. The result is what autoregressive
    greedy decoding emits after the context, token for token. On a chain this is the greedy prefix match:
    drafts are kept while each equals the argmax of the row before it. (:func:`greedy_accept` is the same
    walk on the rows' argmaxes, unchecked: what the decoding loop calls.)

    Returns ``(emitted, accepted)``: ``emitted`` (a + 1,) int64 tokens, ``accepted`` (a,) int64 indices
    of the accepted nodes, root to leaf.
    """
    tokens, parents = check_tree(tokens, parents)
    p_T = _arrays.tree_rows(p_target, tokens.shape[0])
    _arrays.check_token_range("tokens", tokens, p_T.shape[1])
    return greedy_accept(tokens, parents, p_T.argmax(axis=-1))


def greedy_accept(tokens: np.ndarray, parents: np.ndarray, best: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`greedy_verify_tree` given ``best`` (n + 1,), the argmax of each row, for a tree already
    checked: ``tokens`` (n,) and ``parents`` (n,) int64. Nothing is checked here."""
    n = tokens.shape[0]
    if is_chain(parents):  # the greedy prefix match, on lists (a draft has a few dozen nodes)
        x, b = tokens.tolist(), best.tolist()
        a = 0
        while a < n and x[a] == b[a]:  # the first draft that is not the argmax ends the match
            a += 1
        return np.array(x[:a] + [b[a]], dtype=np.int64), np.arange(a, dtype=np.int64)
    kids = children(parents)
    node, accepted = -1, []
    while True:
        nxt = next((c for c in kids[node + 1] if tokens[c] == best[node + 1]), None)
        if nxt is None:
            emitted = np.append(tokens[accepted], best[node + 1]).astype(np.int64)
            return emitted, np.array(accepted, dtype=np.int64)
        accepted.append(nxt)
        node = nxt


def _check_rule(rule: str, tokens: np.ndarray, parents: np.ndarray, p_D: np.ndarray) -> None:
    """The sibling rows meet ``rule``'s assumptions where the inputs can show it, else ValueError."""
    zero = np.flatnonzero(~(p_D[np.arange(tokens.shape[0]), tokens] > 0))
    if zero.size:
        i = int(zero[0])
        raise ValueError(
            f"tokens[{i}] has probability 0 under its p_draft row, so it cannot have been drawn from it"
        )
    for sibs in children(parents):
        if not sibs:
            continue
        x, q = tokens[sibs], p_D[sibs]  # (b,), (b, V)
        if rule == "iid" and not (q == q[0]).all():
            raise ValueError(
                f'rule "iid": sibling nodes {sibs} must share one p_draft row (drawn i.i.d. from it); '
                "their rows differ"
            )
        if rule == "one-hot" and not (q[np.arange(len(sibs)), x] == 1.0).all():
            raise ValueError(
                f'rule "one-hot": the p_draft rows of nodes {sibs} must be one-hot on their tokens'
            )
        if rule == "without-replacement":
            expected = np.repeat(q[:1], len(sibs), axis=0)  # (b, V): q_1 with the earlier tokens removed
            for i in range(1, len(sibs)):
                expected[i:, x[i - 1]] = 0.0
            expected /= expected.sum(axis=1, keepdims=True)
            if not np.allclose(q, expected, rtol=0.0, atol=REMAINDER_TOL):
                raise ValueError(
                    f'rule "without-replacement": the p_draft row of each of nodes {sibs} must be the '
                    "first sibling's row with the earlier siblings' tokens set to 0, renormalised"
                )


def _check_draft(tokens, parents, p_target, p_draft, rule):
    """A tree, its (n + 1, V) target rows and (n, V) draft rows, checked against ``rule``."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(repr(r) for r in RULES)}, got {rule!r}")
    tokens, parents = check_tree(tokens, parents)
    p_T = _arrays.tree_rows(p_target, tokens.shape[0])
    p_D = _arrays.float_array("p_draft", p_draft, 2)
    if p_D.shape != (tokens.shape[0], p_T.shape[1]):
        raise ValueError(f"p_draft must have shape {(tokens.shape[0], p_T.shape[1])}, one row per node")
    _arrays.check_token_range("tokens", tokens, p_T.shape[1])
    _arrays.check_rows("p_draft", p_D)
    _check_rule(rule, tokens, parents, p_D)
    return tokens, parents, p_T, p_D


def _reject(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """p after a rejected candidate drawn from q: norm(max(0, p − q)), or p when there is no residual."""
    w, mass = residual_weights(p, q)
    return w / mass if mass > 0 else w


def verify_tree(tokens, parents, p_target, p_draft, rng, *, rule: str = "iid"):
    """One step of multi-candidate verification over a draft tree (SpecInfer's rule; RSD's, as EAGLE uses).

    ``tokens``, ``parents`` (n,): the tree. ``p_target`` (n + 1, V): row 0 after the context, row i + 1
    after node i's path. ``p_draft`` (n, V): row i is the row q_i node i's token was drawn from.
    ``rule``: how siblings were drawn, one of :data:`RULES`; rows that visibly break it are refused.

    From the root, with p its p_T row: children are tried in index order; child x_i is accepted when
    r · q_i(x_i) < p(x_i), r uniform (probability min(1, p(x_i)/q_i(x_i))), and the walk moves to it;
    on rejection p ← norm(max(0, p − q_i)). When no child is accepted (or the node is a leaf) one token
    is drawn from p and the step ends. Lossless under ``rule``'s condition (module docstring): the
    emitted tokens follow p_T exactly. One uniform per tried child, then one for the last token.

    Returns ``(emitted, accepted)`` like :func:`greedy_verify_tree`.
    """
    tokens, parents, p_T, p_D = _check_draft(tokens, parents, p_target, p_draft, rule)
    rng = _arrays.check_rng(rng)
    kids = children(parents)
    node, accepted = -1, []
    while True:
        p = p_T[node + 1]  # (V,) the target row at the accepted node
        for c in kids[node + 1]:
            x = tokens[c]
            if rng.random() * p_D[c, x] < p[x]:  # accepted with probability min(1, p(x)/q(x))
                accepted.append(c)
                node = c
                break
            p = _reject(p, p_D[c])
        else:
            emitted = np.append(tokens[accepted], sample(p, rng)).astype(np.int64)
            return emitted, np.array(accepted, dtype=np.int64)


def tree_step_law(tokens, parents, p_target, p_draft, *, rule: str = "iid") -> dict[tuple[int, ...], float]:
    """The exact law of what :func:`verify_tree` emits for this fixed draft: {emitted tokens: probability}.

    Every accept / reject path is enumerated: child x_i of the current node is accepted with probability
    min(1, p(x_i)/q_i(x_i)), else p becomes its residual; the last token has the final p's law. Summed
    over the draft's own randomness (every tree the drafter can draw, with its probability), this is the
    law of one step of tree speculative decoding; the tests and the page compare it with p_T.
    """
    tokens, parents, p_T, p_D = _check_draft(tokens, parents, p_target, p_draft, rule)
    law: dict[tuple[int, ...], float] = {}
    _step_law(tokens, children(parents), p_T, p_D, -1, p_T[0], 1.0, (), law)
    return law


def _step_law(tokens, kids, p_T, p_D, node, p, reach, prefix, law) -> None:
    """Add to ``law`` the outcomes from ``node`` reached with probability ``reach`` and target row ``p``."""
    for c in kids[node + 1]:
        x = int(tokens[c])
        accept = min(1.0, p[x] / p_D[c, x])
        if accept > 0:
            _step_law(tokens, kids, p_T, p_D, c, p_T[c + 1], reach * accept, (*prefix, x), law)
        reach *= 1.0 - accept
        if reach == 0.0:
            return
        p = _reject(p, p_D[c])
    for y in np.flatnonzero(p).tolist():
        law[(*prefix, y)] = law.get((*prefix, y), 0.0) + reach * float(p[y])
