"""Measures this machine with NumPy, at its earlier path: every public name of :mod:`specdec.perf.probe`,
re-exported so that ``from specdec.probe import ...`` keeps working."""

from __future__ import annotations

from specdec.perf.probe import *  # noqa: F403 (the re-export is the point)
from specdec.perf.probe import __all__  # noqa: F401
