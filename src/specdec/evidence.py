"""Recorded measurements beside the roofline, at their earlier path: a re-export.

Kept so that earlier imports keep working; the objects live in
:mod:`specdec.perf.evidence`."""

from __future__ import annotations

from specdec.perf.evidence import (
    STACK_HEADS,
    MeasuredPoint,
    gpu_points,
    probe_points,
    stack_shape,
    summarise,
)

__all__ = [
    "MeasuredPoint",
    "stack_shape",
    "gpu_points",
    "probe_points",
    "summarise",
    "STACK_HEADS",
]
