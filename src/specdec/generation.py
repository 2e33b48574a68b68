"""The roofline cost of a whole request, at its earlier path: every public name of
:mod:`specdec.perf.requests`, re-exported so that ``from specdec.generation import ...`` keeps working."""

from __future__ import annotations

from specdec.perf.requests import *  # noqa: F403 (the re-export is the point)
from specdec.perf.requests import __all__  # noqa: F401
