"""The structure of a token tree: tokens and parents, depths, children, the attention mask, position ids.

A tree of n drafted tokens is two (n,) int arrays: ``tokens`` and ``parents``, where ``parents[i]`` is the
index of node i's parent, or −1 when node i continues the context's last token (a child of the *root*).
Parents precede children (``parents[i] < i``), so there is no cycle and every array below is built in one
pass. A chain of k tokens is the tree with parents −1, 0, …, k − 2 (:func:`chain_parents`).

A transformer scores context + tree in ONE forward when node i attends to the whole context and to its own
ancestors (itself included) only, at position id = context length + depth (:func:`tree_attention_mask`,
:func:`position_ids`). Target rows are laid out as that forward returns them from the context's last
position on: (n + 1, V), row 0 after the context (the root), row i + 1 after node i's path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from specdec import _arrays, _checks

__all__ = [
    "check_tree",
    "chain_parents",
    "is_chain",
    "tree_from_paths",
    "depths",
    "children",
    "path_to",
    "ancestor_mask",
    "layout",
    "tree_attention_mask",
    "position_ids",
]


def check_tree(tokens, parents, vocab_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(tokens, parents)`` checked and returned as int64 copies, both (n,), n >= 0.

    ``parents[i]`` must be −1 (a child of the context's last token) or the index of an earlier node:
    parents precede children, which also rules out cycles. Token ids are >= 0, and < ``vocab_size`` when
    it is given (``vocab_size`` an integer >= 1: a float such as NaN is refused with a ``TypeError``).
    """
    if vocab_size is not None:
        vocab_size = _checks.integer("vocab_size", vocab_size, 1, None)
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


def chain_parents(n: int) -> np.ndarray:
    """(n,) int64 parents of a chain of n tokens: −1, 0, 1, …, n − 2."""
    return np.arange(-1, _checks.integer("n", n, 0, None) - 1, dtype=np.int64)


def is_chain(parents: np.ndarray) -> bool:
    """Whether ``parents``, a 1-D integer array, are those of a chain (every node the child of the one
    before; also an empty draft). Compared as a list: for the few dozen nodes of a draft, cheaper than
    array calls, and the decoding loop asks at every step. Any other dtype or shape is not a chain."""
    return (
        parents.ndim == 1
        and parents.dtype.kind in "iu"
        and parents.tolist() == list(range(-1, parents.shape[0] - 1))
    )


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
        node = -1
        for t in _arrays.token_array(f"paths[{i}]", np.asarray(path)).tolist():
            if (node, t) not in index:
                index[node, t] = len(tokens)
                tokens.append(t)
                parents.append(node)
            node = index[node, t]
    return check_tree(np.array(tokens, dtype=np.int64), np.array(parents, dtype=np.int64))


def _parents(parents: object) -> np.ndarray:
    return check_tree(np.zeros(np.shape(parents), dtype=np.int64), parents)[1]


def _depths(parents: np.ndarray) -> np.ndarray:
    d = np.zeros(parents.shape[0], dtype=np.int64)  # (n,)
    for i, p in enumerate(parents.tolist()):
        if p >= 0:
            d[i] = d[p] + 1
    return d


def depths(parents) -> np.ndarray:
    """(n,) parents -> (n,) depth of each node: 0 for a child of the root, its parent's depth + 1 below."""
    return _depths(_parents(parents))


def children(parents: np.ndarray) -> list[list[int]]:
    """Children of each node of checked ``parents``, in index order: entry 0 for the root, entry i + 1 for
    node i."""
    kids: list[list[int]] = [[] for _ in range(parents.shape[0] + 1)]
    for i, p in enumerate(parents.tolist()):
        kids[p + 1].append(i)
    return kids


def path_to(parents: np.ndarray, node: int) -> list[int]:
    """Node indices from the root's child down to ``node`` (empty for the root, node −1)."""
    path = []
    while node >= 0:
        path.append(node)
        node = int(parents[node])
    return path[::-1]


def _ancestor_mask(parents: np.ndarray) -> np.ndarray:
    n = parents.shape[0]
    mask = np.zeros((n, n), dtype=bool)  # (n, n)
    for i, p in enumerate(parents.tolist()):
        if p >= 0:
            mask[i] = mask[p]  # the parent's ancestors, already complete since p < i
        mask[i, i] = True
    return mask


def ancestor_mask(parents) -> np.ndarray:
    """(n,) parents -> (n, n) bool: ``mask[i, j]`` is True when node j is node i or one of its ancestors."""
    return _ancestor_mask(_parents(parents))


def layout(parents) -> tuple[np.ndarray, np.ndarray]:
    """(n,) parents -> ``(depths(parents), ancestor_mask(parents))``, checked once: what one forward over a
    tree needs besides its tokens (position ids are the committed length + depth)."""
    parents = _parents(parents)
    n = parents.shape[0]
    if is_chain(parents):  # depths 0 … n − 1, a causal mask
        return np.arange(n, dtype=np.int64), np.tri(n, dtype=bool)
    return _depths(parents), _ancestor_mask(parents)


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
