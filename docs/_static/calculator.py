"""The calculator page's Python: ``specdec speedup`` and ``specdec roofline`` on the values of its form.

conf.py zips this file (as ``specdec_calculator``) with the modules those two commands import into
``_static/specdec-calculator.zip``; ``calculator.js`` unpacks the archive in Pyodide and calls
:func:`calculate`. Every number comes from the command line's own parser, commands and checks: the
commands' output is returned as they print it, and bad input as their one-line error.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from typing import Any

from specdec import _checks, cli
from specdec.perf import crossovers, presets
from specdec.perf import speedup as sp
from specdec.perf.hardware import Hardware
from specdec.perf.report import roofline_report
from specdec.perf.shapes import ModelShape
from specdec.perf.units import DTYPE_BYTES, default_compute_dtype

__all__ = ["calculate", "choices", "run", "CONFIG_FILE", "PLOT_K_MAX"]

# A pasted config.json is written here (Pyodide's working directory) and passed as --model config.json.
CONFIG_FILE = "config.json"
# The plot of speedup against k runs from k = 1 to max(16, k + 4), at most this far.
PLOT_K_MAX = 64
CUSTOM = "custom"


class CalculatorError(ValueError):
    """One line, as the command line would print it to stderr."""


def run(argv: list[str], hardware: Hardware | None = None) -> tuple[int, str, str]:
    """``specdec *argv`` -> (exit status, stdout, stderr). With ``hardware``, that record replaces the
    ``--hardware`` preset (the command line takes presets only); errors are reported as ``main`` does."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = cli.main(argv) if hardware is None else _main_on(hardware, argv)
        except SystemExit as exc:  # argparse refused a value: its message is already on stderr
            status = exc.code
    return status, out.getvalue(), err.getvalue()


def _main_on(hardware: Hardware, argv: list[str]) -> int:
    parser = cli.build_parser()
    args = parser.parse_args(argv)
    args.hardware = hardware
    try:
        return args.func(args)
    except (TypeError, ValueError) as exc:
        command = parser.commands[args.command]
        message = cli._with_flag_names(_checks.one_line(str(exc)), command)
        print(f"specdec {args.command}: error: {message}", file=sys.stderr)
        return 2


def _checked(argv: list[str], hardware: Hardware | None = None) -> str:
    status, out, err = run(argv, hardware)
    if status != 0:
        raise CalculatorError(err.strip().splitlines()[-1])
    return out


def _custom_hardware(fields: dict[str, str]) -> Hardware:
    """The form's own machine: bandwidth in GB/s, peak in TFLOP/s (for the compute dtype), memory in GB."""
    values = {}
    for key, label in (
        ("bandwidth", "bandwidth (GB/s)"),
        ("peak", "peak (TFLOP/s)"),
        ("memory", "memory (GB)"),
    ):
        try:
            values[key] = cli._real(fields.get(key, ""))
        except argparse.ArgumentTypeError as exc:
            raise CalculatorError(f"custom hardware: {label}: {exc}") from None
    dtype = fields.get("dtype") or "bf16"
    try:
        return Hardware(
            name=CUSTOM,
            peak_flops_per_s={default_compute_dtype(dtype): values["peak"] * 1e12},
            bandwidth_bytes_per_s=values["bandwidth"] * 1e9,
            memory_bytes=values["memory"] * 1e9,
            source=f"entered on the page: {values['bandwidth']!r} GB/s, {values['peak']!r} TFLOP/s, "
            f"{values['memory']!r} GB",
        )
    except (TypeError, ValueError) as exc:
        raise CalculatorError(f"custom hardware: {_checks.one_line(str(exc))}") from None


def choices() -> str:
    """The form's menus as JSON: hardware and model presets (with a one-line description) and dtypes."""
    return json.dumps(
        {
            "hardware": {
                key: f"{hw.bandwidth_bytes_per_s / 1e9:g} GB/s" for key, hw in presets.HARDWARE.items()
            },
            "models": {key: f"{m.n_params / 1e9:.3f} B params" for key, m in presets.MODELS.items()},
            "dtypes": list(DTYPE_BYTES),
        }
    )


def _shown(argv: list[str], hardware: Hardware | None) -> str:
    words = ["specdec", *argv]
    if hardware is not None:
        words[words.index("--hardware") + 1] = "<custom>"
    return " ".join(words)


def calculate(form: str) -> str:
    """The answers for ``form`` (JSON: the form's fields as typed) as JSON: ``{"error": line}`` for bad
    input, else ``summary`` (label, value) rows, the ``commands`` run with their output, and ``plot``."""
    try:
        return json.dumps(_calculate(json.loads(form)))
    except CalculatorError as exc:
        return json.dumps({"error": str(exc)})


def _calculate(fields: dict[str, str]) -> dict[str, Any]:
    speed = ["speedup", "--alpha", fields["alpha"], "--k", fields["k"], "--c", fields["c"]]
    commands = [(speed, None, _checked(speed))]
    plain = json.loads(_checked([*speed, "--json"]))
    alpha, k, c = plain["alpha"], plain["k"], plain["c"]

    hardware = _custom_hardware(fields) if fields["hardware"] == CUSTOM else None
    if fields["model"] == "config":
        with open(CONFIG_FILE, "w", encoding="utf-8") as f:
            f.write(fields.get("config", ""))
        model_arg = CONFIG_FILE
    else:
        model_arg = fields["model"]
    roof = ["roofline", "--hardware", fields["hardware"], "--model", model_arg]
    roof += ["--batch", fields["batch"], "--context", fields["context"]]
    if fields.get("dtype"):
        roof += ["--weight-dtype", fields["dtype"]]
    step = [*roof, "--breakdown"]
    verify = [*roof, "--new-tokens", str(k + 1)]
    commands.append((step, hardware, _checked(step, hardware)))
    commands.append((verify, hardware, _checked(verify, hardware)))

    # The same arguments the command line passed to roofline_report, for the summary and the plot.
    args = cli.build_parser().parse_args(roof)
    if hardware is not None:
        args.hardware = hardware
    model = cli._model(args.model)
    kw = dict(cli._dtype_kw(args), batch=args.batch, context=args.context)
    one = dict(cli._roofline_rows(roofline_report(model, args.hardware, new_tokens=1, **kw)))
    c_verify = roofline_report(model, args.hardware, new_tokens=k + 1, **kw).c_verify

    tuned = [*speed, "--c-verify", repr(c_verify)]
    commands.append((tuned, None, _checked(tuned)))
    ran = json.loads(_checked([*tuned, "--json"]))

    shape = model if isinstance(model, ModelShape) else presets.get_model(model)
    summary = [
        ("t(1), one decode step (lower bound)", one["time (lower bound)"].split(" (")[0]),
        (f"c_verify(k + 1) = t({k + 1}) / t(1)", cli._fixed(c_verify, 3)),
        ("speedup, c_verify = 1 (Theorem 3.8)", f"{cli._fixed(plain['walltime_speedup'], 3)}x"),
        ("speedup with this c_verify", f"{cli._fixed(ran['walltime_speedup'], 3)}x"),
        (
            f"optimal k in 1..{ran['k_max']} (this c_verify)",
            f"k = {ran['optimal_k']}, speedup {cli._fixed(ran['optimal_speedup'], 3)}x",
        ),
        ("decode compute-bound from batch", one["decode compute-bound from batch"]),
        ("weight matmuls compute-bound from batch", one["weight matmuls compute-bound from batch"]),
        ("decode step", f"{one['bound']}-bound; {one['memory required']}"),
        (f"parameters of {shape.name}", f"{shape.n_params:,}"),
    ]
    top = min(max(16, k + 4), PLOT_K_MAX)
    ks = list(range(1, top + 1))
    plot = {
        "k": ks,
        "chosen": k,
        "theorem": [sp.walltime_speedup(alpha, j, c) for j in ks],
        "roofline": [
            sp.walltime_speedup(
                alpha, j, c, crossovers.verification_cost_ratio(model, args.hardware, j, **kw)
            )
            for j in ks
        ],
    }
    return {
        "summary": summary,
        "commands": [{"command": _shown(argv, hw), "output": out} for argv, hw, out in commands],
        "plot": plot,
    }
