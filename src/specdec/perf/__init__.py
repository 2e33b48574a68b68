"""The LLM-decode roofline calculator, one module per concern (pure Python but :mod:`~specdec.perf.probe`).

- :mod:`specdec.perf.units` -- dtypes and their bytes, the count bound, the shared argument checks.
- :mod:`specdec.perf.hardware` -- :class:`~specdec.perf.hardware.Hardware`: peaks, bandwidth, memory.
- :mod:`specdec.perf.shapes` -- :class:`~specdec.perf.shapes.ModelShape`: a transformer's shape.
- :mod:`specdec.perf.hf_config` -- a shape's fields from a local Hugging Face ``config.json``.
- :mod:`specdec.perf.presets` -- the sourced presets of ``data/presets.toml``.
- :mod:`specdec.perf.kernels` -- FLOPs, bytes and roofline time of a forward, kernel by kernel.
- :mod:`specdec.perf.crossovers` -- where decode and verification turn compute-bound; c_verify.
- :mod:`specdec.perf.report` -- what ``specdec roofline`` prints.
- :mod:`specdec.perf.requests` -- a whole request: prefill, decode, KV cache, the batch that fits.
- :mod:`specdec.perf.evidence` -- recorded measurements beside the prediction.
- :mod:`specdec.perf.speedup` -- the speedup model of Leviathan et al. (2023) section 3.
- :mod:`specdec.perf.probe` -- measures this machine with NumPy.

Importing the package imports none of them; ``from specdec.perf import kernels`` imports one. The
earlier paths (:mod:`specdec.roofline`, :mod:`specdec.hf_config`,
:mod:`specdec.generation`, :mod:`specdec.evidence`, :mod:`specdec.probe`, :mod:`specdec.speedup`)
re-export the same objects.
"""

from __future__ import annotations

__all__ = [
    "units",
    "hardware",
    "shapes",
    "hf_config",
    "presets",
    "kernels",
    "crossovers",
    "report",
    "requests",
    "evidence",
    "speedup",
    "probe",
]
