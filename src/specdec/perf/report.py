"""What ``specdec roofline`` reports: one forward, its verification cost ratio and the crossovers
(:func:`roofline_report`), and the kernel table of ``--breakdown`` (:func:`format_breakdown`).
Pure Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from specdec import _checks
from specdec.perf.crossovers import (
    COMPUTE_BOUND_K_MAX,
    COMPUTE_BOUND_MAX_BATCH,
    compute_bound_batch,
    compute_bound_k,
    matmul_bound_batch,
    verification_cost_ratio,
)
from specdec.perf.hardware import Hardware
from specdec.perf.kernels import ForwardCost, forward_cost
from specdec.perf.presets import get_hardware, half_precision_dtype
from specdec.perf.shapes import ModelShape
from specdec.perf.units import format_si

__all__ = ["RooflineReport", "roofline_report", "format_breakdown"]


def format_breakdown(cost: ForwardCost) -> str:
    """The kernels of ``cost`` as a text table, one row per kernel and a total: how many run, their
    FLOPs and bytes, intensity, bound, time and share of ``time_s`` (what ``specdec roofline
    --breakdown`` prints; at most 72 characters wide)."""
    if not isinstance(cost, ForwardCost):
        raise TypeError(f"cost must be a ForwardCost, got {_checks.show(cost)}")
    scale, unit = (1e3, "ms") if cost.time_s >= 1e-3 else (1e6, "us")

    def row(
        name: str, count: str, flops: str, nbytes: str, intensity: str, bound: str, time: str, share: str
    ):
        return f"{name:<11}{count:>6}{flops:>9}{nbytes:>9}{intensity:>8}  {bound:<8}{time:>11}{share:>7}"

    lines = [row("kernel", "count", "FLOPs", "bytes", "FLOP/B", "bound", f"time {unit}", "share")]
    for item in (*cost.kernels, cost):
        lines.append(
            row(
                getattr(item, "name", "total"),
                str(getattr(item, "count", "")),
                format_si(item.flops, ""),
                format_si(item.bytes, "B"),
                f"{item.arithmetic_intensity:.1f}",
                item.bound,
                f"{item.time_s * scale:.3f}",
                f"{item.time_s / cost.time_s:.1%}",
            )
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class RooflineReport:
    """What ``python -m specdec roofline`` reports; see :func:`roofline_report`.

    ``cost``: the forward asked for. ``c_verify``: t(new_tokens) / t(1), ``None`` for a one-position
    forward. ``compute_bound_batch``, ``matmul_bound_batch`` and ``compute_bound_k``: the crossovers
    (``None``: never, up to ``max_batch`` / ``k_max``). ``decode_intensity_limit``: the decode
    intensity, in FLOP/byte, at ``max_batch``, where it levels off when the KV cache keeps decode
    memory-bound.
    """

    cost: ForwardCost
    hardware: Hardware
    c_verify: float | None
    compute_bound_batch: int | None
    matmul_bound_batch: int | None
    compute_bound_k: int | None
    decode_intensity_limit: float
    max_batch: int
    k_max: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return {
            "forward_cost": self.cost.to_dict(),
            "hardware": self.hardware.to_dict(),
            "verification_cost_ratio": self.c_verify,
            "compute_bound_batch": self.compute_bound_batch,
            "matmul_bound_batch": self.matmul_bound_batch,
            "compute_bound_k": self.compute_bound_k,
            "decode_intensity_limit": self.decode_intensity_limit,
        }


def roofline_report(
    model: str | ModelShape, hardware: str | Hardware, *, new_tokens: int = 1, **kw: Any
) -> RooflineReport:
    """One forward (:func:`~specdec.perf.kernels.forward_cost`, ``new_tokens`` positions and ``kw``), its
    verification cost
    ratio, and where decode (over the batch: the whole step, and its weight matmuls) and verification
    (over k) turn compute-bound.

    ``kw`` takes the other arguments of :func:`~specdec.perf.kernels.forward_cost`; ``weight_dtype`` defaults
    to :func:`~specdec.perf.presets.half_precision_dtype` of the hardware, so every preset works with the
    defaults.
    """
    hw = get_hardware(hardware)
    kw.setdefault("weight_dtype", half_precision_dtype(hw))
    cost = forward_cost(model, hw, new_tokens=new_tokens, **kw)
    c_verify = verification_cost_ratio(model, hw, cost.new_tokens - 1, **kw) if cost.new_tokens > 1 else None
    per_sequence = {key: value for key, value in kw.items() if key != "batch"}
    max_batch, k_max = COMPUTE_BOUND_MAX_BATCH, COMPUTE_BOUND_K_MAX
    return RooflineReport(
        cost=cost,
        hardware=hw,
        c_verify=c_verify,
        compute_bound_batch=compute_bound_batch(model, hw, max_batch=max_batch, **per_sequence),
        matmul_bound_batch=matmul_bound_batch(model, hw, max_batch=max_batch, **per_sequence),
        compute_bound_k=compute_bound_k(model, hw, k_max=k_max, **kw),
        decode_intensity_limit=forward_cost(model, hw, batch=max_batch, **per_sequence).arithmetic_intensity,
        max_batch=max_batch,
        k_max=k_max,
    )
