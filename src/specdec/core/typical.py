"""Typical acceptance: Medusa's faster rule for sampling, which does not keep the output's law.

Cai et al. (2024), §2.3.1: at temperature > 0, a candidate token x is kept when the target gives it a
probability above a threshold that falls as the target grows unsure,

    p_T(x) > min(ε, δ · exp(−H(p_T))),

with H the entropy of the target's row; no uniform is drawn and no residual is sampled. Of a tree, the
deepest candidate whose whole path passes is kept (ties to the higher sum of log p_T along the path), and
the next token is drawn from the target's row after it, truncated to the tokens above the same threshold
and renormalised: the rule of the Medusa repository at commit e2a5d20 (``evaluate_posterior`` and
``get_typical_one_token`` in ``medusa/model/utils.py``), whose ``medusa_generate`` defaults are ε = 0.09
(``posterior_threshold``) and δ = 0.3 (``posterior_alpha``): :data:`EPSILON` and :data:`DELTA`. The code
takes the entropy as −Σ p·log(p + 10⁻⁵); here it is exact, with 0·log 0 = 0.

The threshold is never above the row's largest probability (H ≥ −log max p_T, so δ·exp(−H) ≤ δ·max p_T),
so the truncated row, which keeps the tokens at or above it, always holds the argmax. The output does
*not* follow p_T: a token below the threshold is never written, and a plausible candidate is kept with
probability 1 instead of min(1, p_T/p_D). :func:`typical_step_law` gives the exact law of one step, which
the tests compare with the target's.
"""

from __future__ import annotations

import numpy as np

from specdec import _arrays, _checks
from specdec.core.rows import sample
from specdec.core.tree import check_tree

__all__ = ["EPSILON", "DELTA", "typical_threshold", "typical_rows", "typical_verify_tree", "typical_step_law"]

EPSILON = 0.09
"""ε, the hard threshold: Medusa's ``posterior_threshold`` default."""

DELTA = 0.3
"""δ, the entropy-scaled threshold's factor: Medusa's ``posterior_alpha`` default."""


def typical_threshold(p_target, epsilon=EPSILON, delta=DELTA) -> np.ndarray:
    """(..., V) target rows -> (...) thresholds min(ε, δ · exp(−H)), H in nats (0 · log 0 = 0)."""
    p = np.asarray(p_target, dtype=np.float64)
    logs = np.log(np.where(p > 0.0, p, 1.0))  # log p where p > 0, 0 elsewhere: 0 · log 0 = 0
    entropy = -(p * logs).sum(axis=-1)  # (...)
    return np.minimum(epsilon, delta * np.exp(-entropy))


def _kept_path(tokens, parents, p_T, threshold) -> list[int]:
    """The accepted nodes, root to leaf: the deepest node whose path passes, ties to the higher log p."""
    n = tokens.shape[0]
    rows = p_T[parents + 1, tokens]  # (n,) p_T(x_i) after the path to i's parent
    passes = rows > threshold[parents + 1]  # (n,)
    ok, depth, score = np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n)
    for i in range(n):  # parents come before their children (check_tree)
        up = parents[i]
        ok[i] = passes[i] and (up < 0 or ok[up])
        depth[i] = 1 + (depth[up] if up >= 0 else 0)
        score[i] = np.log(rows[i]) + (score[up] if up >= 0 else 0.0) if ok[i] else -np.inf
    if not ok.any():
        return []
    best = max(np.flatnonzero(ok), key=lambda i: (depth[i], score[i]))
    path = [int(best)]
    while parents[path[-1]] >= 0:
        path.append(int(parents[path[-1]]))
    return path[::-1]


def typical_rows(p_target, epsilon=EPSILON, delta=DELTA) -> np.ndarray:
    """(..., V) target rows -> the same rows with the tokens under :func:`typical_threshold` set to 0 and
    renormalised: what Medusa draws its next token from. The argmax always stays (module docstring)."""
    p = np.asarray(p_target, dtype=np.float64)
    kept = np.where(p >= typical_threshold(p, epsilon, delta)[..., None], p, 0.0)
    return kept / kept.sum(axis=-1, keepdims=True)


def _step(tokens, parents, p_target, epsilon, delta) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Checked inputs -> (tokens, the kept path, the truncated row the next token is drawn from)."""
    tokens, parents = check_tree(tokens, parents)
    p_T = _arrays.tree_rows(p_target, tokens.shape[0])
    _arrays.check_token_range("tokens", tokens, p_T.shape[1])
    epsilon = _checks.probability("epsilon", epsilon, zero=False)
    delta = _checks.probability("delta", delta, zero=False)
    path = _kept_path(tokens, parents, p_T, typical_threshold(p_T, epsilon, delta))
    return tokens, path, typical_rows(p_T[path[-1] + 1 if path else 0], epsilon, delta)


def typical_verify_tree(tokens, parents, p_target, rng, *, epsilon=EPSILON, delta=DELTA):
    """One step of typical acceptance on a draft tree (a chain is ``parents = -1, 0, 1, …``).

    ``p_target`` (n + 1, V): the target's rows at the sampling temperature, row 0 after the context, row
    i + 1 after node i's path. ``epsilon`` and ``delta`` in (0, 1]. Returns ``(emitted, accepted)`` as
    :func:`~specdec.core.verify.verify_tree` does: the kept path's tokens then one token drawn from the
    truncated row after it, and the kept nodes' indices. Lossy (the module docstring).
    """
    rng = _arrays.check_rng(rng)
    tokens, path, row = _step(tokens, parents, p_target, epsilon, delta)
    return np.append(tokens[path], sample(row, rng)).astype(np.int64), np.array(path, dtype=np.int64)


def typical_step_law(
    tokens, parents, p_target, *, epsilon=EPSILON, delta=DELTA
) -> dict[tuple[int, ...], float]:
    """The exact law of one :func:`typical_verify_tree` step for a fixed draft: emitted tuple ->
    probability. The kept path is fixed by the draft; only the last token is drawn."""
    tokens, path, row = _step(tokens, parents, p_target, epsilon, delta)
    prefix = tuple(int(t) for t in tokens[path])
    return {(*prefix, int(y)): float(row[y]) for y in np.flatnonzero(row)}
