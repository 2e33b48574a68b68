"""specdec.probe: the plan and the comparison on synthetic timings, whose numbers are asserted; a real
run for structure and sanity only (its timings depend on the machine and are never asserted)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from specdec import roofline as rl
from specdec.probe import (
    BUSY_LOAD_PER_CPU,
    MAX_BUFFER_BYTES,
    MAX_DIM,
    MAX_MATMUL_N,
    MAX_REPEATS,
    MAX_TOKENS,
    MIN_BANDWIDTH_BUFFER_BYTES,
    MIN_BEST_K_POINTS,
    ProbePlan,
    ProbeResult,
    ProbeTimings,
    blas_threads,
    compare_probe,
    format_probe,
    last_level_cache_bytes,
    measure_bandwidth,
    measure_matmul_curve,
    measure_matmul_flops,
    plan_probe,
    run_probe,
)
from specdec.speedup import expected_tokens_per_step, walltime_speedup

SMALL = dict(
    weight_bytes=256 * 1024,
    bandwidth_buffer_bytes=1 << 20,
    matmul_n=64,
    repeats=1,
    max_tokens=8,
    d_in=128,
)


@pytest.fixture(scope="module")
def result() -> ProbeResult:
    return run_probe(alpha=0.7, k=4, c=0.05, seed=3, **SMALL)


# -- plan (pure) and compare (pure), on synthetic timings ----------------------------------------

MIB = 2**20


@pytest.mark.parametrize(
    ("quick", "llc", "d_out", "bandwidth_mib", "matmul_n", "repeats"),
    [
        (False, 8 * MIB, 4096, 128, 2048, 5),  # W = max(4 x 8, 64) MiB = 64 MiB = 4096 x 4096 x 4 bytes
        (True, 8 * MIB, 2048, 64, 1024, 3),  # quick: max(2 x 8, 32) MiB, bandwidth max(2 x 8, 64) MiB
        (False, None, 8192, 128, 2048, 5),  # unknown cache: sized as 32 MiB, so W = 128 MiB
        (False, 2**30, MAX_DIM, 1024, 2048, 5),  # 4 GiB capped at MAX_BUFFER_BYTES = 1 GiB
        (True, 2**30, 8192, 128, 1024, 3),  # quick caps the default buffers at 128 MiB
    ],
)
def test_plan_sizes_follow_the_cache(monkeypatch, quick, llc, d_out, bandwidth_mib, matmul_n, repeats):
    for name in (
        "measure_bandwidth",
        "measure_matmul_flops",
        "measure_matmul_curve",
        "last_level_cache_bytes",
    ):
        monkeypatch.setattr(
            f"specdec.perf.probe.{name}", lambda *a, **kw: pytest.fail("the plan measured something")
        )
    plan = plan_probe(quick=quick, last_level_cache_bytes=llc)
    assert (plan.d_in, plan.d_out) == (4096, d_out)
    assert plan.bandwidth_buffer_bytes == bandwidth_mib * MIB
    assert (plan.matmul_n, plan.repeats) == (matmul_n, repeats)
    assert plan.tokens == (1, 2, 4, 5, 8, 16, 32, 64) and plan.last_level_cache_bytes == llc


def synthetic(**changes) -> tuple[ProbePlan, ProbeTimings]:
    """W[128, 512] in fp32 (256 KiB): x[T] @ W moves (65536 + 640 T) x 4 bytes in 131072 T FLOPs."""
    plan = plan_probe(
        alpha=0.8,
        k=4,
        c=0.0,
        max_tokens=8,
        d_in=128,
        weight_bytes=256 * 1024,
        bandwidth_buffer_bytes=MIB,
        matmul_n=64,
        repeats=1,
    )
    timings = ProbeTimings(
        machine="synthetic",
        numpy_version="0",
        blas="none",
        copy_bandwidth_bytes_per_s=1e9,
        read_bandwidth_bytes_per_s=2e9,
        matvec_bandwidth_bytes_per_s=2.5e9,
        matmul_flops_per_s=5e9,
        times_s=(1e-4, 1e-4, 1.2e-4, 1.5e-4, 2.0e-4),
    )
    return plan, dataclasses.replace(timings, **changes)


def test_compare_takes_the_best_rates_seen_anywhere():
    plan, timings = synthetic()
    assert plan.tokens == (1, 2, 4, 5, 8) and plan.d_out == 512
    r = compare_probe(plan, timings)
    # Bandwidth: x @ W at T = 2 moved (65536 + 1280) x 4 bytes in 0.1 ms, more than any streaming kernel.
    assert (r.bandwidth_bytes_per_s, r.bandwidth_from) == (pytest.approx(2.67264e9, rel=1e-12), "x@W T=2")
    # FLOP/s: T = 8 did 1,048,576 FLOPs in 0.2 ms, more than the square matmul's 5 GFLOP/s.
    assert (r.peak_flops_per_s, r.peak_from) == (pytest.approx(5.24288e9, rel=1e-12), "x@W T=8")
    assert r.ridge_point == pytest.approx(5.24288 / 2.67264, rel=1e-12)
    r = compare_probe(*synthetic(matmul_flops_per_s=6e9, copy_bandwidth_bytes_per_s=3e9))
    assert (r.bandwidth_from, r.peak_from, r.peak_flops_per_s) == ("copy", "square matmul n=64", 6e9)


def test_compare_predicts_the_roofline_curve_from_those_rates():
    r = compare_probe(*synthetic())
    bandwidth, peak = 2.67264e9, 5.24288e9
    roof = [max(131072 * t / peak, (65536 + 640 * t) * 4 / bandwidth) for t in (1, 2, 4, 5, 8)]
    assert r.predicted_times_s == pytest.approx(roof, rel=1e-12)
    assert r.predicted_bounds == ("memory", "memory", "memory", "compute", "compute")
    assert r.predicted_ratios == pytest.approx([t / roof[0] for t in roof], rel=1e-12)
    assert r.c_verify_predicted == pytest.approx(1.25e-4 / (264704 / bandwidth), rel=1e-12)  # 1.262...
    assert all(p <= m * (1 + 1e-12) for p, m in zip(r.predicted_times_s, r.times_s))  # a lower bound


def test_compare_speedups_on_the_measured_curve():
    r = compare_probe(*synthetic())
    assert r.measured_ratios == pytest.approx((1.0, 1.0, 1.2, 1.5, 2.0), rel=1e-12)
    assert r.tau == pytest.approx(3.3616, rel=1e-12)  # (1 - 0.8^5) / 0.2
    assert r.speedup_theorem == pytest.approx(3.3616, rel=1e-12)  # c = 0, c_verify = 1
    assert r.c_verify_measured == pytest.approx(1.5, rel=1e-12)
    assert r.speedup_measured == pytest.approx(3.3616 / 1.5, rel=1e-12)
    # k = 1, 3, 4, 7 give 1.8 / 1, 2.952 / 1.2, 3.3616 / 1.5 and 4.16114 / 2: k = 3 is best.
    assert r.best_k_measured == 3 and r.best_speedup_measured == pytest.approx(2.46, rel=1e-12)
    assert r.speedup_predicted == pytest.approx(3.3616 / r.c_verify_predicted, rel=1e-12)


def test_no_best_k_from_a_single_point():
    # max_tokens 1: the sweep is T = 1 and T = k + 1 only, one speedup and nothing to compare it with.
    plan = plan_probe(k=4, max_tokens=1, d_in=128, weight_bytes=256 * 1024, bandwidth_buffer_bytes=MIB,
                      matmul_n=64, repeats=1)  # fmt: skip
    assert plan.tokens == (1, 5)
    _, timings = synthetic(times_s=(1e-4, 1.5e-4))
    r = compare_probe(plan, timings)
    assert r.best_k_measured is None and r.best_speedup_measured is None
    assert r.speedup_measured == pytest.approx(3.3616 / 1.5, rel=1e-12)  # the asked-for k still is
    text = format_probe(r)
    assert "best k: not reported; the sweep has one T >= 2" in text and "best k on the measured" not in text
    # Two points T >= 2 (max_tokens 2: T = 2 and 5) are compared.
    plan = dataclasses.replace(plan, tokens=(1, 2, 5))
    r = compare_probe(plan, dataclasses.replace(timings, times_s=(1e-4, 1e-4, 1.5e-4)))
    assert r.best_k_measured == 4 and MIN_BEST_K_POINTS == 2


def test_report_names_blas_threads_and_warns_when_busy():
    quiet = compare_probe(*synthetic(cpu_count=2, blas_threads=2, blas_threads_from="$OMP_NUM_THREADS",
                                     load_average=0.3))  # fmt: skip
    text = format_probe(quiet)
    assert "BLAS: none, 2 threads, from $OMP_NUM_THREADS" in text
    assert "load average       0.30 on 2 logical CPUs at the start (quiet enough)" in text
    assert not quiet.busy and "warning" not in text
    busy = dataclasses.replace(quiet, load_average=6.4)
    assert busy.busy and BUSY_LOAD_PER_CPU * 2 < 6.4
    assert "warning: the machine is busy (load average 6.4, 2 logical CPUs)" in format_probe(busy)
    unknown = dataclasses.replace(quiet, load_average=None, blas_threads=None)
    assert not unknown.busy and "thread count unknown" in format_probe(unknown)
    assert json.loads(json.dumps(busy.to_dict()))["load_average"] == 6.4


def test_blas_threads_is_read_from_the_library_or_the_environment(monkeypatch):
    threads, where = blas_threads()
    assert threads is None or threads >= 1
    assert where == "unknown" if threads is None else where.endswith(("()", "_NUM_THREADS"))
    monkeypatch.setattr("builtins.open", lambda *a, **kw: (_ for _ in ()).throw(OSError("no /proc")))
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert blas_threads() == (3, "$OPENBLAS_NUM_THREADS")
    for variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(variable, raising=False)
    assert blas_threads() == (None, "unknown")


def test_compare_needs_one_time_per_token_count():
    plan, timings = synthetic(times_s=(1e-4, 1e-4))
    with pytest.raises(ValueError, match="^timings: 2 times for 5 token counts"):
        compare_probe(plan, timings)


# -- a real run: structure and sanity -------------------------------------------------------------


def test_structure(result):
    assert result.tokens == (1, 2, 4, 5, 8)  # powers of two up to max_tokens, plus k + 1
    n = len(result.tokens)
    for name in ("times_s", "measured_ratios", "predicted_times_s", "predicted_ratios", "predicted_bounds"):
        assert len(getattr(result, name)) == n
    assert result.d_in == 128 and result.d_out % 64 == 0
    assert result.weight_bytes == 4 * result.d_in * result.d_out >= SMALL["weight_bytes"]
    assert set(result.predicted_bounds) <= {"memory", "compute"}


def test_values_are_positive_and_finite(result):
    for value in (
        *result.times_s,
        *result.predicted_times_s,
        result.copy_bandwidth_bytes_per_s,
        result.read_bandwidth_bytes_per_s,
        result.matvec_bandwidth_bytes_per_s,
        result.bandwidth_bytes_per_s,
        result.matmul_flops_per_s,
        result.peak_flops_per_s,
        result.ridge_point,
    ):
        assert math.isfinite(value) and value > 0


def test_ratios_start_at_one(result):
    assert result.measured_ratios[0] == 1.0
    assert result.predicted_ratios[0] == 1.0
    # The roofline time never decreases as T grows (more FLOPs and more bytes).
    pred = result.predicted_times_s
    assert all(b >= a for a, b in zip(pred, pred[1:]))


def test_roofline_peaks_are_the_best_rates_seen(result):
    assert result.bandwidth_bytes_per_s >= max(
        result.copy_bandwidth_bytes_per_s,
        result.read_bandwidth_bytes_per_s,
        result.matvec_bandwidth_bytes_per_s,
    )
    assert result.peak_flops_per_s >= result.matmul_flops_per_s
    assert result.ridge_point == pytest.approx(result.peak_flops_per_s / result.bandwidth_bytes_per_s)
    # So the roofline is a lower bound on every measured time of the sweep.
    for measured, predicted in zip(result.times_s, result.predicted_times_s):
        assert predicted <= measured * (1 + 1e-9)


def test_speedups_follow_the_model(result):
    assert result.tau == expected_tokens_per_step(0.7, 4)
    assert result.to_dict()["tau"] == result.tau
    assert result.speedup_theorem == walltime_speedup(0.7, 4, 0.05)
    i = result.tokens.index(5)
    assert result.c_verify_measured == result.measured_ratios[i]
    assert result.c_verify_predicted == result.predicted_ratios[i]
    assert result.speedup_measured == pytest.approx(walltime_speedup(0.7, 4, 0.05, result.c_verify_measured))
    assert result.best_k_measured in {t - 1 for t in result.tokens if t >= 2}
    assert result.best_speedup_measured >= result.speedup_measured


def test_global_rng_untouched():
    state = np.random.get_state()
    run_probe(**SMALL)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_report_and_json(result):
    text = format_probe(result)
    assert "numpy" in text and result.numpy_version in text
    assert "t(T)/t(1)" in text
    assert text.count("\n") > len(result.tokens) + 8
    payload = json.loads(json.dumps(result.to_dict()))
    assert payload["tokens"] == list(result.tokens)
    assert payload["measured_ratios"][0] == 1.0


def test_measure_functions_directly():
    rng = np.random.default_rng(0)
    rates = measure_bandwidth(1 << 18, repeats=1, rng=rng)
    assert set(rates) == {"copy", "read", "matvec", "best"}
    assert rates["best"] == max(rates["copy"], rates["read"], rates["matvec"])
    assert measure_matmul_flops(32, repeats=1, rng=rng) > 0
    times = measure_matmul_curve(64, 64, [1, 3], repeats=1, rng=rng)
    assert len(times) == 2 and all(t > 0 for t in times)


def test_last_level_cache_bytes():
    llc = last_level_cache_bytes()
    assert llc is None or (isinstance(llc, int) and llc > 0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(alpha=1.5), "alpha"),
        (dict(k=0), "k"),
        (dict(c=-1.0), "c"),
        (dict(max_tokens=0), "max_tokens"),
        (dict(weight_bytes=0), "weight_bytes"),
        (dict(matmul_n=-4), "matmul_n"),
        (dict(repeats=0), "repeats"),
    ],
)
def test_bad_input(kwargs, name):
    args = {**SMALL, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} "):
        run_probe(**args)


def test_measure_bad_input():
    with pytest.raises(ValueError, match=r"^n_bytes "):
        measure_bandwidth(0)
    with pytest.raises(ValueError, match=r"^tokens "):
        measure_matmul_curve(8, 8, [1, 0])
    with pytest.raises(ValueError, match=r"^tokens must not be empty"):
        measure_matmul_curve(8, 8, [])


# -- argument checks and limits (review items 2, 3 and 9) ----------------------------------------


@pytest.mark.parametrize("seed", [-1, 1.5, "abc", None, True])
def test_seed_is_checked_and_named(seed):
    # Used to reach numpy's SeedSequence, whose errors do not name the argument.
    with pytest.raises(ValueError if seed == -1 else TypeError, match=r"^seed "):
        run_probe(**{**SMALL, "seed": seed})


def test_rng_is_checked_and_named():
    for call in (
        lambda rng: measure_bandwidth(1 << 18, repeats=1, rng=rng),
        lambda rng: measure_matmul_flops(8, repeats=1, rng=rng),
        lambda rng: measure_matmul_curve(8, 8, [1], repeats=1, rng=rng),
    ):
        for bad in (0, "rng", np.random.RandomState(0)):
            with pytest.raises(TypeError, match=r"^rng must be a numpy.random.Generator"):
                call(bad)


def test_bandwidth_buffer_has_a_minimum_and_reports_what_was_measured():
    # measure_bandwidth(1) used to time a 256-byte buffer.
    for n in (1, 256, MIN_BANDWIDTH_BUFFER_BYTES - 1):
        with pytest.raises(ValueError, match=rf"^n_bytes must be >= {MIN_BANDWIDTH_BUFFER_BYTES}"):
            measure_bandwidth(n)
    assert measure_bandwidth(MIN_BANDWIDTH_BUFFER_BYTES, repeats=1)["best"] > 0
    # A request that is not a whole number of 4096-row fp32 buffers is rounded down, and the result
    # reports the size actually measured, not the size requested.
    r = run_probe(**{**SMALL, "bandwidth_buffer_bytes": (1 << 20) + 1000})
    assert r.bandwidth_buffer_bytes == 1 << 20


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(k=10**5), "k"),
        (dict(k=MAX_TOKENS), "k"),
        (dict(max_tokens=10**6), "max_tokens"),
        (dict(max_tokens=MAX_TOKENS + 1), "max_tokens"),
        (dict(weight_bytes=MAX_BUFFER_BYTES + 1), "weight_bytes"),
        (dict(bandwidth_buffer_bytes=2**40), "bandwidth_buffer_bytes"),
        (dict(bandwidth_buffer_bytes=1000), "bandwidth_buffer_bytes"),
        (dict(d_in=MAX_DIM + 1), "d_in"),
        (dict(d_in=1, weight_bytes=MAX_BUFFER_BYTES), "d_in"),
        (dict(matmul_n=MAX_MATMUL_N + 1), "matmul_n"),
        (dict(repeats=MAX_REPEATS + 1), "repeats"),
        (dict(quick="yes"), "quick"),
        (dict(k=2.0), "k"),
        (dict(alpha="0.8"), "alpha"),
    ],
)
def test_limits_are_checked_before_anything_is_allocated(kwargs, name):
    # k = 10**5 or a large max_tokens used to allocate several GB before failing or finishing.
    error = TypeError if name in ("quick", "alpha") or kwargs.get("k") == 2.0 else ValueError
    with pytest.raises(error, match=rf"^{name} "):
        run_probe(**{**SMALL, **kwargs})


def test_measure_function_limits():
    with pytest.raises(ValueError, match=r"^n_bytes must be <= "):
        measure_bandwidth(MAX_BUFFER_BYTES + 1)
    with pytest.raises(ValueError, match=r"^n must be <= "):
        measure_matmul_flops(MAX_MATMUL_N + 1)
    with pytest.raises(ValueError, match=r"^tokens must be <= "):
        measure_matmul_curve(8, 8, [MAX_TOKENS + 1])
    with pytest.raises(ValueError, match=r"^d_out "):
        measure_matmul_curve(MAX_DIM, MAX_DIM, [1])
    with pytest.raises(ValueError, match=r"^repeats must be <= "):
        measure_matmul_flops(8, repeats=MAX_REPEATS + 1)


# -- bench/gpu_verify_cost.py: no GPU here, so exercise its control flow with a NumPy stand-in --------


def _load_bench():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "gpu_verify_cost.py"
    spec = importlib.util.spec_from_file_location("gpu_verify_cost", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_torch():
    """Just enough of the torch API for gpu_verify_cost.measure, backed by NumPy (no real timing)."""
    import types

    class Tensor(np.ndarray):
        def normal_(self, generator=None):
            self[...] = generator.rng.standard_normal(self.shape)
            return self

        def copy_(self, other):
            self[...] = other
            return self

    class Generator:
        def __init__(self, device=None):
            self.rng = np.random.default_rng(0)

        def manual_seed(self, seed):
            self.rng = np.random.default_rng(seed)

    class Event:
        clock = 0.0

        def __init__(self, enable_timing=False):
            self.t = 0.0

        def record(self):
            Event.clock += 1.0  # one fake millisecond per window
            self.t = Event.clock

        def synchronize(self):
            pass

        def elapsed_time(self, other):
            return other.t - self.t

    def empty(*shape, dtype=None, device=None):
        return np.zeros(shape, dtype=np.float32).view(Tensor)

    def randn(*shape, dtype=None, device=None, generator=None):
        return generator.rng.standard_normal(shape).astype(np.float32).view(Tensor)

    cuda = types.SimpleNamespace(
        is_available=lambda: True,
        get_device_properties=lambda dev: types.SimpleNamespace(
            name="fake", total_memory=2**30, L2_cache_size=1024
        ),
        synchronize=lambda: None,
        Event=Event,
    )
    return types.SimpleNamespace(
        cuda=cuda,
        device=lambda name: name,
        Generator=Generator,
        bfloat16="bf16",
        randn=randn,
        empty=empty,
        empty_like=lambda a: np.empty_like(a).view(Tensor),
        matmul=lambda a, b, out=None: np.matmul(a, b, out=out),
        version=types.SimpleNamespace(cuda="0.0"),
        __version__="fake",
    )


def test_gpu_bench_script_control_flow(monkeypatch, capsys):
    import sys

    bench = _load_bench()
    assert rl.sweep_tokens(64, 4) == [1, 2, 4, 5, 8, 16, 32, 64] == rl.sweep_tokens(127, 4)
    assert rl.sweep_tokens(1, 3) == [1, 4]
    rows = bench.roofline_rows([1, 5, 512], 8192, 28672, "h200")
    assert rows[0]["ratio"] == 1.0 and rows[1]["ratio"] < 1.01 and rows[2]["bound"] == "compute"

    monkeypatch.setitem(sys.modules, "torch", _fake_torch())
    argv = [
        "--d-in",
        "64",
        "--d-out",
        "64",
        "--max-tokens",
        "8",
        "--iters",
        "2",
        "--repeats",
        "2",
        "--square",
        "16",
        "--copy-bytes",
        "4096",
    ]
    assert bench.main(argv) == 0
    text = capsys.readouterr().out
    assert "x[T, 64] @ W[64, 64] bf16" in text and "t(T)/t(1)" in text
    assert bench.main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["tokens"] == [1, 2, 4, 5, 8]
    assert data["measured_ratios"][0] == 1.0
    assert data["roofline"][0]["ratio"] == 1.0
    assert data["preset"] == "h200"
    # A W smaller than 4x the reported L2 is refused.
    with pytest.raises(SystemExit, match="less than 4x"):
        bench.main(["--d-in", "8", "--d-out", "8"])
    # Every argument is checked before anything is measured (torch is not even imported).
    monkeypatch.setitem(sys.modules, "torch", None)
    for bad, message in [
        (["--preset", "b200"], "--preset: hardware: unknown preset 'b200'"),
        (["--preset", "rtx-3090"], "--preset: compute_dtype: 'rtx-3090' has no verified peak for 'bf16'"),
        (["--k", "0"], "--k: k must be >= 1"),
        (["--alpha", "1.5"], "--alpha: alpha must lie in [0, 1]"),
        (["--c", "-1"], "--c: c must be >= 0"),
        (["--max-tokens", "0"], "--max-tokens: max_tokens must be >= 1"),
        (["--iters", "0"], "--iters: iters must lie in [1, 10000], got 0"),
        (["--repeats", "0"], "--repeats: repeats must lie in [1, 1000], got 0"),
        (["--repeats", "100000"], "--repeats: repeats must lie in [1, 1000], got 100000"),
        (["--seed", "-1"], "--seed: seed must be >= 0, got -1"),
        (["--square", "0"], "--square: square must be >= 1"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            bench.main(bad)
        assert str(exit_info.value).startswith(f"gpu_verify_cost: error: {message}")
        assert "\n" not in str(exit_info.value)


def test_gpu_bench_script_errors_are_one_line(monkeypatch, capsys):
    import sys

    bench = _load_bench()
    # A flag argparse cannot read: one line on stderr, status 2 (not the usage block).
    for bad in (["--d-in", "x"], ["--alpha"], ["--nope"]):
        with pytest.raises(SystemExit) as exit_info:
            bench.main(bad)
        err = capsys.readouterr().err
        assert (
            exit_info.value.code == 2
            and err.startswith("gpu_verify_cost.py: error: ")
            and err.count("\n") == 1
        )
    # Buffers larger than the GPU's memory (1 GiB here) are refused before any is allocated.
    monkeypatch.setitem(sys.modules, "torch", _fake_torch())
    for bad in (
        ["--d-in", "32768", "--d-out", "32768"],
        ["--d-in", "64", "--d-out", "64", "--square", "32768"],
    ):
        with pytest.raises(
            SystemExit, match=r"^gpu_verify_cost: error: the buffers need .* GiB, more than the GPU's 1.0 GiB"
        ):
            bench.main([*bad, "--copy-bytes", "4096"])
