"""specdec.cli: tables, --json, --help, and errors that name the argument."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from specdec.cli import main
from specdec.roofline import HARDWARE, MODELS


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_roofline_table(capsys):
    code, out, err = run(
        capsys, "roofline", "--hardware", "h200", "--model", "llama-2-7b", "--batch", "1", "--context", "1024",
        "--new-tokens", "5",
    )
    assert code == 0 and err == ""
    assert "llama-2-7b on h200" in out
    assert "ridge point                                  206.1 FLOP/byte" in out
    assert "arithmetic intensity                         4.99 FLOP/byte" in out
    assert "c_verify = t(5)/t(1)                         1.001" in out
    assert "never: KV reads grow with the batch" in out
    assert "source: NVIDIA H200 product page" in out


def test_roofline_json(capsys):
    code, out, _ = run(capsys, "roofline", "--hardware", "a100-sxm-80gb", "--batch", "512", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["forward_cost"]["bound"] == "compute"
    assert data["forward_cost"]["batch"] == 512
    assert data["hardware"]["bandwidth_bytes_per_s"] == 2039e9
    assert data["compute_bound_batch"] == 163
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


def test_probe_quick_json(capsys):
    code, out, _ = run(capsys, "probe", "--quick", "--max-tokens", "4", "--k", "2", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["tokens"] == [1, 2, 3, 4]
    assert data["measured_ratios"][0] == 1.0
    assert data["k"] == 2


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["roofline", "--hardware", "b200"], "hardware: unknown preset 'b200'; valid: a100-sxm-80gb, h100-sxm, h200"),
        (["roofline", "--model", "gpt2"], "model: unknown preset 'gpt2'; valid: llama-2-7b"),
        (["roofline", "--hardware", "rtx-3090"], "compute_dtype: 'rtx-3090' has no verified peak for 'bf16'"),
        (["roofline", "--batch", "0"], "batch must be >= 1"),
        (["roofline", "--weight-dtype", "fp4"], "weight_dtype: unknown dtype 'fp4'"),
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
    assert "--k: invalid int value: '2.5'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["roofline"], ["speedup"], ["probe"], ["presets"]])
def test_help_everywhere(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--help"])
    assert exc.value.code == 0
    assert "usage: specdec" in capsys.readouterr().out


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "specdec", "speedup", "--alpha", "0.6", "--k", "2", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout)["walltime_speedup"] == pytest.approx(1.96)
