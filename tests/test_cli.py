"""specdec.cli: tables, --json, --help, and errors that name the argument."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from sitecheck import ROOT
from specdec.cli import build_parser, main
from specdec.roofline import HARDWARE, MODELS


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_roofline_table(capsys):
    code, out, err = run(
        capsys,
        "roofline",
        "--hardware",
        "h200",
        "--model",
        "llama-2-7b",
        "--batch",
        "1",
        "--context",
        "1024",
        "--new-tokens",
        "5",
    )
    assert code == 0 and err == ""
    assert "llama-2-7b on h200" in out
    assert "ridge point                                  206.1 FLOP/byte" in out
    assert "arithmetic intensity                         4.99 FLOP/byte" in out
    assert "c_verify = t(5)/t(1)                         1.002" in out
    assert "never: KV reads grow with the batch" in out
    assert "weight matmuls compute-bound from batch      221" in out
    assert "kernels, one after another" not in out  # the breakdown only with --breakdown
    assert "source: NVIDIA H200 product page" in out


def test_roofline_json(capsys):
    code, out, _ = run(capsys, "roofline", "--hardware", "a100-sxm-80gb", "--batch", "512", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["forward_cost"]["bound"] == "compute"
    assert data["forward_cost"]["batch"] == 512
    assert data["hardware"]["bandwidth_bytes_per_s"] == 2039e9
    # Per kernel: at context 0 the step turns compute-bound when its weight matmuls do (B_crit),
    # a little above the ridge (153) because each matmul also moves activations.
    assert data["compute_bound_batch"] == data["matmul_bound_batch"] == 162
    assert [k["name"] for k in data["forward_cost"]["kernels"]][:3] == ["embedding", "attn norm", "qkv"]
    assert data["verification_cost_ratio"] is None


def test_speedup_table_and_json(capsys):
    code, out, _ = run(capsys, "speedup", "--alpha", "0.8", "--k", "5", "--c", "0.02")
    assert code == 0
    assert "E[tokens per step] (Eq. 1)      3.689" in out
    assert "walltime speedup (Theorem 3.8)  3.354x" in out
    assert "k = 11, speedup 3.817x" in out
    code, out, _ = run(capsys, "speedup", "--alpha", "0.8", "--k", "5", "--c-hat", "0", "--json")
    data = json.loads(out)
    assert data["walltime_speedup"] == pytest.approx(3.68928)
    assert data["ops_increase"] == pytest.approx(1.6263, abs=1e-4)
    assert data["optimal_k"] == 64  # c = 0: more drafts always help under Theorem 3.8


def test_speedup_generalised_c_verify(capsys):
    code, out, _ = run(capsys, "speedup", "--alpha", "0.8", "--k", "4", "--c-verify", "3.3616", "--json")
    assert code == 0
    assert json.loads(out)["walltime_speedup"] == pytest.approx(1.0)


def test_presets(capsys):
    code, out, _ = run(capsys, "presets")
    assert code == 0
    for key in [*HARDWARE, *MODELS]:
        assert key in out
    assert "ASSUMPTION" in out
    code, out, _ = run(capsys, "presets", "--json")
    data = json.loads(out)
    assert data["models"]["llama-2-70b"]["n_params"] == 68_976_648_192


def test_probe_quick_json(capsys, monkeypatch):
    # The command's plumbing, on buffers far smaller than --quick's (the probe itself: test_probe.py).
    from specdec.perf import probe

    real = probe.run_probe
    small = dict(weight_bytes=1 << 20, bandwidth_buffer_bytes=1 << 20, matmul_n=128, d_in=256)
    monkeypatch.setattr(probe, "run_probe", lambda **options: real(**options, **small))
    code, out, _ = run(capsys, "probe", "--quick", "--max-tokens", "4", "--k", "2", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["tokens"] == [1, 2, 3, 4]
    assert data["measured_ratios"][0] == 1.0
    assert data["k"] == 2 and data["matmul_n"] == 128 and data["weight_bytes"] <= 1 << 20
    assert data["repeats"] == 3  # --quick still sets the repeats


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (
            ["roofline", "--hardware", "b200"],
            "hardware: unknown preset 'b200'; valid: a100-sxm-80gb, h100-sxm, h200",
        ),
        (["roofline", "--model", "gpt2"], "model: unknown preset 'gpt2'; valid: llama-2-7b"),
        (
            ["roofline", "--hardware", "rtx-3090", "--compute-dtype", "bf16"],
            "--compute-dtype: 'rtx-3090' has no verified peak for 'bf16'",
        ),
        (["roofline", "--batch", "0"], "batch must be >= 1"),
        (["roofline", "--weight-dtype", "fp4"], "--weight-dtype: unknown dtype 'fp4'"),
        (["speedup", "--alpha", "1.2", "--k", "3"], "alpha must lie in [0, 1]"),
        (["speedup", "--alpha", "0.5", "--k", "0"], "k must be >= 1"),
        (["speedup", "--alpha", "0.5", "--k", "3", "--c", "-1"], "c must be >= 0"),
        (["probe", "--alpha", "2"], "alpha must lie in [0, 1]"),
    ],
)
def test_errors_name_the_argument(capsys, argv, pattern):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert pattern in err


def test_non_integer_k_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["speedup", "--alpha", "0.5", "--k", "2.5"])
    assert exc.value.code == 2
    assert "--k: invalid integer: '2.5'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [[], ["roofline"], ["request"], ["speedup"], ["probe"], ["presets"], ["tutor"]]
)
def test_help_everywhere(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    assert "usage: specdec" in capsys.readouterr().out


def test_help_names_every_subcommand():
    parser = build_parser()
    text = " ".join(parser.format_help().split())
    commands = list(parser.commands)
    assert set(commands) >= {"roofline", "request", "speedup", "probe", "presets", "tutor"}
    for name in commands:
        assert f"({name})" in text, f"the description does not name {name}"
        assert re.search(rf"\b{name}\b", text.split("positional arguments:")[1]), name


def test_help_is_numpy_free_and_import_specdec_is_lazy():
    code = (
        "import sys, contextlib, io, specdec\n"
        "assert sorted(specdec.__all__) == sorted(set(specdec.__all__))\n"
        "loaded = sorted(m for m in specdec.__all__ if f'specdec.{m}' in sys.modules)\n"
        "from specdec.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "print(loaded, 'numpy' in sys.modules, specdec.perf.kernels.__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["[]", "False", "specdec.perf.kernels"]


def test_import_specdec_names_the_modules_of_the_api_index():
    import specdec

    index = (ROOT / "docs" / "api" / "index.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| \[?`specdec\.(\w+)`", index, re.M))
    assert documented and documented <= set(specdec.__all__)
    for name in specdec.__all__:
        assert getattr(specdec, name).__name__ == f"specdec.{name}"
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        specdec.nope  # noqa: B018


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "specdec", "speedup", "--alpha", "0.6", "--k", "2", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout)["walltime_speedup"] == pytest.approx(1.96)


# -- one line, status 2, for every kind of bad input (review items 2 and 6) ----------------------

HUGE = str(10**400)


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["roofline", "--batch", HUGE], "batch must be <= 9007199254740992"),
        (["roofline", "--context", HUGE, "--json"], "context must be <= 9007199254740992"),
        (["roofline", "--flops-efficiency", "1e-320", "--json"], "--flops-efficiency out of range"),
        (["roofline", "--bandwidth-efficiency", "1e-320"], "--bandwidth-efficiency out of range"),
        (["probe", "--seed", "-1"], "seed must be >= 0"),
        (["probe", "--k", "100000"], "k must be <= 1023"),
        (["probe", "--max-tokens", "1000000"], "--max-tokens must be <= 1024"),
        (["speedup", "--alpha", "0.8", "--k", "5", "--k-max", "100000000"], "--k-max must be <= 65536"),
        (["speedup", "--alpha", "0.8", "--k", HUGE], "k must be <= 65536"),
        (
            ["speedup", "--alpha", "0.8", "--k", "5", "--c-verify", "1e-320", "--json"],
            "--c-verify is too close to 0",
        ),
        (["speedup", "--alpha", "0.8", "--k", "5", "--c-hat", "1e308", "--json"], "--c-hat is too large"),
    ],
)
def test_out_of_range_input_is_one_line_status_2(capsys, argv, pattern):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"specdec {argv[0]}: error: ")
    assert pattern in err
    assert len(err) < 300  # a 400-digit number is not echoed whole


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["speedup", "--alpha", "0.5", "--k", "2.5"], "--k"),
        (["speedup", "--alpha", "x", "--k", "2"], "--alpha"),
        (["roofline", "--batch", "1.5"], "--batch"),
        (["probe", "--seed", "abc"], "--seed"),
        (["speedup", "--k", "2"], "--alpha"),
        (["frobnicate"], "COMMAND"),
    ],
)
def test_parser_errors_are_one_line(capsys, argv, name):
    # argparse used to print a usage block before the message: three lines, not one.
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "usage:" not in err
    assert name in err and ": error: " in err


def test_json_is_strict(capsys, monkeypatch):
    # Every --json payload is strict JSON; a non-finite number is an error, never "Infinity".
    code, out, _ = run(capsys, "speedup", "--alpha", "0.8", "--k", "5", "--json")
    assert code == 0
    json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON output"))
    from specdec import cli

    monkeypatch.setattr(cli.sp, "walltime_speedup", lambda *args: float("inf"))
    code, out, err = run(capsys, "speedup", "--alpha", "0.8", "--k", "5", "--json")
    assert code == 2 and out == "" and "Infinity" not in out


def test_roofline_reads_its_search_limits_from_the_library(capsys, monkeypatch):
    # The table used to hard-code batch 1 << 20 and "k = 65536".
    from specdec import roofline as rl
    from specdec.perf import report

    monkeypatch.setattr(report, "COMPUTE_BOUND_K_MAX", 8)
    monkeypatch.setattr(report, "COMPUTE_BOUND_MAX_BATCH", 16)
    code, out, _ = run(capsys, "roofline", "--context", "1024")
    assert code == 0
    assert "never (up to k = 8)" in out
    limit = rl.forward_cost("llama-2-7b", "h200", batch=16, context=1024).arithmetic_intensity
    assert f"intensity levels off at {limit:.1f} FLOP/byte" in out
    code, out, _ = run(capsys, "roofline", "--json")
    data = json.loads(out)
    assert data["compute_bound_k"] is None and data["compute_bound_batch"] is None


# -- what a new user hit (issue 9, section 6) ------------------------------------------------------


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.strip().startswith("specdec 0.")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["speedup", "--alpha", "0.5", "--k", "3", "--bogus"],
            "specdec speedup: error: unrecognized arguments: --bogus",
        ),
        (["roofline", "--new-tokens", "0"], "specdec roofline: error: --new-tokens must be >= 1, got 0"),
        (
            ["speedup", "--alpha", "-inf", "--k", "3"],
            "specdec speedup: error: --alpha must lie in [0, 1], got -inf",
        ),
        (
            ["roofline", "--context", "2.5"],
            "specdec roofline: error: argument --context: invalid integer: '2.5' is",
        ),
        (["roofline", "--hardware", "b200"], "specdec roofline: error: --hardware: unknown preset 'b200'"),
    ],
)
def test_errors_name_the_subcommand_and_the_flag(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2 and capsys.readouterr().err.startswith(message)


def test_defaults_work_on_every_preset_and_integral_floats_are_integers(capsys):
    for key in HARDWARE:
        code, out, _ = run(capsys, "roofline", "--hardware", key, "--context", "1e3")
        assert code == 0 and " / 1000 / " in out
    assert "weights fp16, KV fp16, compute fp16" in run(capsys, "roofline", "--hardware", "rtx-3090")[1]


def test_tables_use_scientific_notation_for_extreme_values_and_echo_inputs_exactly(capsys):
    code, out, _ = run(capsys, "speedup", "--alpha", "1e-300", "--k", "3", "--c", "1e300")
    assert code == 0 and "3.333e-301x" in out and max(len(line) for line in out.splitlines()) < 100
    code, out, _ = run(capsys, "speedup", "--alpha", "0.9999999999", "--k", "3")
    assert "0.9999999999, 3" in out


def test_a_full_stdout_and_ctrl_c_end_without_a_traceback(tmp_path):
    full = subprocess.run(
        [sys.executable, "-m", "specdec", "presets"],
        stdout=open("/dev/full", "w"),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert full.returncode == 1 and "Traceback" not in full.stderr
    assert full.stderr.startswith("specdec presets: error: cannot write the output")
    script = tmp_path / "interrupt.py"
    script.write_text(
        "import specdec.cli as cli\n"
        "def boom(args): raise KeyboardInterrupt\n"
        "parser = cli.build_parser\n"
        "def build():\n    p = parser(); p.commands['probe'].set_defaults(func=boom); return p\n"
        "cli.build_parser = build\n"
        "raise SystemExit(cli.main(['probe']))\n"
    )
    ctrl_c = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert ctrl_c.returncode == 130 and ctrl_c.stderr == "specdec probe: interrupted\n"


# -- the kernel breakdown, a request, and a model from a Hugging Face config ---------------------

LLAMA_2_7B_CONFIG = {
    "model_type": "llama",
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "intermediate_size": 11008,
    "vocab_size": 32000,
    "tie_word_embeddings": False,
}


def test_roofline_from_a_config_file_with_breakdown(capsys, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA_2_7B_CONFIG), encoding="utf-8")
    argv = ["--hardware", "a100-sxm-80gb", "--batch", "64", "--context", "1024", "--new-tokens", "5"]
    code, out, err = run(capsys, "roofline", "--model", str(path), "--breakdown", *argv)
    assert code == 0 and err == ""
    assert "c_verify = t(5)/t(1)" in out and "1.313" in out
    assert "kernels, one after another" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("  ")]
    attention = next(r for r in rows if r[0] == "attention")
    assert attention[1] == "32" and attention[-3:] == ["memory", "16.934", "54.6%"]
    assert next(r for r in rows if r[0] == "gate+up")[-3] == "compute"
    assert f"model: Hugging Face config ({path}" in out
    # The same kernel table as the preset's.
    _, preset_out, _ = run(capsys, "roofline", "--model", "llama-2-7b", "--breakdown", *argv)

    def table(text):
        return text.split("kernels, one after another")[1].split("source:")[0]

    assert table(preset_out) == table(out) and "lm head" in table(out)
    code, out, _ = run(capsys, "roofline", "--model", str(path), "--json", *argv)
    assert json.loads(out)["forward_cost"]["kernels"][3]["name"] == "attention"


def test_request_table_and_json(capsys):
    argv = ["request", "--hardware", "a100-sxm-80gb", "--prompt-tokens", "64", "--output-tokens", "12"]
    code, out, err = run(capsys, *argv)
    assert code == 0 and err == ""
    assert "prefill = time to first token" in out and "6.749 ms" in out
    assert "decode (11 steps)" in out and "6.503 ms per token" in out
    assert "largest batch in memory at 75 positions  1691" in out
    code, out, _ = run(capsys, *argv, "--json")
    data = json.loads(out)
    assert data["decode_steps"] == 11 and data["max_batch"] == 1691
    assert data["total_time_s"] == pytest.approx(data["prefill_time_s"] + data["decode_time_s"])
    code, out, _ = run(capsys, *argv[:-1], "1")
    assert "none (one output token) per token" in out


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["request", "--prompt-tokens", "0", "--output-tokens", "3"], "--prompt-tokens must be >= 1"),
        (["request", "--prompt-tokens", "3", "--output-tokens", "0"], "--output-tokens must be >= 1"),
        (["request", "--prompt-tokens", "3", "--output-tokens", "3", "--model", "nope"], "--model: unknown"),
        (["roofline", "--model", "missing/config.json"], "config: cannot read 'missing/config.json'"),
        # The flag the user passed is the one named (each used to blame another flag).
        (
            ["request", "--prompt-tokens", "9007199254740992", "--output-tokens", "3"],
            "specdec request: error: --prompt-tokens must be <= 9007199254740991, got 9007199254740992",
        ),
        (
            ["request", "--prompt-tokens", "9007199254740990", "--output-tokens", "3"],
            "--output-tokens: prompt_tokens + output_tokens must be <= 9007199254740992",
        ),
        (
            ["roofline", "--hardware", "rtx-3090", "--weight-dtype", "bf16"],
            "specdec roofline: error: --weight-dtype: 'rtx-3090' has no verified peak for 'bf16'",
        ),
        (
            [
                "request",
                "--hardware",
                "rtx-3090",
                "--weight-dtype",
                "int8",
                "--prompt-tokens",
                "3",
                "--output-tokens",
                "3",
            ],
            "--weight-dtype: 'rtx-3090' has no verified peak for 'bf16' (its weights",
        ),
        # An endless file is read no further than the cap.
        (["roofline", "--model", "/dev/zero"], "config: '/dev/zero' is larger than 1048576 bytes (1 MiB)"),
    ],
)
def test_request_and_config_errors(capsys, argv, pattern):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and pattern in err


def test_the_readme_config_example_runs_as_written(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # the README's commands run from the repository root
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(
        line
        for line in readme.splitlines()
        if line.startswith(".venv/bin/python -m specdec roofline --model bench/")
    )
    argv = line.split("#")[0].split()
    assert argv[:3] == [".venv/bin/python", "-m", "specdec"]
    code, out, err = run(capsys, *argv[3:])
    assert code == 0 and err == ""
    assert "openai-community/gpt2 on h200" in out and "lm head" in out


def test_config_missing_a_key_names_it(capsys, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({k: v for k, v in LLAMA_2_7B_CONFIG.items() if k != "intermediate_size"}))
    code, out, err = run(capsys, "roofline", "--model", str(path), "--breakdown")
    assert code == 2 and out == ""
    assert "intermediate_size: missing from" in err and err.count("\n") == 1
