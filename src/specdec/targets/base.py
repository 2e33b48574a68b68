"""The target protocol: what the decoding loop asks of the model whose distribution the output follows.

A target holds the committed tokens (the prompt and the tokens written so far, but the newest) and
answers three calls:

- ``start(prompt) -> (row, features)``: forget everything, score and commit the prompt; the (V,) next-token
  row after the whole prompt (it gives the first written token) and (L, d) features, row i at
  ``prompt[i]``;
- ``score(tokens, parents) -> (rows, features)``: ONE forward over a tree of n new tokens after the committed
  ones (``parents`` as in :mod:`specdec.core.tree`: −1 continues the committed tokens, a chain is the tree
  whose parents are i − 1); (n, V) rows, row i after node i's path, and (n, d) features, row i at node i;
- ``commit(path)``: keep the nodes ``path`` of the last ``score`` (indices, a root-to-node path in order)
  as committed tokens, drop the rest.

``room()`` says how many new tokens the next ``score`` can take, and how many on one root-to-leaf path
(``(None, None)``: no limit). Rows are float64 distributions at temperature 1, or, for a target whose
``logits`` attribute is ``True``, float32 logits: the loop takes their argmax at temperature 0 (the same
token as the argmax of their softmax) and turns them into distributions only when it samples, so a greedy
step computes no softmax. *Features* are what a drafter may read besides the tokens: a transformer's last
hidden states (:class:`~specdec.targets.cached.CachedTarget`), a model without hidden states its output
rows (:class:`~specdec.targets.model.ModelTarget`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["Target"]


class Target:
    """The protocol, for reference and subclassing (optional: the loop accepts any object with these
    methods)."""

    vocab_size: int | None = None
    logits: bool = False
    """Whether ``start`` and ``score`` return float32 logits (``True``) or float64 distributions."""
    rows_checked: bool = False
    """Whether the rows are checked where they are made (:class:`~specdec.targets.model.ModelTarget`,
    :class:`~specdec.targets.cached.CachedTarget`); for any other target the loop checks every row it
    is given: distributions, or finite logits."""

    def start(self, prompt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def score(self, tokens: np.ndarray, parents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def commit(self, path: np.ndarray) -> None:
        raise NotImplementedError

    def room(self) -> tuple[int | None, int | None]:
        """(new tokens, tokens on one path) the next :meth:`score` can take; ``None`` for no limit."""
        return None, None
