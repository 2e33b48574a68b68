"""One accelerator, or a measured machine, as the roofline sees it: :class:`Hardware`.

The roofline model (Williams, Waterman & Patterson, "Roofline: An Insightful Visual Performance Model
for Multicore Architectures", Communications of the ACM 52(4), April 2009, pp. 65-76,
DOI 10.1145/1498765.1498785) needs two rates of a machine: its peak FLOP/s and its peak memory
bandwidth; their ratio is the *ridge point*. The presets are records of ``data/presets.toml``
(:mod:`specdec.perf.presets`). Pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from specdec import _checks
from specdec.perf.units import check_dtype

__all__ = ["Hardware"]


@dataclass(frozen=True)
class Hardware:
    """One accelerator (or a measured machine): peaks, bandwidth, capacity, and where they come from.

    ``peak_flops_per_s`` maps a compute dtype (a key of ``DTYPE_BYTES``) to the dense peak in FLOP/s;
    only dtypes whose peak is documented are present. ``bandwidth_bytes_per_s`` is the peak main-memory
    (HBM, GDDR or DRAM) bandwidth and ``memory_bytes`` its capacity.

    ``name`` must be a non-empty string and ``source`` a string; every rate and capacity a finite
    number > 0, stored as a plain ``float``, and every ridge point (peak / bandwidth) finite and > 0.
    Anything else raises ``ValueError`` naming the field.
    """

    name: str
    peak_flops_per_s: Mapping[str, float]
    bandwidth_bytes_per_s: float
    memory_bytes: float
    source: str

    def __post_init__(self) -> None:
        # Stored as plain Python str and float, whatever str or number subclass was passed.
        object.__setattr__(self, "name", _checks.text("name", self.name, empty=False))
        if not isinstance(self.peak_flops_per_s, Mapping) or not self.peak_flops_per_s:
            raise ValueError("peak_flops_per_s must be a non-empty mapping of dtype -> FLOP/s")
        bandwidth = _checks.positive("bandwidth_bytes_per_s", self.bandwidth_bytes_per_s)
        peaks = {}
        for dt, value in self.peak_flops_per_s.items():
            key = check_dtype("peak_flops_per_s key", dt)
            peaks[key] = _checks.positive(f"peak_flops_per_s[{key!r}]", value)
            ridge = peaks[key] / bandwidth
            if not (math.isfinite(ridge) and ridge > 0):
                raise ValueError(
                    f"peak_flops_per_s[{key!r}]: the ridge point {peaks[key]!r} / {bandwidth!r} FLOP/byte "
                    "is not a finite positive number"
                )
        object.__setattr__(self, "peak_flops_per_s", MappingProxyType(peaks))
        object.__setattr__(self, "bandwidth_bytes_per_s", bandwidth)
        object.__setattr__(self, "memory_bytes", _checks.positive("memory_bytes", self.memory_bytes))
        object.__setattr__(self, "source", _checks.text("source", self.source))

    def peak(self, compute_dtype: str) -> float:
        """Dense peak FLOP/s for ``compute_dtype``; ValueError if that dtype has no documented peak."""
        check_dtype("compute_dtype", compute_dtype)
        if compute_dtype not in self.peak_flops_per_s:
            have = ", ".join(self.peak_flops_per_s)
            raise ValueError(
                f"compute_dtype: {self.name!r} has no verified peak for {compute_dtype!r} (verified: {have})"
            )
        return self.peak_flops_per_s[compute_dtype]

    def ridge_point(self, compute_dtype: str = "bf16") -> float:
        """Arithmetic intensity (FLOP/byte) at which compute time equals memory time."""
        return self.peak(compute_dtype) / self.bandwidth_bytes_per_s

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (for JSON)."""
        return _checks.to_dict(self)
