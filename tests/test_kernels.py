"""The kernel-by-kernel roofline: the sum of each kernel's own bound, its breakdown and crossovers."""

from __future__ import annotations

import dataclasses
import math

import pytest

from specdec.roofline import (
    HARDWARE,
    MODELS,
    ForwardCost,
    KernelCost,
    ModelShape,
    compute_bound_batch,
    format_breakdown,
    forward_cost,
    half_precision_dtype,
    matmul_bound_batch,
    verification_cost_ratio,
)

LAYER_KERNELS = ["attn norm", "qkv", "attention", "out proj", "ffn norm", "gate+up", "activation", "down"]


def test_kernel_list_in_running_order():
    m = MODELS["llama-2-7b"]
    cost = forward_cost(m, "h200", context=16)
    assert [k.name for k in cost.kernels] == ["embedding", *LAYER_KERNELS, "final norm", "lm head"]
    counts = {k.name: k.count for k in cost.kernels}
    assert all(counts[name] == m.n_layers for name in LAYER_KERNELS)
    assert counts["embedding"] == counts["final norm"] == counts["lm head"] == 1
    kinds = {k.name: k.kind for k in cost.kernels}
    assert [n for n, kind in kinds.items() if kind == "matmul"] == [
        "qkv",
        "out proj",
        "gate+up",
        "down",
        "lm head",
    ]
    plain = dataclasses.replace(m, gated_ffn=False)
    assert "up" in [k.name for k in forward_cost(plain, "h200").kernels]


@pytest.mark.parametrize("key", list(HARDWARE))
@pytest.mark.parametrize(
    ("batch", "new_tokens", "context"), [(1, 1, 0), (64, 5, 1024), (512, 1, 4096), (3, 200, 7)]
)
def test_time_is_the_sum_of_each_kernels_roofline(key, batch, new_tokens, context):
    hw = HARDWARE[key]
    dtype = half_precision_dtype(hw)
    cost = forward_cost(
        "llama-2-70b", key, batch=batch, new_tokens=new_tokens, context=context, weight_dtype=dtype
    )
    peak, bandwidth = hw.peak(dtype), hw.bandwidth_bytes_per_s
    direct = math.fsum(max(k.flops / peak, k.bytes / bandwidth) for k in cost.kernels)
    assert cost.time_s == pytest.approx(direct, rel=1e-12)
    # The kernels' FLOPs and bytes add up to the forward's; one roofline over those totals is looser.
    assert math.fsum(k.flops for k in cost.kernels) == pytest.approx(cost.flops, rel=1e-12)
    assert math.fsum(k.bytes for k in cost.kernels) == pytest.approx(cost.bytes, rel=1e-12)
    whole = max(cost.flops / peak, cost.bytes / bandwidth)
    assert cost.time_whole_forward_s == pytest.approx(whole, rel=1e-12)
    assert cost.time_whole_forward_s <= cost.time_s * (1 + 1e-12)
    for k in cost.kernels:
        assert k.time_s == max(k.compute_time_s, k.memory_time_s)
        assert k.bound == ("compute" if k.compute_time_s > k.memory_time_s else "memory")
    share = math.fsum(k.time_s for k in cost.kernels if k.bound == "compute") / cost.time_s
    assert cost.compute_bound_fraction == pytest.approx(share)
    assert cost.bound == ("compute" if share > 0.5 else "memory")


def test_issue_example_a100_batch_64_context_1024_k_4():
    # The page's example: verification costs about 1.3 single steps kernel by kernel, about 1.05 with
    # one roofline over the whole forward (the first edition's single max gave 1.02).
    kw = dict(batch=64, context=1024)
    ratio = verification_cost_ratio("llama-2-7b", "a100-sxm-80gb", 4, **kw)
    assert 1.28 < ratio < 1.34
    one, five = (forward_cost("llama-2-7b", "a100-sxm-80gb", new_tokens=n, **kw) for n in (1, 5))
    assert 1.0 < five.time_whole_forward_s / one.time_whole_forward_s < 1.06
    bounds = {k.name: k.bound for k in five.kernels}
    assert all(bounds[name] == "compute" for name in ("qkv", "out proj", "gate+up", "down", "lm head"))
    assert bounds["attention"] == "memory"
    assert all(k.bound == "memory" for k in one.kernels)  # at 64 positions every matmul is left of 153
    assert five.time_s / five.time_whole_forward_s > 1.2


def test_one_sequence_decode_time_is_the_memory_time():
    # Every kernel memory-bound: the sum of the kernels' memory times is the whole forward's.
    for key, hw in HARDWARE.items():
        cost = forward_cost("llama-2-7b", key, context=1024, weight_dtype=half_precision_dtype(hw))
        assert all(k.bound == "memory" for k in cost.kernels)
        assert cost.time_s == pytest.approx(cost.memory_time_s, rel=1e-12)
        assert cost.compute_bound_fraction == 0.0


def test_the_two_crossover_batches():
    # Weight matmuls (B_crit) do not depend on the context; the whole step does.
    b_crit = matmul_bound_batch("llama-2-7b", "h200")
    assert b_crit == matmul_bound_batch("llama-2-7b", "h200", context=4096)
    assert 206 < b_crit < 1.1 * 206
    assert compute_bound_batch("llama-2-7b", "h200") == b_crit
    assert compute_bound_batch("llama-2-7b", "h200", context=1024) is None

    # At B_crit, most of the matmul time is compute-bound; one batch less, it is not.
    def matmul_share(batch):
        kernels = [k for k in forward_cost("llama-2-7b", "h200", batch=batch).kernels if k.kind == "matmul"]
        return sum(k.time_s for k in kernels if k.bound == "compute") / sum(k.time_s for k in kernels)

    assert matmul_share(b_crit) > 0.5 >= matmul_share(b_crit - 1)
    with pytest.raises(ValueError, match=r"^batch: searched by matmul_bound_batch"):
        matmul_bound_batch("llama-2-7b", "h200", batch=4)
    with pytest.raises(ValueError, match=r"^max_batch must be >= 1"):
        matmul_bound_batch("llama-2-7b", "h200", max_batch=0)
    assert matmul_bound_batch("llama-2-7b", "h200", max_batch=100) is None


def test_quantised_weights_stay_honest():
    # Weight dtype for the matmuls' weight bytes, compute dtype for the peak.
    m = MODELS["llama-2-7b"]
    bf16 = {k.name: k for k in forward_cost(m, "h200", batch=8).kernels}
    int4 = {k.name: k for k in forward_cost(m, "h200", batch=8, weight_dtype="int4").kernels}
    for name in ("qkv", "out proj", "gate+up", "down", "lm head"):
        assert int4[name].bytes_weights == bf16[name].bytes_weights / 4
        assert int4[name].flops == bf16[name].flops
        assert int4[name].compute_time_s == bf16[name].compute_time_s  # bf16 peak either way
    assert int4["attn norm"].bytes_weights == bf16["attn norm"].bytes_weights  # norm weights: compute dtype
    # Weight-only int8 halves B_crit; fp8 weights with an fp8 peak (twice bf16 on the H200) keep it.
    b = matmul_bound_batch(m, "h200")
    assert abs(matmul_bound_batch(m, "h200", weight_dtype="int8") - b / 2) <= 2
    assert matmul_bound_batch(m, "h200", weight_dtype="fp8") == b


def test_bare_stack_has_only_layer_kernels():
    m = MODELS["llama-2-7b"]
    bare = dataclasses.replace(m, norms=False, embeddings=False)
    assert bare.norm_params == bare.head_params == bare.input_embedding_params == 0
    assert bare.n_params == m.n_layers * (m.attention_params_per_layer + m.ffn_params_per_layer)
    names = [k.name for k in forward_cost(bare, "h200").kernels]
    assert names == ["qkv", "attention", "out proj", "gate+up", "activation", "down"]
    assert forward_cost(bare, "h200").time_s < forward_cost(m, "h200").time_s
    with pytest.raises(TypeError, match=r"^norms must be True or False"):
        dataclasses.replace(m, norms=1)


def test_format_breakdown():
    cost = forward_cost("llama-2-7b", "a100-sxm-80gb", batch=64, new_tokens=5, context=1024)
    table = format_breakdown(cost).splitlines()
    assert len(table) == len(cost.kernels) + 2
    assert table[0].split() == ["kernel", "count", "FLOPs", "bytes", "FLOP/B", "bound", "time", "ms", "share"]
    assert all(len(line) <= 72 for line in table)
    attention = next(line for line in table if line.startswith("attention"))
    assert attention.split()[-3:] == ["memory", "16.934", "54.6%"]
    assert table[-1].startswith("total") and table[-1].endswith("100.0%")
    assert "time us" in format_breakdown(forward_cost("grammar-tutor", "h200"))
    with pytest.raises(TypeError, match=r"^cost must be a ForwardCost"):
        format_breakdown("llama-2-7b")


def test_kernels_travel_in_json():
    data = forward_cost("grammar-tutor", "h200").to_dict()
    assert isinstance(data["kernels"], list) and data["kernels"][0]["name"] == "embedding"
    assert set(data["kernels"][0]) == {f.name for f in dataclasses.fields(KernelCost)}
    assert set(data) == {f.name for f in dataclasses.fields(ForwardCost)}


def test_shape_flags_in_a_hand_built_shape():
    shape = ModelShape("s", 2, 8, 2, 1, 4, 16, 10, False, True, "test", None, False, True)
    assert shape.norms is False and shape.embeddings is True
    assert "attn norm" not in [k.name for k in forward_cost(shape, "h200").kernels]
