"""n-gram drafters: an :class:`~specdec.models.NGramModel` read at the context's last n − 1 tokens."""

from __future__ import annotations

import numpy as np

from specdec import _arrays, _checks
from specdec.drafters.model import ModelDrafter
from specdec.models import BOUNDARY, NGramModel

__all__ = ["NGramDrafter", "ngram_drafter"]


class NGramDrafter(ModelDrafter):
    """An :class:`~specdec.models.NGramModel` as a drafter: what :class:`~specdec.drafters.model.ModelDrafter`
    drafts from the same model, token for token for the same Generator, read at the last n − 1 tokens.

    A model call scores every position of the context (O(L) per drafted token); an n-gram model's next
    row depends only on its last n − 1 tokens, so this drafter looks that one row up
    (:meth:`NGramModel.next_row <specdec.models.NGramModel.next_row>`, O(n)). Its cost is still counted as
    one draft forward per drafted token. ``temperature`` and ``top_p`` as for ``ModelDrafter``.
    """

    def __init__(self, model: NGramModel, *, temperature: float = 1.0, top_p: float = 1.0):
        if not isinstance(model, NGramModel):
            raise TypeError(f"model must be an NGramModel, got {type(model).__name__}")
        super().__init__(model, temperature=temperature, top_p=top_p, name="draft")

    def next_row(self, tokens: np.ndarray) -> np.ndarray:
        """(L,) tokens -> (V,) the model's row after them, from their last n − 1 tokens."""
        return self.model.next_row(tokens)

    def __repr__(self) -> str:
        return f"NGramDrafter({self.model!r}, temperature={self.temperature:g}, top_p={self.top_p:g})"


def ngram_drafter(vocab_size: int, sequences, *, n: int = 3, temperature: float = 0.0) -> NGramDrafter:
    """An n-gram drafter over token ids ``1 … vocab_size − 1``, fitted on ``sequences`` (1-D int arrays,
    such as a model's training sequences ``prompt + correction + <eos>``). Id 0 is the n-gram boundary
    ``<s>`` (a tokenizer's padding id, never written), so the drafter's ids are the model's."""
    V = _checks.integer("vocab_size", vocab_size, 2, None)
    sentences = []
    for i, seq in enumerate(sequences):
        seq = _arrays.token_array(f"sequences[{i}]", seq)
        if seq.size and (seq.min() < 1 or seq.max() >= V):
            raise ValueError(f"sequences[{i}] must hold ids in [1, {V}) (0 is the boundary)")
        sentences.append([str(t) for t in seq.tolist()])
    vocab = [BOUNDARY, *(str(t) for t in range(1, V))]
    return NGramDrafter(NGramModel(sentences, n, smoothing=1e-3, vocab=vocab), temperature=temperature)
