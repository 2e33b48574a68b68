"""Numbers the survey quotes from recorded runs must match the recorded files they cite.

The survey's evidence page builds a ``Hardware`` for the CPU of the recorded probe run and quotes the
measured cost of a 4-row product (the figure the verdict withdrew); if the probe is re-recorded, these
tests fail until the page follows.
"""

from __future__ import annotations

import json
import re

import pytest

from sitecheck import ROOT

EVIDENCE = ROOT / "experiments" / "36-speculative-survey" / "evidence.md"
PROBE = json.loads((ROOT / "bench" / "results" / "probe-cpu.json").read_text(encoding="utf-8"))


def quoted(pattern: str) -> float:
    m = re.search(pattern, EVIDENCE.read_text(encoding="utf-8"))
    assert m, f"the evidence page no longer contains {pattern!r}"
    return float(m[1])


def test_evidence_cpu_peaks_are_the_recorded_probe_peaks():
    flops = quoted(r'peak_flops_per_s=\{"fp32": ([0-9.e]+)\}')
    bandwidth = quoted(r"bandwidth_bytes_per_s=([0-9.e]+)")
    assert flops == pytest.approx(PROBE["peak_flops_per_s"], rel=1e-3)
    assert bandwidth == pytest.approx(PROBE["bandwidth_bytes_per_s"], rel=1e-3)


def test_evidence_four_row_cost_is_the_recorded_measurement():
    ratio = quoted(r"used ([0-9.]+) instead, the ratio of 4 rows to 1")
    measured = dict(zip(PROBE["tokens"], PROBE["measured_ratios"]))
    assert ratio == pytest.approx(measured[4], abs=0.005)
