"""Drafters that run a draft model given as a callable ``model(tokens) -> (L, V)`` probabilities.

:class:`ModelDrafter` is Leviathan et al.'s draft model: k tokens drawn one after another from its
standardised rows, a chain. :class:`ModelTreeDrafter` grows a tree, ``branching[d]`` children for every
node at depth d, under one of the sibling rules of :mod:`specdec.core.verify`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from specdec import _arrays, _checks
from specdec.core.rows import check_sampling, sample, standardize_rows
from specdec.core.verify import RULES
from specdec.drafters.base import Context, Draft, Drafter, as_context

__all__ = ["ModelDrafter", "ModelTreeDrafter", "expand_children"]

Model = Callable[[np.ndarray], np.ndarray]


def _check_model(model: object) -> None:
    if not callable(model):
        raise TypeError(
            f"model must be callable, (L,) tokens -> (L, V) probabilities, got {type(model).__name__}"
        )


class ModelDrafter(Drafter):
    """Leviathan's draft model: k tokens drawn autoregressively from the standardised p_D of ``model``.

    ``model`` follows the model protocol ((L,) -> (L, V)); ``temperature`` and ``top_p`` standardise its
    rows before each draw (use the target's, for the best acceptance; any choice stays exact). Each
    drafted token costs one call of ``model``, on the whole context so far. Attribute ``name`` names
    the model in error messages.
    """

    def __init__(self, model: Model, *, temperature: float = 1.0, top_p: float = 1.0, name: str = "draft"):
        _check_model(model)
        self.model = model
        self.temperature, self.top_p = check_sampling(temperature, top_p)
        self.name = name

    def next_row(self, tokens: np.ndarray) -> np.ndarray:
        """(L,) tokens -> (V,) p_D after them, before standardisation, checked."""
        out = self.model(tokens)
        return _arrays.model_output(
            self.name,
            out,
            tokens.shape[0],
            None,
            tokens.shape[0] - 1,
            rows_checked=_arrays.rows_checked(self.model),
        )[0]

    def propose(self, context: Context, k: int, rng) -> Draft:
        tokens = as_context(context).tokens
        n = tokens.shape[0]
        k = _checks.integer("k", k, 1, None)
        rng = _arrays.check_rng(rng)
        rows = []
        for _ in range(k):
            p_D = standardize_rows(self.next_row(tokens), self.temperature, self.top_p)  # (V,)
            rows.append(p_D)
            tokens = np.append(tokens, sample(p_D, rng))
        return Draft(tokens=tokens[n:], p_D=np.stack(rows), cost=k)  # (k,), (k, V)

    def __repr__(self) -> str:
        return f"ModelDrafter({self.model!r}, temperature={self.temperature:g}, top_p={self.top_p:g})"


def expand_children(row: np.ndarray, b: int, rule: str, rng: np.random.Generator):
    """Children of one node from the draft row (V,): (b',) tokens and their (b', V) rows, per ``rule``."""
    if rule == "iid":
        x = np.array([sample(row, rng) for _ in range(b)], dtype=np.int64)
        return x, np.repeat(row[None, :], b, axis=0)
    b = min(b, int(np.count_nonzero(row)))
    if rule == "one-hot":  # the top b
        x = np.argsort(-row, kind="stable")[:b].astype(np.int64)
        return x, np.eye(row.shape[0])[x]
    rows = np.repeat(row[None, :], b, axis=0)  # (b, V): row i becomes what is left after i draws
    xs = []
    for i in range(b):  # without replacement
        xs.append(sample(rows[i], rng))
        rows[i + 1 :, xs[-1]] = 0.0
        rows[i + 1 :] /= rows[i + 1 :].sum(axis=1, keepdims=True)
    return np.array(xs, dtype=np.int64), rows


class ModelTreeDrafter(ModelDrafter):
    """A draft tree from a draft model: ``branching[d]`` children for every node at depth d.

    ``model``: (L,) tokens -> (L, V); its rows are standardised by ``temperature`` and ``top_p`` before
    use. ``rule``: ``"iid"`` (children sampled independently from the row), ``"one-hot"`` (the row's b most
    probable tokens, one-hot rows) or ``"without-replacement"`` (sampled one after another, each from
    what is left). ``propose(context, k, rng)`` drafts min(len(branching), k) levels. Cost: one draft
    forward per level, as a draft transformer scores a whole level under the tree mask (the toy model is
    called once per expanded node).
    """

    def __init__(self, model: Model, branching=(2, 2), *, rule: str = "iid", temperature=1.0, top_p=1.0):
        super().__init__(model, temperature=temperature, top_p=top_p)
        if isinstance(branching, (str, bytes)) or not isinstance(branching, Sequence) or not branching:
            raise TypeError(f"branching must be a non-empty sequence of ints, got {branching!r}")
        self.branching = tuple(
            _checks.integer(f"branching[{d}]", b, 1, None) for d, b in enumerate(branching)
        )
        if rule not in RULES:
            raise ValueError(f"rule must be one of {', '.join(repr(r) for r in RULES)}, got {rule!r}")
        self.rule = rule

    def propose(self, context: Context, k: int, rng) -> Draft:
        context = as_context(context).tokens
        levels = self.branching[: _checks.integer("k", k, 1, None)]
        rng = _arrays.check_rng(rng)
        tokens: list[int] = []
        parents: list[int] = []
        rows: list[np.ndarray] = []
        paths = {-1: context}  # node -> context + the tokens of its path
        frontier = [-1]  # the nodes to expand at this level
        for b in levels:
            grown = []
            for node in frontier:
                row = standardize_rows(self.next_row(paths[node]), self.temperature, self.top_p)
                x, q = expand_children(row, b, self.rule, rng)  # (b',), (b', V)
                for t, q_row in zip(x.tolist(), q, strict=True):
                    paths[len(tokens)] = np.append(paths[node], t)
                    grown.append(len(tokens))
                    tokens.append(t)
                    parents.append(node)
                    rows.append(q_row)
            frontier = grown
        return Draft(
            np.array(tokens, dtype=np.int64),
            np.array(rows),  # (n, V): every level has at least one node
            len(levels),
            np.array(parents, dtype=np.int64),
            self.rule,
        )

    def __repr__(self) -> str:
        return f"ModelTreeDrafter({self.model!r}, branching={self.branching}, rule={self.rule!r})"
