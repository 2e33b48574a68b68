"""The roofline cost of a whole request, at its earlier path: a re-export.

Kept so that earlier imports keep working; the objects live in
:mod:`specdec.perf.requests`."""

from __future__ import annotations

from specdec.perf.requests import (
    RequestCost,
    max_batch_in_memory,
    request_cost,
)

__all__ = [
    "RequestCost",
    "request_cost",
    "max_batch_in_memory",
]
