"""Recorded measurements beside the roofline, at its earlier path: every public name of
:mod:`specdec.perf.evidence`, re-exported so that ``from specdec.evidence import ...`` keeps working."""

from __future__ import annotations

from specdec.perf.evidence import *  # noqa: F403 (the re-export is the point)
from specdec.perf.evidence import __all__  # noqa: F401
