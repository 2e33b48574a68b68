"""Command line: ``python -m specdec`` (or the ``specdec`` console script).

Subcommands::

    specdec roofline --hardware h200 --model llama-2-7b --batch 1 --context 1024 --new-tokens 5
    specdec speedup --alpha 0.8 --k 5 --c 0.02
    specdec probe [--quick]
    specdec presets

Every subcommand takes ``--help`` and ``--json`` (machine-readable output on stdout; strict JSON,
never ``NaN`` or ``Infinity``). Bad input (an unknown preset, α outside [0, 1], a value that is not a
number, a number beyond a documented limit such as ``--k-max`` above
:data:`specdec.speedup.MAX_K`, ...) prints one line naming the argument to stderr and exits with
status 2, whether argparse or the library refuses it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from specdec import _checks
from specdec import roofline as rl
from specdec import speedup as sp

__all__ = ["main", "build_parser"]


# ----------------------------------------------------------------------------------------------
# formatting helpers
# ----------------------------------------------------------------------------------------------


def _si(value: float, unit: str, digits: int = 3) -> str:
    """``value`` with a decimal SI prefix: _si(13.2e9, "B") -> '13.2 GB'."""
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}"


def _seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.3f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3f} ms"
    return f"{value * 1e6:.3f} us"


def _table(rows: Sequence[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"  {label:<{width}}  {value}" for label, value in rows)


def _emit_json(payload: dict[str, Any]) -> None:
    # allow_nan=False: NaN and Infinity are not JSON. The library refuses inputs that would produce
    # them, so this raising ValueError (reported as a one-line error) would be a bug caught late.
    text = json.dumps(payload, indent=2, sort_keys=False, allow_nan=False)
    sys.stdout.write(text + "\n")


# ----------------------------------------------------------------------------------------------
# subcommands
# ----------------------------------------------------------------------------------------------


def _cmd_roofline(args: argparse.Namespace) -> int:
    kw: dict[str, Any] = dict(
        batch=args.batch,
        context=args.context,
        weight_dtype=args.weight_dtype,
        kv_dtype=args.kv_dtype,
        compute_dtype=args.compute_dtype,
        flops_efficiency=args.flops_efficiency,
        bandwidth_efficiency=args.bandwidth_efficiency,
    )
    cost = rl.forward_cost(args.model, args.hardware, new_tokens=args.new_tokens, **kw)
    hw = rl.get_hardware(args.hardware)
    c_verify = None
    if args.new_tokens > 1:
        c_verify = rl.verification_cost_ratio(args.model, args.hardware, args.new_tokens - 1, **kw)
    kw_no_batch = {key: value for key, value in kw.items() if key != "batch"}
    max_batch, k_max = rl.COMPUTE_BOUND_MAX_BATCH, rl.COMPUTE_BOUND_K_MAX
    batch_star = rl.compute_bound_batch(args.model, args.hardware, max_batch=max_batch, **kw_no_batch)
    k_star = rl.compute_bound_k(args.model, args.hardware, k_max=k_max, **kw)
    saturated = rl.forward_cost(args.model, args.hardware, batch=max_batch, **kw_no_batch)

    if args.json:
        _emit_json(
            {
                "forward_cost": cost.to_dict(),
                "hardware": hw.to_dict(),
                "verification_cost_ratio": c_verify,
                "compute_bound_batch": batch_star,
                "compute_bound_k": k_star,
                "decode_intensity_limit": saturated.arithmetic_intensity,
            }
        )
        return 0

    rows = [
        ("model / hardware", f"{cost.model} on {cost.hardware}"),
        ("dtypes", f"weights {cost.weight_dtype}, KV {cost.kv_dtype}, compute {cost.compute_dtype}"),
        ("batch / context / new tokens", f"{cost.batch} / {cost.context} / {cost.new_tokens}"),
        (
            "FLOPs",
            f"{_si(cost.flops, 'FLOP')} (matmul {_si(cost.flops_matmul, 'FLOP')}, "
            f"attention {_si(cost.flops_attention, 'FLOP')})",
        ),
        (
            "bytes",
            f"{_si(cost.bytes, 'B')} (weights {_si(cost.bytes_weights, 'B')}, KV read "
            f"{_si(cost.bytes_kv_read, 'B')}, KV write {_si(cost.bytes_kv_write, 'B')}, activations "
            f"{_si(cost.bytes_activations, 'B')})",
        ),
        ("arithmetic intensity", f"{cost.arithmetic_intensity:.2f} FLOP/byte"),
        ("ridge point", f"{cost.ridge_point:.1f} FLOP/byte"),
        ("bound", cost.bound),
        (
            "time (lower bound)",
            f"{_seconds(cost.time_s)} (compute {_seconds(cost.compute_time_s)}, memory "
            f"{_seconds(cost.memory_time_s)})",
        ),
        ("tokens/s (upper bound)", f"{cost.tokens_per_s:,.0f}"),
        (
            "memory required",
            f"{_si(cost.memory_required_bytes, 'B')} of {_si(hw.memory_bytes, 'B')} "
            f"({'fits' if cost.fits_in_memory else 'does NOT fit on one device'})",
        ),
    ]
    if c_verify is not None:
        rows.append((f"c_verify = t({args.new_tokens})/t(1)", f"{c_verify:.3f}"))
    if batch_star is None:
        rows.append(
            (
                "decode compute-bound from batch",
                f"never: KV reads grow with the batch; intensity levels off at "
                f"{saturated.arithmetic_intensity:.1f} FLOP/byte < ridge {cost.ridge_point:.1f}",
            )
        )
    else:
        rows.append(("decode compute-bound from batch", str(batch_star)))
    rows.append(
        (
            f"verification compute-bound from k (batch {cost.batch})",
            f"never (up to k = {k_max})" if k_star is None else str(k_star),
        )
    )
    print(f"roofline of one forward (Williams, Waterman & Patterson 2009)\n{_table(rows)}")
    print(f"  source: {hw.source}")
    return 0


def _cmd_speedup(args: argparse.Namespace) -> int:
    tau = sp.expected_tokens_per_step(args.alpha, args.k)
    s = sp.walltime_speedup(args.alpha, args.k, args.c, args.c_verify)
    k_opt, s_opt = sp.optimal_k(args.alpha, args.c, k_max=args.k_max, c_verify=args.c_verify)
    ops = sp.ops_increase(args.alpha, args.k, args.c_hat) if args.c_hat is not None else None
    if args.json:
        _emit_json(
            {
                "alpha": args.alpha,
                "k": args.k,
                "c": args.c,
                "c_verify": args.c_verify,
                "expected_tokens_per_step": tau,
                "walltime_speedup": s,
                "ops_increase": ops,
                "c_hat": args.c_hat,
                "optimal_k": k_opt,
                "optimal_speedup": s_opt,
                "k_max": args.k_max,
            }
        )
        return 0
    thm = "Theorem 3.8" if args.c_verify == 1.0 else "generalised Theorem 3.8"
    rows = [
        ("alpha, k, c, c_verify", f"{args.alpha:g}, {args.k}, {args.c:g}, {args.c_verify:g}"),
        ("E[tokens per step] (Eq. 1)", f"{tau:.3f}"),
        (f"walltime speedup ({thm})", f"{s:.3f}x"),
    ]
    if ops is not None:
        rows.append((f"ops increase (Theorem 3.11, c_hat {args.c_hat:g})", f"{ops:.3f}x"))
    rows.append((f"optimal k in 1..{args.k_max}", f"k = {k_opt}, speedup {s_opt:.3f}x"))
    print(f"speculative decoding (Leviathan et al. 2023, section 3)\n{_table(rows)}")
    return 0


def _cmd_probe(args: argparse.Namespace) -> int:
    from specdec import probe  # imports NumPy; keep the other subcommands light

    result = probe.run_probe(
        quick=args.quick, alpha=args.alpha, k=args.k, c=args.c, seed=args.seed, max_tokens=args.max_tokens
    )
    if args.json:
        _emit_json(result.to_dict())
    else:
        print(probe.format_probe(result))
    return 0


def _cmd_presets(args: argparse.Namespace) -> int:
    if args.json:
        _emit_json(
            {
                "hardware": {k: v.to_dict() for k, v in rl.HARDWARE.items()},
                "models": {k: v.to_dict() for k, v in rl.MODELS.items()},
            }
        )
        return 0
    print("hardware presets (dense peaks)")
    for key, hw in rl.HARDWARE.items():
        peaks = ", ".join(f"{dt} {v / 1e12:g} TFLOP/s" for dt, v in hw.peak_flops_per_s.items())
        print(f"  {key:<14} {peaks}; {hw.bandwidth_bytes_per_s / 1e9:g} GB/s; {_si(hw.memory_bytes, 'B')}")
        print(f"  {'':<14} source: {hw.source}")
    print("model presets")
    for key, m in rl.MODELS.items():
        print(
            f"  {key:<14} {m.n_layers} layers, d_model {m.d_model}, heads {m.n_heads}/{m.n_kv_heads} kv, "
            f"head_dim {m.head_dim}, ffn {m.d_ffn}, vocab {m.vocab_size}, "
            f"{'tied' if m.tied_embeddings else 'untied'}; {m.n_params / 1e9:.3f} B params"
        )
        print(f"  {'':<14} source: {m.source}")
    return 0


# ----------------------------------------------------------------------------------------------
# parser
# ----------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``specdec <command>: error: <message>``.

    argparse's own ``error()`` prints the whole usage block first; the message it receives already
    names the argument ("argument --k: invalid int value: '2.5'"). Subparsers are built with the same
    class, so every subcommand behaves alike.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_checks.one_line(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="specdec",
        description="Speculative-decoding arithmetic: roofline of a decode step, Leviathan et al.'s "
        "speedup model, and a probe of this machine.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "roofline",
        help="FLOPs, bytes, intensity and roofline time of one forward",
        description="Roofline cost of one forward of a model preset on a hardware preset. "
        f"Hardware: {', '.join(rl.HARDWARE)}. Models: {', '.join(rl.MODELS)}.",
    )
    p.add_argument("--hardware", default="h200", help="hardware preset (default: h200)")
    p.add_argument("--model", default="llama-2-7b", help="model preset (default: llama-2-7b)")
    p.add_argument("--batch", type=int, default=1, help="sequences in the batch (default: 1)")
    p.add_argument("--context", type=int, default=0, help="cached positions per sequence (default: 0)")
    p.add_argument(
        "--new-tokens", type=int, default=1, help="positions per sequence in this forward; k + 1 to verify k"
    )
    dtypes = ", ".join(rl.DTYPE_BYTES)
    p.add_argument("--weight-dtype", default="bf16", help=f"weight dtype ({dtypes}; default bf16)")
    p.add_argument("--kv-dtype", default=None, help="KV-cache dtype (default: the compute dtype)")
    p.add_argument(
        "--compute-dtype", default=None, help="matmul dtype (default: weight dtype; bf16 for int8/int4)"
    )
    p.add_argument("--flops-efficiency", type=float, default=1.0, help="achieved fraction of peak FLOP/s")
    p.add_argument("--bandwidth-efficiency", type=float, default=1.0, help="achieved fraction of bandwidth")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_roofline)

    p = sub.add_parser(
        "speedup",
        help="expected tokens per step, walltime speedup and the optimal k",
        description="Leviathan et al. 2023, section 3: E[tokens] (Eq. 1), speedup (Theorem 3.8, or "
        "E[tokens] / (k c + c_verify)), ops increase (Theorem 3.11) and the optimal k.",
    )
    p.add_argument("--alpha", type=float, required=True, help="acceptance rate alpha in [0, 1]")
    p.add_argument("--k", type=int, required=True, help="drafted tokens per step (>= 1)")
    p.add_argument("--c", type=float, default=0.0, help="draft/target cost ratio c >= 0 (default 0)")
    p.add_argument(
        "--c-verify",
        type=float,
        default=1.0,
        help="cost of verifying k + 1 positions over one decode step (default 1, as in Theorem 3.8; "
        "the optimal-k search applies the same value to every k)",
    )
    p.add_argument("--c-hat", type=float, default=None, help="draft/target ops ratio; prints Theorem 3.11")
    p.add_argument(
        "--k-max", type=int, default=64, help=f"largest k searched for the optimum (default 64, at most {sp.MAX_K})"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_speedup)

    p = sub.add_parser(
        "probe",
        help="measure this machine with NumPy and compare with the roofline",
        description="Measures streaming bandwidth, matmul FLOP/s and t(T)/t(1) of x[T, d] @ W for "
        "T = 1, 2, 4, ..., 64 with W larger than the last-level cache; prints them beside the "
        "roofline prediction and the speculative-decoding speedup they imply.",
    )
    p.add_argument("--quick", action="store_true", help="smaller buffers, fewer repeats (about a second)")
    p.add_argument("--alpha", type=float, default=0.8, help="acceptance rate for the speedup (default 0.8)")
    p.add_argument("--k", type=int, default=4, help="drafted tokens per step (default 4)")
    p.add_argument("--c", type=float, default=0.0, help="draft/target cost ratio (default 0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    p.add_argument("--max-tokens", type=int, default=64, help="largest T in the sweep (default 64)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a report")
    p.set_defaults(func=_cmd_probe)

    p = sub.add_parser("presets", help="list hardware and model presets with their sources")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_presets)
    from specdec.tutor.cli import add_tutor_parser  # the toy grammar tutor: its own package

    add_tutor_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (TypeError, ValueError) as exc:
        print(f"specdec {args.command}: error: {_checks.one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` or similar: stop quietly
        sys.stderr.close()
        return 0
