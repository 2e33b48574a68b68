"""A toy grammar tutor you can run: a small transformer trained on generated corrections, NumPy inference.

::

    from specdec.tutor import Tutor
    tutor = Tutor.load()                      # the shipped weights (weights/tutor.*)
    tutor.correct("She go to school yesterday.").text   # 'She went to school yesterday.'
    [c.text for c in tutor.correct_all("I has a dog. It are black.")]   # one per sentence

Modules: :mod:`~specdec.tutor.api` (the tutor object; its greedy correction runs the one loop of
:func:`specdec.decode.decode`), :mod:`~specdec.tutor.model` (the transformer, its KV-cached forward
and weights files), :mod:`~specdec.tutor.tokenizer` (the subword tokenizer, input checks, sentence
splitting and prompt format), :mod:`~specdec.tutor.data` (the generated training data, needs
wordfreq and lemminflect), :mod:`~specdec.tutor.train` (training, needs the ``train`` extra: JAX) and
``specdec.tutor.cli`` (``python -m specdec tutor``). Speculative
decoding on the tutor: :class:`specdec.targets.cached.CachedTarget` and the drafters (the seam:
:mod:`specdec.drafters.base`).

A :class:`~specdec.tutor.api.Tutor` is also a *model* in the sense of :mod:`specdec.sampling`:
``tutor(tokens)`` maps (L,) ids to (L, V) next-token probabilities, so the speculative sampler can
use it as a target or a draft; :meth:`~specdec.tutor.api.Tutor.forward` is the KV-cached forward
over T new tokens with positions and a mask.
"""

from __future__ import annotations

__all__ = ["Tutor", "Correction", "WEIGHTS", "TRAIN_RECORD", "BENCH_RECORD", "MAX_SENTENCE_TOKENS"]


def __getattr__(name: str):
    """Import lazily: ``python -m specdec`` registers the ``tutor`` subcommand without loading NumPy."""
    if name in __all__:
        from specdec.tutor import api

        return getattr(api, name)
    raise AttributeError(f"module 'specdec.tutor' has no attribute {name!r}")
