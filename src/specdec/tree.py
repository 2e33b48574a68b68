"""Token trees: several candidates per step, verified in one target forward, exactly.

A chain draft (:mod:`specdec.sampling`) proposes one continuation; a *tree* draft proposes several that
share prefixes (Medusa, EAGLE, SpecInfer). Everything here is a small pure function over plain arrays:

- A tree of n drafted tokens is two (n,) int arrays: ``tokens`` and ``parents``, where ``parents[i]`` is
  the index of node i's parent, or −1 when node i continues the context's last token (a child of the
  *root*). Parents precede children (``parents[i] < i``), so there is no cycle and every array below is
  built in one pass. A chain of k tokens is the tree with parents −1, 0, …, k − 2.
- Scoring: a transformer scores context + tree in ONE forward when node i attends to the whole context
  and to its own ancestors (itself included) only, at position id = context length + depth
  (:func:`tree_attention_mask`, :func:`position_ids`). The toy models here have no attention, so
  :func:`tree_target_rows` gets the same rows by calling the model once per root-to-leaf path.
  p_T rows are laid out as a real forward returns them from the context's last position on:
  (n + 1, V), row 0 after the context (the root), row i + 1 after node i's path.
- Greedy verification (:func:`greedy_verify_tree`): the longest path whose every token is the target's
  argmax, then the target's argmax after it: autoregressive greedy output, token for token.
- Sampling verification (:func:`verify_tree`): multi-candidate recursive rejection sampling (SpecInfer,
  Miao et al. 2023; EAGLE uses it on its draft trees). At an accepted node, with p ← its p_T row, the
  children x_1, x_2, … are tried one after another: child x_i with draft row q_i is accepted with
  probability min(1, p(x_i)/q_i(x_i)); on rejection p ← norm(max(0, p − q_i)) for the next sibling; when
  all are rejected the step ends with one token drawn from the final p. :func:`tree_step_law` is the
  exact law of what one such step emits, for a fixed draft.

When it is lossless. The output follows p_T exactly when every child's token x_i has the law q_i reported
with it, given everything drafted before it (the path to its node, the earlier siblings and their
subtrees), and the verifier's uniforms are its own. By induction over the siblings: child 1 emits y with
probability min(p(y), q_1(y)); it is rejected with probability 1 − Σ min(p, q_1), and whatever was drawn
for it, the remaining siblings then face p' = norm(max(0, p − q_1)) with rows that meet the condition, so
by induction they emit p'; the two add up to p, as in Leviathan et al.'s proof for one candidate. The
``rule`` of a draft says how it meets the condition:

- ``"iid"``: the children of a node drawn independently from one row q (every q_i = q; a token may occur
  twice among siblings: a repeat of a rejected token then has p(x) = 0 and is never accepted);
- ``"one-hot"``: each candidate reported with the one-hot row of its own token, so a rejected x has its
  p(x) set to 0 and p renormalised. Given the draft, a one-hot row *is* the law of its token, so this
  holds however the candidates were picked (the draft's top k, a prompt lookup, even samples with the
  repeats dropped), as long as the picking does not see the verifier's uniforms;
- ``"without-replacement"``: children drawn one after another from q with the earlier ones removed, each
  reported with the row it was drawn from: q_i = norm(q with x_1 … x_{i−1} set to 0).

:func:`verify_tree` refuses rows that break the stated rule where the inputs show it (sibling rows that
differ under ``"iid"``, a row that is not one-hot under ``"one-hot"``, a row that is not the renormalised
remainder under ``"without-replacement"``, a token of draft probability 0). What the inputs cannot show
stays the caller's promise: children drawn *without* replacement but reported with the full row q look
exactly like an ``"iid"`` draft that happened to draw distinct tokens, and are not lossless (the tests
compute that law and find it far from p_T).

Bad input raises ``TypeError`` for a wrong type and ``ValueError`` for a wrong value, naming the argument
and the rule; randomness comes only from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from specdec import _arrays, _checks
from specdec.sampling import (
    SpeculativeResult,
    _check_loop,
    _check_sampling,
    _residual_weights,
    _sample,
    _standardize,
)

__all__ = [
    "RULES",
    "check_tree",
    "tree_from_paths",
    "depths",
    "ancestor_mask",
    "tree_attention_mask",
    "position_ids",
    "tree_target_rows",
    "greedy_verify_tree",
    "verify_tree",
    "tree_step_law",
    "TreeDraft",
    "ModelTreeDrafter",
    "tree_speculative_decode",
]

Model = Callable[[np.ndarray], np.ndarray]

RULES = ("iid", "one-hot", "without-replacement")
"""How the siblings of a draft tree were drawn; each makes :func:`verify_tree` lossless (module docstring)."""

_REMAINDER_TOL = 1e-9
"""``"without-replacement"``: a sibling's row may differ from the renormalised remainder by this much."""


# ----------------------------------------------------------------------------------------------
# the tree: tokens and parents
# ----------------------------------------------------------------------------------------------


def check_tree(tokens, parents, vocab_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(tokens, parents)`` checked and returned as int64 copies, both (n,), n >= 0.

    ``parents[i]`` must be −1 (a child of the context's last token) or the index of an earlier node:
    parents precede children, which also rules out cycles. Token ids are >= 0, and < ``vocab_size`` when
    it is given.
    """
    tokens = _arrays.token_array("tokens", tokens)
    parents = _arrays.token_array("parents", parents)
    if parents.shape != tokens.shape:
        raise ValueError(
            f"parents must have the shape of tokens {tokens.shape}, one per node, got {parents.shape}"
        )
    if tokens.size and tokens.min() < 0:
        raise ValueError(f"tokens must be token ids >= 0, got {int(tokens.min())}")
    if vocab_size is not None:
        _arrays.check_token_range("tokens", tokens, vocab_size)
    bad = np.flatnonzero((parents < -1) | (parents >= np.arange(parents.shape[0])))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"parents[{i}] must be -1 (a child of the context's last token) or the index of an earlier "
            f"node (parents precede children, so no cycles), got {int(parents[i])}"
        )
    return tokens.astype(np.int64), parents.astype(np.int64)


def tree_from_paths(paths) -> tuple[np.ndarray, np.ndarray]:
    """Candidate continuations -> ``(tokens, parents)``, shared prefixes merged into one node.

    ``paths``: a sequence of non-empty sequences of token ids, e.g. ``[[5, 7], [5, 2], [9]]`` -> tokens
    ``[5, 7, 2, 9]``, parents ``[-1, 0, 0, -1]``. Nodes are numbered in order of first appearance, so
    parents precede children.
    """
    if isinstance(paths, (str, bytes)) or not isinstance(paths, Sequence):
        raise TypeError(f"paths must be a sequence of token-id sequences, got {type(paths).__name__}")
    index: dict[tuple[int, int], int] = {}  # (parent, token) -> node
    tokens: list[int] = []
    parents: list[int] = []
    for i, path in enumerate(paths):
        if isinstance(path, (str, bytes)) or not isinstance(path, (Sequence, np.ndarray)):
            raise TypeError(f"paths[{i}] must be a sequence of token ids, got {type(path).__name__}")
        if len(path) == 0:
            raise ValueError(f"paths[{i}] is empty: every candidate needs at least one token")
        path = _arrays.token_array(f"paths[{i}]", np.asarray(path))
        node = -1
        for t in path.tolist():
            if (node, t) not in index:
                index[node, t] = len(tokens)
                tokens.append(t)
                parents.append(node)
            node = index[node, t]
    return check_tree(np.array(tokens, dtype=np.int64), np.array(parents, dtype=np.int64))


def depths(parents) -> np.ndarray:
    """(n,) parents -> (n,) depth of each node: 0 for a child of the root, its parent's depth + 1 below."""
    _, parents = check_tree(np.zeros(np.shape(parents), dtype=np.int64), parents)
    return _depths(parents)


def _depths(parents: np.ndarray) -> np.ndarray:
    d = np.zeros(parents.shape[0], dtype=np.int64)  # (n,)
    for i, p in enumerate(parents.tolist()):
        if p >= 0:
            d[i] = d[p] + 1
    return d


def _children(parents: np.ndarray) -> list[list[int]]:
    """Children of each node, in index order: entry 0 for the root, entry i + 1 for node i."""
    kids: list[list[int]] = [[] for _ in range(parents.shape[0] + 1)]
    for i, p in enumerate(parents.tolist()):
        kids[p + 1].append(i)
    return kids


def _path(parents: np.ndarray, node: int) -> list[int]:
    """Node indices from the root's child down to ``node`` (empty for the root, node −1)."""
    path = []
    while node >= 0:
        path.append(node)
        node = int(parents[node])
    return path[::-1]


# ----------------------------------------------------------------------------------------------
# scoring: the mask and position ids of one forward, and the toy models' rows
# ----------------------------------------------------------------------------------------------


def ancestor_mask(parents) -> np.ndarray:
    """(n,) parents -> (n, n) bool: ``mask[i, j]`` is True when node j is node i or one of its ancestors."""
    _, parents = check_tree(np.zeros(np.shape(parents), dtype=np.int64), parents)
    n = parents.shape[0]
    mask = np.zeros((n, n), dtype=bool)  # (n, n)
    for i, p in enumerate(parents.tolist()):
        if p >= 0:
            mask[i] = mask[p]  # the parent's ancestors, already complete since p < i
        mask[i, i] = True
    return mask


def tree_attention_mask(context_len: int, parents) -> np.ndarray:
    """The attention mask of one forward over context + tree: (L + n, L + n) bool, True = may attend.

    The context (L tokens) is causal; each tree node attends to the whole context and to its ancestors,
    itself included, never to a sibling's branch. For a chain it is the ordinary causal mask.
    """
    L = _checks.integer("context_len", context_len, 1, None)
    tree = ancestor_mask(parents)  # (n, n)
    n = tree.shape[0]
    mask = np.zeros((L + n, L + n), dtype=bool)
    mask[:L, :L] = np.tri(L, dtype=bool)  # causal context
    mask[L:, :L] = True  # every node sees the whole context
    mask[L:, L:] = tree
    return mask


def position_ids(context_len: int, parents) -> np.ndarray:
    """(L + n,) int64 position ids of context + tree: 0 … L − 1, then L + depth for each node."""
    L = _checks.integer("context_len", context_len, 1, None)
    return np.concatenate([np.arange(L), L + depths(parents)]).astype(np.int64)


def tree_target_rows(model: Model, context, tokens, parents, *, name: str = "target") -> np.ndarray:
    """p_T rows of every node: (n + 1, V), row 0 after the context, row i + 1 after node i's path.

    ``model``: any causal model of the protocol, (L,) tokens -> (L, V) with row i depending on
    ``tokens[:i+1]`` only. A transformer returns these rows in ONE forward over context + tree with
    :func:`tree_attention_mask` and :func:`position_ids`; the toy models have no attention, so here the
    model is called once per root-to-leaf path (once on the context alone for an empty tree), and a node
    shared by several paths gets the same row from each. ``name`` names the model in error messages.
    """
    if not callable(model):
        raise TypeError(f"{name} must be a model callable, (L,) tokens -> (L, V), got {type(model).__name__}")
    context = _arrays.prompt(context)
    tokens, parents = check_tree(tokens, parents)
    L, n = context.shape[0], tokens.shape[0]
    is_parent = np.zeros(n, dtype=bool)
    is_parent[parents[parents >= 0]] = True
    leaves = np.flatnonzero(~is_parent).tolist() or [-1]
    rows = None
    for leaf in leaves:
        path = _path(parents, leaf)
        seq = np.concatenate([context, tokens[path]])
        V = None if rows is None else rows.shape[1]
        out = _arrays.model_output(name, model(seq), seq.shape[0], V, L - 1)  # (len(path) + 1, V)
        if rows is None:
            rows = np.empty((n + 1, out.shape[1]))
        rows[[0, *(np.array(path, dtype=np.int64) + 1).tolist()]] = out
    return rows


# ----------------------------------------------------------------------------------------------
# verification: greedy, and multi-candidate recursive rejection sampling
# ----------------------------------------------------------------------------------------------


def _target_rows(p_target: object, n: int) -> np.ndarray:
    """p_target checked: a float (n + 1, V) array of distributions."""
    p_T = _arrays.float_array("p_target", p_target, 2)
    if p_T.shape[0] != n + 1:
        raise ValueError(
            f"p_target must have n + 1 = {n + 1} rows (root, then one per node), got {p_T.shape}"
        )
    _arrays.check_rows("p_target", p_T)
    return p_T


def greedy_verify_tree(tokens, parents, p_target) -> tuple[np.ndarray, np.ndarray]:
    """Greedy verification: the longest path whose every token is the target's argmax, plus the next one.

    ``p_target`` (n + 1, V) as :func:`tree_target_rows` lays it out. From the root, move to the first
    child (in index order) whose token is the argmax of the current row (ties to the lowest id, as
    ``np.argmax``), until no child is; then append that row's argmax. The result is what autoregressive
    greedy decoding emits after the context, token for token.

    Returns ``(emitted, accepted)``: ``emitted`` (a + 1,) int64 tokens, ``accepted`` (a,) int64 indices
    of the accepted nodes, root to leaf.
    """
    tokens, parents = check_tree(tokens, parents)
    p_T = _target_rows(p_target, tokens.shape[0])
    _arrays.check_token_range("tokens", tokens, p_T.shape[1])
    return _greedy_verify_tree(tokens, parents, p_T)


def _greedy_verify_tree(tokens: np.ndarray, parents: np.ndarray, p_T: np.ndarray):
    kids = _children(parents)
    node, accepted = -1, []
    while True:
        best = int(np.argmax(p_T[node + 1]))
        nxt = next((c for c in kids[node + 1] if tokens[c] == best), None)
        if nxt is None:
            return np.append(tokens[accepted], best).astype(np.int64), np.array(accepted, dtype=np.int64)
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
    for sibs in _children(parents):
        x, q = tokens[sibs], p_D[sibs]  # (b,), (b, V)
        if not sibs:
            continue
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
            if not np.allclose(q, expected, rtol=0.0, atol=_REMAINDER_TOL):
                raise ValueError(
                    f'rule "without-replacement": the p_draft row of each of nodes {sibs} must be the '
                    "first sibling's row with the earlier siblings' tokens set to 0, renormalised"
                )


def _check_draft(tokens, parents, p_target, p_draft, rule):
    """A tree, its (n + 1, V) target rows and (n, V) draft rows, checked against ``rule``."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(repr(r) for r in RULES)}, got {rule!r}")
    tokens, parents = check_tree(tokens, parents)
    p_T = _target_rows(p_target, tokens.shape[0])
    p_D = _arrays.float_array("p_draft", p_draft, 2)
    if p_D.shape != (tokens.shape[0], p_T.shape[1]):
        raise ValueError(f"p_draft must have shape {(tokens.shape[0], p_T.shape[1])}, one row per node")
    _arrays.check_token_range("tokens", tokens, p_T.shape[1])
    _arrays.check_rows("p_draft", p_D)
    _check_rule(rule, tokens, parents, p_D)
    return tokens, parents, p_T, p_D


def verify_tree(tokens, parents, p_target, p_draft, rng, *, rule: str = "iid"):
    """One step of multi-candidate recursive rejection sampling over a draft tree (SpecInfer, EAGLE).

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
    return _verify_tree(tokens, parents, p_T, p_D, _arrays.check_rng(rng))


def _verify_tree(tokens, parents, p_T, p_D, rng: np.random.Generator):
    kids = _children(parents)
    node, accepted = -1, []
    while True:
        p = p_T[node + 1]  # (V,) the target row at the accepted node
        for c in kids[node + 1]:
            x = tokens[c]
            if rng.random() * p_D[c, x] < p[x]:  # accepted with probability min(1, p(x)/q(x))
                accepted.append(c)
                node = c
                break
            w, mass = _residual_weights(p, p_D[c])  # rejected: p <- norm(max(0, p − q))
            p = w / mass if mass > 0 else w
        else:
            last = _sample(p, rng)
            return np.append(tokens[accepted], last).astype(np.int64), np.array(accepted, dtype=np.int64)


def tree_step_law(tokens, parents, p_target, p_draft, *, rule: str = "iid") -> dict[tuple[int, ...], float]:
    """The exact law of what :func:`verify_tree` emits for this fixed draft: {emitted tokens: probability}.

    Every accept / reject path is enumerated: child x_i of the current node is accepted with probability
    min(1, p(x_i)/q_i(x_i)), else p becomes its residual; the last token has the final p's law. Summed
    over the draft's own randomness (every tree the drafter can draw, with its probability), this is the
    law of one step of tree speculative decoding; the tests and the page compare it with p_T.
    """
    tokens, parents, p_T, p_D = _check_draft(tokens, parents, p_target, p_draft, rule)
    law: dict[tuple[int, ...], float] = {}
    _step_law(tokens, _children(parents), p_T, p_D, -1, p_T[0], 1.0, (), law)
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
        w, mass = _residual_weights(p, p_D[c])
        p = w / mass if mass > 0 else w
    for y in np.flatnonzero(p).tolist():
        law[(*prefix, y)] = law.get((*prefix, y), 0.0) + reach * float(p[y])


# ----------------------------------------------------------------------------------------------
# a tree drafter for the toy models, and the decoding loop
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeDraft:
    """What a tree drafter proposes for one step.

    ``tokens``, ``parents`` (n,) int64: the tree (n = 0: a plain target step). ``p_D`` (n, V): row i is
    the row node i's token was drawn from. ``rule``: how siblings were drawn, one of :data:`RULES`.
    ``cost``: draft forward calls spent.
    """

    tokens: np.ndarray
    parents: np.ndarray
    p_D: np.ndarray
    rule: str
    cost: int

    def __repr__(self) -> str:
        return (
            f"TreeDraft(tokens={self.tokens.tolist()}, parents={self.parents.tolist()}, "
            f"p_D shape {self.p_D.shape}, rule={self.rule!r}, cost={self.cost})"
        )


def _expand(row: np.ndarray, b: int, rule: str, rng: np.random.Generator):
    """Children of one node from the draft row (V,): (b',) tokens and their (b', V) rows, per ``rule``."""
    if rule == "iid":
        x = np.array([_sample(row, rng) for _ in range(b)], dtype=np.int64)
        return x, np.repeat(row[None, :], b, axis=0)
    b = min(b, int(np.count_nonzero(row)))
    if rule == "one-hot":  # the top b
        x = np.argsort(-row, kind="stable")[:b].astype(np.int64)
        return x, np.eye(row.shape[0])[x]
    rows = np.repeat(row[None, :], b, axis=0)  # (b, V): row i becomes what is left after i draws
    xs = []
    for i in range(b):  # without replacement
        xs.append(_sample(rows[i], rng))
        rows[i + 1 :, xs[-1]] = 0.0
        rows[i + 1 :] /= rows[i + 1 :].sum(axis=1, keepdims=True)
    return np.array(xs, dtype=np.int64), rows


class ModelTreeDrafter:
    """A draft tree from a draft model: ``branching[d]`` children for every node at depth d.

    ``model``: (L,) tokens -> (L, V); its rows are standardised by ``temperature`` and ``top_p`` before
    use. ``rule``: ``"iid"`` (children sampled independently from the row), ``"one-hot"`` (the row's b most
    probable tokens, one-hot rows) or ``"without-replacement"`` (sampled one after another, each from
    what is left). ``propose_tree(context, max_depth, rng)`` drafts min(len(branching), max_depth) levels.
    Cost: one draft forward per level, as a draft transformer scores a whole level under the tree mask
    (the toy model is called once per expanded node).
    """

    def __init__(self, model: Model, branching=(2, 2), *, rule: str = "iid", temperature=1.0, top_p=1.0):
        if not callable(model):
            raise TypeError(f"model must be callable, (L,) tokens -> (L, V), got {type(model).__name__}")
        if isinstance(branching, (str, bytes)) or not isinstance(branching, Sequence) or not branching:
            raise TypeError(f"branching must be a non-empty sequence of ints, got {branching!r}")
        self.branching = tuple(
            _checks.integer(f"branching[{d}]", b, 1, None) for d, b in enumerate(branching)
        )
        if rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(repr(r) for r in RULES)}, got {rule!r}")
        self.model, self.rule = model, rule
        self.temperature, self.top_p = _check_sampling(temperature, top_p)

    def _row(self, seq: np.ndarray) -> np.ndarray:
        """(L,) tokens -> (V,) the standardised draft row after them."""
        row = _arrays.model_output("draft", self.model(seq), seq.shape[0], None, seq.shape[0] - 1)[0]
        return _standardize(row, self.temperature, self.top_p)

    def propose_tree(self, context, max_depth: int, rng) -> TreeDraft:
        context = _arrays.prompt(context)
        max_depth = _checks.integer("max_depth", max_depth, 1, None)
        rng = _arrays.check_rng(rng)
        tokens: list[int] = []
        parents: list[int] = []
        rows: list[np.ndarray] = []
        paths = {-1: context}  # node -> context + the tokens of its path
        frontier = [-1]  # the nodes to expand at this level
        levels = self.branching[:max_depth]
        for b in levels:
            grown = []
            for node in frontier:
                x, q = _expand(self._row(paths[node]), b, self.rule, rng)  # (b',), (b', V)
                for t, row in zip(x.tolist(), q, strict=True):
                    paths[len(tokens)] = np.append(paths[node], t)
                    grown.append(len(tokens))
                    tokens.append(t)
                    parents.append(node)
                    rows.append(row)
            frontier = grown
        p_D = np.array(rows)  # (n, V): every level has at least one node
        return TreeDraft(
            np.array(tokens, dtype=np.int64), np.array(parents, dtype=np.int64), p_D, self.rule, len(levels)
        )

    def __repr__(self) -> str:
        return f"ModelTreeDrafter({self.model!r}, branching={self.branching}, rule={self.rule!r})"


def _tree_draft(d: object, V: int | None):
    """What ``propose_tree`` returned, checked: (n,), (n,), (n, V) rows, rule, cost."""
    if not isinstance(d, TreeDraft):
        raise TypeError(f"propose_tree must return a TreeDraft, got {type(d).__name__}")
    tokens, parents = check_tree(d.tokens, d.parents, V)
    p_D = _arrays.float_array("TreeDraft.p_D", d.p_D, 2)
    if p_D.shape[0] != tokens.shape[0] or (V is not None and p_D.shape[1] != V):
        raise ValueError(f"TreeDraft.p_D must have one row of V columns per node, got shape {p_D.shape}")
    cost = _checks.integer("TreeDraft.cost", d.cost, 0, None)
    return tokens, parents, p_D, d.rule, cost


def tree_speculative_decode(
    target: Model, drafter, prompt, max_new_tokens: int, rng, *, temperature: float = 1.0, top_p: float = 1.0
) -> SpeculativeResult:
    """Speculative decoding with a draft tree per step; the output follows p_T exactly.

    ``drafter``: an object with ``propose_tree(context, max_depth, rng) -> TreeDraft`` (such as
    :class:`ModelTreeDrafter`). Each step drafts a tree at most as deep as the tokens still needed,
    scores it (:func:`tree_target_rows`, counted as ONE target call: one forward under the tree mask),
    standardises p_T by ``temperature`` / ``top_p`` and verifies: :func:`verify_tree` under the draft's
    rule, or at temperature 0 :func:`greedy_verify_tree`, which makes the output autoregressive greedy
    output. Returns a :class:`specdec.sampling.SpeculativeResult`: τ = ``tokens_per_target_call``,
    ``accepted_per_step``, ``drafted_per_step`` (nodes per tree), ``k`` the most nodes in one tree.
    """
    prompt, V, max_new_tokens, rng, temperature, top_p = _check_loop(
        target, prompt, max_new_tokens, rng, temperature, top_p
    )
    if not callable(getattr(drafter, "propose_tree", None)):
        raise TypeError(
            f"drafter must have a propose_tree(context, max_depth, rng) method, got {type(drafter).__name__}"
        )
    seq, accepted, drafted, draft_calls = prompt, [], [], 0
    while seq.shape[0] - prompt.shape[0] < max_new_tokens:
        depth = max_new_tokens - (seq.shape[0] - prompt.shape[0])  # never draft past what is needed
        tokens, parents, p_D, rule, cost = _tree_draft(drafter.propose_tree(seq, depth, rng), V)
        p_T = _standardize(tree_target_rows(target, seq, tokens, parents), temperature, top_p)  # (n+1, V)
        V = p_T.shape[1]
        if temperature == 0.0:
            new, acc = _greedy_verify_tree(tokens, parents, p_T)
        else:
            tokens, parents, p_T, p_D = _check_draft(tokens, parents, p_T, p_D, rule)
            new, acc = _verify_tree(tokens, parents, p_T, p_D, rng)
        accepted.append(int(acc.shape[0]))
        drafted.append(int(tokens.shape[0]))
        draft_calls += cost
        seq = np.concatenate([seq, new])
    return SpeculativeResult(
        tokens=seq[prompt.shape[0] : prompt.shape[0] + max_new_tokens],
        target_calls=len(accepted),
        draft_calls=draft_calls,
        k=max(drafted, default=0),
        accepted_per_step=accepted,
        drafted_per_step=drafted,
    )
