"""Units, dtypes and the argument checks shared by the calculator's modules.

Pure Python (the standard library and ``specdec._checks``), so every module of ``specdec.perf``
but :mod:`specdec.perf.probe` imports without NumPy. Conventions: FLOPs count a multiply-add as 2;
GB, TB and TFLOPS are decimal (10^9, 10^12) as vendors print them, GiB is 2^30; byte counts are
floats, so a 4-bit weight costs 0.5 bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from specdec import _checks

__all__ = [
    "DTYPE_BYTES",
    "MAX_COUNT",
    "WEIGHT_ONLY_DTYPES",
    "check_count",
    "check_dtype",
    "default_compute_dtype",
    "format_si",
]

#: Bytes per element of each supported dtype. Sub-byte types stay fractional (int4 = 0.5 bytes).
DTYPE_BYTES: Mapping[str, float] = MappingProxyType(
    {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
)

#: Integer weight formats, read as weight-only quantisation: their matmuls run in bf16 by default.
WEIGHT_ONLY_DTYPES = frozenset({"int8", "int4"})

#: Largest ``batch``, ``new_tokens``, ``context``, matmul size and model dimension accepted: 2^53, up
#: to which every integer is an exact float. With every count bounded so, no FLOP or byte count can
#: overflow a float (or raise ``OverflowError``).
MAX_COUNT = _checks.MAX_EXACT_INT


def check_count(name: str, value: object, minimum: int, maximum: int = MAX_COUNT) -> int:
    """``value`` as a plain ``int`` in [``minimum``, ``maximum``]; ``TypeError`` or ``ValueError``
    naming ``name`` otherwise."""
    return _checks.integer(name, value, minimum, maximum)


def check_dtype(name: str, value: object) -> str:
    """``value`` as a key of :data:`DTYPE_BYTES`; ``TypeError`` for a non-string, ``ValueError`` for an
    unknown dtype, each naming ``name`` and listing the valid dtypes."""
    valid = ", ".join(DTYPE_BYTES)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a dtype name (a string), got {_checks.show(value)}; valid: {valid}")
    if value not in DTYPE_BYTES:
        raise ValueError(f"{name}: unknown dtype {_checks.show(value)}; valid: {valid}")
    return str(value)


def default_compute_dtype(weight_dtype: str) -> str:
    """The compute dtype of weights in ``weight_dtype``: the same dtype, or bf16 for int8/int4."""
    return "bf16" if weight_dtype in WEIGHT_ONLY_DTYPES else weight_dtype


def format_si(value: float, unit: str, digits: int = 3) -> str:
    """``value`` with a decimal SI prefix and ``digits`` significant digits: ``format_si(13.2e9, "B")``
    is ``'13.2 GB'``."""
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {prefix}{unit}"
    return f"{value:.{digits}g} {unit}".rstrip()
