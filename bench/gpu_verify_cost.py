#!/usr/bin/env python3
"""Verification cost on a CUDA GPU: t(T)/t(1) of ``x[T, d_in] @ W[d_in, d_out]`` in bf16.

The GPU counterpart of ``python -m specdec probe``. It times one weight matrix, larger than the GPU's
L2 cache so that every call streams W from HBM as a decode step streams its weights, for
T = 1, 2, 4, ..., 64 token positions (plus T = k + 1), with CUDA events; and prints the measured cost
curve beside the roofline prediction for a hardware preset of :mod:`specdec.roofline` (default
``h200``), and the speculative-decoding speedup that each curve implies for a chosen α, k and c.

Usage (on a machine with PyTorch and a CUDA GPU; the project itself does not depend on PyTorch)::

    python bench/gpu_verify_cost.py --preset h200
    python bench/gpu_verify_cost.py --preset h200 --json > bench/results/gpu-h200.json
    python bench/gpu_verify_cost.py --max-tokens 1024      # extend the sweep past the ridge

Defaults: W is 8192 x 28672 (the shape of one Llama-2-70B feed-forward matrix), bf16, i.e. 470 MB;
the script refuses a W smaller than 4x the L2 size the driver reports. Each point is the best, over
``--repeats`` CUDA-event windows, of the mean time of ``--iters`` back-to-back calls.

Only the pure-Python :mod:`specdec.roofline`, :mod:`specdec.speedup` and :mod:`specdec.cli` are imported
from the project, so ``src/`` is added to
``sys.path`` when the package is not installed. PyTorch is imported inside :func:`main`, so ``--help``
and the roofline-only helpers work without it.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
from pathlib import Path
from typing import Any

try:
    from specdec import roofline as rl
    from specdec.cli import OneLineParser
    from specdec.speedup import expected_tokens_per_step, walltime_speedup
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from specdec import roofline as rl
    from specdec.cli import OneLineParser
    from specdec.speedup import expected_tokens_per_step, walltime_speedup

BF16_BYTES = 2
#: Largest ``--iters`` and ``--repeats``: beyond them one point would take minutes.
MAX_ITERS = 10_000
MAX_REPEATS = 1000


def roofline_rows(tokens: list[int], d_in: int, d_out: int, preset: str) -> list[dict[str, Any]]:
    """Roofline time, ratio to T = 1 and bound for each T on a :mod:`specdec.roofline` preset (bf16)."""
    costs = [rl.matmul_cost(t, d_in, d_out, preset, dtype="bf16") for t in tokens]
    base = costs[0].time_s
    return [
        {
            "tokens": c.tokens,
            "time_s": c.time_s,
            "ratio": c.time_s / base,
            "bound": c.bound,
            "arithmetic_intensity": c.arithmetic_intensity,
        }
        for c in costs
    ]


def _time_cuda(torch: Any, fn: Any, iters: int, repeats: int) -> float:
    """Best over ``repeats`` CUDA-event windows of the mean seconds per call of ``iters`` calls."""
    for _ in range(3):  # warm-up: cuBLAS heuristics, clocks
        fn()
    torch.cuda.synchronize()
    best = math.inf
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        end.synchronize()
        best = min(best, start.elapsed_time(end) / 1e3 / iters)  # elapsed_time is in ms
    return best


def _copy_bytes(args: argparse.Namespace, l2_bytes: int) -> int:
    return args.copy_bytes if args.copy_bytes is not None else max(4 * l2_bytes, 1 << 30)


def _reference_rates(torch: Any, dev: Any, gen: Any, args: argparse.Namespace, copy_bytes: int):
    """Context for the roofline: the bandwidth of a device-to-device copy (read + write, as STREAM
    counts it) and the FLOP/s of a large square bf16 matmul."""
    n_copy = copy_bytes // BF16_BYTES
    src = torch.empty(n_copy, dtype=torch.bfloat16, device=dev).normal_(generator=gen)
    dst = torch.empty_like(src)
    t_copy = _time_cuda(torch, lambda src=src, dst=dst: dst.copy_(src), 10, args.repeats)
    copy_bw = 2 * n_copy * BF16_BYTES / t_copy
    del src, dst
    n = args.square
    a = torch.randn(n, n, dtype=torch.bfloat16, device=dev, generator=gen)
    b = torch.randn(n, n, dtype=torch.bfloat16, device=dev, generator=gen)
    c = torch.empty(n, n, dtype=torch.bfloat16, device=dev)
    t_mm = _time_cuda(torch, lambda: torch.matmul(a, b, out=c), 10, args.repeats)
    return copy_bw, 2.0 * n**3 / t_mm


def _check_memory(args: argparse.Namespace, l2_bytes: int, total_bytes: int) -> None:
    """Refuse sizes whose buffers would not fit in the GPU's memory, before any is allocated."""
    weight_bytes = args.d_in * args.d_out * BF16_BYTES
    if l2_bytes and weight_bytes < 4 * l2_bytes:
        raise SystemExit(
            f"gpu_verify_cost: W is {weight_bytes / 2**20:.0f} MiB, less than 4x the "
            f"{l2_bytes / 2**20:.0f} MiB L2; raise --d-in/--d-out"
        )
    largest_t = max(rl.sweep_tokens(args.max_tokens, args.k))
    sweep = weight_bytes + largest_t * (args.d_in + args.d_out) * BF16_BYTES
    need = max(
        sweep, weight_bytes + 2 * _copy_bytes(args, l2_bytes), weight_bytes + 3 * args.square**2 * BF16_BYTES
    )
    if need > total_bytes:
        raise SystemExit(
            f"gpu_verify_cost: error: the buffers need {need / 2**30:.1f} GiB, more than the GPU's "
            f"{total_bytes / 2**30:.1f} GiB; lower --d-in/--d-out, --max-tokens, --copy-bytes or --square"
        )


def measure(args: argparse.Namespace) -> dict[str, Any]:
    try:
        import torch  # optional dependency, only needed for the measurement
    except ImportError:
        raise SystemExit("gpu_verify_cost: needs PyTorch with CUDA (pip install torch)") from None

    if not torch.cuda.is_available():
        raise SystemExit("gpu_verify_cost: no CUDA device visible to PyTorch")
    dev = torch.device("cuda")
    props = torch.cuda.get_device_properties(dev)
    l2_bytes = int(getattr(props, "L2_cache_size", 0) or 0)
    weight_bytes = args.d_in * args.d_out * BF16_BYTES
    _check_memory(args, l2_bytes, int(props.total_memory))
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    w = torch.randn(args.d_in, args.d_out, dtype=torch.bfloat16, device=dev, generator=gen)
    tokens = rl.sweep_tokens(args.max_tokens, args.k)

    times = []
    for t in tokens:
        x = torch.randn(t, args.d_in, dtype=torch.bfloat16, device=dev, generator=gen)
        out = torch.empty(t, args.d_out, dtype=torch.bfloat16, device=dev)
        times.append(
            _time_cuda(torch, lambda x=x, out=out: torch.matmul(x, w, out=out), args.iters, args.repeats)
        )
        del x, out
    copy_bw, square_flops = _reference_rates(torch, dev, gen, args, _copy_bytes(args, l2_bytes))

    return {
        "device": props.name,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "host": f"{platform.machine()} {platform.system()}",
        "l2_cache_bytes": l2_bytes or None,
        "gpu_memory_bytes": int(props.total_memory),
        "d_in": args.d_in,
        "d_out": args.d_out,
        "weight_bytes": weight_bytes,
        "iters": args.iters,
        "repeats": args.repeats,
        "tokens": tokens,
        "times_s": times,
        "copy_bandwidth_bytes_per_s": copy_bw,
        "square_matmul_n": args.square,
        "square_matmul_flops_per_s": square_flops,
    }


def report(m: dict[str, Any], preset: str, alpha: float, k: int, c: float) -> dict[str, Any]:
    """Add ratios, achieved rates, the preset's roofline and the implied speedups to a measurement."""
    tokens, times = m["tokens"], m["times_s"]
    pred = roofline_rows(tokens, m["d_in"], m["d_out"], preset)
    ratios = [t / times[0] for t in times]
    counts = [rl.matmul_cost(t, m["d_in"], m["d_out"], preset, dtype="bf16") for t in tokens]
    i = tokens.index(k + 1)
    out = dict(m)
    out.update(
        preset=preset,
        measured_ratios=ratios,
        achieved_flops_per_s=[cnt.flops / t for cnt, t in zip(counts, times)],
        achieved_bytes_per_s=[cnt.bytes / t for cnt, t in zip(counts, times)],
        roofline=pred,
        alpha=alpha,
        k=k,
        c=c,
        tau=expected_tokens_per_step(alpha, k),
        speedup_theorem=walltime_speedup(alpha, k, c),
        c_verify_roofline=pred[i]["ratio"],
        speedup_roofline=walltime_speedup(alpha, k, c, pred[i]["ratio"]),
        c_verify_measured=ratios[i],
        speedup_measured=walltime_speedup(alpha, k, c, ratios[i]),
    )
    return out


def format_report(r: dict[str, Any]) -> str:
    hw = rl.get_hardware(r["preset"])
    lines = [
        f"gpu_verify_cost: {r['device']} (torch {r['torch']}, CUDA {r['cuda']})",
        f"  L2 cache           {r['l2_cache_bytes'] / 2**20:.0f} MiB"
        if r["l2_cache_bytes"]
        else "  L2 cache  unknown",
        f"  device copy        {r['copy_bandwidth_bytes_per_s'] / 1e9:.0f} GB/s (read + write)",
        f"  square bf16 matmul {r['square_matmul_flops_per_s'] / 1e12:.0f} TFLOP/s "
        f"(n = {r['square_matmul_n']})",
        f"  preset {r['preset']!r}  {hw.peak('bf16') / 1e12:.1f} TFLOP/s bf16, "
        f"{hw.bandwidth_bytes_per_s / 1e9:.0f} GB/s, ridge {hw.ridge_point('bf16'):.0f} FLOP/byte",
        "",
        f"x[T, {r['d_in']}] @ W[{r['d_in']}, {r['d_out']}] bf16, W = {r['weight_bytes'] / 1e6:.0f} MB; "
        f"best of {r['repeats']} windows of {r['iters']} calls",
        "     T  measured us  t(T)/t(1)  TFLOP/s   GB/s   roofline us  t(T)/t(1)  bound",
    ]
    for t, tm, ratio, fl, bw, p in zip(
        r["tokens"],
        r["times_s"],
        r["measured_ratios"],
        r["achieved_flops_per_s"],
        r["achieved_bytes_per_s"],
        r["roofline"],
    ):
        lines.append(
            f"  {t:4d}  {tm * 1e6:11.1f}  {ratio:9.2f}  {fl / 1e12:7.1f}  {bw / 1e9:5.0f}  "
            f"{p['time_s'] * 1e6:12.1f}  {p['ratio']:9.2f}  {p['bound']}"
        )
    lines += [
        "",
        f"speculative decoding: alpha = {r['alpha']:.2f}, k = {r['k']}, c = {r['c']:.3f}; "
        f"τ (Eq. 1) = {r['tau']:.2f}",
        f"  c_verify 1.00 (Theorem 3.8)            speedup {r['speedup_theorem']:.2f}x",
        f"  c_verify {r['c_verify_roofline']:.2f} (roofline, {r['preset']})    "
        f"speedup {r['speedup_roofline']:.2f}x",
        f"  c_verify {r['c_verify_measured']:.2f} (measured)              "
        f"speedup {r['speedup_measured']:.2f}x",
    ]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="gpu_verify_cost.py",
        description="Time x[T, d_in] @ W[d_in, d_out] in bf16 on a CUDA GPU for T = 1, 2, 4, ..., "
        "64 and compare t(T)/t(1) with the roofline of a specdec hardware preset.",
    )
    p.add_argument(
        "--preset", default="h200", help=f"roofline preset ({', '.join(rl.HARDWARE)}; default h200)"
    )
    p.add_argument("--d-in", type=int, default=8192, help="rows of W (default 8192)")
    p.add_argument("--d-out", type=int, default=28672, help="columns of W (default 28672)")
    p.add_argument("--max-tokens", type=int, default=64, help="largest T (default 64)")
    p.add_argument("--iters", type=int, default=50, help="calls per timing window (default 50)")
    p.add_argument("--repeats", type=int, default=5, help="timing windows per point (default 5)")
    p.add_argument("--square", type=int, default=8192, help="size of the square matmul peak check")
    p.add_argument(
        "--copy-bytes",
        type=int,
        default=None,
        help="buffer of the copy bandwidth check (default: max(4x L2, 1 GiB))",
    )
    p.add_argument("--alpha", type=float, default=0.8, help="acceptance rate for the speedup (default 0.8)")
    p.add_argument("--k", type=int, default=4, help="drafted tokens per step (default 4)")
    p.add_argument("--c", type=float, default=0.0, help="draft/target cost ratio (default 0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def check(args: argparse.Namespace) -> None:
    """Every argument, before anything is measured: one line naming the flag, exit status 2."""
    try:
        rl.get_hardware(args.preset).peak("bf16")  # a known preset with a bf16 peak (rtx-3090 has none)
        for name in ("d_in", "d_out", "square", "copy_bytes"):
            if getattr(args, name) is not None and getattr(args, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(args, name)}")
        for name, most in (("iters", MAX_ITERS), ("repeats", MAX_REPEATS)):
            if not 1 <= getattr(args, name) <= most:
                raise ValueError(f"{name} must lie in [1, {most}], got {getattr(args, name)}")
        if args.seed < 0:
            raise ValueError(f"seed must be >= 0, got {args.seed}")
        rl.sweep_tokens(args.max_tokens, args.k)
        walltime_speedup(args.alpha, args.k, args.c)  # alpha in [0, 1], k >= 1, c >= 0
    except (TypeError, ValueError) as exc:
        flag = str(exc).split()[0].rstrip(":")
        flag = {"hardware": "preset", "compute_dtype": "preset"}.get(flag, flag)
        raise SystemExit(f"gpu_verify_cost: error: --{flag.replace('_', '-')}: {exc}") from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    check(args)
    r = report(measure(args), args.preset, args.alpha, args.k, args.c)
    print(json.dumps(r, indent=2) if args.json else format_report(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
