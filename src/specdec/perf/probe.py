"""Measure the reader's own machine with NumPy and set it beside the roofline.

``python -m specdec probe`` runs :func:`run_probe` and prints :func:`format_probe`. ``run_probe`` is
three steps: :func:`plan_probe` checks the arguments and chooses the sizes (pure), :func:`measure_probe`
times the kernels, and :func:`compare_probe` sets the timings beside the roofline (pure, so it is tested
on synthetic timings). It measures

1. a streaming memory bandwidth: three NumPy kernels over a buffer several times larger than the
   last-level cache -- a copy (counted as STREAM counts it: bytes read + bytes written), a sum
   reduction, and a BLAS vector-matrix product;
2. a matmul peak: FLOP/s of a square fp32 matmul;
3. the cost curve t(T) / t(1) of ``x[T, d_in] @ W[d_in, d_out]`` for T = 1, 2, 4, ..., 64 (plus
   T = k + 1), with W larger than the last-level cache, so that W streams from main memory each time
   as a decode step's weights do;

and then evaluates :func:`specdec.perf.kernels.matmul_cost` on a
:class:`specdec.perf.hardware.Hardware` built from the best bandwidth and the best FLOP/s seen
anywhere in the run (any achieved rate is a lower bound on the machine's peak), and the speedup of
speculative decoding that the measured and the predicted verification cost would give for a chosen α, k and c.

The two curves need not agree. The roofline is a bound reached only by ideal kernels; a BLAS library
takes different code paths for a vector-matrix product (T = 1) and for a matrix-matrix product with a
few rows (T >= 2), and the second can be far slower per byte of W. The probe reports what it measures.

Timings are the best of ``repeats`` runs (the STREAM convention). Other work on the machine spoils
them, t(T)/t(1) most of all: the probe records the BLAS library's thread count and the load average
when it started, and :func:`format_probe` warns when the load average exceeds :data:`BUSY_LOAD_PER_CPU`
per logical CPU. Random inputs come from
``numpy.random.default_rng(seed)``; the global NumPy random state is never touched.
"""

from __future__ import annotations

import ctypes
import dataclasses
import math
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from specdec import _arrays, _checks
from specdec.perf.crossovers import sweep_tokens
from specdec.perf.hardware import Hardware
from specdec.perf.kernels import matmul_cost
from specdec.perf.speedup import expected_tokens_per_step, walltime_speedup

__all__ = [
    "MAX_TOKENS",
    "MAX_BUFFER_BYTES",
    "MIN_BANDWIDTH_BUFFER_BYTES",
    "MAX_MATMUL_N",
    "MAX_DIM",
    "MAX_REPEATS",
    "BUSY_LOAD_PER_CPU",
    "MIN_BEST_K_POINTS",
    "ProbeResult",
    "ProbePlan",
    "ProbeTimings",
    "last_level_cache_bytes",
    "blas_threads",
    "measure_bandwidth",
    "measure_matmul_flops",
    "measure_matmul_curve",
    "run_probe",
    "plan_probe",
    "measure_probe",
    "compare_probe",
    "format_probe",
]

_MIB = 2**20
_FALLBACK_LLC_BYTES = 32 * _MIB  # used for sizing only when the cache size cannot be read
_QUICK_MAX_BYTES = 128 * _MIB  # largest default buffer with quick=True, whatever the cache size

# Limits: the largest sizes the probe accepts, so that a typo cannot allocate many gigabytes or run
# for minutes. Defaults derived from the cache size are capped at them; explicit values beyond them
# raise ValueError naming the argument.

#: Largest T of the sweep: ``max_tokens`` and ``k + 1`` may not exceed it.
MAX_TOKENS = 1024
#: Largest fp32 buffer in bytes: the bandwidth buffer (allocated twice, for the copy) and W.
MAX_BUFFER_BYTES = 2**30
#: Smallest bandwidth buffer in bytes; a smaller one measures caches and timer resolution.
MIN_BANDWIDTH_BUFFER_BYTES = 2**16
#: Largest side of the square matmul (three fp32 matrices of 256 MiB at the limit).
MAX_MATMUL_N = 8192
#: Largest ``d_in`` and ``d_out`` of the swept matmul.
MAX_DIM = 65536
#: Largest number of timed repeats.
MAX_REPEATS = 100
#: Load average (one minute) per logical CPU above which :func:`format_probe` warns that the machine
#: is busy: other processes then take CPU time from the probe's kernels.
BUSY_LOAD_PER_CPU = 0.5
#: Fewest drafted-token counts (points T >= 2 of the sweep) from which a best k is reported.
MIN_BEST_K_POINTS = 2


# ----------------------------------------------------------------------------------------------
# machine description
# ----------------------------------------------------------------------------------------------


def last_level_cache_bytes() -> int | None:
    """Size of the largest CPU cache level reported by Linux sysfs, or ``None`` if unavailable."""
    base = "/sys/devices/system/cpu/cpu0/cache"
    best_level, best_size = -1, None
    try:
        entries = sorted(os.listdir(base))
    except OSError:
        return None
    for entry in entries:
        if not entry.startswith("index"):
            continue
        try:
            with open(os.path.join(base, entry, "level")) as fh:
                level = int(fh.read().strip())
            with open(os.path.join(base, entry, "size")) as fh:
                text = fh.read().strip()
        except (OSError, ValueError):
            continue
        units = {"K": 2**10, "M": 2**20, "G": 2**30}
        size = int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)
        if level > best_level or (level == best_level and best_size is not None and size > best_size):
            best_level, best_size = level, size
    return best_size


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _blas_name() -> str:
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy or an unusual build: not worth failing the probe over
        return "unknown BLAS"


# Thread-count queries of the BLAS builds NumPy ships with (OpenBLAS, 32- and 64-bit-integer
# builds, and the scipy-openblas wheels) and of MKL.
_BLAS_THREAD_QUERIES = (
    "openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "scipy_openblas_get_num_threads64_",
    "MKL_Get_Max_Threads",
)
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def blas_threads() -> tuple[int | None, str]:
    """The BLAS library's thread count and where it was read: asked of the loaded OpenBLAS or MKL
    (Linux), else an environment variable that sets it; ``(None, "unknown")`` when neither says."""
    try:
        with open("/proc/self/maps") as fh:
            libraries = sorted({line.split()[-1] for line in fh if "blas" in line.lower() or "mkl" in line})
    except OSError:
        libraries = []
    for path in libraries:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for query in _BLAS_THREAD_QUERIES:
            function = getattr(library, query, None)
            if function is not None:
                return int(function()), f"{query}()"
    for variable in _THREAD_VARIABLES:
        value = os.environ.get(variable, "")
        if value.isdigit() and int(value) > 0:
            return int(value), f"${variable}"
    return None, "unknown"


def _load_average() -> float | None:
    """The one-minute load average, or ``None`` where the system does not report one."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None


# ----------------------------------------------------------------------------------------------
# measurements
# ----------------------------------------------------------------------------------------------


def _best_time(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up: page faults, thread start-up, BLAS buffers
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _check_rng(rng: object) -> np.random.Generator:
    """``rng``, checked by the package's one rng check; ``None`` means ``default_rng(0)``."""
    return np.random.default_rng(0) if rng is None else _arrays.check_rng(rng)


def _bandwidth_shape(n_bytes: int) -> tuple[int, int]:
    """Rows and columns of the fp32 bandwidth buffer for a request of ``n_bytes`` (rounded down)."""
    rows = 4096 if n_bytes >= 4 * 4096 * 64 else 64
    return rows, max(1, n_bytes // (4 * rows))


def measure_bandwidth(
    n_bytes: int, *, repeats: int = 5, rng: np.random.Generator | None = None
) -> dict[str, float]:
    """Streaming bandwidth in bytes/s of three NumPy kernels over an fp32 buffer of about ``n_bytes``.

    The buffer is ``a[rows, cols]`` with ``rows`` 4096 (64 below 1 MiB), so ``n_bytes`` is rounded down
    to a whole number of rows' worth (a multiple of 16 KiB, or of 256 bytes below 1 MiB); the rates
    divide the bytes actually moved. ``n_bytes`` must lie in [:data:`MIN_BANDWIDTH_BUFFER_BYTES`,
    :data:`MAX_BUFFER_BYTES`] and ``repeats`` in [1, :data:`MAX_REPEATS`].

    Returns ``{"copy": ..., "read": ..., "matvec": ..., "best": ...}``: ``copy`` is ``np.copyto``
    counted as read + write (as STREAM counts it, without write-allocate traffic), ``read`` a sum
    reduction, ``matvec`` a BLAS vector-matrix product ``v[1, rows] @ a[rows, cols]`` over the same
    bytes, ``best`` the largest.
    """
    n_bytes = _checks.integer("n_bytes", n_bytes, MIN_BANDWIDTH_BUFFER_BYTES, MAX_BUFFER_BYTES)
    repeats = _checks.integer("repeats", repeats, 1, MAX_REPEATS)
    rng = _check_rng(rng)
    rows, cols = _bandwidth_shape(n_bytes)
    a = rng.random((rows, cols), dtype=np.float32)
    b = np.empty_like(a)
    v = rng.random((1, rows), dtype=np.float32)
    out = np.empty((1, cols), dtype=np.float32)
    t_copy = _best_time(lambda: np.copyto(b, a), repeats)
    t_read = _best_time(lambda: np.add.reduce(a, axis=None), repeats)
    t_mv = _best_time(lambda: np.matmul(v, a, out=out), repeats)
    rates = {
        "copy": 2 * a.nbytes / t_copy,
        "read": a.nbytes / t_read,
        "matvec": a.nbytes / t_mv,
    }
    rates["best"] = max(rates.values())
    return rates


def measure_matmul_flops(n: int, *, repeats: int = 3, rng: np.random.Generator | None = None) -> float:
    """FLOP/s of an fp32 ``[n, n] @ [n, n]`` matmul (2 n^3 FLOPs), best of ``repeats``.

    ``n`` must lie in [1, :data:`MAX_MATMUL_N`] and ``repeats`` in [1, :data:`MAX_REPEATS`].
    """
    n = _checks.integer("n", n, 1, MAX_MATMUL_N)
    repeats = _checks.integer("repeats", repeats, 1, MAX_REPEATS)
    rng = _check_rng(rng)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    return 2.0 * n**3 / _best_time(lambda: np.matmul(a, b, out=out), repeats)


def measure_matmul_curve(
    d_in: int,
    d_out: int,
    tokens: Sequence[int],
    *,
    repeats: int = 5,
    rng: np.random.Generator | None = None,
) -> tuple[float, ...]:
    """Best-of-``repeats`` seconds of fp32 ``x[T, d_in] @ W[d_in, d_out]`` for each T in ``tokens``.

    ``d_in`` and ``d_out`` must lie in [1, :data:`MAX_DIM`] with W at most :data:`MAX_BUFFER_BYTES`,
    every T in [1, :data:`MAX_TOKENS`], and ``repeats`` in [1, :data:`MAX_REPEATS`].
    """
    d_in = _checks.integer("d_in", d_in, 1, MAX_DIM)
    d_out = _checks.integer("d_out", d_out, 1, MAX_DIM)
    if 4 * d_in * d_out > MAX_BUFFER_BYTES:
        raise ValueError(
            f"d_out is too large for d_in={d_in}: W[{d_in}, {d_out}] in fp32 is {4 * d_in * d_out} bytes, "
            f"more than MAX_BUFFER_BYTES = {MAX_BUFFER_BYTES}"
        )
    repeats = _checks.integer("repeats", repeats, 1, MAX_REPEATS)
    ts = [_checks.integer("tokens", t, 1, MAX_TOKENS) for t in tokens]
    if not ts:
        raise ValueError("tokens must not be empty")
    rng = _check_rng(rng)
    w = rng.standard_normal((d_in, d_out), dtype=np.float32)
    times = []
    for t in ts:
        x = rng.standard_normal((t, d_in), dtype=np.float32)
        out = np.empty((t, d_out), dtype=np.float32)
        times.append(_best_time(lambda x=x, out=out: np.matmul(x, w, out=out), repeats))
    return tuple(times)


# ----------------------------------------------------------------------------------------------
# the probe
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeResult:
    """Everything one probe run measured and predicted. Times in seconds, rates per second.

    ``bandwidth_buffer_bytes`` and ``weight_bytes`` are the sizes actually measured (after rounding
    to whole rows or columns), not the sizes requested. ``tau`` is τ, the expected tokens per target
    forward (bonus token included) that Leviathan et al.'s Equation 1 predicts for ``alpha`` and
    ``k``, i.e. :func:`specdec.perf.speedup.expected_tokens_per_step`. ``speedup_theorem``,
    ``speedup_predicted`` and ``speedup_measured`` are τ / (k c + c_verify) with c_verify = 1, the
    roofline's and the measured t(k + 1) / t(1). ``best_k_measured`` is the k that maximises the
    measured speedup over the sweep's points T = k + 1 >= 2, ``None`` when there are fewer than
    :data:`MIN_BEST_K_POINTS` of them (``max_tokens`` 1 leaves only T = k + 1: nothing to compare).
    ``cpu_count``, ``blas_threads`` and ``load_average`` as in :class:`ProbeTimings`; :attr:`busy`.
    """

    machine: str
    numpy_version: str
    blas: str
    last_level_cache_bytes: int | None
    bandwidth_buffer_bytes: int
    copy_bandwidth_bytes_per_s: float
    read_bandwidth_bytes_per_s: float
    matvec_bandwidth_bytes_per_s: float
    bandwidth_bytes_per_s: float
    bandwidth_from: str
    matmul_n: int
    matmul_flops_per_s: float
    peak_flops_per_s: float
    peak_from: str
    ridge_point: float
    d_in: int
    d_out: int
    weight_bytes: int
    repeats: int
    tokens: tuple[int, ...]
    times_s: tuple[float, ...]
    measured_ratios: tuple[float, ...]
    predicted_times_s: tuple[float, ...]
    predicted_ratios: tuple[float, ...]
    predicted_bounds: tuple[str, ...]
    alpha: float
    k: int
    c: float
    tau: float
    speedup_theorem: float
    c_verify_predicted: float
    speedup_predicted: float
    c_verify_measured: float
    speedup_measured: float
    best_k_measured: int | None
    best_speedup_measured: float | None
    cpu_count: int | None = None
    blas_threads: int | None = None
    blas_threads_from: str = "unknown"
    load_average: float | None = None

    @property
    def busy(self) -> bool:
        """Whether the load average exceeded :data:`BUSY_LOAD_PER_CPU` per logical CPU."""
        if self.load_average is None or not self.cpu_count:
            return False
        return self.load_average > BUSY_LOAD_PER_CPU * self.cpu_count

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return _checks.to_dict(self)


def run_probe(**options: Any) -> ProbeResult:
    """Measure this machine and compare it with the roofline; a few seconds by default.

    Three steps: :func:`plan_probe` (pure: every argument checked and every size chosen before
    anything is allocated), :func:`measure_probe` (the timings), :func:`compare_probe` (pure: the
    roofline and the speedups from the timings). ``options`` are the keyword arguments of
    :func:`plan_probe`; ``last_level_cache_bytes`` defaults to this machine's
    (:func:`last_level_cache_bytes`).
    """
    if "last_level_cache_bytes" not in options:
        options["last_level_cache_bytes"] = last_level_cache_bytes()
    plan = plan_probe(**options)
    return compare_probe(plan, measure_probe(plan))


@dataclass(frozen=True)
class ProbePlan:
    """What one probe run measures, decided before anything is allocated; see :func:`plan_probe`.

    ``bandwidth_buffer_bytes`` is the size that :func:`measure_bandwidth` will time (the request
    rounded down to whole rows); W is ``[d_in, d_out]`` in fp32; ``tokens`` are the T of the sweep.
    """

    alpha: float
    k: int
    c: float
    seed: int
    tokens: tuple[int, ...]
    d_in: int
    d_out: int
    bandwidth_buffer_bytes: int
    matmul_n: int
    repeats: int
    last_level_cache_bytes: int | None


def _default_size(quick: bool, llc: int | None, floor_mib: int) -> int:
    """4x the last-level cache (2x with ``quick``), at least ``floor_mib`` MiB (half that with ``quick``),
    capped at :data:`MAX_BUFFER_BYTES` (128 MiB with ``quick``)."""
    factor, floor = (2, floor_mib // 2) if quick else (4, floor_mib)
    cap = _QUICK_MAX_BYTES if quick else MAX_BUFFER_BYTES
    return min(max(factor * (llc or _FALLBACK_LLC_BYTES), floor * _MIB), cap)


def _d_out(weight_bytes: int, d_in: int) -> int:
    """Columns of an fp32 W[d_in, d_out] of about ``weight_bytes``: a multiple of 64, rounded up
    unless that passes :data:`MAX_BUFFER_BYTES`; ValueError past :data:`MAX_DIM`."""
    d_out = max(64, -(-weight_bytes // (4 * d_in * 64)) * 64)
    if 4 * d_in * d_out > MAX_BUFFER_BYTES:
        d_out -= 64
    if d_out > MAX_DIM:
        raise ValueError(
            f"d_in is too small for weight_bytes={weight_bytes}: W[d_in={d_in}, d_out] would need d_out = "
            f"{d_out} > {MAX_DIM} columns; raise d_in or lower weight_bytes"
        )
    return d_out


def _buffer_sizes(
    quick: bool, llc: object, d_in: int, weight_bytes: object, bandwidth_buffer_bytes: object
) -> tuple[int | None, int, int]:
    """The checked cache size, d_out of W, and the bandwidth buffer as it will be timed: defaults
    from the cache size, then checked."""
    if llc is not None:
        llc = _checks.integer("last_level_cache_bytes", llc, 1, None)
    if weight_bytes is None:
        weight_bytes = _default_size(quick, llc, 64)
    weight_bytes = _checks.integer("weight_bytes", weight_bytes, 1, MAX_BUFFER_BYTES)
    if bandwidth_buffer_bytes is None:
        bandwidth_buffer_bytes = _default_size(quick, llc, 128)
    bandwidth_buffer_bytes = _checks.integer(
        "bandwidth_buffer_bytes", bandwidth_buffer_bytes, MIN_BANDWIDTH_BUFFER_BYTES, MAX_BUFFER_BYTES
    )
    return llc, _d_out(weight_bytes, d_in), 4 * math.prod(_bandwidth_shape(bandwidth_buffer_bytes))


def plan_probe(
    *,
    quick: bool = False,
    alpha: float = 0.8,
    k: int = 4,
    c: float = 0.0,
    seed: int = 0,
    max_tokens: int = 64,
    d_in: int = 4096,
    weight_bytes: int | None = None,
    bandwidth_buffer_bytes: int | None = None,
    matmul_n: int | None = None,
    repeats: int | None = None,
    last_level_cache_bytes: int | None = None,
) -> ProbePlan:
    """Check the arguments of :func:`run_probe` and choose every size; measures nothing (pure).

    ``quick`` (a bool) halves the buffer sizes and the repeats, and caps the default buffers at 128
    MiB (which a very large last-level cache may partly hold, so the rates are rougher).
    ``weight_bytes`` (default: 4x the last-level cache, at least 64 MiB; 2x and 32 MiB with ``quick``)
    sets the size of W, whose shape is ``[d_in, d_out]`` with d_out rounded up to a multiple of 64
    (down, if up would pass :data:`MAX_BUFFER_BYTES`). T runs over the powers of two up to
    ``max_tokens`` plus k + 1. ``alpha``, ``k`` and ``c`` choose the speculative-decoding point to
    evaluate (see :mod:`specdec.perf.speedup`); τ, the expected tokens per target forward, is reported as
    ``tau``. ``seed`` (an integer >= 0) seeds ``numpy.random.default_rng``.

    Limits, so that no argument can allocate many gigabytes or run for minutes (defaults derived from
    the cache size are capped at them too): :data:`MAX_TOKENS` (``max_tokens`` and k + 1),
    :data:`MAX_BUFFER_BYTES` and :data:`MIN_BANDWIDTH_BUFFER_BYTES` (``weight_bytes``,
    ``bandwidth_buffer_bytes``), :data:`MAX_DIM` (``d_in`` and the d_out it implies),
    :data:`MAX_MATMUL_N`, :data:`MAX_REPEATS`.

    ``last_level_cache_bytes`` (``None``: unknown, sized as 32 MiB) sets the default buffer sizes.

    Raises ``ValueError`` naming the argument for a size, seed or speculative-decoding parameter that
    is not an integer (or number) in its range, before anything is measured.
    """
    quick = _checks.flag("quick", quick)
    k = _checks.integer("k", k, 1, MAX_TOKENS - 1)  # T = k + 1 is a point of the sweep
    walltime_speedup(alpha, k, c)  # checks alpha and c, naming them
    seed = _checks.integer("seed", seed, 0, None)
    max_tokens = _checks.integer("max_tokens", max_tokens, 1, MAX_TOKENS)
    d_in = _checks.integer("d_in", d_in, 1, MAX_DIM)
    llc, d_out, bandwidth_buffer_bytes = _buffer_sizes(
        quick, last_level_cache_bytes, d_in, weight_bytes, bandwidth_buffer_bytes
    )
    return ProbePlan(
        alpha=float(alpha),
        k=k,
        c=float(c),
        seed=seed,
        tokens=tuple(sweep_tokens(max_tokens, k)),
        d_in=d_in,
        d_out=d_out,
        bandwidth_buffer_bytes=bandwidth_buffer_bytes,
        last_level_cache_bytes=llc,
        **_matmul_and_repeats(quick, matmul_n, repeats),
    )


def _matmul_and_repeats(quick: bool, matmul_n: object, repeats: object) -> dict[str, int]:
    """``matmul_n`` and ``repeats`` checked, each defaulting by ``quick``."""
    n = (1024 if quick else 2048) if matmul_n is None else matmul_n
    r = (3 if quick else 5) if repeats is None else repeats
    return {
        "matmul_n": _checks.integer("matmul_n", n, 1, MAX_MATMUL_N),
        "repeats": _checks.integer("repeats", r, 1, MAX_REPEATS),
    }


@dataclass(frozen=True)
class ProbeTimings:
    """What :func:`measure_probe` measured for a :class:`ProbePlan`, and on what.

    Rates per second: the three streaming kernels of :func:`measure_bandwidth` and the square
    matmul of :func:`measure_matmul_flops`; ``times_s``: seconds of ``x[T, d_in] @ W`` for each T of
    the plan's ``tokens`` (:func:`measure_matmul_curve`). ``cpu_count`` (logical CPUs),
    ``blas_threads`` (:func:`blas_threads`) and ``load_average`` (one minute, read before the first
    kernel) say how busy the machine was; ``None`` where unknown.
    """

    machine: str
    numpy_version: str
    blas: str
    copy_bandwidth_bytes_per_s: float
    read_bandwidth_bytes_per_s: float
    matvec_bandwidth_bytes_per_s: float
    matmul_flops_per_s: float
    times_s: tuple[float, ...]
    cpu_count: int | None = None
    blas_threads: int | None = None
    blas_threads_from: str = "unknown"
    load_average: float | None = None


def measure_probe(plan: ProbePlan) -> ProbeTimings:
    """Time the kernels that ``plan`` describes, with ``numpy.random.default_rng(plan.seed)`` inputs."""
    load, (threads, threads_from) = _load_average(), blas_threads()
    rng = np.random.default_rng(plan.seed)
    bw = measure_bandwidth(plan.bandwidth_buffer_bytes, repeats=plan.repeats, rng=rng)
    peak = measure_matmul_flops(plan.matmul_n, repeats=max(1, plan.repeats - 2), rng=rng)
    times = measure_matmul_curve(plan.d_in, plan.d_out, plan.tokens, repeats=plan.repeats, rng=rng)
    return ProbeTimings(
        machine=f"{platform.machine()}, {_cpu_model()}, {os.cpu_count()} logical CPUs, {platform.system()}",
        numpy_version=np.__version__,
        blas=_blas_name(),
        copy_bandwidth_bytes_per_s=bw["copy"],
        read_bandwidth_bytes_per_s=bw["read"],
        matvec_bandwidth_bytes_per_s=bw["matvec"],
        matmul_flops_per_s=peak,
        times_s=tuple(times),
        cpu_count=os.cpu_count(),
        blas_threads=threads,
        blas_threads_from=threads_from,
        load_average=load,
    )


# FLOP and byte counts of the swept matmul, without any rate.
_COUNTING = Hardware(
    name="unit",
    peak_flops_per_s={"fp32": 1.0},
    bandwidth_bytes_per_s=1.0,
    memory_bytes=1.0,
    source="counting only",
)


def _best_rates(plan: ProbePlan, timings: ProbeTimings) -> tuple[tuple[float, str], tuple[float, str]]:
    """The best bandwidth and the best FLOP/s seen anywhere in the run, each with where it was seen.

    Any achieved rate is a lower bound on the machine's peak, so the sweep's own points count too.
    """
    counts = [matmul_cost(t, plan.d_in, plan.d_out, _COUNTING, dtype="fp32") for t in plan.tokens]
    sweep = [(cnt, t, f"x@W T={cnt.tokens}") for cnt, t in zip(counts, timings.times_s)]
    bandwidth = max(
        [
            (timings.copy_bandwidth_bytes_per_s, "copy"),
            (timings.read_bandwidth_bytes_per_s, "sum"),
            (timings.matvec_bandwidth_bytes_per_s, "matvec"),
        ]
        + [(cnt.bytes / t, where) for cnt, t, where in sweep]
    )
    flops = max(
        [(timings.matmul_flops_per_s, f"square matmul n={plan.matmul_n}")]
        + [(cnt.flops / t, where) for cnt, t, where in sweep]
    )
    return bandwidth, flops


def _speedups(
    plan: ProbePlan, predicted_ratios: Sequence[float], measured_ratios: Sequence[float]
) -> dict[str, Any]:
    """τ and the speedup at the plan's α, k, c for c_verify = 1, predicted and measured, and the best
    k on the measured curve (``None`` with fewer than :data:`MIN_BEST_K_POINTS` points T >= 2)."""
    alpha, k, c = plan.alpha, plan.k, plan.c
    i = plan.tokens.index(k + 1)
    cv_pred, cv_meas = predicted_ratios[i], measured_ratios[i]
    candidates = [
        (t - 1, walltime_speedup(alpha, t - 1, c, r)) for t, r in zip(plan.tokens, measured_ratios) if t >= 2
    ]
    enough = len(candidates) >= MIN_BEST_K_POINTS
    best_k, best_speedup = max(candidates, key=lambda kv: kv[1]) if enough else (None, None)
    return dict(
        tau=expected_tokens_per_step(alpha, k),
        speedup_theorem=walltime_speedup(alpha, k, c),
        c_verify_predicted=cv_pred,
        speedup_predicted=walltime_speedup(alpha, k, c, cv_pred),
        c_verify_measured=cv_meas,
        speedup_measured=walltime_speedup(alpha, k, c, cv_meas),
        best_k_measured=best_k,
        best_speedup_measured=best_speedup,
    )


def compare_probe(plan: ProbePlan, timings: ProbeTimings) -> ProbeResult:
    """The roofline of the best rates seen, beside the measured cost curve, and the speedups both
    imply (pure: no measurement). ``ValueError`` if ``timings`` has not one time per token count."""
    if len(timings.times_s) != len(plan.tokens):
        raise ValueError(f"timings: {len(timings.times_s)} times for {len(plan.tokens)} token counts")
    (bandwidth, bandwidth_from), (peak_flops, peak_from) = _best_rates(plan, timings)
    machine = Hardware(
        name="this machine (measured)",
        peak_flops_per_s={"fp32": peak_flops},
        bandwidth_bytes_per_s=bandwidth,
        memory_bytes=1.0,  # capacity plays no part in matmul_cost
        source="measured by specdec.probe",
    )
    predicted = [matmul_cost(t, plan.d_in, plan.d_out, machine, dtype="fp32") for t in plan.tokens]
    pred_times = tuple(p.time_s for p in predicted)
    measured_ratios = tuple(t / timings.times_s[0] for t in timings.times_s)
    predicted_ratios = tuple(t / pred_times[0] for t in pred_times)
    return ProbeResult(
        **{f.name: getattr(timings, f.name) for f in dataclasses.fields(ProbeTimings)},
        last_level_cache_bytes=plan.last_level_cache_bytes,
        bandwidth_buffer_bytes=plan.bandwidth_buffer_bytes,
        bandwidth_bytes_per_s=bandwidth,
        bandwidth_from=bandwidth_from,
        matmul_n=plan.matmul_n,
        peak_flops_per_s=peak_flops,
        peak_from=peak_from,
        ridge_point=machine.ridge_point("fp32"),
        d_in=plan.d_in,
        d_out=plan.d_out,
        weight_bytes=4 * plan.d_in * plan.d_out,
        repeats=plan.repeats,
        tokens=plan.tokens,
        measured_ratios=measured_ratios,
        predicted_times_s=pred_times,
        predicted_ratios=predicted_ratios,
        predicted_bounds=tuple(p.bound for p in predicted),
        alpha=plan.alpha,
        k=plan.k,
        c=plan.c,
        **_speedups(plan, predicted_ratios, measured_ratios),
    )


def _mib(n: float) -> str:
    return f"{n / _MIB:.1f} MiB"


def _threads(r: ProbeResult) -> str:
    if r.blas_threads is None:
        return "thread count unknown"
    return f"{r.blas_threads} thread{'s' if r.blas_threads != 1 else ''}, from {r.blas_threads_from}"


def _load(r: ProbeResult) -> str:
    if r.load_average is None:
        return "unknown"
    busy = "busy" if r.busy else "quiet enough"
    return f"{r.load_average:.2f} on {r.cpu_count} logical CPUs at the start ({busy})"


def format_probe(r: ProbeResult) -> str:
    """A readable report of a :class:`ProbeResult`."""
    llc = _mib(r.last_level_cache_bytes) if r.last_level_cache_bytes else "unknown"
    lines = [
        "specdec probe: this machine measured with NumPy (fp32)",
        f"  machine            {r.machine}",
        f"  numpy              {r.numpy_version} (BLAS: {r.blas}, {_threads(r)})",
        f"  load average       {_load(r)}",
        f"  last-level cache   {llc}",
        f"  streaming kernels  copy {r.copy_bandwidth_bytes_per_s / 1e9:.1f} GB/s, sum "
        f"{r.read_bandwidth_bytes_per_s / 1e9:.1f} GB/s, "
        f"matvec {r.matvec_bandwidth_bytes_per_s / 1e9:.1f} GB/s "
        f"(buffer {_mib(r.bandwidth_buffer_bytes)})",
        f"  square matmul      {r.matmul_flops_per_s / 1e9:.1f} GFLOP/s (fp32, n = {r.matmul_n})",
        f"  roofline peaks     {r.bandwidth_bytes_per_s / 1e9:.1f} GB/s (from {r.bandwidth_from}), "
        f"{r.peak_flops_per_s / 1e9:.1f} GFLOP/s (from {r.peak_from}): the best rates seen in this run",
        f"  ridge point        {r.ridge_point:.1f} FLOP/byte",
        "",
        f"x[T, {r.d_in}] @ W[{r.d_in}, {r.d_out}] in fp32, W = {_mib(r.weight_bytes)}; best of {r.repeats}",
        "     T   measured ms  t(T)/t(1)   roofline ms  t(T)/t(1)  roofline bound",
    ]
    for t, tm, rm, tp, rp, b in zip(
        r.tokens, r.times_s, r.measured_ratios, r.predicted_times_s, r.predicted_ratios, r.predicted_bounds
    ):
        lines.append(f"  {t:4d}  {tm * 1e3:11.3f}  {rm:9.2f}  {tp * 1e3:12.3f}  {rp:9.2f}  {b}")
    lines += [
        "",
        f"speculative decoding here: alpha = {r.alpha:.2f}, k = {r.k}, c = {r.c:.3f}; "
        f"τ (Eq. 1) = {r.tau:.2f}; speedup = τ / (k c + c_verify)",
        f"  {'c_verify':>8}  {'where it comes from':<34}  speedup",
    ]
    for cv, label, sp in (
        (1.0, "Leviathan Thm 3.8 assumes 1", r.speedup_theorem),
        (r.c_verify_predicted, f"roofline t({r.k + 1})/t(1)", r.speedup_predicted),
        (r.c_verify_measured, f"measured t({r.k + 1})/t(1)", r.speedup_measured),
    ):
        lines.append(f"  {cv:8.2f}  {label:<34}  {sp:6.2f}x")
    if r.best_k_measured is not None:
        lines.append(
            f"  best k on the measured curve: k = {r.best_k_measured} "
            f"(speedup {r.best_speedup_measured:.2f}x)"
        )
    else:
        lines.append("  best k: not reported; the sweep has one T >= 2 to compare (raise --max-tokens)")
    if r.busy:
        lines += [
            f"warning: the machine is busy (load average {r.load_average:.1f}, {r.cpu_count} logical CPUs):",
            "  other processes take CPU time from the kernels, so t(T)/t(1) varies from run to run.",
        ]
    lines.append(
        "Timings of one weight matrix, not of a model; the roofline is a bound for ideal kernels, "
        "and small-batch kernels can take far longer than it predicts."
    )
    return "\n".join(lines)
