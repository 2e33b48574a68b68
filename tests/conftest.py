"""Shared fixtures: one strict build of the site per test session.

BLAS runs one thread in the tests (set here, before any test module imports NumPy): the models here
are small, and on a 2-core machine a threaded BLAS made the tutor's forwards several times slower
and erratic, as in ``bench/spec_bench.py`` and ``bench/bench_tutor.py``.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
import fcntl  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
SPHINX = [sys.executable, "-m", "sphinx"]
STRICT = ["-W", "--keep-going", "-n"]

sys.path.insert(0, str(Path(__file__).resolve().parent))


@dataclass(frozen=True)
class Build:
    returncode: int
    output: str
    outdir: Path


def sphinx_build(builder: str, *extra: str) -> Build:
    """``sphinx-build -M <builder> docs _build -c .`` with the strict options, output captured.

    Builds hold an exclusive lock on ``_build/.build.lock``, so two test processes (pytest-xdist
    workers) never write the same output at once, whatever the scheduling: one fresh-clone run
    failed when the search index's temporary file vanished before Sphinx could rename it.
    """
    cmd = [*SPHINX, "-M", builder, "docs", str(BUILD), "-c", ".", *STRICT, *extra]
    BUILD.mkdir(exist_ok=True)
    with open(BUILD / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"}
        )
    return Build(proc.returncode, proc.stdout + proc.stderr, BUILD / builder)


@pytest.fixture(scope="session")
def html_build() -> Build:
    """A strict HTML build that re-reads every page (``-E``), so no warning hides in a cache."""
    return sphinx_build("html", "-E")


@pytest.fixture(scope="session")
def doctest_build(html_build: Build) -> Build:
    """The doctest builder over every page (reuses the environment the HTML build just wrote)."""
    return sphinx_build("doctest")


# Fixtures that build the site, and those that drive the browser (each of which builds it too).
BUILD_FIXTURES = frozenset({"html_build", "doctest_build"})
BROWSER_FIXTURES = frozenset({"browser_context", "site_url"})


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the group marks (--dist loadgroup)
def pytest_collection_modifyitems(items) -> None:
    """Mark every test that uses a site build ``build`` and every test that uses the browser
    ``browser``, wherever it is written, so that ``-m "not browser and not build"`` is the unit run."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BUILD_FIXTURES:
            item.add_marker(pytest.mark.build)
        if used & BROWSER_FIXTURES or item.path.name == "test_browser.py":
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.build)
        if item.get_closest_marker("build"):  # one worker builds _build/ and drives the browser
            item.add_marker(pytest.mark.xdist_group("site"))


def pytest_terminal_summary(terminalreporter) -> None:
    """After every run: how far the roofline sits below each recorded measurement (bench/results/)."""
    import json

    from specdec.evidence import gpu_points, probe_points, summarise

    results = ROOT / "bench" / "results"
    points = gpu_points(json.loads((results / "gpu-h200-2026-11-29.json").read_text(encoding="utf-8")))
    points += probe_points(json.loads((results / "probe-cpu.json").read_text(encoding="utf-8")))
    terminalreporter.write_sep("-", "recorded measurements: the share of the roofline each run achieved")
    for line in summarise(points):
        terminalreporter.write_line(line)
