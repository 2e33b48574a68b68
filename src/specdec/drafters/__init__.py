"""Drafters: the seam (:mod:`~specdec.drafters.base`), a draft model given as a callable
(:mod:`~specdec.drafters.model`), an n-gram table (:mod:`~specdec.drafters.ngram`), prompt lookup
(:mod:`~specdec.drafters.lookup`), a draft transformer with its own KV cache
(:mod:`~specdec.drafters.cached`), Lookahead (:mod:`~specdec.drafters.lookahead`), Medusa-1 heads
(:mod:`~specdec.drafters.medusa`) and EAGLE's feature-level draft (:mod:`~specdec.drafters.eagle`).
A new drafter is one class with ``propose(context, k, rng) -> Draft``."""
