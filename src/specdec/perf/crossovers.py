"""Where a forward turns compute-bound: over the batch, over the drafted tokens k, and the weight
matmuls' critical batch; and the verification cost ratio c_verify = t(k + 1) / t(1).

Every search evaluates :func:`specdec.perf.kernels.forward_cost`; :func:`first_true` is the search.
Pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from specdec.perf.hardware import Hardware
from specdec.perf.kernels import ForwardCost, forward_cost
from specdec.perf.shapes import ModelShape
from specdec.perf.units import MAX_COUNT, check_count

__all__ = [
    "COMPUTE_BOUND_MAX_BATCH",
    "COMPUTE_BOUND_K_MAX",
    "verification_cost_ratio",
    "first_true",
    "compute_bound_batch",
    "compute_bound_k",
    "matmul_bound_batch",
    "sweep_tokens",
]

#: Default ``max_batch`` of :func:`compute_bound_batch`: the largest batch searched.
COMPUTE_BOUND_MAX_BATCH = 1 << 20

#: Default ``k_max`` of :func:`compute_bound_k`: the largest k searched.
COMPUTE_BOUND_K_MAX = 1 << 16


def verification_cost_ratio(model: str | ModelShape, hardware: str | Hardware, k: int, **kw: Any) -> float:
    """c_verify = time(forward over k + 1 new positions) / time(forward over 1 new position).

    Both forwards use the same keyword arguments ``kw`` (passed to :func:`~specdec.perf.kernels.forward_cost`;
    ``batch`` defaults to 1, one sequence). This is the factor that replaces the ``1`` in Leviathan et al.'s
    Theorem 3.8 in :func:`specdec.perf.speedup.walltime_speedup`. While the (k + 1)-position forward stays
    memory-bound the ratio is close to 1: verification is nearly free.

    Raises ``ValueError`` if ``k`` is not an integer in [1, :data:`~specdec.perf.units.MAX_COUNT` − 1] or
    ``kw`` contains ``new_tokens``.
    """
    kk = check_count("k", k, 1, MAX_COUNT - 1)
    if "new_tokens" in kw:
        raise ValueError("new_tokens: set by verification_cost_ratio (k + 1 and 1); do not pass it")
    return (
        forward_cost(model, hardware, new_tokens=kk + 1, **kw).time_s
        / forward_cost(model, hardware, new_tokens=1, **kw).time_s
    )


def first_true(predicate: Callable[[int], bool], lo: int, hi: int) -> int | None:
    """Smallest n in [lo, hi] with ``predicate(n)`` true, for a predicate monotone in n; else None."""
    if predicate(lo):
        return lo
    if not predicate(hi):
        return None
    step = 1
    good = hi
    bad = lo
    while bad + step < hi:  # exponential search for a true point
        if predicate(bad + step):
            good = bad + step
            break
        bad += step
        step *= 2
    while good - bad > 1:  # bisection between last false and first true
        mid = (bad + good) // 2
        if predicate(mid):
            good = mid
        else:
            bad = mid
    return good


def compute_bound_batch(
    model: str | ModelShape, hardware: str | Hardware, *, max_batch: int = COMPUTE_BOUND_MAX_BATCH, **kw: Any
) -> int | None:
    """Smallest batch at which the forward (default: one decode step) becomes compute-bound: its
    compute-bound kernels take more than half of its time (:attr:`~specdec.perf.kernels.ForwardCost.bound`).

    ``kw`` goes to :func:`~specdec.perf.kernels.forward_cost` (``context``, ``new_tokens``, dtypes,
    efficiencies). Returns ``None`` if the forward is still memory-bound at ``max_batch``: with a long context
    the KV cache, which is read once per sequence, grows with the batch just as the FLOPs do, so attention
    over it stays memory-bound and outweighs the matmuls however large the batch (compare
    :func:`matmul_bound_batch`, where the matmuls alone cross). ``max_batch`` defaults to
    :data:`COMPUTE_BOUND_MAX_BATCH` and may be at most :data:`~specdec.perf.units.MAX_COUNT`.
    """
    mb = check_count("max_batch", max_batch, 1)
    if "batch" in kw:
        raise ValueError("batch: searched by compute_bound_batch; do not pass it")
    return first_true(lambda b: forward_cost(model, hardware, batch=b, **kw).bound == "compute", 1, mb)


def compute_bound_k(
    model: str | ModelShape, hardware: str | Hardware, *, k_max: int = COMPUTE_BOUND_K_MAX, **kw: Any
) -> int | None:
    """Smallest k for which the forward verifying k + 1 positions is compute-bound.

    For every smaller k the verification forward is memory-bound, costs about as much as a one-token decode
    step, and so is nearly free; from this k on each extra drafted token adds compute time. ``kw`` goes to
    :func:`~specdec.perf.kernels.forward_cost` (``batch``, ``context``, dtypes, efficiencies). Returns
    ``None`` if even k = ``k_max`` is memory-bound. ``k_max`` defaults to :data:`COMPUTE_BOUND_K_MAX` and may
    be at most :data:`~specdec.perf.units.MAX_COUNT` − 1.
    """
    km = check_count("k_max", k_max, 1, MAX_COUNT - 1)
    if "new_tokens" in kw:
        raise ValueError("new_tokens: searched by compute_bound_k; do not pass it")
    return first_true(
        lambda k: forward_cost(model, hardware, new_tokens=k + 1, **kw).bound == "compute", 1, km
    )


def _matmul_share(cost: ForwardCost) -> float:
    """Share of the weight matmuls' time spent in the compute-bound ones."""
    matmuls = [k for k in cost.kernels if k.kind == "matmul"]
    return math.fsum(k.time_s for k in matmuls if k.bound == "compute") / math.fsum(k.time_s for k in matmuls)


def matmul_bound_batch(
    model: str | ModelShape, hardware: str | Hardware, *, max_batch: int = COMPUTE_BOUND_MAX_BATCH, **kw: Any
) -> int | None:
    """Smallest batch at which the weight matmuls turn compute-bound: the JAX scaling book's B_crit.

    The matmul kernels of one forward (Q/K/V, output, gate/up, down, output head) count as
    compute-bound when the compute-bound ones among them take more than half of their time. Their
    intensity grows with the number of positions ``batch × new_tokens`` and does not depend on the
    context, unlike :func:`compute_bound_batch`, which asks the same of the whole step, attention
    over the KV cache included. ``kw`` and ``max_batch`` as for :func:`compute_bound_batch`.
    """
    mb = check_count("max_batch", max_batch, 1)
    if "batch" in kw:
        raise ValueError("batch: searched by matmul_bound_batch; do not pass it")
    return first_true(lambda b: _matmul_share(forward_cost(model, hardware, batch=b, **kw)) > 0.5, 1, mb)


def sweep_tokens(max_tokens: int, k: int) -> list[int]:
    """The token counts T of a verification-cost sweep: powers of two up to ``max_tokens``, plus k + 1.

    Shared by :mod:`specdec.perf.probe` and ``bench/gpu_verify_cost.py``; both arguments are integers >= 1.
    """
    max_tokens = check_count("max_tokens", max_tokens, 1)
    k = check_count("k", k, 1, MAX_COUNT - 1)
    return sorted({2**i for i in range(max_tokens.bit_length())} | {k + 1})
