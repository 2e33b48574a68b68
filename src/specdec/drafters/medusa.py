"""Medusa-1: K extra heads on the target's last feature propose a token tree; no draft model.

The offset, in this project's loop. A drafter sees the target's features of every token but the newest
(:class:`~specdec.drafters.base.Context`): the newest token (the target's own, the bonus or correction
of the last step) was written from the target's row at the token before it, whose feature f is the last
one known. The target's head read f and wrote the newest token, x_{L−1}; Medusa head k reads the same f
and predicts x_{L−1+k}: head 1 the token after the newest, head 2 the one after that, and so on (Cai et
al. 2024 §2.1.1: head k predicts the token k + 1 positions after the feature's own, the model's head the
first). K heads draft at most K deep, all from one feature, in one pass.

The tree (§2.3.3). A node is a path of ranks (i_1, …, i_d): the i_1-th most probable token of head 1,
then the i_2-th of head 2, … Its chance of being on the accepted path is estimated, as in the paper, by
the product of the measured accuracies a_k(i) (how often head k's rank-i token is the right one, on
held-out data) along the path; :func:`medusa_tree` adds the node of the highest estimate, among the
children of the nodes already in, until the tree has ``n`` nodes.

Verification. The candidates are the heads' top tokens, a deterministic function of the context, so each
is reported with the one-hot row of its own token: rule ``"one-hot"`` of :mod:`specdec.core.verify`,
whose proof on the trees page holds however the candidates were picked (siblings are distinct: different
ranks of one head). Greedy: the longest path of argmaxes, the autoregressive output. Sampling: lossless.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from specdec import _arrays, _checks
from specdec.drafters.base import Context, Draft, Drafter
from specdec.tutor.heads import load_heads, medusa_hidden

__all__ = ["MedusaDrafter", "medusa_tree"]


def medusa_tree(accuracy, n: int) -> list[tuple[int, ...]]:
    """The n rank paths of the highest estimated acceptance, greedily, parents before children.

    ``accuracy`` (K, r): row k − 1 holds a_k(0 … r − 1), the measured chance that head k's rank-i token
    is the right one. A path's estimate is the product of a_k(i_k) along it; a path may join once its
    parent has (the empty path, the root, is always in). Sorted by depth, then by ranks.
    """
    a = _arrays.float_array("accuracy", accuracy, 2)
    if a.size == 0 or (a < 0).any() or (a > 1).any():
        raise ValueError(f"accuracy must be a non-empty (K, r) array of rates in [0, 1], got shape {a.shape}")
    n = _checks.integer("n", n, 0, None)
    K, r = a.shape
    pool = [(-float(a[0, i]), (i,)) for i in range(r)]
    heapq.heapify(pool)
    chosen: list[tuple[int, ...]] = []
    while pool and len(chosen) < n:
        neg, path = heapq.heappop(pool)
        chosen.append(path)
        if len(path) < K:
            for i in range(r):
                heapq.heappush(pool, (neg * float(a[len(path), i]), (*path, i)))
    return sorted(chosen, key=lambda p: (len(p), p))


class MedusaDrafter(Drafter):
    """Medusa-1 heads proposing a token tree from the target's last known feature.

    ``params``: ``head{k}.w`` (d, d) and ``head{k}.b`` (d,) for k = 1 … K (:mod:`specdec.tutor.heads`).
    ``head`` (d, V): the target's output head (the tutor's ``wte.T``), frozen. ``tree``: rank paths
    (:func:`medusa_tree`), each at most K deep, parents listed. ``propose(context, k, rng)`` keeps the
    paths at most k deep (and as many as ``context.room`` allows), with one-hot rows; ``cost`` 1 (one pass
    of the heads). ``last`` holds the last proposal's per-head top tokens, for inspection.
    """

    def __init__(self, params: dict, head, tree: Sequence[Sequence[int]]):
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of head weights, got {type(params).__name__}")
        self.head = _arrays.float_array("head", head, 2).astype(np.float32)
        d, self.V = self.head.shape
        self.K = sum(1 for name in params if name.endswith(".w"))
        for k in range(1, self.K + 1):
            w, b = params.get(f"head{k}.w"), params.get(f"head{k}.b")
            if w is None or b is None or np.shape(w) != (d, d) or np.shape(b) != (d,):
                raise ValueError(f"params must hold head{k}.w ({d}, {d}) and head{k}.b ({d},) for k = 1 … K")
        if self.K < 1:
            raise ValueError("params must hold at least one head (head1.w, head1.b)")
        self.params = {k: np.asarray(v, np.float32) for k, v in params.items()}
        self.tree = self._check_tree(tree)
        self.ranks = 1 + max((i for p in self.tree for i in p), default=0)
        self.last: np.ndarray | None = None

    def _check_tree(self, tree) -> list[tuple[int, ...]]:
        if isinstance(tree, (str, bytes)) or not isinstance(tree, Sequence):
            raise TypeError(f"tree must be a sequence of rank paths, got {type(tree).__name__}")
        paths = [
            tuple(_checks.integer(f"tree[{j}] rank", i, 0, self.V - 1) for i in p) for j, p in enumerate(tree)
        ]
        seen = set()
        for j, p in enumerate(paths):
            if not 1 <= len(p) <= self.K or (len(p) > 1 and p[:-1] not in seen) or p in seen:
                raise ValueError(
                    f"tree[{j}] = {p} must be a new path of 1 … K = {self.K} ranks whose parent path is "
                    "listed before it"
                )
            seen.add(p)
        return paths

    @classmethod
    def load(cls, tutor, n: int = 16, path: str | Path | None = None) -> MedusaDrafter:
        """The shipped heads (``medusa.npz|json`` beside the tutor's weights, or ``path``) on ``tutor``,
        with the tree of ``n`` nodes built from the accuracies recorded with them."""
        from specdec.tutor.api import WEIGHTS

        params, meta = load_heads(Path(path) if path else WEIGHTS / "medusa", "medusa", tutor.cfg.d_model)
        return cls(params, tutor.params["wte"].T, medusa_tree(meta["rank_accuracy"], n))

    def with_tree(self, tree: Sequence[Sequence[int]]) -> MedusaDrafter:
        """The same heads with another tree of rank paths."""
        return MedusaDrafter(self.params, self.head, tree)

    def top_tokens(self, feature: np.ndarray) -> np.ndarray:
        """(d,) feature -> (K, ranks) each head's most probable tokens, best first."""
        h = np.stack([medusa_hidden(self.params, feature, k, np) for k in range(1, self.K + 1)])  # (K, d)
        logits = h @ self.head  # (K, V)
        r = self.ranks
        top = np.argpartition(-logits, r - 1, axis=1)[:, :r]  # (K, r) unordered
        order = np.argsort(-np.take_along_axis(logits, top, axis=1), axis=1, kind="stable")
        return np.take_along_axis(top, order, axis=1)

    def propose(self, context: Context, k: int, rng) -> Draft:
        if not isinstance(context, Context) or context.features is None:
            raise TypeError("context must be a Context with the target's features (Medusa reads them)")
        k = _checks.integer("k", k, 1, None)
        _arrays.check_rng(rng)
        if context.features.shape[0] == 0:
            raise ValueError("context.features must hold at least one row (the feature before the newest)")
        self.last = top = self.top_tokens(np.asarray(context.features[-1], np.float32))
        paths = [p for p in self.tree if len(p) <= k]
        if context.room is not None:
            paths = paths[: context.room]
        index = {p: j for j, p in enumerate(paths)}
        tokens = np.array([top[len(p) - 1, p[-1]] for p in paths], dtype=np.int64)
        parents = np.array([index[p[:-1]] if len(p) > 1 else -1 for p in paths], dtype=np.int64)
        rows = np.zeros((len(paths), self.V))
        rows[np.arange(len(paths)), tokens] = 1.0
        return Draft(tokens, rows, 1, parents, "one-hot")

    def __repr__(self) -> str:
        return f"MedusaDrafter(K={self.K}, tree of {len(self.tree)} nodes)"
