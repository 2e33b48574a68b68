"""Reading a local Hugging Face ``config.json``, at its earlier path: a re-export.

Kept so that earlier imports keep working; the objects live in
:mod:`specdec.perf.hf_config`, :mod:`specdec.perf.shapes`."""

from __future__ import annotations

from specdec.perf.hf_config import (
    MAX_CONFIG_BYTES,
    SUPPORTED_MODEL_TYPES,
    gpt2_params_left_out,
)
from specdec.perf.shapes import (
    shape_from_hf_config,
)

__all__ = [
    "MAX_CONFIG_BYTES",
    "SUPPORTED_MODEL_TYPES",
    "gpt2_params_left_out",
    "shape_from_hf_config",
]
