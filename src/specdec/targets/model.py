"""A model callable as a target: every forward recomputed from scratch (the toy models have no cache).

A *model* is any callable ``model(tokens) -> probs``: ``tokens`` a 1-D int array of length L, ``probs`` an
(L, V) float array whose row i is the next-token distribution after ``tokens[:i+1]``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from specdec import _arrays
from specdec.core.tree import check_tree, is_chain, path_to
from specdec.targets.base import Target

__all__ = ["tree_target_rows", "ModelTarget", "vocab_size_of"]

Model = Callable[[np.ndarray], np.ndarray]


def vocab_size_of(model: object) -> int | None:
    """The model's ``vocab_size`` attribute when it has an int one (every model in specdec.models does)."""
    V = getattr(model, "vocab_size", None)
    return int(V) if isinstance(V, (int, np.integer)) and not isinstance(V, bool) and V > 0 else None


def tree_target_rows(model: Model, context, tokens, parents, *, name: str = "target") -> np.ndarray:
    """p_T rows of every node: (n + 1, V), row 0 after the context, row i + 1 after node i's path.

    ``model``: any causal model of the protocol, (L,) tokens -> (L, V) with row i depending on
    ``tokens[:i+1]`` only. A transformer returns these rows in ONE forward over context + tree with
    :func:`~specdec.core.tree.tree_attention_mask` and :func:`~specdec.core.tree.position_ids`; the toy
    models have no attention, so here the model is called once per root-to-leaf path (once on the context
    alone for an empty tree), and a node shared by several paths gets the same row from each. ``name`` names
    the model in error messages.
    """
    if not callable(model):
        raise TypeError(f"{name} must be a model callable, (L,) tokens -> (L, V), got {type(model).__name__}")
    context = _arrays.prompt(context)
    tokens, parents = check_tree(tokens, parents)
    L, n = context.shape[0], tokens.shape[0]
    checked = _arrays.rows_checked(model)  # rows distributions by construction
    if is_chain(parents):  # a chain (or nothing): its one path, one call
        seq = np.concatenate([context, tokens])
        return _arrays.model_output(name, model(seq), seq.shape[0], None, L - 1, rows_checked=checked)
    is_parent = np.zeros(n, dtype=bool)
    is_parent[parents[parents >= 0]] = True
    rows = None
    for leaf in np.flatnonzero(~is_parent).tolist() or [-1]:
        path = path_to(parents, leaf)
        seq = np.concatenate([context, tokens[path]])
        V = None if rows is None else rows.shape[1]
        out = _arrays.model_output(
            name, model(seq), seq.shape[0], V, L - 1, rows_checked=checked
        )  # (len(path) + 1, V)
        if rows is None:
            rows = np.empty((n + 1, out.shape[1]))
        rows[[0, *(np.array(path, dtype=np.int64) + 1).tolist()]] = out
    return rows


class ModelTarget(Target):
    """A model callable as a :class:`~specdec.targets.base.Target` that recomputes every forward.

    ``score`` calls the model once per root-to-leaf path of the tree (:func:`tree_target_rows`), counted by
    the loop as one target forward, as one forward under the tree mask would be. The model has no hidden
    states, so its features are its output rows. ``name`` names the model in error messages.
    """

    rows_checked = True  # every output goes through model_output (or its model's own construction check)

    def __init__(self, model: Model, *, name: str = "target"):
        if not callable(model):
            raise TypeError(
                f"{name} must be a model callable, (L,) tokens -> (L, V) probabilities, got "
                f"{type(model).__name__}"
            )
        self.model, self.name = model, name
        self.vocab_size = vocab_size_of(model)
        self.context = np.zeros(0, dtype=np.int64)
        self._scored = self.context

    def start(self, prompt) -> tuple[np.ndarray, np.ndarray]:
        self.context = _arrays.prompt(prompt)
        if self.vocab_size is not None:
            _arrays.check_prompt_range(self.context, self.vocab_size)
        out = self.model(self.context)
        rows = _arrays.model_output(
            self.name,
            out,
            self.context.shape[0],
            self.vocab_size,
            0,
            rows_checked=_arrays.rows_checked(self.model),
        )
        self.vocab_size = rows.shape[1]
        return rows[-1], rows

    def score(self, tokens, parents) -> tuple[np.ndarray, np.ndarray]:
        self._scored = np.asarray(tokens, dtype=np.int64)
        rows = tree_target_rows(self.model, self.context, tokens, parents, name=self.name)[1:]  # (n, V)
        return rows, rows

    def commit(self, path) -> None:
        self.context = np.concatenate([self.context, self._scored[np.asarray(path, dtype=np.intp)]])

    def __repr__(self) -> str:
        return f"ModelTarget({self.model!r})"
