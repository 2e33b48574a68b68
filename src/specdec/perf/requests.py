"""Roofline cost of a whole request: prefill, then one decode step per further output token.

A request of ``prompt_tokens`` prompt positions and ``output_tokens`` output tokens, for each of
``batch`` sequences, runs one prefill forward over the prompt (context 0), which yields the first
output token, then ``output_tokens - 1`` one-position decode forwards; decode step j (j = 1, 2, ...)
feeds the token made by the step before it, with ``prompt_tokens + j - 1`` positions already
cached. Each forward is :func:`specdec.perf.kernels.forward_cost`, so every time here is a sum of
per-kernel roofline bounds: a lower bound, with no queueing, network or sampling time. Pure Python,
like :mod:`specdec.perf.kernels`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from specdec import _checks
from specdec.perf.crossovers import first_true
from specdec.perf.hardware import Hardware
from specdec.perf.kernels import ForwardCost, forward_cost
from specdec.perf.presets import get_hardware, get_model
from specdec.perf.shapes import ModelShape
from specdec.perf.units import MAX_COUNT, check_count

__all__ = ["RequestCost", "request_cost", "max_batch_in_memory"]

_SET_HERE = ("batch", "new_tokens", "context")


@dataclass(frozen=True)
class RequestCost:
    """What one request costs on the roofline; see :func:`request_cost`.

    Times in seconds, bytes in bytes. ``time_to_first_token_s`` is the prefill time (the prefill
    forward yields the first token); ``decode_time_per_token_s`` is the mean decode step, ``None``
    when ``output_tokens`` is 1 (no decode step); ``tokens_per_s`` counts the output tokens of all
    ``batch`` sequences over ``total_time_s``. ``kv_cache_bytes_per_token`` is one position of one
    sequence, all layers; ``kv_cache_bytes_end`` the whole batch's cache after the last forward
    (``prompt_tokens + output_tokens - 1`` positions each: the last token is never fed back).
    ``memory_required_bytes`` adds the weights; ``max_batch`` is the largest batch whose weights
    and cache at that length fit in the hardware's memory (:func:`max_batch_in_memory`).
    """

    model: str
    hardware: str
    batch: int
    prompt_tokens: int
    output_tokens: int
    weight_dtype: str
    kv_dtype: str
    compute_dtype: str
    prefill_time_s: float
    time_to_first_token_s: float
    decode_steps: int
    decode_time_s: float
    decode_time_per_token_s: float | None
    total_time_s: float
    tokens_per_s: float
    kv_cache_bytes_per_token: float
    kv_cache_bytes_end: float
    memory_required_bytes: float
    fits_in_memory: bool
    max_batch: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return _checks.to_dict(self)


def _own_arguments(kw: dict[str, Any], function: str) -> None:
    for name in _SET_HERE:
        if name in kw:
            raise ValueError(f"{name}: set by {function}; do not pass it")


def _decode_time(model: Any, hardware: Any, batch: int, first: int, last: int, kw: dict[str, Any]) -> float:
    """Sum of the one-position decode times at contexts ``first`` .. ``last``, exactly.

    Only the attention kernel depends on the context, through FLOPs and bytes that are both affine
    in it; so each step's time is affine in the context on either side of the one context where
    attention changes bound (its intensity is a ratio of affine functions, monotone). The sum over
    each affine piece is its length times the mean of its end points.
    """

    def step(context: int) -> ForwardCost:
        return forward_cost(model, hardware, batch=batch, new_tokens=1, context=context, **kw)

    def attention_bound(context: int) -> str:
        return next(k.bound for k in step(context).kernels if k.kind == "attention")

    end = attention_bound(last)
    switch = first_true(lambda c: attention_bound(c) == end, first, last)
    pieces = (
        [(first, switch - 1), (switch, last)] if switch is not None and switch > first else [(first, last)]
    )
    return math.fsum((b - a + 1) * (step(a).time_s + step(b).time_s) / 2 for a, b in pieces if b >= a)


def request_cost(
    model: str | ModelShape,
    hardware: str | Hardware,
    *,
    prompt_tokens: int,
    output_tokens: int,
    batch: int = 1,
    **kw: Any,
) -> RequestCost:
    """Prefill, decode and total time of one request for ``batch`` sequences (see the module).

    ``prompt_tokens`` and ``output_tokens`` are integers >= 1 whose sum is at most
    :data:`~specdec.perf.units.MAX_COUNT`; ``kw`` takes the dtypes and
    efficiencies of :func:`specdec.perf.kernels.forward_cost` (``weight_dtype`` defaults to bf16 there),
    not ``new_tokens`` or ``context``, which the request sets. Every argument error is a
    ``ValueError`` or ``TypeError`` naming the argument.
    """
    _own_arguments(kw, "request_cost")
    P = check_count("prompt_tokens", prompt_tokens, 1, MAX_COUNT - 1)  # room for one output token
    N = check_count("output_tokens", output_tokens, 1)
    if P + N > MAX_COUNT:
        raise ValueError(
            f"output_tokens: prompt_tokens + output_tokens must be <= {MAX_COUNT}, got {P} + {N}"
        )
    prefill = forward_cost(model, hardware, batch=batch, new_tokens=P, context=0, **kw)
    decode_steps = N - 1
    decode = _decode_time(model, hardware, prefill.batch, P, P + N - 2, kw) if decode_steps else 0.0
    total = prefill.time_s + decode
    m, hw = get_model(model), get_hardware(hardware)
    kv_token = m.kv_cache_bytes_per_token(prefill.kv_dtype)
    kv_end = prefill.batch * (P + N - 1) * kv_token
    memory = prefill.memory_required_bytes - prefill.batch * P * kv_token + kv_end
    return RequestCost(
        model=prefill.model,
        hardware=prefill.hardware,
        batch=prefill.batch,
        prompt_tokens=P,
        output_tokens=N,
        weight_dtype=prefill.weight_dtype,
        kv_dtype=prefill.kv_dtype,
        compute_dtype=prefill.compute_dtype,
        prefill_time_s=prefill.time_s,
        time_to_first_token_s=prefill.time_s,
        decode_steps=decode_steps,
        decode_time_s=decode,
        decode_time_per_token_s=decode / decode_steps if decode_steps else None,
        total_time_s=total,
        tokens_per_s=prefill.batch * N / total,
        kv_cache_bytes_per_token=kv_token,
        kv_cache_bytes_end=kv_end,
        memory_required_bytes=memory,
        fits_in_memory=memory <= hw.memory_bytes,
        max_batch=max_batch_in_memory(model, hardware, context=P + N - 1, **kw),
    )


def max_batch_in_memory(model: str | ModelShape, hardware: str | Hardware, *, context: int, **kw: Any) -> int:
    """Largest batch whose weights and KV cache of ``context`` positions per sequence fit in the
    memory of one ``hardware`` device (0 when the weights alone do not fit).

    ``context`` is an integer >= 1; ``kw`` takes the dtypes of :func:`specdec.perf.kernels.forward_cost`
    (the efficiencies are accepted and do not matter). Nothing else is counted: no activations, no
    framework reserve, no fragmentation, so a real server fits fewer.
    """
    _own_arguments(kw, "max_batch_in_memory")
    C = check_count("context", context, 1)
    one = forward_cost(model, hardware, batch=1, new_tokens=1, context=C - 1, **kw)
    per_sequence = C * get_model(model).kv_cache_bytes_per_token(one.kv_dtype)
    weights = one.memory_required_bytes - per_sequence
    capacity = get_hardware(hardware).memory_bytes
    if weights + per_sequence > capacity:
        return 0
    batch = min(int((capacity - weights) // per_sequence), MAX_COUNT)
    while batch > 1 and weights + batch * per_sequence > capacity:  # float rounding, at most a step
        batch -= 1
    return batch
