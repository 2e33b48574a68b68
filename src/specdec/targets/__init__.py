"""Targets: the protocol (:mod:`~specdec.targets.base`), a model callable that recomputes every forward
(:mod:`~specdec.targets.model`) and a transformer with a KV cache (:mod:`~specdec.targets.cached`)."""
