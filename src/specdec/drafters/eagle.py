"""EAGLE: a one-layer draft that predicts the target's next *feature*, drafting a token tree.

The draft (:mod:`specdec.tutor.heads`): entry t reads the feature f_t and the token x_{t+1} and predicts
f̂_{t+1}; the target's frozen output head turns f̂_{t+1} into p_D of x_{t+2}. In this project's loop the
drafter sees the target's features of every token but the newest (x_{L−1}); so the entries t = 0 … L − 2
read the target's own features, and the last of them predicts f̂_{L−1}, whose row proposes the tokens
after the newest. Deeper nodes read the draft's own predicted features (Li et al. 2024, §3: drafting
autoregressively at the feature level).

The KV cache. The draft keeps the keys and values of the entries built on the target's features (they
never change); each ``EagleDrafter.propose`` first adds the entries of the tokens accepted since
(one forward: the accepted drafts and the target's token, with the features the verification forward
computed), then grows the tree one level per forward, each node attending to the cached entries and its
own ancestors. Tree entries are dropped after the step. ``reset()`` empties the cache.

Two trees:

- ``"static"`` (EAGLE-1): ``branching[d]`` children for every node at depth d. At temperature 0 they are
  the draft row's top tokens, one-hot rows (rule ``"one-hot"``); otherwise they are drawn one after
  another without replacement from the standardised draft row, each reported with the row it was drawn
  from (rule ``"without-replacement"``, proven on the trees page).
- ``"dynamic"`` (EAGLE-2, Li et al. 2024b §4): each level expands the ``top_k`` nodes of highest value
  (the product of draft probabilities along the path, the confidence EAGLE-2 uses to estimate the
  acceptance), each into its ``top_k`` most probable tokens; after ``depth`` levels all drafted nodes are
  reranked by value and the best ``nodes`` kept (a parent's value is at least its child's, so a kept
  node's ancestors are kept). The tokens are picked by value, a deterministic function of the draft, so
  they are reported one-hot (rule ``"one-hot"``): lossless at any temperature.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from specdec import _arrays, _checks
from specdec.drafters.base import Context, Draft, Drafter
from specdec.drafters.model import expand_children
from specdec.tutor.heads import eagle_input, eagle_layer, load_heads

__all__ = ["EagleDrafter"]

TREES = ("static", "dynamic")


class EagleDrafter(Drafter):
    """EAGLE's feature-level draft with its own KV cache, proposing a static or a dynamic token tree.

    ``params``: the draft's weights (:func:`specdec.tutor.heads.eagle_shapes`). ``embed`` (V, d), ``pos``
    (n_ctx, d) and ``head`` (d, V): the target's token embedding, position embedding and output head,
    frozen. ``n_heads``: attention heads of the draft layer. ``tree``: ``"static"`` with ``branching``, or
    ``"dynamic"`` with ``top_k``, ``depth`` and ``nodes`` (module docstring). ``temperature``: the draft
    rows are its softmax at this temperature (use the decoding loop's). Cost per step: the draft
    forwards, the catch-up included.
    """

    def __init__(
        self,
        params: dict,
        embed,
        pos,
        head,
        *,
        n_heads: int = 4,
        tree: str = "static",
        branching=(3, 2, 1),
        top_k: int = 4,
        depth: int = 4,
        nodes: int = 16,
        temperature: float = 0.0,
    ):
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of the draft's weights, got {type(params).__name__}")
        self.embed = _arrays.float_array("embed", embed, 2).astype(np.float32)
        self.pos = _arrays.float_array("pos", pos, 2).astype(np.float32)
        self.head = _arrays.float_array("head", head, 2).astype(np.float32)
        self.V, d = self.embed.shape
        if self.head.shape != (d, self.V) or self.pos.shape[1] != d:
            raise ValueError(
                f"head must be (d, V) = ({d}, {self.V}) and pos (n_ctx, {d}), got {self.head.shape} and "
                f"{self.pos.shape}"
            )
        if np.shape(params.get("fc.w")) != (2 * d, d):
            raise ValueError(
                f"params must hold fc.w of shape ({2 * d}, {d}), got {np.shape(params.get('fc.w'))}"
            )
        self.n_heads = _checks.integer("n_heads", n_heads, 1, d)
        if d % self.n_heads:
            raise ValueError(f"n_heads must divide the feature size {d}, got {self.n_heads}")
        if tree not in TREES:
            raise ValueError(f"tree must be one of {TREES}, got {tree!r}")
        self.tree = tree
        if isinstance(branching, (str, bytes)) or not isinstance(branching, Sequence) or not branching:
            raise TypeError(f"branching must be a non-empty sequence of ints, got {branching!r}")
        self.branching = tuple(
            _checks.integer(f"branching[{i}]", b, 1, None) for i, b in enumerate(branching)
        )
        self.top_k = _checks.integer("top_k", top_k, 1, None)
        self.depth = _checks.integer("depth", depth, 1, None)
        self.nodes = _checks.integer("nodes", nodes, 0, None)
        self.temperature = _checks.nonnegative("temperature", temperature)
        self.params = {k: np.asarray(v, np.float32) for k, v in params.items()}
        D = d // self.n_heads
        self.k_cache = np.zeros((self.n_heads, self.pos.shape[0], D), np.float32)
        self.v_cache = np.zeros_like(self.k_cache)
        self.reset()

    @classmethod
    def load(cls, tutor, path: str | Path | None = None, **options) -> EagleDrafter:
        """The shipped draft (``eagle.npz|json`` beside the tutor's weights, or ``path``) on ``tutor``."""
        from specdec.tutor.api import WEIGHTS

        params, meta = load_heads(Path(path) if path else WEIGHTS / "eagle", "eagle", tutor.cfg.d_model)
        p = tutor.params
        return cls(params, p["wte"], p["wpe"], p["wte"].T, n_heads=meta["n_heads"], **options)

    def reset(self) -> None:
        """Empty the cache: no entry of an earlier run is kept."""
        self.length = 0
        self._seen = np.zeros(0, dtype=np.int64)
        self.last: dict | None = None

    def _layer(self, f, tokens, positions, allowed):
        x = eagle_input(self.params, f, tokens, positions, self.embed, self.pos, np)
        n = self.length
        return eagle_layer(
            self.params, x, self.k_cache[:, :n], self.v_cache[:, :n], allowed, self.n_heads, np
        )

    def _catch_up(self, tokens: np.ndarray, features: np.ndarray) -> np.ndarray:
        """Entries t = 0 … L − 2 on the target's features (those not cached yet); (d,) f̂_{L−1}.

        Entry t depends on tokens 0 … t + 1 only, so the entries of the common prefix with the last
        context are kept."""
        L = tokens.shape[0]
        m = min(self._seen.shape[0], L)
        diff = np.flatnonzero(self._seen[:m] != tokens[:m])
        common = int(diff[0]) if diff.size else m
        keep = max(0, min(self.length, common - 1, L - 2))
        T = L - 1 - keep
        allowed = np.ones((T, L - 1), dtype=bool)
        allowed[:, keep:] = np.tri(T, dtype=bool)
        t = np.arange(keep, L - 1)
        self.length = keep
        out, k, v = self._layer(features[t], tokens[t + 1], t, allowed)
        self.k_cache[:, keep : L - 1], self.v_cache[:, keep : L - 1] = k, v
        self.length, self._seen = L - 1, tokens.copy()
        return out[-1]

    def _rows(self, f: np.ndarray) -> np.ndarray:
        """(n, d) predicted features -> (n, V) float64 draft rows: the softmax at the drafter's temperature
        (at temperature 0, at 1: the tokens are then picked by rank, and the values rank the nodes).
        Computed in float32, then renormalised in float64."""
        z = f @ self.head  # (n, V) float32
        if self.temperature not in (0.0, 1.0):
            z = z * (1.0 / self.temperature)
        e = np.exp(z - z.max(axis=1, keepdims=True)).astype(np.float64)
        return e / e.sum(axis=1, keepdims=True)

    def propose(self, context: Context, k: int, rng) -> Draft:
        if not isinstance(context, Context) or context.features is None:
            raise TypeError("context must be a Context with the target's features (EAGLE reads them)")
        k = _checks.integer("k", k, 1, None)
        rng = _arrays.check_rng(rng)
        tokens = context.tokens
        features = np.asarray(context.features, np.float32)
        if tokens.shape[0] < 2 or features.shape != (tokens.shape[0] - 1, self.embed.shape[1]):
            raise ValueError(
                f"context.features must be (L - 1, {self.embed.shape[1]}) for L = {tokens.shape[0]} >= 2 "
                f"tokens, got {features.shape}"
            )
        root = self._catch_up(tokens, features)
        room = context.room if context.room is not None else None
        grow = self._static if self.tree == "static" else self._dynamic
        tok, parents, rows, forwards = grow(root, tokens.shape[0] - 1, k, rng, room)
        self.last = {"tokens": tok, "parents": parents}
        rule = "one-hot" if self.tree == "dynamic" or self.temperature == 0.0 else "without-replacement"
        return Draft(tok, rows, 1 + forwards, parents, rule)

    def _extend(self, nodes: list[int], tree: dict) -> np.ndarray:
        """One draft forward over the entries of ``nodes`` (each reads its parent's predicted feature and
        its own token, and attends to the cache and its ancestors' entries); (len(nodes), d) features."""
        ent = tree["entry"]  # node -> its entry, for the nodes forwarded so far
        m = len(ent)
        T = len(nodes)
        allowed = np.zeros((T, self.length + m + T), dtype=bool)
        allowed[:, : self.length] = True
        for j, c in enumerate(nodes):
            a = tree["parents"][c]
            while a >= 0:
                allowed[j, self.length + ent[a]] = True
                a = tree["parents"][a]
            allowed[j, self.length + m + j] = True
        f = np.stack([tree["feature"][tree["parents"][c]] for c in nodes])  # the parents' f̂
        x = np.array([tree["tokens"][c] for c in nodes], dtype=np.int64)
        t = np.array([tree["pos"] + tree["depth"][c] - 1 for c in nodes])
        x_in = eagle_input(self.params, f, x, t, self.embed, self.pos, np)
        keys = np.concatenate([self.k_cache[:, : self.length], tree["k"]], axis=1)
        vals = np.concatenate([self.v_cache[:, : self.length], tree["v"]], axis=1)
        out, kk, vv = eagle_layer(self.params, x_in, keys, vals, allowed, self.n_heads, np)
        tree["k"], tree["v"] = (
            np.concatenate([tree["k"], kk], axis=1),
            np.concatenate([tree["v"], vv], axis=1),
        )
        for j, c in enumerate(nodes):
            ent[c] = m + j
            tree["feature"][c] = out[j]
        return out

    def _new_tree(self, root: np.ndarray, pos: int) -> dict:
        H, D = self.k_cache.shape[0], self.k_cache.shape[2]
        empty = np.zeros((H, 0, D), np.float32)
        return {
            "tokens": [],
            "parents": [],
            "depth": [],
            "feature": {-1: root},
            "entry": {},
            "pos": pos,
            "k": empty,
            "v": empty.copy(),
        }

    def _add(self, tree: dict, parent: int, token: int) -> int:
        tree["tokens"].append(int(token))
        tree["parents"].append(parent)
        tree["depth"].append(1 if parent < 0 else tree["depth"][parent] + 1)
        return len(tree["tokens"]) - 1

    def _level_rows(self, frontier: list[int], tree: dict) -> np.ndarray:
        """(len(frontier), V) draft rows of the frontier nodes, in one product."""
        return self._rows(np.stack([tree["feature"][node] for node in frontier]))

    @staticmethod
    def _top(q: np.ndarray, b: int) -> np.ndarray:
        """(F, V) rows -> (F, b') each row's b' = min(b, V) most probable tokens, best first (ties: lower
        id first)."""
        b = min(b, q.shape[1])
        part = (
            np.argpartition(-q, b - 1, axis=1)[:, :b]
            if b < q.shape[1]
            else np.tile(np.arange(b), (len(q), 1))
        )
        part.sort(axis=1)  # ids increasing, so the stable sort below breaks ties by id
        order = np.argsort(-np.take_along_axis(q, part, axis=1), axis=1, kind="stable")
        return np.take_along_axis(part, order, axis=1)

    def _static(self, root, pos, k, rng, room):
        """EAGLE-1: ``branching[d]`` children per node at depth d, min(len(branching), k) levels."""
        tree, rows, forwards = self._new_tree(root, pos), [], 0
        frontier, levels = [-1], self.branching[:k]
        sampled = self.temperature > 0.0
        for level, b in enumerate(levels):
            if level > 0:
                self._extend(frontier, tree)
                forwards += 1
            q = self._level_rows(frontier, tree)  # (F, V)
            top = None if sampled else self._top(q, b)
            grown = []
            for j, node in enumerate(frontier):
                if sampled:  # drawn without replacement, each with the row it was drawn from
                    x, q_rows = expand_children(q[j], b, "without-replacement", rng)
                else:  # the top b, one-hot rows (built below)
                    x, q_rows = top[j][q[j, top[j]] > 0], None
                for i, t in enumerate(x.tolist()):
                    if room is not None and len(tree["tokens"]) >= room:
                        break
                    grown.append(self._add(tree, node, t))
                    rows.append(q_rows[i] if sampled else None)
            frontier = grown
            if not frontier:
                break
        tok = np.array(tree["tokens"], dtype=np.int64)
        if sampled:
            p_D = np.array(rows).reshape(len(tok), self.V)
        else:
            p_D = np.zeros((len(tok), self.V))
            p_D[np.arange(len(tok)), tok] = 1.0
        return tok, np.array(tree["parents"], dtype=np.int64), p_D, forwards

    def _dynamic(self, root, pos, k, rng, room):
        """EAGLE-2: expand the ``top_k`` nodes of highest value per level, rerank, keep the best ``nodes``."""
        tree, forwards = self._new_tree(root, pos), 0
        value: list[float] = []
        frontier = [-1]
        for level in range(min(self.depth, k)):
            if level > 0:
                self._extend(frontier, tree)
                forwards += 1
            q = self._level_rows(frontier, tree)  # (F, V)
            top = self._top(q, self.top_k)  # (F, top_k)
            grown = []
            for j, node in enumerate(frontier):
                v0 = 1.0 if node < 0 else value[node]
                for t in top[j].tolist():
                    if q[j, t] > 0:
                        grown.append(self._add(tree, node, t))
                        value.append(v0 * float(q[j, t]))
            frontier = sorted(grown, key=lambda c: -value[c])[: self.top_k]
            if not frontier:
                break
        keep_n = self.nodes if room is None else min(self.nodes, room)
        keep = sorted(sorted(range(len(value)), key=lambda c: (-value[c], tree["depth"][c]))[:keep_n])
        kept = set(keep)
        keep = [c for c in keep if tree["parents"][c] < 0 or tree["parents"][c] in kept]
        new = {c: j for j, c in enumerate(keep)}
        tok = np.array([tree["tokens"][c] for c in keep], dtype=np.int64)
        parents = np.array([new.get(tree["parents"][c], -1) for c in keep], dtype=np.int64)
        rows = np.zeros((len(keep), self.V))
        rows[np.arange(len(keep)), tok] = 1.0
        self.last_values = [value[c] for c in keep]
        return tok, parents, rows, forwards

    def __repr__(self) -> str:
        shape = (
            f"branching={self.branching}"
            if self.tree == "static"
            else (f"top_k={self.top_k}, depth={self.depth}, nodes={self.nodes}")
        )
        return f"EagleDrafter(tree={self.tree!r}, {shape}, temperature={self.temperature:g})"
