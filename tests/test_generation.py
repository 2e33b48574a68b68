"""A whole request on the roofline: prefill, decode steps, KV cache and the batch that fits."""

from __future__ import annotations

import math

import pytest

from specdec import roofline as rl
from specdec.generation import max_batch_in_memory, request_cost


@pytest.mark.parametrize(
    ("model", "hardware", "batch", "prompt", "output"),
    [
        ("llama-2-7b", "a100-sxm-80gb", 1, 64, 12),
        ("llama-2-70b", "h200", 7, 500, 300),  # GQA: attention changes bound along the way
        ("grammar-tutor", "tpu-v4", 16, 1, 2),
        ("llama-2-13b", "h100-sxm", 64, 3000, 40),
    ],
)
def test_request_is_prefill_plus_each_decode_step(model, hardware, batch, prompt, output):
    r = request_cost(model, hardware, prompt_tokens=prompt, output_tokens=output, batch=batch)
    prefill = rl.forward_cost(model, hardware, batch=batch, new_tokens=prompt)
    steps = [
        rl.forward_cost(model, hardware, batch=batch, context=prompt + j - 1).time_s for j in range(1, output)
    ]
    assert r.prefill_time_s == r.time_to_first_token_s == prefill.time_s
    assert r.decode_steps == output - 1
    assert r.decode_time_s == pytest.approx(math.fsum(steps), rel=1e-12)
    assert r.decode_time_per_token_s == pytest.approx(math.fsum(steps) / (output - 1), rel=1e-12)
    assert r.total_time_s == pytest.approx(prefill.time_s + math.fsum(steps), rel=1e-12)
    assert r.tokens_per_s == pytest.approx(batch * output / r.total_time_s)
    kv = rl.get_model(model).kv_cache_bytes_per_token("bf16")
    assert r.kv_cache_bytes_per_token == kv
    assert r.kv_cache_bytes_end == batch * (prompt + output - 1) * kv
    last = rl.forward_cost(model, hardware, batch=batch, context=prompt + output - 2)
    assert r.memory_required_bytes == pytest.approx(last.memory_required_bytes)


def test_attention_changes_bound_during_a_long_request():
    # The case the piecewise sum exists for: GQA attention on a CPU-like ridge crosses it as the cache grows.
    slow = rl.Hardware("slow", {"bf16": 2e12}, 1e12, 1e12, "test")
    bounds = {
        next(
            k.bound for k in rl.forward_cost("llama-2-70b", slow, context=c).kernels if k.kind == "attention"
        )
        for c in (0, 5000)
    }
    assert bounds == {"compute", "memory"}
    r = request_cost("llama-2-70b", slow, prompt_tokens=1, output_tokens=5001)
    direct = math.fsum(rl.forward_cost("llama-2-70b", slow, context=c).time_s for c in range(1, 5001))
    assert r.decode_time_s == pytest.approx(direct, rel=1e-10)


def test_one_output_token_has_no_decode_step():
    r = request_cost("llama-2-7b", "h200", prompt_tokens=10, output_tokens=1)
    assert r.decode_steps == 0 and r.decode_time_s == 0.0 and r.decode_time_per_token_s is None
    assert r.total_time_s == r.prefill_time_s
    assert r.to_dict()["decode_time_per_token_s"] is None


def test_max_batch_in_memory_is_the_largest_that_fits():
    for model, hardware, context in (("llama-2-7b", "a100-sxm-80gb", 4096), ("llama-2-70b", "h200", 2048)):
        b = max_batch_in_memory(model, hardware, context=context)
        capacity = rl.get_hardware(hardware).memory_bytes
        assert b >= 1
        fits = rl.forward_cost(model, hardware, batch=b, context=context - 1)
        over = rl.forward_cost(model, hardware, batch=b + 1, context=context - 1)
        assert fits.memory_required_bytes <= capacity < over.memory_required_bytes
    assert max_batch_in_memory("llama-2-70b", "a100-sxm-80gb", context=1) == 0  # 138 GB of weights
    # Smaller KV dtype, more sequences.
    assert max_batch_in_memory("llama-2-7b", "h200", context=4096, kv_dtype="fp8") > max_batch_in_memory(
        "llama-2-7b", "h200", context=4096
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        (dict(prompt_tokens=0, output_tokens=1), ValueError, r"^prompt_tokens must be >= 1"),
        (dict(prompt_tokens=1, output_tokens=0), ValueError, r"^output_tokens must be >= 1"),
        (dict(prompt_tokens=1.5, output_tokens=1), TypeError, r"^prompt_tokens must be an integer"),
        (dict(prompt_tokens=1, output_tokens=2, context=3), ValueError, r"^context: set by request_cost"),
        (dict(prompt_tokens=1, output_tokens=2, batch=0), ValueError, r"^batch must be >= 1"),
        (dict(prompt_tokens=1, output_tokens=2, weight_dtype="int3"), ValueError, r"^weight_dtype: unknown"),
    ],
)
def test_request_bad_input(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        request_cost("llama-2-7b", "h200", **kwargs)


def test_max_batch_bad_input():
    with pytest.raises(ValueError, match=r"^context must be >= 1"):
        max_batch_in_memory("llama-2-7b", "h200", context=0)
    with pytest.raises(ValueError, match=r"^batch: set by max_batch_in_memory"):
        max_batch_in_memory("llama-2-7b", "h200", context=10, batch=2)
