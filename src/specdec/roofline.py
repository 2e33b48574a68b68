"""The roofline calculator's public names at their earlier path: a re-export of :mod:`specdec.perf`.

Kept so that earlier imports keep working; the objects live in
:mod:`specdec.perf.units`, :mod:`specdec.perf.hardware`, :mod:`specdec.perf.shapes`,
:mod:`specdec.perf.presets`, :mod:`specdec.perf.kernels`, :mod:`specdec.perf.crossovers` and
:mod:`specdec.perf.report`."""

from __future__ import annotations

from specdec.perf.crossovers import (
    COMPUTE_BOUND_K_MAX,
    COMPUTE_BOUND_MAX_BATCH,
    compute_bound_batch,
    compute_bound_k,
    matmul_bound_batch,
    sweep_tokens,
    verification_cost_ratio,
)
from specdec.perf.hardware import (
    Hardware,
)
from specdec.perf.kernels import (
    ForwardCost,
    KernelCost,
    MatmulCost,
    forward_cost,
    matmul_cost,
)
from specdec.perf.presets import (
    HARDWARE,
    MODELS,
    get_hardware,
    get_model,
    half_precision_dtype,
    load_presets,
)
from specdec.perf.report import (
    RooflineReport,
    format_breakdown,
    roofline_report,
)
from specdec.perf.shapes import (
    ModelShape,
)
from specdec.perf.units import (
    DTYPE_BYTES,
    MAX_COUNT,
)

__all__ = [
    "DTYPE_BYTES",
    "MAX_COUNT",
    "Hardware",
    "ModelShape",
    "HARDWARE",
    "MODELS",
    "load_presets",
    "get_hardware",
    "half_precision_dtype",
    "get_model",
    "ForwardCost",
    "MatmulCost",
    "forward_cost",
    "matmul_cost",
    "KernelCost",
    "COMPUTE_BOUND_MAX_BATCH",
    "COMPUTE_BOUND_K_MAX",
    "verification_cost_ratio",
    "compute_bound_batch",
    "compute_bound_k",
    "matmul_bound_batch",
    "sweep_tokens",
    "format_breakdown",
    "RooflineReport",
    "roofline_report",
]
