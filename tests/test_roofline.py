"""specdec.roofline: presets against published figures, FLOP/byte counts, the crossovers, bad input."""

from __future__ import annotations

import dataclasses
import inspect
import math
import subprocess
import sys

import numpy as np
import pytest

from specdec.roofline import (
    COMPUTE_BOUND_K_MAX,
    COMPUTE_BOUND_MAX_BATCH,
    DTYPE_BYTES,
    HARDWARE,
    MAX_COUNT,
    MODELS,
    Hardware,
    ModelShape,
    compute_bound_batch,
    compute_bound_k,
    forward_cost,
    get_hardware,
    get_model,
    half_precision_dtype,
    matmul_cost,
    verification_cost_ratio,
)

# -- presets -----------------------------------------------------------------------------------


def test_hardware_preset_keys():
    assert set(HARDWARE) == {"a100-sxm-80gb", "h100-sxm", "h200", "rtx-3090", "tpu-v4"}
    for key, hw in HARDWARE.items():
        assert hw.name == key
        assert len(hw.source) > 40
        assert hw.bandwidth_bytes_per_s > 0 and hw.memory_bytes > 0


# Datasheet figures (fact sheet Part II, section A) and the ridge points of its table A6.
@pytest.mark.parametrize(
    ("key", "dtype", "peak", "bandwidth", "memory", "ridge"),
    [
        ("a100-sxm-80gb", "bf16", 312e12, 2039e9, 80e9, 153),
        ("h100-sxm", "bf16", 989.4e12, 3.35e12, 80e9, 295),
        ("h200", "bf16", 989.5e12, 4.8e12, 141e9, 206),
        ("rtx-3090", "fp16", 142e12, 936.2e9, 24e9, 152),
        ("tpu-v4", "bf16", 275e12, 1200e9, 32 * 2**30, 229),
    ],
)
def test_hardware_figures_and_ridge_points(key, dtype, peak, bandwidth, memory, ridge):
    hw = HARDWARE[key]
    assert hw.peak(dtype) == pytest.approx(peak)
    assert hw.bandwidth_bytes_per_s == pytest.approx(bandwidth)
    assert hw.memory_bytes == pytest.approx(memory)
    assert hw.ridge_point(dtype) == pytest.approx(ridge, abs=0.6)


def test_only_verified_dtypes_are_present():
    # RTX 3090: the FP32-accumulate (bf16) rate is unconfirmed, so there is no bf16 peak at all.
    assert set(HARDWARE["rtx-3090"].peak_flops_per_s) == {"fp16", "fp32"}
    assert set(HARDWARE["a100-sxm-80gb"].peak_flops_per_s) == {"bf16", "fp16", "fp32"}
    assert set(HARDWARE["tpu-v4"].peak_flops_per_s) == {"bf16", "int8"}
    assert HARDWARE["h100-sxm"].peak("fp8") == pytest.approx(1979e12)
    assert HARDWARE["h200"].peak("fp8") == pytest.approx(1979e12)
    with pytest.raises(ValueError, match=r"^compute_dtype: 'rtx-3090' has no verified peak for 'bf16'"):
        HARDWARE["rtx-3090"].peak("bf16")


def test_presets_are_frozen():
    hw = HARDWARE["h200"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        hw.bandwidth_bytes_per_s = 1.0
    with pytest.raises(TypeError):
        hw.peak_flops_per_s["bf16"] = 1.0
    with pytest.raises(TypeError):
        HARDWARE["new"] = hw
    with pytest.raises(dataclasses.FrozenInstanceError):
        MODELS["llama-2-7b"].d_model = 1


def test_model_preset_keys():
    assert {"llama-2-7b", "llama-2-13b", "llama-2-70b", "grammar-tutor"} <= set(MODELS)
    for key, m in MODELS.items():
        assert m.name == key
        assert len(m.source) > 40


@pytest.mark.parametrize(
    ("key", "published"),
    [("llama-2-7b", 6.74e9), ("llama-2-13b", 13.02e9), ("llama-2-70b", 68.98e9)],
)
def test_derived_parameter_counts_match_published(key, published):
    m = MODELS[key]
    assert m.n_params == pytest.approx(published, rel=0.01)
    assert m.n_params == pytest.approx(m.published_params, rel=0.01)


def test_exact_llama_2_counts():
    # Element counts of the released checkpoints follow exactly from the shapes.
    assert MODELS["llama-2-7b"].n_params == 6_738_415_616
    assert MODELS["llama-2-13b"].n_params == 13_015_864_320
    assert MODELS["llama-2-70b"].n_params == 68_976_648_192


def test_grammar_tutor_is_an_assumption():
    m = MODELS["grammar-tutor"]
    assert m.published_params is None
    assert m.source.startswith("ASSUMPTION")
    assert m.tied_embeddings and not m.gated_ffn
    assert 40e6 < m.n_params < 80e6  # T5-small scale, as stated
    assert m.n_params == 54_145_536


def test_gqa_kv_cache_bytes():
    # 2 (K and V) x layers x kv_heads x head_dim x 2 bytes.
    assert MODELS["llama-2-7b"].kv_cache_bytes_per_token("bf16") == 2 * 32 * 32 * 128 * 2
    assert MODELS["llama-2-70b"].kv_cache_bytes_per_token("bf16") == 2 * 80 * 8 * 128 * 2
    assert MODELS["llama-2-70b"].kv_cache_bytes_per_token("int4") == 2 * 80 * 8 * 128 * 0.5


def test_lookup_errors_list_the_valid_names():
    with pytest.raises(ValueError, match=r"^hardware: unknown preset 'b200'; valid: a100-sxm-80gb, h100-sxm"):
        get_hardware("b200")
    with pytest.raises(ValueError, match=r"^model: unknown preset 'gpt-5'; valid: llama-2-7b"):
        get_model("gpt-5")
    assert get_hardware(HARDWARE["h200"]) is HARDWARE["h200"]


# -- forward cost ------------------------------------------------------------------------------


def test_llama_2_7b_decode_is_about_one_flop_per_byte():
    for key, hw in HARDWARE.items():
        dtype = half_precision_dtype(hw)
        cost = forward_cost("llama-2-7b", key, weight_dtype=dtype)
        assert 0.95 < cost.arithmetic_intensity < 1.05
        assert cost.ridge_point > 100
        assert cost.bound == "memory"
        assert cost.time_s == cost.memory_time_s > 100 * cost.compute_time_s


def test_flops_and_bytes_are_two_per_parameter_in_bf16():
    m = MODELS["llama-2-7b"]
    cost = forward_cost(m, "h200")
    # FLOPs: 2 per multiply-add over every matmul parameter (layers + output head).
    assert cost.flops_matmul == 2 * m.matmul_params
    # Weights streamed once in bf16: everything but the untied input-embedding table, plus one row.
    streamed = m.n_params - m.vocab_size * m.d_model
    assert cost.bytes_weights == pytest.approx(2 * streamed, rel=1e-4)
    assert cost.time_s == pytest.approx(cost.bytes / 4.8e12)
    assert cost.tokens_per_s == pytest.approx(1 / cost.time_s)


def test_attention_flops_and_kv_bytes_match_a_direct_count():
    m = MODELS["llama-2-13b"]
    B, T, C = 3, 4, 100
    cost = forward_cost(m, "a100-sxm-80gb", batch=B, new_tokens=T, context=C)
    attended = sum(C + i + 1 for i in range(T))  # new position i attends to C + i earlier + itself
    assert cost.flops_attention == 4 * m.n_layers * m.n_heads * m.head_dim * B * attended
    kv = m.kv_cache_bytes_per_token("bf16")
    assert cost.bytes_kv_read == B * C * kv
    assert cost.bytes_kv_write == B * T * kv
    assert cost.flops == pytest.approx(cost.flops_matmul + cost.flops_attention + cost.flops_elementwise)
    # Element-wise kernels: 4 FLOPs per norm input element (2 norms per layer + the final one) and
    # per activation output element.
    positions = B * T
    norms = 4 * positions * m.d_model * (2 * m.n_layers + 1)
    assert cost.flops_elementwise == norms + 4 * positions * m.d_ffn * m.n_layers
    parts = cost.bytes_weights + cost.bytes_kv_read + cost.bytes_kv_write + cost.bytes_activations
    assert cost.bytes == pytest.approx(parts)


def test_sub_byte_weights_stay_fractional():
    assert DTYPE_BYTES["int4"] == 0.5
    bf16 = forward_cost("llama-2-7b", "h200", weight_dtype="bf16")
    int4 = forward_cost("llama-2-7b", "h200", weight_dtype="int4")
    assert int4.compute_dtype == "bf16"  # weight-only quantisation
    matmul_bytes_bf16 = 2 * MODELS["llama-2-7b"].matmul_params
    assert int4.bytes_weights == pytest.approx(bf16.bytes_weights - 0.75 * matmul_bytes_bf16, rel=1e-3)
    odd = ModelShape("odd", 1, 3, 1, 1, 3, 5, 7, True, False, "test shape")
    assert odd.matmul_params == 87 and odd.norm_params == 9
    c = forward_cost(odd, "h200", weight_dtype="int4")
    # 87 matmul weights at 0.5 bytes, 9 norm weights at 2 bytes (bf16), and the embedding lookup's one
    # 3-wide row at 0.5 bytes: the lookup is its own kernel, run long before the output head reads
    # the (tied) table, so its row is charged whether the table is tied or not.
    assert c.bytes_weights == 87 * 0.5 + 9 * 2 + 3 * 0.5
    untied = dataclasses.replace(odd, tied_embeddings=False)
    assert forward_cost(untied, "h200", weight_dtype="int4").bytes_weights == 87 * 0.5 + 9 * 2 + 3 * 0.5
    # All weights plus K and V of one position (2 x 1 layer x 3 x 2 bytes): 73.5, not rounded.
    assert c.memory_required_bytes == 73.5


def test_efficiency_factors_scale_the_time():
    full = forward_cost("llama-2-7b", "h100-sxm")
    half = forward_cost("llama-2-7b", "h100-sxm", bandwidth_efficiency=0.5)
    assert half.time_s == pytest.approx(2 * full.time_s)
    slow = forward_cost("llama-2-7b", "h100-sxm", batch=1024, flops_efficiency=0.25)
    fast = forward_cost("llama-2-7b", "h100-sxm", batch=1024)
    assert slow.compute_time_s == pytest.approx(4 * fast.compute_time_s)
    assert slow.ridge_point == pytest.approx(fast.ridge_point / 4)


def test_memory_capacity_is_reported_not_hidden():
    assert not forward_cost("llama-2-70b", "a100-sxm-80gb").fits_in_memory
    assert forward_cost("llama-2-70b", "h200").fits_in_memory
    assert not forward_cost("llama-2-70b", "h200", batch=8, context=4096).fits_in_memory
    assert forward_cost("llama-2-7b", "rtx-3090", weight_dtype="fp16").fits_in_memory


# -- verification and crossovers ---------------------------------------------------------------


@pytest.mark.parametrize("key", list(HARDWARE))
def test_verifying_five_tokens_costs_about_one(key):
    dtype = half_precision_dtype(key)
    for context in (0, 1024):
        ratio = verification_cost_ratio("llama-2-7b", key, 4, weight_dtype=dtype, context=context)
        assert 1.0 < ratio < 1.01


@pytest.mark.parametrize("key", list(HARDWARE))
def test_compute_bound_k_is_the_crossover(key):
    dtype = half_precision_dtype(key)
    k = compute_bound_k("llama-2-7b", key, weight_dtype=dtype)
    assert k is not None
    assert forward_cost("llama-2-7b", key, new_tokens=k + 1, weight_dtype=dtype).bound == "compute"
    assert forward_cost("llama-2-7b", key, new_tokens=k, weight_dtype=dtype).bound == "memory"
    # At context 0 the (k+1)-token intensity is about k+1, so the crossover sits near the ridge.
    ridge = HARDWARE[key].ridge_point(dtype)
    assert 0.95 * ridge < k + 1 < 1.15 * ridge
    # Well before the crossover verification costs only the extra activation and KV-write bytes, a
    # few MB per position against 13.2 GB of weights; near it the matmuls that cross first (gate/up,
    # Q/K/V) add some compute time; well after it, every position costs compute.
    assert verification_cost_ratio("llama-2-7b", key, 15, weight_dtype=dtype) < 1.01
    assert verification_cost_ratio("llama-2-7b", key, k - 1, weight_dtype=dtype) < 1.25
    assert verification_cost_ratio("llama-2-7b", key, 4 * k, weight_dtype=dtype) > 3


def test_compute_bound_batch_short_and_long_context():
    b = compute_bound_batch("llama-2-7b", "h200")
    assert b is not None and 0.95 * 206 < b < 1.15 * 206
    assert forward_cost("llama-2-7b", "h200", batch=b).bound == "compute"
    assert forward_cost("llama-2-7b", "h200", batch=b - 1).bound == "memory"
    # Long context: KV reads grow with the batch, and the intensity levels off below the ridge.
    assert compute_bound_batch("llama-2-7b", "h200", context=1024) is None
    big = forward_cost("llama-2-7b", "h200", batch=1 << 20, context=1024)
    assert big.bound == "memory" and big.arithmetic_intensity < 30
    # Grouped-query attention (8 KV heads) keeps 70B's KV small enough to cross at context 1024 ...
    b70 = compute_bound_batch("llama-2-70b", "h200", context=1024)
    assert b70 is not None and b70 > 206
    # ... but not at context 4096.
    assert compute_bound_batch("llama-2-70b", "h200", context=4096) is None


def test_matmul_cost():
    c = matmul_cost(4, 1024, 2048, "h200", dtype="bf16")
    assert c.flops == 2 * 4 * 1024 * 2048
    assert c.bytes == 2 * (1024 * 2048 + 4 * 1024 + 4 * 2048)
    assert c.time_s == max(c.flops / 989.5e12, c.bytes / 4.8e12)
    assert c.bound == "memory"
    assert matmul_cost(4096, 1024, 2048, "h200").bound == "compute"


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(batch=0), "batch"),
        (dict(batch=1.5), "batch"),
        (dict(batch=True), "batch"),
        (dict(new_tokens=0), "new_tokens"),
        (dict(context=-1), "context"),
        (dict(context=2.0), "context"),
        (dict(weight_dtype="fp4"), "weight_dtype"),
        (dict(kv_dtype="float16"), "kv_dtype"),
        (dict(compute_dtype="tf32"), "compute_dtype"),
        (dict(flops_efficiency=0.0), "flops_efficiency"),
        (dict(flops_efficiency=1.5), "flops_efficiency"),
        (dict(bandwidth_efficiency=-0.2), "bandwidth_efficiency"),
        (dict(bandwidth_efficiency=math.nan), "bandwidth_efficiency"),
    ],
)
def test_forward_cost_bad_input(kwargs, name):
    wrong_type = isinstance(kwargs[name], (bool, float)) and name in ("batch", "context")
    with pytest.raises(TypeError if wrong_type else ValueError, match=rf"^{name}"):
        forward_cost("llama-2-7b", "h200", **kwargs)


def test_bad_presets_and_shapes():
    with pytest.raises(ValueError, match=r"^hardware: unknown preset"):
        forward_cost("llama-2-7b", "h300")
    with pytest.raises(ValueError, match=r"^model: unknown preset"):
        forward_cost("llama-3-8b", "h200")
    # The dtype the caller chose is named: the weight dtype when the compute dtype defaults from it.
    with pytest.raises(ValueError, match=r"^weight_dtype: 'rtx-3090' has no verified peak for 'bf16'"):
        forward_cost("llama-2-7b", "rtx-3090")
    with pytest.raises(ValueError, match=r"^weight_dtype: .*'bf16' \(its weights compute in bf16"):
        forward_cost("llama-2-7b", "rtx-3090", weight_dtype="int8")
    with pytest.raises(ValueError, match=r"^compute_dtype: 'rtx-3090' has no verified peak for 'bf16'"):
        forward_cost("llama-2-7b", "rtx-3090", weight_dtype="fp16", compute_dtype="bf16")
    with pytest.raises(ValueError, match=r"^bandwidth_bytes_per_s"):
        Hardware("x", {"bf16": 1e12}, -1.0, 1e9, "test")
    with pytest.raises(ValueError, match=r"^memory_bytes"):
        Hardware("x", {"bf16": 1e12}, 1e12, 0, "test")
    with pytest.raises(ValueError, match=r"^peak_flops_per_s\['bf16'\]"):
        Hardware("x", {"bf16": 0.0}, 1e12, 1e9, "test")
    with pytest.raises(ValueError, match=r"^peak_flops_per_s key: unknown dtype 'fp64'"):
        Hardware("x", {"fp64": 1e12}, 1e12, 1e9, "test")
    with pytest.raises(ValueError, match=r"^d_model"):
        ModelShape("x", 2, 0, 4, 4, 8, 16, 10, True, False, "test")
    with pytest.raises(ValueError, match=r"^n_kv_heads must divide n_heads"):
        ModelShape("x", 2, 32, 6, 4, 8, 16, 10, True, False, "test")
    with pytest.raises(ValueError, match=r"^k "):
        verification_cost_ratio("llama-2-7b", "h200", 0)
    with pytest.raises(ValueError, match=r"^new_tokens"):
        verification_cost_ratio("llama-2-7b", "h200", 4, new_tokens=3)
    with pytest.raises(ValueError, match=r"^max_batch"):
        compute_bound_batch("llama-2-7b", "h200", max_batch=0)
    with pytest.raises(ValueError, match=r"^tokens"):
        matmul_cost(0, 8, 8, "h200")


# -- plain Python types in the dataclasses (review item 1) ---------------------------------------


def _shape_fields(m: ModelShape) -> dict:
    return {f.name: getattr(m, f.name) for f in dataclasses.fields(m)}


def test_numpy_integer_shapes_are_stored_as_python_ints():
    # np.int32 fields used to be kept as they were, so 70B's counts wrapped around silently
    # (n_params 257,171,456 and negative FLOPs).
    kw = _shape_fields(MODELS["llama-2-70b"])
    for f in ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ffn", "vocab_size"):
        kw[f] = np.int32(kw[f])
    kw["published_params"] = np.float32(kw["published_params"])
    m = ModelShape(**kw)
    for f in ("n_layers", "d_model", "n_heads", "n_kv_heads", "head_dim", "d_ffn", "vocab_size"):
        assert type(getattr(m, f)) is int
    assert type(m.published_params) is float
    assert m.n_params == 68_976_648_192
    cost = forward_cost(m, "h200", batch=64, context=4096)
    assert cost.flops > 0 and cost.flops == forward_cost("llama-2-70b", "h200", batch=64, context=4096).flops


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tied_embeddings", "no"),
        ("tied_embeddings", 1),
        ("tied_embeddings", None),
        ("gated_ffn", "yes"),
        ("gated_ffn", 0),
        ("name", 7),
        ("name", ""),
        ("source", None),
        ("source", b"bytes"),
        ("d_model", 2**53 + 1),
        ("d_model", np.float64(4096.0)),
        ("published_params", math.inf),
        ("published_params", "7e9"),
    ],
)
def test_model_shape_refuses_wrong_types(field, value):
    kw = {**_shape_fields(MODELS["llama-2-7b"]), field: value}
    wrong_value = value == "" or (
        isinstance(value, (int, float))
        and not isinstance(value, (bool, np.floating))
        and field in ("d_model", "published_params")
    )
    with pytest.raises(ValueError if wrong_value else TypeError, match=rf"^{field} "):
        ModelShape(**kw)


def test_hardware_fields_are_checked_and_plain():
    hw = Hardware(np.str_("x"), {np.str_("bf16"): np.float32(1e12)}, np.int64(10**9), np.float64(1e9), "test")
    assert type(hw.name) is str
    assert [type(key) for key in hw.peak_flops_per_s] == [str]
    assert type(hw.peak_flops_per_s["bf16"]) is float
    assert type(hw.bandwidth_bytes_per_s) is float and type(hw.memory_bytes) is float
    with pytest.raises(TypeError, match=r"^source "):
        Hardware("x", {"bf16": 1e12}, 1e12, 1e9, None)
    with pytest.raises(TypeError, match=r"^name "):
        Hardware(3, {"bf16": 1e12}, 1e12, 1e9, "test")
    with pytest.raises(TypeError, match=r"^peak_flops_per_s key must be a dtype name"):
        Hardware("x", {("bf16",): 1e12}, 1e12, 1e9, "test")
    with pytest.raises(TypeError, match=r"^peak_flops_per_s\['bf16'\] "):
        Hardware("x", {"bf16": True}, 1e12, 1e9, "test")
    with pytest.raises(ValueError, match=r"^memory_bytes "):
        Hardware("x", {"bf16": 1e12}, 1e12, 10**400, "test")
    # The ridge point of every dtype must be a finite positive number.
    with pytest.raises(ValueError, match=r"^peak_flops_per_s\['bf16'\]: the ridge point"):
        Hardware("x", {"bf16": 1e300}, 1e-100, 1e9, "test")
    with pytest.raises(TypeError, match=r"^compute_dtype must be a dtype name \(a string\), got \['bf16'\]"):
        HARDWARE["h200"].peak(["bf16"])


# -- bounded counts and finite results (review item 2) -------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(batch=10**400), "batch"),
        (dict(new_tokens=10**400), "new_tokens"),
        (dict(context=MAX_COUNT + 1), "context"),
        (dict(batch=np.uint64(2**63)), "batch"),
    ],
)
def test_huge_counts_are_refused_with_a_value_error(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must be <= {MAX_COUNT}, got "):
        forward_cost("llama-2-7b", "h200", **kwargs)


def test_largest_counts_give_finite_results():
    cost = forward_cost("llama-2-70b", "h200", batch=MAX_COUNT, new_tokens=MAX_COUNT, context=MAX_COUNT)
    for value in cost.to_dict().values():
        if isinstance(value, float):
            assert math.isfinite(value)
    with pytest.raises(ValueError, match=r"^k must be <= "):
        verification_cost_ratio("llama-2-7b", "h200", MAX_COUNT)
    with pytest.raises(ValueError, match=r"^k_max must be <= "):
        compute_bound_k("llama-2-7b", "h200", k_max=10**400)
    with pytest.raises(ValueError, match=r"^max_batch must be <= "):
        compute_bound_batch("llama-2-7b", "h200", max_batch=10**400)
    with pytest.raises(ValueError, match=r"^d_in must be <= "):
        matmul_cost(1, 10**400, 8, "h200")


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(flops_efficiency=1e-320), "flops_efficiency"),
        (dict(bandwidth_efficiency=1e-320), "bandwidth_efficiency"),
        (dict(flops_efficiency=5e-324), "flops_efficiency"),
    ],
)
def test_results_that_would_not_be_finite_are_refused(kwargs, name):
    # A subnormal efficiency used to give an infinite time (or divide by zero) without a word.
    with pytest.raises(ValueError, match=rf"^{name} out of range"):
        forward_cost("llama-2-7b", "h200", **kwargs)
    with pytest.raises(ValueError, match=rf"^{name} out of range"):
        matmul_cost(4, 1024, 1024, "h200", **kwargs)


def test_absurd_hand_built_hardware_is_named():
    slow = Hardware("slow", {"bf16": 1e-300}, 1e-300, 1e9, "test")
    with pytest.raises(ValueError, match=r"^hardware out of range"):
        forward_cost("llama-2-7b", slow)


# -- byte counting (review item 5) ----------------------------------------------------------------


def _direct_activation_bytes(m: ModelShape, positions: int, a_bytes: float) -> float:
    d, q, f = m.d_model, m.n_heads * m.head_dim, m.d_ffn
    up = 2 * f if m.gated_ffn else f
    per_layer = (
        2 * (d + d)  # two norms: each reads x and writes it normalised
        + (d + q)  # one Q/K/V matmul: reads its input once, writes Q (K and V go to the cache)
        + (q + q)  # attention: reads Q, writes its output
        + (q + d + d)  # output projection: input and residual in, x out
        + (d + up)  # gate/up (or up) matmul: reads its input once, writes gate and up (or up)
        + (up + f)  # activation: reads them, writes the (gated) product
        + (f + d + d)  # down projection: input and residual in, x out
    )
    embedding, final_norm, head = d, 2 * d, d + m.vocab_size
    return positions * (m.n_layers * per_layer + embedding + final_norm + head) * a_bytes


@pytest.mark.parametrize("key", list(MODELS))
def test_activation_bytes_match_a_direct_count(key):
    m = MODELS[key]
    cost = forward_cost(m, "h200", batch=3, new_tokens=5, context=7)
    assert cost.bytes_activations == pytest.approx(_direct_activation_bytes(m, 15, 2.0), rel=1e-12)


def test_k_and_v_are_written_once():
    # K and V used to be counted as outputs of the Q/K/V matmul *and* as KV-cache writes. Now only
    # the cache write depends on the number of KV heads.
    gqa = MODELS["llama-2-70b"]
    mha = dataclasses.replace(gqa, n_kv_heads=gqa.n_heads)
    a = forward_cost(gqa, "h200", new_tokens=5)
    b = forward_cost(mha, "h200", new_tokens=5)
    assert a.bytes_activations == b.bytes_activations
    assert b.bytes_kv_write == 8 * a.bytes_kv_write
    # In another KV dtype the write is priced in that dtype, and the activations do not change.
    fp8 = forward_cost(gqa, "h200", new_tokens=5, kv_dtype="fp8")
    assert fp8.bytes_kv_write == a.bytes_kv_write / 2
    assert fp8.bytes_activations == a.bytes_activations


def test_gated_mlp_moves_gate_and_up_through_the_activation_kernel():
    # Gate and up read their input once; both halves go out, and the activation kernel reads both and
    # writes one d_ffn-wide product: 2 x d_ffn more written and read per layer and position than a
    # plain MLP, whose activation reads and writes d_ffn.
    gated = MODELS["llama-2-7b"]
    plain = dataclasses.replace(gated, gated_ffn=False)
    extra = (
        forward_cost(gated, "h200", batch=3).bytes_activations
        - forward_cost(plain, "h200", batch=3).bytes_activations
    )
    assert extra == 3 * gated.n_layers * 2 * gated.d_ffn * 2


def test_embedding_rows_tied_and_untied():
    tied = ModelShape("t", 1, 4, 1, 1, 4, 8, 10, True, False, "test shape")
    untied = dataclasses.replace(tied, tied_embeddings=False)
    assert tied.input_embedding_params == 0 and untied.input_embedding_params == 40
    for m in (tied, untied):
        assert m.n_params == m.matmul_params + m.input_embedding_params + m.norm_params
    streamed = tied.matmul_params * 2 + tied.norm_params * 2
    for batch in (1, 3):  # the lookup gathers one row per position, from whichever table holds it
        assert forward_cost(tied, "h200", batch=batch).bytes_weights == streamed + batch * 4 * 2
        assert forward_cost(untied, "h200", batch=batch).bytes_weights == streamed + batch * 4 * 2
    # An untied table never costs more than its size: 10 rows, however many positions gather.
    assert forward_cost(untied, "h200", batch=25).bytes_weights == streamed + 10 * 4 * 2
    # Memory holds the input table only when it is separate.
    assert (
        forward_cost(untied, "h200").memory_required_bytes - forward_cost(tied, "h200").memory_required_bytes
        == 80
    )


# -- constants the command line reads (review item 6) --------------------------------------------


def test_search_limits_are_module_constants():
    assert inspect.signature(compute_bound_batch).parameters["max_batch"].default == COMPUTE_BOUND_MAX_BATCH
    assert inspect.signature(compute_bound_k).parameters["k_max"].default == COMPUTE_BOUND_K_MAX
    assert COMPUTE_BOUND_MAX_BATCH == 1 << 20 and COMPUTE_BOUND_K_MAX == 1 << 16


# -- importable without NumPy (review item 8) ----------------------------------------------------


def test_roofline_and_speedup_import_without_numpy():
    code = (
        "import sys; sys.modules['numpy'] = None\n"  # any `import numpy` now raises ImportError
        "import specdec.roofline as rl, specdec.speedup as sp\n"
        "assert 'numpy' not in {m for m in sys.modules if sys.modules[m] is not None}\n"
        "print(rl.forward_cost('llama-2-7b', 'h200').bound, sp.optimal_k(0.8, 0.02)[0])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["memory", "11"]


def test_half_precision_dtype_is_bf16_where_verified_else_fp16():
    assert {key: half_precision_dtype(key) for key in HARDWARE} == {
        "a100-sxm-80gb": "bf16",
        "h100-sxm": "bf16",
        "h200": "bf16",
        "rtx-3090": "fp16",
        "tpu-v4": "bf16",
    }
    fp32_only = Hardware("cpu", {"fp32": 1e12}, 1e11, 1e9, "test")
    with pytest.raises(ValueError, match="^hardware: 'cpu' has no verified 16-bit peak"):
        half_precision_dtype(fp32_only)
