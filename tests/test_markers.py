"""The ``build`` and ``browser`` markers are on every test that builds the site or drives the browser,
so ``pytest -m "not browser and not build"`` is a quick unit run that builds nothing."""

from __future__ import annotations

import pytest

from conftest import BROWSER_FIXTURES, BUILD_FIXTURES


def marks(item: pytest.Item) -> set[str]:
    return {mark.name for mark in item.iter_markers()}


def test_every_collected_build_or_browser_test_carries_its_marker(request):
    items = request.session.items  # what this run collected and kept (after -m and -k)
    assert request.node in items
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BUILD_FIXTURES or item.path.name == "test_build_config.py":
            assert "build" in marks(item), f"{item.nodeid} builds the site without the build marker"
        if used & BROWSER_FIXTURES or item.path.name == "test_browser.py":
            assert {"browser", "build"} <= marks(item), f"{item.nodeid} drives the browser unmarked"
    citations = [item for item in items if item.name == "test_bibliography_page_renders_every_entry"]
    assert all("build" in marks(item) for item in citations)


def test_the_unit_run_keeps_no_build(request):
    """Under ``-m "not browser and not build"`` no collected test may need a build."""
    expression = request.config.getoption("markexpr")
    if "not build" in expression and "not browser" in expression:
        for item in request.session.items:
            assert not set(getattr(item, "fixturenames", ())) & (BUILD_FIXTURES | BROWSER_FIXTURES), (
                item.nodeid
            )
    declared = {line.split(":")[0] for line in request.config.getini("markers")}
    assert {"build", "browser"} <= declared  # declared in pyproject.toml, so -m can name them
