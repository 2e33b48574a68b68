"""Command line: ``python -m specdec`` (or the ``specdec`` console script).

Subcommands::

    specdec roofline --hardware h200 --model llama-2-7b --batch 1 --context 1024 --new-tokens 5
    specdec roofline --model path/to/config.json --breakdown
    specdec request --hardware a100-sxm-80gb --model llama-2-7b --prompt-tokens 64 --output-tokens 12
    specdec speedup --alpha 0.8 --k 5 --c 0.02
    specdec probe [--quick]
    specdec presets
    specdec tutor "She go to school yesterday."

Every subcommand takes ``--help`` and ``--json`` (machine-readable output on stdout; strict JSON,
never ``NaN`` or ``Infinity``). Bad input (an unknown preset, α outside [0, 1], a value that is not a
number, a number beyond a documented limit such as ``--k-max`` above
:data:`specdec.perf.speedup.MAX_K`, ...) prints one line naming the argument to stderr and exits with
status 2, whether argparse or the library refuses it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from specdec import __version__, _checks
from specdec.perf import hf_config, presets, requests
from specdec.perf import speedup as sp
from specdec.perf.report import RooflineReport, format_breakdown, roofline_report
from specdec.perf.shapes import ModelShape, shape_from_hf_config
from specdec.perf.units import DTYPE_BYTES, format_si
from specdec.tutor.cli import add_tutor_parser

__all__ = ["main", "build_parser", "OneLineParser"]


# ----------------------------------------------------------------------------------------------
# formatting helpers
# ----------------------------------------------------------------------------------------------


def _fixed(value: float, digits: int, *, thousands: bool = False) -> str:
    """``value`` with ``digits`` decimals, or in scientific notation when that would print a huge or a
    vanishing number (at or above 1e9, or nonzero below 10 to the -digits)."""
    if value != 0 and (abs(value) >= 1e9 or abs(value) < 10.0**-digits):
        return f"{value:.{max(digits, 2)}e}"
    return f"{value:,.{digits}f}" if thousands else f"{value:.{digits}f}"


def _echo(value: float) -> str:
    """An input number as the user typed it (shortest round-trip form): 0.9999999999 stays that."""
    return repr(value) if isinstance(value, float) else str(value)


def _seconds(value: float) -> str:
    if value >= 1e6:
        return f"{value:.3e} s"
    if value >= 1:
        return f"{value:.3f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3f} ms"
    if value >= 1e-9:
        return f"{value * 1e6:.3f} us"
    return f"{value:.3e} s"


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


def _model(text: str) -> str | ModelShape:
    """A model preset's name, or the shape of a Hugging Face config.json at a local path."""
    if text in presets.MODELS:
        return text
    if text.endswith(".json") or os.sep in text or os.path.exists(text):
        return shape_from_hf_config(text)
    raise ValueError(
        f"model: unknown preset {text!r}; valid: {', '.join(presets.MODELS)}, "
        f"or a path to a Hugging Face config.json (at most {hf_config.MAX_CONFIG_BYTES} bytes)"
    )


def _dtype_kw(args: argparse.Namespace) -> dict[str, Any]:
    """The dtype and efficiency flags as keyword arguments of forward_cost; weight_dtype defaults to the
    hardware's 16-bit dtype."""
    return dict(
        weight_dtype=args.weight_dtype
        if args.weight_dtype is not None
        else presets.half_precision_dtype(args.hardware),
        kv_dtype=args.kv_dtype,
        compute_dtype=args.compute_dtype,
        flops_efficiency=args.flops_efficiency,
        bandwidth_efficiency=args.bandwidth_efficiency,
    )


def _cmd_roofline(args: argparse.Namespace) -> int:
    model = _model(args.model)
    kw = dict(_dtype_kw(args), batch=args.batch, context=args.context)
    report = roofline_report(model, args.hardware, new_tokens=args.new_tokens, **kw)
    if args.json:
        _emit_json(report.to_dict())
        return 0
    print(f"roofline of one forward (Williams, Waterman & Patterson 2009)\n{_table(_roofline_rows(report))}")
    if args.breakdown:
        print("kernels, one after another (time = the sum of each kernel's own roofline)")
        print("\n".join("  " + line for line in format_breakdown(report.cost).splitlines()))
    print(f"  source: {report.hardware.source}")
    if isinstance(model, ModelShape):
        print(f"  model: {model.source}")
    return 0


def _cmd_request(args: argparse.Namespace) -> int:
    model = _model(args.model)
    r = requests.request_cost(
        model,
        args.hardware,
        prompt_tokens=args.prompt_tokens,
        output_tokens=args.output_tokens,
        batch=args.batch,
        **_dtype_kw(args),
    )
    if args.json:
        _emit_json(r.to_dict())
        return 0
    per_token = (
        "none (one output token)"
        if r.decode_time_per_token_s is None
        else _seconds(r.decode_time_per_token_s)
    )
    rows = [
        ("model / hardware", f"{r.model} on {r.hardware}"),
        ("dtypes", f"weights {r.weight_dtype}, KV {r.kv_dtype}, compute {r.compute_dtype}"),
        ("batch / prompt / output tokens", f"{r.batch} / {r.prompt_tokens} / {r.output_tokens}"),
        ("prefill = time to first token", _seconds(r.prefill_time_s)),
        (f"decode ({r.decode_steps} steps)", f"{_seconds(r.decode_time_s)}, {per_token} per token"),
        ("total", _seconds(r.total_time_s)),
        ("output tokens/s (all sequences)", _fixed(r.tokens_per_s, 1, thousands=True)),
        (
            "KV cache per token / at the end",
            f"{format_si(r.kv_cache_bytes_per_token, 'B')} / {format_si(r.kv_cache_bytes_end, 'B')}",
        ),
        (
            "memory required",
            f"{format_si(r.memory_required_bytes, 'B')} ({'fits' if r.fits_in_memory else 'does NOT fit'})",
        ),
        (f"largest batch in memory at {r.prompt_tokens + r.output_tokens - 1} positions", str(r.max_batch)),
    ]
    print(f"one request on the roofline (lower bounds; no queueing or sampling)\n{_table(rows)}")
    return 0


def _roofline_rows(report: RooflineReport) -> list[tuple[str, str]]:
    cost, hw = report.cost, report.hardware
    rows = [
        ("model / hardware", f"{cost.model} on {cost.hardware}"),
        ("dtypes", f"weights {cost.weight_dtype}, KV {cost.kv_dtype}, compute {cost.compute_dtype}"),
        ("batch / context / new tokens", f"{cost.batch} / {cost.context} / {cost.new_tokens}"),
        (
            "FLOPs",
            f"{format_si(cost.flops, 'FLOP')} (matmul {format_si(cost.flops_matmul, 'FLOP')}, "
            f"attention {format_si(cost.flops_attention, 'FLOP')})",
        ),
        (
            "bytes",
            f"{format_si(cost.bytes, 'B')} (weights {format_si(cost.bytes_weights, 'B')}, KV read "
            f"{format_si(cost.bytes_kv_read, 'B')}, KV write {format_si(cost.bytes_kv_write, 'B')}, "
            f"activations {format_si(cost.bytes_activations, 'B')})",
        ),
        ("arithmetic intensity", f"{_fixed(cost.arithmetic_intensity, 2)} FLOP/byte"),
        ("ridge point", f"{_fixed(cost.ridge_point, 1)} FLOP/byte"),
        ("bound", cost.bound),
        ("time (lower bound)", f"{_seconds(cost.time_s)} (sum over kernels of each kernel's roofline)"),
        (
            "one roofline, whole forward",
            f"{_seconds(cost.time_whole_forward_s)} (compute {_seconds(cost.compute_time_s)}, memory "
            f"{_seconds(cost.memory_time_s)}; looser)",
        ),
        ("compute-bound kernels' share", f"{cost.compute_bound_fraction:.1%} of the time"),
        ("tokens/s (upper bound)", _fixed(cost.tokens_per_s, 0, thousands=True)),
        (
            "memory required",
            f"{format_si(cost.memory_required_bytes, 'B')} of {format_si(hw.memory_bytes, 'B')} "
            f"({'fits' if cost.fits_in_memory else 'does NOT fit on one device'})",
        ),
    ]
    if report.c_verify is not None:
        rows.append((f"c_verify = t({cost.new_tokens})/t(1)", _fixed(report.c_verify, 3)))
    never_batch = (
        f"never: KV reads grow with the batch and attention stays memory-bound; the step's intensity "
        f"levels off at {_fixed(report.decode_intensity_limit, 1)} FLOP/byte "
        f"(ridge {_fixed(cost.ridge_point, 1)})"
    )
    batch_star, k_star = report.compute_bound_batch, report.compute_bound_k
    rows.append(("decode compute-bound from batch", never_batch if batch_star is None else str(batch_star)))
    matmul_star = report.matmul_bound_batch
    rows.append(
        (
            "weight matmuls compute-bound from batch",
            f"never (up to {report.max_batch})" if matmul_star is None else str(matmul_star),
        )
    )
    rows.append(
        (
            f"verification compute-bound from k (batch {cost.batch})",
            f"never (up to k = {report.k_max})" if k_star is None else str(k_star),
        )
    )
    return rows


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
        ("alpha, k, c, c_verify", ", ".join(_echo(v) for v in (args.alpha, args.k, args.c, args.c_verify))),
        ("E[tokens per step] (Eq. 1)", _fixed(tau, 3)),
        (f"walltime speedup ({thm})", f"{_fixed(s, 3)}x"),
    ]
    if ops is not None:
        rows.append((f"ops increase (Theorem 3.11, c_hat {_echo(args.c_hat)})", f"{_fixed(ops, 3)}x"))
    rows.append((f"optimal k in 1..{args.k_max}", f"k = {k_opt}, speedup {_fixed(s_opt, 3)}x"))
    print(f"speculative decoding (Leviathan et al. 2023, section 3)\n{_table(rows)}")
    return 0


def _cmd_probe(args: argparse.Namespace) -> int:
    from specdec.perf import probe  # imports NumPy; keep the other subcommands light

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
                "hardware": {k: v.to_dict() for k, v in presets.HARDWARE.items()},
                "models": {k: v.to_dict() for k, v in presets.MODELS.items()},
            }
        )
        return 0
    print("hardware presets (dense peaks)")
    for key, hw in presets.HARDWARE.items():
        peaks = ", ".join(f"{dt} {v / 1e12:g} TFLOP/s" for dt, v in hw.peak_flops_per_s.items())
        print(
            f"  {key:<14} {peaks}; {hw.bandwidth_bytes_per_s / 1e9:g} GB/s; {format_si(hw.memory_bytes, 'B')}"
        )
        print(f"  {'':<14} source: {hw.source}")
    print("model presets")
    for key, m in presets.MODELS.items():
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


def _integer(text: str) -> int:
    """An integer flag: ``1000000``, ``1e6`` and ``1_000_000`` alike; a fraction is refused."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r}") from None
    if not value.is_integer():
        raise argparse.ArgumentTypeError(f"invalid integer: {text!r} is not a whole number")
    return int(value)


def _real(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number: {text!r}") from None


_SIGNED_SPECIALS = frozenset({"-inf", "-infinity", "-nan"})


def _join_signed_values(argv: list[str]) -> list[str]:
    """``--alpha -inf`` -> ``--alpha=-inf``: argparse would read ``-inf`` as an unknown flag."""
    out: list[str] = []
    for token in argv:
        if token.lower() in _SIGNED_SPECIALS and out and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def _with_flag_names(message: str, parser: argparse.ArgumentParser) -> str:
    """A library message that starts with an argument's name (``new_tokens must be >= 1``) names the
    flag instead (``--new-tokens must be >= 1``)."""
    first = message.split(" ", 1)[0].rstrip(":")
    for action in parser._actions:
        if action.dest == first and action.option_strings:
            return action.option_strings[-1] + message[len(first) :]
    return message


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``specdec <command>: error: <message>``.

    argparse's own ``error()`` prints the whole usage block first; the message it receives already
    names the argument ("argument --k: invalid int value: '2.5'"). Subparsers are built with the same
    class, so every subcommand behaves alike.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {_checks.one_line(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="specdec",
        description="Speculative-decoding arithmetic and a toy model to run it on: the roofline of one "
        "forward (roofline) and of a whole request (request), Leviathan et al.'s speedup model (speedup), "
        "a probe of this machine (probe), the hardware and model presets (presets), and the grammar "
        "tutor (tutor). 'specdec COMMAND --help' describes each.",
    )
    parser.add_argument("--version", action="version", version=f"specdec {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.commands = sub.choices  # name -> subcommand parser, for errors that name the subcommand
    _add_roofline(sub)
    _add_request(sub)
    _add_speedup(sub)
    _add_probe(sub)
    _add_presets(sub)
    add_tutor_parser(sub)
    return parser


def _add_roofline(sub: Any) -> None:
    p = sub.add_parser(
        "roofline",
        help="FLOPs, bytes, intensity and roofline time of one forward",
        description="Roofline cost of one forward of a model preset on a hardware preset. "
        f"Hardware: {', '.join(presets.HARDWARE)}. Models: {', '.join(presets.MODELS)}.",
    )
    _add_model_flags(p)
    p.add_argument("--context", type=_integer, default=0, help="cached positions per sequence (default: 0)")
    p.add_argument(
        "--new-tokens",
        type=_integer,
        default=1,
        help="positions per sequence in this forward; k + 1 to verify k",
    )
    _add_dtype_flags(p)
    p.add_argument(
        "--breakdown",
        action="store_true",
        help="also list the kernels: FLOPs, bytes, intensity, bound and time of each",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_roofline)


def _add_request(sub: Any) -> None:
    p = sub.add_parser(
        "request",
        help="prefill, decode and total time of one request, and the KV cache it needs",
        description="Roofline cost of a request: one prefill forward over the prompt, then one decode "
        "step per further output token; time to first token, time per output token, tokens/s, KV-cache "
        "bytes and the largest batch that fits in the hardware's memory.",
    )
    _add_model_flags(p)
    p.add_argument("--prompt-tokens", type=_integer, required=True, help="prompt length in tokens (>= 1)")
    p.add_argument("--output-tokens", type=_integer, required=True, help="output tokens to generate (>= 1)")
    _add_dtype_flags(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_request)


def _add_model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hardware", default="h200", help="hardware preset (default: h200)")
    p.add_argument(
        "--model",
        default="llama-2-7b",
        help="model preset (default: llama-2-7b) or the path of a local Hugging Face config.json "
        "(LLaMA family or GPT-2; nothing is downloaded)",
    )
    p.add_argument("--batch", type=_integer, default=1, help="sequences in the batch (default: 1)")


def _add_dtype_flags(p: argparse.ArgumentParser) -> None:
    dtypes = ", ".join(DTYPE_BYTES)
    p.add_argument(
        "--weight-dtype",
        default=None,
        help=f"weight dtype ({dtypes}; default bf16, or fp16 where the hardware has no bf16 peak)",
    )
    p.add_argument("--kv-dtype", default=None, help="KV-cache dtype (default: the compute dtype)")
    p.add_argument(
        "--compute-dtype", default=None, help="matmul dtype (default: weight dtype; bf16 for int8/int4)"
    )
    p.add_argument("--flops-efficiency", type=_real, default=1.0, help="achieved fraction of peak FLOP/s")
    p.add_argument("--bandwidth-efficiency", type=_real, default=1.0, help="achieved fraction of bandwidth")


def _add_speedup(sub: Any) -> None:
    p = sub.add_parser(
        "speedup",
        help="expected tokens per step, walltime speedup and the optimal k",
        description="Leviathan et al. 2023, section 3: E[tokens] (Eq. 1), speedup (Theorem 3.8, or "
        "E[tokens] / (k c + c_verify)), ops increase (Theorem 3.11) and the optimal k.",
    )
    p.add_argument("--alpha", type=_real, required=True, help="acceptance rate alpha in [0, 1]")
    p.add_argument("--k", type=_integer, required=True, help="drafted tokens per step (>= 1)")
    p.add_argument("--c", type=_real, default=0.0, help="draft/target cost ratio c >= 0 (default 0)")
    p.add_argument(
        "--c-verify",
        type=_real,
        default=1.0,
        help="cost of verifying k + 1 positions over one decode step (default 1, as in Theorem 3.8; "
        "the optimal-k search applies the same value to every k)",
    )
    p.add_argument("--c-hat", type=_real, default=None, help="draft/target ops ratio; prints Theorem 3.11")
    p.add_argument(
        "--k-max",
        type=_integer,
        default=64,
        help=f"largest k searched for the optimum (default 64, at most {sp.MAX_K})",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_speedup)


def _add_probe(sub: Any) -> None:
    p = sub.add_parser(
        "probe",
        help="measure this machine with NumPy and compare with the roofline",
        description="Measures streaming bandwidth, matmul FLOP/s and t(T)/t(1) of x[T, d] @ W for "
        "T = 1, 2, 4, ..., 64 with W larger than the last-level cache; prints them beside the "
        "roofline prediction and the speculative-decoding speedup they imply.",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="half-size buffers (at most 128 MiB each) and fewer repeats: a few seconds and a few hundred MB "
        "instead of up to a minute and 3 GiB on machines with a large cache; rougher rates",
    )
    p.add_argument("--alpha", type=_real, default=0.8, help="acceptance rate for the speedup (default 0.8)")
    p.add_argument("--k", type=_integer, default=4, help="drafted tokens per step (default 4)")
    p.add_argument("--c", type=_real, default=0.0, help="draft/target cost ratio (default 0)")
    p.add_argument("--seed", type=_integer, default=0, help="seed of the random inputs (default 0)")
    p.add_argument("--max-tokens", type=_integer, default=64, help="largest T in the sweep (default 64)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a report")
    p.set_defaults(func=_cmd_probe)


def _add_presets(sub: Any) -> None:
    p = sub.add_parser("presets", help="list hardware and model presets with their sources")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_presets)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(_join_signed_values(list(sys.argv[1:] if argv is None else argv)))
    command = parser.commands[args.command]
    if extra:
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args)
    except (TypeError, ValueError) as exc:
        message = _with_flag_names(_checks.one_line(str(exc)), command)
        print(f"specdec {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"specdec {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # stdout closed, full or piped into `head`: stop without a traceback
        _silence_stdout()
        if not isinstance(exc, BrokenPipeError):
            print(f"specdec {args.command}: error: cannot write the output: {exc}", file=sys.stderr)
        return 0 if isinstance(exc, BrokenPipeError) else 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's final flush cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
