"""Every diagram renders in a real browser, offline: headless Chromium against the built site.

The site is served on 127.0.0.1 (a free port). For each built page that holds a mermaid diagram the
test asserts that (a) each diagram became an ``<svg>`` holding its node and edge labels, and (b) no
request went to any host but 127.0.0.1. A missing local mermaid bundle gives no Sphinx warning, so
this is the only guard against a site that silently shows diagram source instead of diagrams.

Without Chromium the test is skipped, unless SPECDEC_REQUIRE_BROWSER=1 (set by .ci/run), where a
missing browser is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import Build
from sitecheck import mermaid_blocks, mermaid_labels, normalise_text

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
RENDER_TIMEOUT_MS = 20_000


def _chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and (path := shutil.which(name)):
            return path
    return None


def _require_browser():
    path = _chromium()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path = None
    if path is None:
        if os.environ.get("SPECDEC_REQUIRE_BROWSER") == "1":
            pytest.fail("SPECDEC_REQUIRE_BROWSER=1 but Chromium (or the playwright package) is missing")
        pytest.skip("Chromium not installed: the diagram check needs a real browser")
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url(html_build: Build):
    assert html_build.returncode == 0, "the HTML build failed; see test_site.py"
    handler = functools.partial(_QuietHandler, directory=str(html_build.outdir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    chromium = _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            user_data_dir=str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        try:
            yield context
        finally:
            context.close()


def diagram_pages(outdir: Path) -> dict[str, list[str]]:
    """Built pages holding at least one diagram -> their mermaid sources."""
    pages = {}
    for page in sorted(outdir.rglob("*.html")):
        if "_static" in page.parts or "_sources" in page.parts:
            continue
        blocks = mermaid_blocks(page.read_text(encoding="utf-8"))
        if blocks:
            pages[page.relative_to(outdir).as_posix()] = blocks
    return pages


def render_page(context, url: str):
    """Open ``url``; return (page, non-local request URLs, page errors) once diagrams settled.

    Failed local requests (HTTP >= 400, the browser's own /favicon.ico probe aside) are page errors.
    """
    foreign: list[str] = []
    errors: list[str] = []

    def response(r):
        if r.status >= 400 and not r.url.endswith("/favicon.ico"):
            errors.append(f"HTTP {r.status} for {r.url}")

    def route(r):
        if urlsplit(r.request.url).hostname == "127.0.0.1" or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()

    page = context.new_page()
    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", response)
    page.goto(url, wait_until="load")
    try:
        page.wait_for_function(
            # mermaid inserts the <svg> first and sets its viewBox once layout is done
            "() => [...document.querySelectorAll('pre.mermaid')].every(e => e.querySelector('svg[viewBox]'))",
            timeout=RENDER_TIMEOUT_MS,
        )
    except Exception:  # reported per diagram below, with the page and the diagram named
        pass
    return page, foreign, errors


def test_site_has_diagrams(html_build: Build):
    pages = diagram_pages(html_build.outdir)
    assert any("decision-tree" in p for p in pages), f"no diagram on the decision-tree page; pages: {sorted(pages)}"


def test_every_diagram_renders_offline(html_build: Build, site_url: str, browser_context):
    pages = diagram_pages(html_build.outdir)
    assert pages, "no built page holds a diagram"
    problems: list[str] = []
    for rel, sources in pages.items():
        page, foreign, errors = render_page(browser_context, f"{site_url}/{rel}")
        rendered = page.eval_on_selector_all(
            "pre.mermaid",
            "els => els.map(e => { const s = e.querySelector('svg'); return s ? s.textContent : null; })",
        )
        if len(rendered) != len(sources):
            problems.append(f"{rel}: {len(sources)} diagrams in the HTML, {len(rendered)} in the page")
        for i, (src, text) in enumerate(zip(sources, rendered), start=1):
            name = f"{rel}, diagram {i} ({src.splitlines()[0].strip()} ...)"
            if text is None:
                problems.append(f"{name}: no <svg> (mermaid did not render it){'; ' + '; '.join(errors) if errors else ''}")
                continue
            got = normalise_text(text)
            missing = [label for label in mermaid_labels(src) if label not in got]
            if missing:
                problems.append(f"{name}: labels missing from the SVG: {missing}; SVG text ends: {text[-160:]!r}")
        if foreign:
            problems.append(f"{rel}: requests to hosts other than 127.0.0.1: {sorted(set(foreign))}")
        page.close()
    assert not problems, "\n".join(problems)


def built_pages(outdir: Path) -> list[str]:
    return sorted(p.relative_to(outdir).as_posix() for p in outdir.rglob("*.html")
                  if "_static" not in p.parts and "_sources" not in p.parts)


def test_every_page_is_offline_and_its_math_renders(html_build: Build, site_url: str, browser_context):
    """No page requests another host or misses a local file; MathJax typesets every formula."""
    problems: list[str] = []
    for rel in built_pages(html_build.outdir):
        source = (html_build.outdir / rel).read_text(encoding="utf-8")
        page, foreign, errors = render_page(browser_context, f"{site_url}/{rel}")
        if 'class="math' in source:
            try:
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.math')].every(e => e.querySelector('mjx-container'))",
                    timeout=RENDER_TIMEOUT_MS,
                )
            except Exception:
                problems.append(f"{rel}: some formulas were not typeset by MathJax")
        if foreign:
            problems.append(f"{rel}: requests to hosts other than 127.0.0.1: {sorted(set(foreign))}")
        problems += [f"{rel}: {e}" for e in errors]
        page.close()
    assert not problems, "\n".join(problems)


def test_diagrams_follow_the_dark_theme(html_build: Build, site_url: str, browser_context):
    """furo's theme toggle re-renders diagrams with mermaid's dark theme: no hard-coded colours."""
    rel = next(iter(diagram_pages(html_build.outdir)))
    page, _, _ = render_page(browser_context, f"{site_url}/{rel}")
    fill = "() => { const r = document.querySelector('pre.mermaid svg .node rect, pre.mermaid svg .node polygon');" \
           " return r ? getComputedStyle(r).fill : null; }"
    light = page.evaluate(fill)
    page.evaluate("document.body.dataset.theme = 'dark'")
    page.wait_for_function(f"(light) => {{ const f = ({fill})(); return f !== null && f !== light; }}", arg=light,
                           timeout=RENDER_TIMEOUT_MS)
    dark = page.evaluate(fill)
    page.close()
    assert light and dark and light != dark, f"{rel}: node fill {light!r} in light mode, {dark!r} in dark mode"
