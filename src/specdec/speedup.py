"""The speedup model of Leviathan et al. (2023) section 3, at its earlier path: a re-export.

Kept so that earlier imports keep working; the objects live in
:mod:`specdec.perf.speedup`."""

from __future__ import annotations

from specdec.perf.speedup import (
    MAX_K,
    expected_tokens_per_step,
    ops_increase,
    optimal_k,
    speedup_from_tau,
    walltime_speedup,
)

__all__ = [
    "MAX_K",
    "expected_tokens_per_step",
    "walltime_speedup",
    "speedup_from_tau",
    "ops_increase",
    "optimal_k",
]
