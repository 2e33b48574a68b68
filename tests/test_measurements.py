"""Every recorded measurement (the H200 run and the CPU probe) sits at or above the roofline's
prediction for the same shapes: the calculator is a lower bound. The summary says how far below."""

from __future__ import annotations

import json

import pytest

from sitecheck import ROOT
from specdec.evidence import STACK_HEADS, gpu_points, probe_points, stack_shape, summarise

RESULTS = ROOT / "bench" / "results"
H200 = json.loads((RESULTS / "gpu-h200-2026-11-29.json").read_text(encoding="utf-8"))
PROBE = json.loads((RESULTS / "probe-cpu.json").read_text(encoding="utf-8"))
POINTS = gpu_points(H200) + probe_points(PROBE)


def test_every_recorded_point_is_at_or_above_the_prediction():
    assert len(POINTS) == 13 + 2 * 13 + 2 * 6 + 8  # GEMM, 7B stack and tiny stack (graph, eager), CPU
    below = [p for p in POINTS if p.measured_s < p.predicted_s]
    assert not below, f"the roofline predicts faster than measured at {below}"
    # How far below: printed at the end of every pytest run (tests/conftest.py).
    lines = summarise(POINTS)
    assert lines[0] == "gemm: 13 points at 64% to 78% of the roofline"
    assert lines[-1] == "cpu probe: 8 points at 20% to 98% of the roofline"
    # The closest any run came: the CPU probe's one-row product at 98% of its own best rates.
    assert max(p.fraction for p in POINTS) == pytest.approx(0.98, abs=0.01)


def test_stacks_are_modelled_as_timed():
    for key, heads in STACK_HEADS.items():
        record = H200[key]
        shape = stack_shape(record, heads, key)
        assert shape.n_params == record["params"]  # no embeddings, output head or norms
        assert 2 * shape.n_params == record["weight_bytes"]
        assert shape.kv_cache_bytes_per_token() * record["S"] == record["kv_bytes"]
    with pytest.raises(ValueError, match=r"^params: "):
        stack_shape({**H200["tiny_S64"], "params": 1}, 8)
    with pytest.raises(ValueError, match=r"^L: missing"):
        stack_shape({"d": 512, "ffn": 2048}, 8)
    with pytest.raises(TypeError, match=r"must be a mapping"):
        stack_shape([1, 2], 8)


def test_recorded_gpu_run_carries_its_provenance():
    provenance = H200["provenance"]
    assert "separate harness" in provenance["harness"]
    assert provenance["date"] == "2026-11-29" and "2.11" in provenance["pytorch"]
    assert H200["device"] == "NVIDIA H200" and H200["torch"].startswith("2.11")
    assert set(provenance["method"]) == {
        "copy_GBps_rw",
        "gemm8192_TFLOPs",
        "gemm_sweep",
        "llama7b_shape_S1024",
        "tiny_S64",
    }


def test_measured_verification_cost_is_about_1_4_at_batch_1():
    graph = [p for p in POINTS if p.series == "llama7b_shape_S1024 graph"]
    measured = {p.tokens: p.measured_s / graph[0].measured_s for p in graph}
    predicted = {p.tokens: p.predicted_s / graph[0].predicted_s for p in graph}
    assert all(1.35 < measured[t] < 1.45 for t in (2, 3, 4, 5, 6, 8, 12, 16, 32, 64))
    assert all(predicted[t] < 1.04 for t in (2, 3, 4, 5, 6, 8, 12, 16, 32, 64))


def test_launch_overhead_dominates_the_small_stack():
    tiny = {p.series: p for p in POINTS if p.series.startswith("tiny_S64") and p.tokens == 1}
    assert tiny["tiny_S64 graph"].fraction < 0.1 and tiny["tiny_S64 eager"].fraction < 0.02


def test_summarise_refuses_other_values():
    with pytest.raises(TypeError, match=r"^points must hold MeasuredPoint"):
        summarise([0.5])
