"""specdec: an executable survey of speculative decoding.

Modules (one per page of the site's API reference):

- :mod:`specdec.sampling` -- Leviathan et al. (2023) Algorithm 1, the speculative sampler.
- :mod:`specdec.tree` -- token trees: tree attention, greedy and multi-candidate verification.
- :mod:`specdec.models` -- toy n-gram language models and drafts for it.
- :mod:`specdec.core`, :mod:`specdec.targets`, :mod:`specdec.drafters`, :mod:`specdec.decode` -- the
  one decoding stack: probability rows, verification and trees; the target and drafter protocols;
  the one loop for chains and trees.
- :mod:`specdec.perf` -- the roofline calculator: hardware, shapes, presets, kernels, crossovers,
  requests, recorded evidence, the speedup model of Leviathan et al. (2023) section 3, and a probe of
  the reader's own machine (the only part that needs NumPy).
- :mod:`specdec.tutor` -- the toy grammar tutor.
- :mod:`specdec.roofline`, :mod:`specdec.generation`, :mod:`specdec.hf_config`,
  :mod:`specdec.evidence`, :mod:`specdec.speedup`, :mod:`specdec.probe` -- the calculator's earlier
  paths, re-exporting :mod:`specdec.perf`.

``import specdec`` imports none of them: each is imported when first named (``specdec.sampling``), so
``python -m specdec --help`` stays quick and does not load NumPy.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__version__ = "0.1.0"

__all__ = [
    "sampling",
    "tree",
    "models",
    "core",
    "targets",
    "drafters",
    "decode",
    "perf",
    "tutor",
    "roofline",
    "generation",
    "hf_config",
    "evidence",
    "speedup",
    "probe",
]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
