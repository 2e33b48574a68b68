"""Recorded measurements beside the roofline's prediction for the same shapes.

Two kinds of record, both JSON files in ``bench/results/`` (the caller reads them and passes the
parsed dict, so this module touches no file):

- a GPU run in the form of ``gpu-h200-2026-11-29.json``: a bf16 GEMM sweep ``x[T, d] @ W[d, 2d]`` and
  decode stacks of layers (``llama7b_shape_S1024``, ``tiny_S64``), timed with and without a CUDA
  graph, measured with a separate harness;
- a CPU probe run, ``probe-cpu.json`` (``python -m specdec probe --json``).

Each measured time is paired with the roofline prediction for exactly what was timed: the GEMM with
:func:`specdec.perf.kernels.matmul_cost`, a stack with :func:`specdec.perf.kernels.forward_cost` on
:func:`stack_shape`, a shape with the stack's layers and no embeddings, output head or norms, as
the harness ran it. The prediction is a lower bound, so every ``fraction`` (predicted / measured,
the achieved fraction of the roofline) should be at most 1. Pure Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from specdec import _checks
from specdec.perf.hardware import Hardware
from specdec.perf.kernels import forward_cost, matmul_cost
from specdec.perf.shapes import ModelShape

__all__ = ["MeasuredPoint", "stack_shape", "gpu_points", "probe_points", "summarise", "STACK_HEADS"]

#: Attention heads of the recorded stacks (the harness's arguments; the JSON records the other sizes).
STACK_HEADS: Mapping[str, int] = {"llama7b_shape_S1024": 32, "tiny_S64": 8}


@dataclass(frozen=True)
class MeasuredPoint:
    """One recorded time and the roofline's prediction for the same work.

    ``series`` names what was timed (``"gemm"``, ``"llama7b_shape_S1024 graph"``, ...), ``tokens``
    the T of the point; ``fraction`` = ``predicted_s / measured_s``, the achieved fraction of the
    roofline (at most 1 when the prediction is a lower bound, as it should be).
    """

    series: str
    tokens: int
    measured_s: float
    predicted_s: float
    fraction: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return _checks.to_dict(self)


def _point(series: str, tokens: object, measured: object, predicted: float) -> MeasuredPoint:
    t = _checks.integer(f"{series}: T", tokens, 1)
    s = _checks.positive(f"{series}: measured time at T={t}", measured)
    return MeasuredPoint(series, t, s, predicted, predicted / s)


def _field(record: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(record, Mapping):
        raise TypeError(f"{where} must be a mapping (the parsed JSON record), got {_checks.show(record)}")
    if key not in record:
        raise ValueError(f"{key}: missing from {where}")
    return record[key]


def stack_shape(record: Mapping[str, Any], heads: int, name: str = "measured stack") -> ModelShape:
    """The :class:`~specdec.perf.shapes.ModelShape` of a recorded decode stack (``L``, ``d``, ``ffn``):
    gated MLP, ``heads`` heads of ``d / heads`` with as many KV heads, no norms, no embeddings or
    output head. Its ``n_params`` equals the record's ``params``; ``ValueError`` if it does not."""
    d = _field(record, "d", name)
    shape = ModelShape(
        name=name,
        n_layers=_field(record, "L", name),
        d_model=d,
        n_heads=heads,
        n_kv_heads=heads,
        head_dim=d // heads,
        d_ffn=_field(record, "ffn", name),
        vocab_size=1,
        tied_embeddings=True,
        gated_ffn=True,
        source=f"the recorded {name}: bare layers, as the harness timed them",
        norms=False,
        embeddings=False,
    )
    if "params" in record and shape.n_params != record["params"]:
        raise ValueError(f"params: {name} records {record['params']}, the shape has {shape.n_params}")
    return shape


def gpu_points(record: Mapping[str, Any], hardware: str | Hardware = "h200") -> list[MeasuredPoint]:
    """Every timed point of a GPU record (GEMM sweep, then each stack with a CUDA graph and eagerly)
    beside the bf16 roofline of ``hardware``."""
    points = []
    d = 8192
    for row in _field(record, "gemm_sweep", "record"):
        predicted = matmul_cost(row["T"], d, 2 * d, hardware, dtype="bf16").time_s
        points.append(_point("gemm", row["T"], row["s"], predicted))
    for key, heads in STACK_HEADS.items():
        stack = _field(record, key, "record")
        shape = stack_shape(stack, heads, key)
        for row in _field(stack, "steps", key):
            cost = forward_cost(shape, hardware, new_tokens=row["T"], context=stack["S"])
            points.append(_point(f"{key} graph", row["T"], row["s"], cost.time_s))
            points.append(_point(f"{key} eager", row["T"], row["eager_s"], cost.time_s))
    return points


def probe_points(probe: Mapping[str, Any]) -> list[MeasuredPoint]:
    """The CPU probe's sweep beside the fp32 roofline of a :class:`~specdec.perf.hardware.Hardware` built
    from the best rates the same run observed (its ``peak_flops_per_s`` and ``bandwidth_bytes_per_s``)."""
    cpu = Hardware(
        name="recorded CPU probe",
        peak_flops_per_s={"fp32": _field(probe, "peak_flops_per_s", "probe")},
        bandwidth_bytes_per_s=_field(probe, "bandwidth_bytes_per_s", "probe"),
        memory_bytes=1.0,  # capacity plays no part in a time
        source="bench/results/probe-cpu.json",
    )
    d_in, d_out = _field(probe, "d_in", "probe"), _field(probe, "d_out", "probe")
    times = _field(probe, "times_s", "probe")
    return [
        _point("cpu probe", t, s, matmul_cost(t, d_in, d_out, cpu, dtype="fp32").time_s)
        for t, s in zip(_field(probe, "tokens", "probe"), times, strict=True)
    ]


def summarise(points: list[MeasuredPoint]) -> list[str]:
    """One line per series: how many points, and the range of the achieved fraction of the roofline
    (``"gemm: 13 points at 64% to 78% of the roofline"``)."""
    fractions: dict[str, list[float]] = {}
    for p in points:
        if not isinstance(p, MeasuredPoint):
            raise TypeError(f"points must hold MeasuredPoint values, got {_checks.show(p)}")
        fractions.setdefault(p.series, []).append(p.fraction)
    return [
        f"{name}: {len(f)} points at {min(f):.0%} to {max(f):.0%} of the roofline"
        for name, f in fractions.items()
    ]
