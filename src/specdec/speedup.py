"""The speedup model of Leviathan et al. (2023) section 3, at its earlier path: every public name of
:mod:`specdec.perf.speedup`, re-exported so that ``from specdec.speedup import ...`` keeps working."""

from __future__ import annotations

from specdec.perf.speedup import *  # noqa: F403 (the re-export is the point)
from specdec.perf.speedup import __all__  # noqa: F401
