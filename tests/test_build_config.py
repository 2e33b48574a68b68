"""conf.py: a build for the web without the copied bundles fails, and the configuration is stable.

Both use a one-page site built with the project's conf.py (``-c``) into a temporary folder: what is
checked depends on the configuration and the extensions, not on the pages.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, STRICT

pytestmark = pytest.mark.build

CHANGED = "The configuration has changed"


def build(src: Path, out: Path, *extra: str, builder: str = "html") -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-b",
        builder,
        str(src),
        str(out),
        "-c",
        str(ROOT),
        *STRICT,
        *extra,
    ]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.md").write_text("# One page\n\nWith a formula, $x^2$.\n", encoding="utf-8")
    return src


def static_folder(tmp_path: Path, *files: str) -> str:
    """A static folder holding (empty) ``files``, in place of docs/_static."""
    folder = tmp_path / "static"
    for rel in files:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("", encoding="utf-8")
    folder.mkdir(exist_ok=True)
    return f"html_static_path={folder}"


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        ((), ["mermaid", "MathJax"]),
        (("mermaid/mermaid.esm.min.mjs",), ["MathJax"]),
        (("mathjax/tex-chtml.js",), ["mermaid"]),
    ],
)
def test_a_strict_build_without_a_bundle_fails_and_says_which(site, tmp_path, present, missing):
    proc = build(site, tmp_path / "out", "-D", static_folder(tmp_path, *present))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    named = {name for name in ("mermaid", "MathJax") if f"the {name} bundle is missing" in output}
    assert named == set(missing), output
    assert "run `make assets`" in output


def test_the_doctest_builder_does_not_need_the_bundles(site, tmp_path):
    # `make doctest` sets up Python only; the bundles matter for the web pages alone.
    proc = build(site, tmp_path / "out", "-D", static_folder(tmp_path), builder="doctest")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "bundle is missing" not in proc.stdout + proc.stderr


def test_a_second_build_finds_the_same_configuration(site, tmp_path):
    # The first build is also the control for the missing-bundle test: docs/_static holds both bundles
    # (make assets), so the one-page site builds with no warning.
    first = build(site, tmp_path / "out")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "bundle is missing" not in first.stdout + first.stderr
    second = build(site, tmp_path / "out")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "loading pickled environment" in second.stdout  # the second build did compare
    assert CHANGED not in second.stdout + second.stderr, second.stdout
