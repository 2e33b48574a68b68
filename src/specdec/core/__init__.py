"""The core of the decoding stack, each operation written once: probability rows (:mod:`~specdec.core.rows`),
verification (:mod:`~specdec.core.verify`) and the structure of a token tree (:mod:`~specdec.core.tree`)."""
