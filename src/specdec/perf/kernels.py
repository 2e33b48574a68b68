"""FLOPs, bytes and roofline time of one forward, kernel by kernel: :func:`forward_cost`.

The roofline model (Williams, Waterman & Patterson, "Roofline: An Insightful Visual Performance Model
for Multicore Architectures", Communications of the ACM 52(4), April 2009, pp. 65-76,
DOI 10.1145/1498765.1498785) bounds the time of a kernel from below by the larger of two times: its
floating-point operations at the peak FLOP/s, and the bytes it must move at the peak memory bandwidth.
The ratio FLOPs / bytes is the kernel's *arithmetic intensity*; the intensity at which the two times
are equal (peak FLOP/s divided by bandwidth) is the *ridge point*. Below the ridge the kernel is
memory-bound, above it compute-bound.

This module counts FLOPs and bytes for one forward of a decoder-only transformer (a
:class:`~specdec.perf.shapes.ModelShape`) over ``new_tokens`` positions of ``batch`` sequences, each
with ``context`` cached positions, and evaluates the roofline on a
:class:`~specdec.perf.hardware.Hardware`, kernel by kernel (:class:`ForwardCost`); and one matrix
product alone (:func:`matmul_cost`). Everything is plain Python, so ``bench/gpu_verify_cost.py`` can
import it on a machine without NumPy. Units: :mod:`specdec.perf.units`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from specdec import _checks
from specdec.perf.hardware import Hardware
from specdec.perf.presets import get_hardware, get_model
from specdec.perf.shapes import ModelShape
from specdec.perf.units import DTYPE_BYTES, check_count, check_dtype, default_compute_dtype

__all__ = ["KernelCost", "ForwardCost", "MatmulCost", "forward_cost", "matmul_cost"]


def _rates(hw: Hardware, compute_dtype: str, flops_efficiency: object, bandwidth_efficiency: object):
    """Peak FLOP/s and bandwidth after the efficiency factors, each checked to be a fraction in (0, 1]."""
    fe = _checks.fraction("flops_efficiency", flops_efficiency)
    be = _checks.fraction("bandwidth_efficiency", bandwidth_efficiency)
    return hw.peak(compute_dtype) * fe, hw.bandwidth_bytes_per_s * be, fe, be


def _roofline(
    flops: float,
    bytes_moved: float,
    hw: Hardware,
    compute_dtype: str,
    flops_efficiency: object,
    bandwidth_efficiency: object,
) -> dict[str, Any]:
    """Times, intensity, ridge and bound; ValueError naming the culprit if any of them is not finite."""
    peak, bandwidth, fe, be = _rates(hw, compute_dtype, flops_efficiency, bandwidth_efficiency)
    compute_time = flops / peak if peak > 0 else math.inf
    memory_time = bytes_moved / bandwidth if bandwidth > 0 else math.inf
    out = {
        "arithmetic_intensity": flops / bytes_moved,
        "ridge_point": peak / bandwidth if bandwidth > 0 else math.inf,
        "compute_time_s": compute_time,
        "memory_time_s": memory_time,
        "time_s": max(compute_time, memory_time),
        "bound": "compute" if compute_time > memory_time else "memory",
    }
    # Counts are bounded (MAX_COUNT), so only extreme rates can push a result out of the float range:
    # a tiny efficiency factor, or a hand-built Hardware with absurd peaks.
    culprit = {
        "compute_time_s": "flops_efficiency" if fe < 1 else "hardware",
        "memory_time_s": "bandwidth_efficiency" if be < 1 else "hardware",
        "ridge_point": "bandwidth_efficiency" if be < 1 else ("flops_efficiency" if fe < 1 else "hardware"),
    }
    given = {"flops_efficiency": fe, "bandwidth_efficiency": be, "hardware": hw.name}
    for key, name in culprit.items():
        if not (math.isfinite(out[key]) and out[key] > 0):
            raise ValueError(
                f"{name} out of range: the roofline's {key} is {out[key]!r}, not a finite positive number "
                f"(got {name}={given[name]!r})"
            )
    return out


@dataclass(frozen=True)
class KernelCost:
    """One kernel of a forward (or ``count`` identical ones, one per layer), on its own roofline.

    ``kind`` is ``"matmul"`` (a weight matrix product), ``"attention"`` (scores and weighted sum over
    the cache), ``"elementwise"`` (a norm or the activation function) or ``"gather"`` (the embedding
    lookup). FLOPs, bytes and times are totals over the ``count`` instances; ``time_s`` is
    max(``compute_time_s``, ``memory_time_s``) and ``bound`` says which one it is.
    """

    name: str
    kind: str
    count: int
    flops: float
    bytes_weights: float
    bytes_kv_read: float
    bytes_kv_write: float
    bytes_activations: float
    bytes: float
    arithmetic_intensity: float
    compute_time_s: float
    memory_time_s: float
    time_s: float
    bound: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return _checks.to_dict(self)


def _kernel_specs(
    m: ModelShape, B: int, T: int, C: int, w_bytes: float, a_bytes: float, kv_per_token: float
) -> list[dict[str, Any]]:
    """FLOPs and bytes of every kernel of one forward, in the order they run (:class:`ForwardCost`
    lists what each counts), for ``B`` sequences of ``T`` new positions after ``C`` cached ones."""
    n, L, d, f = B * T, m.n_layers, m.d_model, m.d_ffn
    q, kv_layer = m.n_heads * m.head_dim, kv_per_token / m.n_layers
    up = (2 if m.gated_ffn else 1) * f  # a gated MLP's gate and up outputs, side by side
    specs: list[dict[str, Any]] = []

    def add(name, kind, count, flops, weights=0.0, kv_read=0.0, kv_write=0.0, activations=0.0):
        specs.append(
            dict(
                name=name,
                kind=kind,
                count=count,
                flops=count * flops,
                bytes_weights=count * weights,
                bytes_kv_read=count * kv_read,
                bytes_kv_write=count * kv_write,
                bytes_activations=count * activations * a_bytes,
            )
        )

    def matmul(name, count, d_in, d_out, act_in, act_out=None, kv_write=0.0):
        flops, weights = 2.0 * n * d_in * d_out, d_in * d_out * w_bytes
        out = d_out if act_out is None else act_out
        add(name, "matmul", count, flops, weights, 0.0, kv_write, n * (act_in + out))

    def norm(name, count):  # RMSNorm: ~4 FLOPs per element; reads x and its weight, writes x
        if m.norms:
            add(name, "elementwise", count, 4.0 * n * d, d * a_bytes, activations=2.0 * n * d)

    if m.embeddings:  # one row per position, at most the whole table
        add("embedding", "gather", 1, 0.0, min(n, m.vocab_size) * d * w_bytes, activations=n * d)
    norm("attn norm", L)
    # Q, K and V: one read of the input; Q written out, K and V written into the cache.
    matmul("qkv", L, d, q + 2 * m.n_kv_heads * m.head_dim, d, act_out=q, kv_write=n * kv_layer)
    attended = T * C + T * (T + 1) / 2.0  # new position i attends to C + i earlier positions and itself
    add("attention", "attention", L, 4.0 * q * B * attended, 0.0, B * C * kv_layer, 0.0, 2.0 * n * q)
    matmul("out proj", L, q, d, q + d)  # the residual add is the matmul's epilogue: one more d read
    norm("ffn norm", L)
    matmul("gate+up" if m.gated_ffn else "up", L, d, up, d)
    add("activation", "elementwise", L, 4.0 * n * f, activations=n * (up + f))
    matmul("down", L, f, d, f + d)
    norm("final norm", 1)
    if m.embeddings:
        matmul("lm head", 1, d, m.vocab_size, d)
    return specs


def _kernel_cost(spec: Mapping[str, Any], peak: float, bandwidth: float) -> KernelCost:
    nbytes = (
        spec["bytes_weights"] + spec["bytes_kv_read"] + spec["bytes_kv_write"] + spec["bytes_activations"]
    )
    compute, memory = spec["flops"] / peak, nbytes / bandwidth
    return KernelCost(
        **spec,
        bytes=nbytes,
        arithmetic_intensity=spec["flops"] / nbytes,
        compute_time_s=compute,
        memory_time_s=memory,
        time_s=max(compute, memory),
        bound="compute" if compute > memory else "memory",
    )


@dataclass(frozen=True)
class ForwardCost:
    """FLOPs, bytes and roofline time of one forward; see :func:`forward_cost`.

    Units: ``flops*`` in FLOPs, ``bytes*`` in bytes, intensities and ``ridge_point`` in FLOP/byte,
    ``*_time_s`` in seconds, ``tokens_per_s`` in token positions per second.

    A forward is the list of kernels in ``kernels`` (:class:`KernelCost`), which run one after
    another: per layer a norm, the Q/K/V matmul, attention over the cache, the output projection, a
    norm, the gate/up (or up) matmul, the activation function and the down projection; before them
    the embedding lookup and after them the final norm and the output head. ``time_s``, the lower
    bound this module reports, is the **sum over kernels of each kernel's own roofline**,
    max(FLOPs / peak, bytes / bandwidth), after the efficiency factors. ``time_whole_forward_s`` is
    the looser bound of one roofline over the whole forward, max(``compute_time_s``,
    ``memory_time_s``) of the totals: it lets one kernel's arithmetic hide under another kernel's
    memory traffic, which kernels that run one after another cannot do, so it is never larger than
    ``time_s``. ``bound`` is ``"compute"`` when the compute-bound kernels take more than half of
    ``time_s`` (their share is ``compute_bound_fraction``), else ``"memory"``.

    FLOPs: 2 per multiply-add in every weight matrix (all layers and the output head) for each of the
    ``batch × new_tokens`` positions; attention scores and the weighted sum of values (4 · n_heads ·
    head_dim FLOPs per layer per attended position; new position i attends to ``context + i``
    earlier positions and itself; the softmax is not counted); element-wise kernels at 4 FLOPs per
    element (a norm per input element, the activation per output element).

    Bytes, per kernel, the least it can move:

    - weights: each matmul streams its weight matrix once, in ``weight_dtype``; each norm reads its
      weight vector, in ``compute_dtype``; the embedding lookup gathers one row per position (at most
      the whole table), from the output head's table when the two are tied.
    - KV cache, in ``kv_dtype``: attention reads the ``context`` cached positions of every sequence;
      the Q/K/V matmul writes K and V of every new position into the cache (``bytes_kv_write``).
    - activations, in ``compute_dtype``: each kernel reads its input and writes its output once. The
      Q/K/V matmul reads its input once and writes Q only (K and V go to the cache); attention reads
      Q and writes its output; the residual adds are the epilogues of the output and down
      projections, which read the residual stream besides their input; a gated MLP's gate/up matmul
      writes both halves, and the activation kernel reads them and writes their gated product.

    ``memory_required_bytes`` is all weights plus the KV cache after the forward; ``fits_in_memory``
    compares it with one device's capacity. Nothing is sharded.
    """

    model: str
    hardware: str
    batch: int
    new_tokens: int
    context: int
    weight_dtype: str
    kv_dtype: str
    compute_dtype: str
    flops_matmul: float
    flops_attention: float
    flops_elementwise: float
    flops: float
    bytes_weights: float
    bytes_kv_read: float
    bytes_kv_write: float
    bytes_activations: float
    bytes: float
    arithmetic_intensity: float
    ridge_point: float
    compute_time_s: float
    memory_time_s: float
    time_whole_forward_s: float
    time_s: float
    compute_bound_fraction: float
    bound: str
    tokens_per_s: float
    memory_required_bytes: float
    fits_in_memory: bool
    kernels: tuple[KernelCost, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON), each kernel as a dict."""
        return _checks.to_dict(self) | {"kernels": [k.to_dict() for k in self.kernels]}


def _dtypes(hw: Hardware, weight_dtype: object, kv_dtype: object, compute_dtype: object) -> tuple[str, ...]:
    """The weight, KV and compute dtypes of :func:`forward_cost`, the compute dtype's peak verified on
    ``hw`` (before the efficiencies are checked). A compute dtype that was not passed defaults from
    ``weight_dtype``, so an unverified peak is then reported as the weight dtype's: the argument the
    caller chose."""
    wdt = check_dtype("weight_dtype", weight_dtype)
    cdt = check_dtype(
        "compute_dtype", compute_dtype if compute_dtype is not None else default_compute_dtype(wdt)
    )
    kdt = check_dtype("kv_dtype", kv_dtype if kv_dtype is not None else cdt)
    if compute_dtype is None and cdt not in hw.peak_flops_per_s:
        via = "" if cdt == wdt else f" (its weights compute in {cdt} unless a compute dtype is given)"
        raise ValueError(
            f"weight_dtype: {hw.name!r} has no verified peak for {cdt!r}{via}; "
            f"verified: {', '.join(hw.peak_flops_per_s)}"
        )
    hw.peak(cdt)
    return wdt, kdt, cdt


def forward_cost(
    model: str | ModelShape,
    hardware: str | Hardware,
    *,
    batch: int = 1,
    new_tokens: int = 1,
    context: int = 0,
    weight_dtype: str = "bf16",
    kv_dtype: str | None = None,
    compute_dtype: str | None = None,
    flops_efficiency: float = 1.0,
    bandwidth_efficiency: float = 1.0,
) -> ForwardCost:
    """Roofline cost of one forward over ``new_tokens`` positions for each of ``batch`` sequences.

    ``new_tokens = 1`` is a plain decode step; ``new_tokens = k + 1`` is the target forward that
    verifies k drafted tokens. Each sequence already has ``context`` positions in its KV cache. What
    the kernels, FLOPs, bytes and memory count, item by item, is listed under :class:`ForwardCost`.

    ``weight_dtype`` sets the bytes per weight; ``compute_dtype`` (default: the weight dtype, or bf16
    for int8/int4 weight-only quantisation) picks the hardware peak and the activation size;
    ``kv_dtype`` defaults to the compute dtype. ``flops_efficiency`` and ``bandwidth_efficiency``
    (fractions in (0, 1]) scale the peaks to what a real kernel achieves.

    Raises ``ValueError`` naming the argument for an unknown preset or dtype, a dtype without a verified peak
    on this hardware, ``batch`` or ``new_tokens`` not an integer in [1,
    :data:`~specdec.perf.units.MAX_COUNT`], ``context`` not an integer in [0,
    :data:`~specdec.perf.units.MAX_COUNT`], an efficiency outside (0, 1], or rates so extreme that a time or
    rate of the result is not a finite positive number.
    """
    m, hw = get_model(model), get_hardware(hardware)
    B, T = check_count("batch", batch, 1), check_count("new_tokens", new_tokens, 1)
    C = check_count("context", context, 0)
    wdt, kdt, cdt = _dtypes(hw, weight_dtype, kv_dtype, compute_dtype)
    kv_per_token = m.kv_cache_bytes_per_token(kdt)
    totals, specs = _totals(_kernel_specs(m, B, T, C, DTYPE_BYTES[wdt], DTYPE_BYTES[cdt], kv_per_token))
    whole = _roofline(totals["flops"], totals["bytes"], hw, cdt, flops_efficiency, bandwidth_efficiency)
    peak, bandwidth, _, _ = _rates(hw, cdt, flops_efficiency, bandwidth_efficiency)
    kernels = tuple(_kernel_cost(s, peak, bandwidth) for s in specs)
    time_s = math.fsum(k.time_s for k in kernels)
    compute_share = math.fsum(k.time_s for k in kernels if k.bound == "compute") / time_s
    tokens_per_s = B * T / time_s
    if not (math.isfinite(time_s) and math.isfinite(tokens_per_s) and tokens_per_s > 0):
        raise ValueError(f"hardware: the time {time_s!r} s or tokens_per_s {tokens_per_s!r} is not finite")
    weights = (m.matmul_params + m.input_embedding_params) * DTYPE_BYTES[wdt]
    memory = weights + m.norm_params * DTYPE_BYTES[cdt] + B * (C + T) * kv_per_token
    return ForwardCost(
        model=m.name, hardware=hw.name, batch=B, new_tokens=T, context=C,
        weight_dtype=wdt, kv_dtype=kdt, compute_dtype=cdt, **totals,
        arithmetic_intensity=whole["arithmetic_intensity"], ridge_point=whole["ridge_point"],
        compute_time_s=whole["compute_time_s"], memory_time_s=whole["memory_time_s"],
        time_whole_forward_s=whole["time_s"], time_s=time_s, compute_bound_fraction=compute_share,
        bound="compute" if compute_share > 0.5 else "memory", tokens_per_s=tokens_per_s,
        memory_required_bytes=memory, fits_in_memory=memory <= hw.memory_bytes, kernels=kernels,
    )  # fmt: skip


def _totals(specs: list[dict[str, Any]]) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """The FLOP and byte totals of :class:`ForwardCost` over the kernels ``specs`` (returned too)."""
    flops = {kind: math.fsum(s["flops"] for s in specs if s["kind"] in kinds) for kind, kinds in _FLOP_KINDS}
    parts = ("bytes_weights", "bytes_kv_read", "bytes_kv_write", "bytes_activations")
    out = flops | {key: math.fsum(s[key] for s in specs) for key in parts}
    out["flops"] = math.fsum(flops.values())
    out["bytes"] = math.fsum(out[key] for key in parts)
    return out, specs


_FLOP_KINDS = (
    ("flops_matmul", ("matmul",)),
    ("flops_attention", ("attention",)),
    ("flops_elementwise", ("elementwise", "gather")),
)


@dataclass(frozen=True)
class MatmulCost:
    """Roofline cost of one ``x[tokens, d_in] @ W[d_in, d_out]``; see :func:`matmul_cost`."""

    tokens: int
    d_in: int
    d_out: int
    dtype: str
    flops: float
    bytes: float
    arithmetic_intensity: float
    ridge_point: float
    compute_time_s: float
    memory_time_s: float
    time_s: float
    bound: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return _checks.to_dict(self)


def matmul_cost(
    tokens: int,
    d_in: int,
    d_out: int,
    hardware: str | Hardware,
    *,
    dtype: str = "bf16",
    flops_efficiency: float = 1.0,
    bandwidth_efficiency: float = 1.0,
) -> MatmulCost:
    """Roofline cost of ``x[tokens, d_in] @ W[d_in, d_out]`` with everything in ``dtype``.

    FLOPs 2 · tokens · d_in · d_out; bytes (d_in · d_out + tokens · d_in + tokens · d_out) times the
    dtype size: W, x and the output each cross the memory bus once. This is the kernel that
    :mod:`specdec.perf.probe` and ``bench/gpu_verify_cost.py`` time.
    """
    hw = get_hardware(hardware)
    t = check_count("tokens", tokens, 1)
    di = check_count("d_in", d_in, 1)
    do = check_count("d_out", d_out, 1)
    dt = check_dtype("dtype", dtype)
    hw.peak(dt)  # an unverified dtype is reported before the efficiencies are checked
    flops = 2.0 * t * di * do
    nbytes = (di * do + t * di + t * do) * DTYPE_BYTES[dt]
    roof = _roofline(flops, nbytes, hw, dt, flops_efficiency, bandwidth_efficiency)
    return MatmulCost(tokens=t, d_in=di, d_out=do, dtype=dt, flops=flops, bytes=nbytes, **roof)
