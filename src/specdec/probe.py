"""Measures this machine with NumPy, at its earlier path: a re-export of :mod:`specdec.perf.probe`."""

from __future__ import annotations

from specdec.perf.probe import (
    MAX_BUFFER_BYTES,
    MAX_DIM,
    MAX_MATMUL_N,
    MAX_REPEATS,
    MAX_TOKENS,
    MIN_BANDWIDTH_BUFFER_BYTES,
    ProbePlan,
    ProbeResult,
    ProbeTimings,
    compare_probe,
    format_probe,
    last_level_cache_bytes,
    measure_bandwidth,
    measure_matmul_curve,
    measure_matmul_flops,
    measure_probe,
    plan_probe,
    run_probe,
)

__all__ = [
    "MAX_TOKENS",
    "MAX_BUFFER_BYTES",
    "MIN_BANDWIDTH_BUFFER_BYTES",
    "MAX_MATMUL_N",
    "MAX_DIM",
    "MAX_REPEATS",
    "ProbeResult",
    "ProbePlan",
    "ProbeTimings",
    "last_level_cache_bytes",
    "measure_bandwidth",
    "measure_matmul_flops",
    "measure_matmul_curve",
    "run_probe",
    "plan_probe",
    "measure_probe",
    "compare_probe",
    "format_probe",
]
