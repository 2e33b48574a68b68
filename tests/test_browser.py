"""Every diagram renders in a real browser, offline: headless Chromium against the built site.

The site is served on 127.0.0.1 (a free port). For each built page that holds a mermaid diagram the
test asserts that (a) each diagram became an ``<svg>`` holding its node and edge labels, and (b) no
request went to any host but 127.0.0.1. A missing local mermaid bundle gives no Sphinx warning, so
this is the only guard against a site that silently shows diagram source instead of diagrams.

Without Chromium the test is skipped, unless SPECDEC_REQUIRE_BROWSER=1 (set by .ci/run), where a
missing browser is a failure. The layout checks (widths, lengths, what fits a phone) measure text set in
furo's Helvetica/Arial: on Linux they need an Arial-metric font (Liberation Sans, package
``fonts-liberation``) and are skipped without one, failed under SPECDEC_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import Build
from sitecheck import mermaid_blocks, mermaid_labels, normalise_text

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # no host but this machine resolves, so nothing a page asks for can leave it; every request is still
    # logged (render_page) and any to another host fails the test. Blocking here rather than routing
    # each request through the test keeps the browser's cache: each page would otherwise fetch the
    # mermaid and MathJax bundles anew.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
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


LAYOUT_FONTS = ("Liberation Sans", "Arial", "Helvetica")
"""Families the layout checks accept for furo's ``Helvetica, Arial`` (Liberation Sans has Arial's metrics)."""


def _sans_family() -> str | None:
    """The family fontconfig gives for Helvetica (what Chromium on Linux sets furo's body text in);
    None without fontconfig (macOS and Windows ship Helvetica or Arial)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    run = subprocess.run(
        [fc_match, "-f", "%{family}", "Helvetica"], capture_output=True, text=True, timeout=30
    )
    return run.stdout.strip()


@pytest.fixture(scope="module")
def layout_font():
    """The layout checks' font: each width and length they assert depends on the font text is set in.
    With a wider substitute (DejaVu Sans, the only sans of a bare Debian) a line of a phone page is a
    few pixels wider and a long page a screen longer than on a reader's device, so they would measure
    the machine, not the site."""
    family = _sans_family()
    if family is None or any(name in family for name in LAYOUT_FONTS):
        return family
    message = (
        f"the layout checks measure text set in Helvetica/Arial, but fontconfig gives {family!r}: "
        "install an Arial-metric font (apt-get install fonts-liberation)"
    )
    if os.environ.get("SPECDEC_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


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


def logged_page(context):
    """A new page, and the lists its listeners fill: (page, non-local request URLs, page errors).

    Failed local requests (HTTP >= 400, the browser's own /favicon.ico probe aside) are page errors.
    """
    foreign: list[str] = []
    errors: list[str] = []

    def response(r):
        if r.status >= 400 and not r.url.endswith("/favicon.ico"):
            errors.append(f"HTTP {r.status} for {r.url}")

    def request(r):
        if urlsplit(r.url).hostname != "127.0.0.1" and not r.url.startswith(("data:", "blob:")):
            foreign.append(r.url)

    page = context.new_page()
    page.on("request", request)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", response)
    return page, foreign, errors


def load(page, url: str) -> None:
    """Open ``url`` in ``page`` and wait until its diagrams are drawn (or the render timeout passes)."""
    page.goto(url, wait_until="load")
    try:
        page.wait_for_function(
            # mermaid inserts the <svg> first and sets its viewBox once layout is done
            "() => [...document.querySelectorAll('pre.mermaid')].every(e => e.querySelector('svg[viewBox]'))",
            timeout=RENDER_TIMEOUT_MS,
        )
    except Exception:  # reported per diagram below, with the page and the diagram named
        pass


def render_page(context, url: str):
    """Open ``url`` in a new page; (page, non-local request URLs, page errors) once diagrams settled."""
    page, foreign, errors = logged_page(context)
    load(page, url)
    return page, foreign, errors


def test_site_has_diagrams(html_build: Build):
    pages = diagram_pages(html_build.outdir)
    assert any("decision-tree" in p for p in pages), (
        f"no diagram on the decision-tree page; pages: {sorted(pages)}"
    )


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
                problems.append(
                    f"{name}: no <svg> (mermaid did not render it){'; ' + '; '.join(errors) if errors else ''}"
                )
                continue
            got = normalise_text(text)
            missing = [label for label in mermaid_labels(src) if label not in got]
            if missing:
                problems.append(
                    f"{name}: labels missing from the SVG: {missing}; SVG text ends: {text[-160:]!r}"
                )
        if foreign:
            problems.append(f"{rel}: requests to hosts other than 127.0.0.1: {sorted(set(foreign))}")
        page.close()
    assert not problems, "\n".join(problems)


def built_pages(outdir: Path) -> list[str]:
    return sorted(
        p.relative_to(outdir).as_posix()
        for p in outdir.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts
    )


SITE_PARTS = ("api", "pages")  # the API reference (api/…), and every other page


def site_part(rel: str) -> str:
    return "api" if rel.startswith("api/") else "pages"


@pytest.mark.parametrize("part", SITE_PARTS)
def test_every_page_is_offline_and_its_math_renders(sweep, part: str):
    """No page requests another host or misses a local file; MathJax typesets every formula."""
    problems: list[str] = []
    pages = sweep("desktop", part=part)
    assert pages, f"no built page in the part {part!r}"
    for rel, rec in pages.items():
        if rec["math"] and not rec["math_ok"]:
            problems.append(f"{rel}: some formulas were not typeset by MathJax")
        if rec["foreign"]:
            problems.append(f"{rel}: requests to hosts other than 127.0.0.1: {sorted(set(rec['foreign']))}")
        problems += [f"{rel}: {e}" for e in rec["errors"]]
    assert not problems, "\n".join(problems)


NODE_FILL_JS = (
    "() => { const r = document.querySelector('pre.mermaid svg .node rect, pre.mermaid svg .node polygon');"
    " return r ? getComputedStyle(r).fill : null; }"
)


# every diagram drawn again after a theme change: an <svg> with its viewBox, and (where it has a box
# node) a node fill other than the light theme's; the diagrams are redrawn one after another
ALL_REDRAWN_JS = """(light) => [...document.querySelectorAll('pre.mermaid')].every(e => {
  const svg = e.querySelector('svg[viewBox]');
  const node = svg && svg.querySelector('.node rect, .node polygon');
  return !!svg && (!node || getComputedStyle(node).fill !== light);
})"""


def switch_to_dark(page) -> tuple[str | None, str | None]:
    """furo's toggle to the dark theme; waits until every diagram is drawn again in it.
    -> (light, dark) node fill of the first diagram."""
    light = page.evaluate(NODE_FILL_JS)
    page.evaluate("document.body.dataset.theme = 'dark'")
    if light is not None:
        page.wait_for_function(ALL_REDRAWN_JS, arg=light, timeout=RENDER_TIMEOUT_MS)
    return light, page.evaluate(NODE_FILL_JS)


def test_diagrams_follow_the_dark_theme(html_build: Build, site_url: str, browser_context):
    """furo's theme toggle re-renders diagrams with mermaid's dark theme: no hard-coded colours."""
    rel = next(iter(diagram_pages(html_build.outdir)))
    page, _, _ = render_page(browser_context, f"{site_url}/{rel}")
    light, dark = switch_to_dark(page)
    page.close()
    assert light and dark and light != dark, (
        f"{rel}: node fill {light!r} in light mode, {dark!r} in dark mode"
    )


# --- Layout: legible at 1,400 px and at 390 px, light and dark -------------------------------------
WIDTHS = {"desktop": (1400, 900), "phone": (390, 844)}
SURVEY = "experiments/36-speculative-survey"
MIN_DIAGRAM_TEXT_PX = 12.0
MAX_DIAGRAM_HEIGHT_PX = 900.0
MAX_MATRIX_COLUMNS = 7
MAX_CALLOUT_WORDS = 250
MIN_CONTRAST = 4.5

OVERFLOW_JS = """() => {
  // Content that sticks out of the page, or of furo's content column, without sitting in a
  // scroll container of its own (a table wrapper, a code box, a formula, a diagram).
  const vw = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > vw + 1)
    out.push(`page is ${document.documentElement.scrollWidth}px wide in a ${vw}px viewport`);
  const el = document.querySelector('.content');
  if (el && el.scrollWidth > el.clientWidth + 1)
    out.push(`.content overflows: ${el.scrollWidth}px of content in ${el.clientWidth}px`);
  return out;
}"""


# Two animation frames: the page's scroll-cue script re-marks wide boxes in the frame after a resize or
# a change to the page (docs/_static/specdec.js), so after two frames its marks are in place.
SETTLE_JS = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"


def settle(page) -> None:
    """Wait until the page's resize and mutation handlers have run (two animation frames)."""
    page.evaluate(SETTLE_JS)


def _open(context, url: str, width: int, height: int, theme: str = "light"):
    """``url`` rendered, resized and in ``theme``."""
    page = render_page(context, url)[0]
    page.set_viewport_size({"width": width, "height": height})
    if theme == "dark":
        switch_to_dark(page)
    page.evaluate("window.dispatchEvent(new Event('resize'))")
    settle(page)
    return page


MATH_DONE_JS = "() => [...document.querySelectorAll('.math')].every(e => e.querySelector('mjx-container'))"
NESTED_JS = (
    "() => [...document.querySelectorAll('div.math mjx-container')].filter(c =>"
    " getComputedStyle(c).overflowX !== 'visible' && c.scrollWidth > c.clientWidth + 1).length"
)
TEX_ERROR_JS = "() => [...document.querySelectorAll('mjx-merror')].map(e => e.closest('.math').textContent)"

# What the whole-site sweep measures on every built page, by (width, theme), in this order: each page is
# loaded once, measured at 1,400 px, resized to 390 px and measured, then switched to the dark theme and
# measured again (the JS is defined beside the test that reads it).
SWEEPS = {
    ("desktop", "light"): ("overflow", "height", "code", "tex", "tables"),
    ("phone", "light"): ("overflow", "title", "formula", "nested", "plots", "sticky"),
    ("phone", "dark"): ("plots",),
}


def _probe_js() -> dict[str, str]:
    return {
        "overflow": OVERFLOW_JS,
        "height": "() => document.documentElement.scrollHeight",
        "code": CODE_JS,
        "tex": TEX_ERROR_JS,
        "title": TITLE_JS,
        "formula": FORMULA_JS,
        "nested": NESTED_JS,
        "plots": PLOT_TEXT_JS,
        "tables": TABLE_SCROLL_JS,
        "sticky": STICKY_JS,
    }


def _visit(logged, outdir: Path, site_url: str, rel: str) -> dict[tuple[str, str], dict]:
    """Load one page into the ``logged_page`` (emptying its logs first), wait for its diagrams and
    formulas, and run the probes of each (width, theme) of :data:`SWEEPS` on it in turn.
    -> (width, theme) -> probe results, with the load's requests and errors."""
    page, foreign, errors = logged
    foreign.clear()
    errors.clear()
    page.set_viewport_size(
        dict(zip(("width", "height"), WIDTHS["desktop"], strict=True))
    )  # not the last page's
    load(page, f"{site_url}/{rel}")
    math = 'class="math' in (outdir / rel).read_text(encoding="utf-8")
    js, out, theme_now = _probe_js(), {}, "light"
    for (width, theme), probes in SWEEPS.items():
        page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
        if theme != theme_now:
            assert theme == "dark", "SWEEPS switches the theme once, from light to dark"
            switch_to_dark(page)
            theme_now = theme
        page.evaluate("window.dispatchEvent(new Event('resize'))")
        rec = {"math": math, "math_ok": True}
        if math:
            try:
                page.wait_for_function(MATH_DONE_JS, timeout=RENDER_TIMEOUT_MS)
            except Exception:
                rec["math_ok"] = False
        settle(page)  # the scroll cues are placed after a resize and after typesetting
        rec.update({name: page.evaluate(js[name]) for name in probes})
        out[width, theme] = rec
    for rec in out.values():  # what the load and every phase after it requested or raised
        rec["foreign"], rec["errors"] = list(foreign), list(errors)
    return out


@pytest.fixture(scope="module")
def sweep(html_build: Build, site_url: str, browser_context):
    """``sweep(width, theme, part=None)``: built page -> the probes of :data:`SWEEPS` for that width and
    theme, for one part of the site (:data:`SITE_PARTS`) or all of it. Each page is measured once per
    module run, the first time it is asked for (one load of it for every width and theme), in one browser
    page navigated from each built page to the next; the results are shared by the tests."""
    cache: dict[str, dict[tuple[str, str], dict]] = {}
    logged = []

    def get(width: str, theme: str = "light", part: str | None = None) -> dict[str, dict]:
        rels = [rel for rel in built_pages(html_build.outdir) if part in (None, site_part(rel))]
        for rel in rels:
            if rel not in cache:
                if not logged:
                    logged.append(logged_page(browser_context))
                cache[rel] = _visit(logged[0], html_build.outdir, site_url, rel)
        return {rel: cache[rel][width, theme] for rel in rels}

    yield get
    if logged:
        logged[0][0].close()


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_no_page_overflows_sideways(layout_font, sweep, width: str):
    """At 1,400 px and at 390 px nothing is wider than the viewport except inside a scroll container."""
    w = WIDTHS[width][0]
    problems = [f"{rel} at {w}px: {p}" for rel, rec in sweep(width).items() for p in rec["overflow"]]
    assert not problems, "\n".join(problems)


MATRIX_JS = """() => {
  const section = document.getElementById('comparison-matrix');
  const table = section && section.querySelector('table');
  if (!table) return null;
  const wrapper = table.closest('.table-wrapper');
  wrapper.scrollLeft = wrapper.scrollWidth;             // scrolled to the far right
  const w = wrapper.getBoundingClientRect();
  // rows drawn on screen (on a phone the header row is hidden: the matrix becomes one card per family)
  const first = [...table.querySelectorAll('tr')].filter(tr => tr.getClientRects().length)
    .map(tr => tr.cells[0].getBoundingClientRect());
  const visible = first.every(r => r.left >= w.left - 1 && r.right <= w.right + 1);
  const cue = wrapper.scrollWidth > wrapper.clientWidth + 1
    ? !!(wrapper.previousElementSibling && wrapper.previousElementSibling.classList.contains('scroll-cue')
         && getComputedStyle(wrapper.previousElementSibling).display !== 'none')
    : true;
  const rows = [...table.querySelectorAll('tbody tr')].map(tr => tr.getBoundingClientRect().height);
  const aligns = [...table.querySelectorAll('td')].map(td => getComputedStyle(td).verticalAlign);
  return {columns: table.querySelector('tr').cells.length, firstColumnVisible: visible, cue: cue,
          tallestRow: Math.max(...rows), aligns: [...new Set(aligns)],
          scrolls: wrapper.scrollWidth > wrapper.clientWidth + 1};
}"""


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_comparison_matrix_is_readable(
    layout_font, html_build: Build, site_url: str, browser_context, width: str
):
    """At most 7 columns, top-aligned; the first column stays in view however far the table scrolls;
    a table that scrolls says so; on a phone no row is taller than the screen."""
    w, h = WIDTHS[width]
    page = _open(browser_context, f"{site_url}/{SURVEY}/summary.html", w, h)
    m = page.evaluate(MATRIX_JS)
    page.close()
    assert m is not None, "no table in the 'Comparison matrix' section of the summary"
    assert m["columns"] <= MAX_MATRIX_COLUMNS, m
    assert m["firstColumnVisible"], f"at {w}px the first column scrolls out of view: {m}"
    assert m["cue"], f"at {w}px the matrix scrolls but shows no cue: {m}"
    assert m["aligns"] == ["top"], m
    assert m["tallestRow"] <= h, f"at {w}px a matrix row is {m['tallestRow']:.0f}px tall (screen {h}px)"
    if width == "desktop":
        assert not m["scrolls"], f"at {w}px the matrix should fit its (wider) column: {m}"


STICKY_JS = """() => [...document.querySelectorAll('.table-wrapper.scrolls')].map(w => {
  w.scrollLeft = 40;
  const box = w.getBoundingClientRect();
  const inner = box.left + w.clientLeft;
  const cells = [...w.querySelectorAll('tr')].filter(tr => tr.getClientRects().length)
    .map(tr => tr.cells[0].getBoundingClientRect().left);
  w.scrollLeft = 0;
  return {id: (w.closest('section') || {}).id, gap: Math.max(...cells) - inner};
})"""


@pytest.mark.browser
def test_held_first_column_leaves_no_gap(layout_font, sweep):
    """At 390 px a table that scrolls holds its first column flush with the box's left edge: no
    strip through which the scrolled text shows."""
    problems, measured = [], set()
    for rel, rec in sweep("phone").items():
        for t in rec["sticky"]:
            measured.add(rel)
            if t["gap"] > 0.5:
                problems.append(
                    f"{rel}, table in #{t['id']}: a {t['gap']:.1f}px strip left of the held column"
                )
    assert {f"{SURVEY}/summary.html", "families.html"} <= measured, f"scrolling tables measured: {measured}"
    assert not problems, "\n".join(problems)


TABLE_SCROLL_JS = """() => [...document.querySelectorAll('article .table-wrapper')]
  .filter(w => w.scrollWidth > w.clientWidth + 1)
  .map(w => `table in #${(w.closest('section') || {}).id}: ${w.scrollWidth}px in ${w.clientWidth}px`)"""


@pytest.mark.browser
def test_no_table_scrolls_at_desktop_width(layout_font, sweep):
    """At 1,400 px every table shows all its columns (the families page's nine included)."""
    problems = [f"{rel}: {t}" for rel, rec in sweep("desktop").items() for t in rec["tables"]]
    assert not problems, "\n".join(problems)


FORMULA_JS = """() => [...document.querySelectorAll('div.math')].filter(m => m.scrollWidth > m.clientWidth + 1)
  .map(m => {
    const cue = m.previousElementSibling;
    return {text: m.textContent.slice(0, 60), width: m.scrollWidth, box: m.clientWidth,
            cue: !!(cue && cue.classList.contains('scroll-cue') && getComputedStyle(cue).display !== 'none'
                    && cue.getBoundingClientRect().height > 0)};
  })"""


@pytest.mark.browser
def test_wide_formulas_say_they_scroll(layout_font, sweep):
    """At 390 px a display formula wider than the column scrolls in its own box, with a visible
    cue above it, and nothing inside it scrolls separately."""
    problems, wide = [], 0
    for rel, rec in sweep("phone").items():
        if not rec["math"]:
            continue
        if not rec["math_ok"]:
            problems.append(f"{rel}: some formulas were not typeset by MathJax")
        for f in rec["formula"]:
            wide += 1
            if not f["cue"]:
                problems.append(f"{rel}: formula {f['text']!r} ({f['width']}px in {f['box']}px) has no cue")
        if rec["nested"]:
            problems.append(f"{rel}: {rec['nested']} formulas scroll inside their box")
    assert wide, "no wide formula measured at 390 px (expected some on the roofline page)"
    assert not problems, "\n".join(problems)


MAX_SCREENS = 12.5  # "about 12 screens" at 1,400 x 900


@pytest.mark.browser
def test_no_page_is_longer_than_about_12_screens(layout_font, sweep):
    """At 1,400 x 900 no page is longer than about 12 screens (the arithmetic-intensity material is
    three pages: the model, kernels and crossovers, measured evidence)."""
    h = WIDTHS["desktop"][1]
    problems = []
    for rel, rec in sweep("desktop").items():
        if rel.startswith(("genindex", "search", "py-modindex")):
            continue
        if rec["height"] / h > MAX_SCREENS:
            problems.append(f"{rel}: {rec['height'] / h:.1f} screens")
    assert not problems, "\n".join(problems)


MAX_PHONE_H1_PX = 30.0


TITLE_JS = """async () => {
  const h1 = document.querySelector('h1');
  const icon = document.querySelector('link[rel~="icon"]');
  const ok = icon ? (await fetch(icon.href)).ok : false;
  return {h1: h1 ? parseFloat(getComputedStyle(h1).fontSize) : null, icon: icon && icon.href, ok: ok};
}"""


@pytest.mark.browser
def test_titles_fit_a_phone_and_every_page_has_a_favicon(layout_font, sweep):
    """At 390 px every page title (h1) is at most 30 px; every page links the site's own favicon,
    and it loads."""
    problems = []
    for rel, rec in sweep("phone").items():
        found = rec["title"]
        if found["h1"] is not None and found["h1"] > MAX_PHONE_H1_PX:
            problems.append(f"{rel}: h1 at {found['h1']:.0f}px")
        if not (found["icon"] and found["ok"]):
            problems.append(f"{rel}: no favicon that loads ({found})")
    assert not problems, "\n".join(problems)


MATRIX_SPEEDUP_JS = """() => {
  const table = document.querySelector('#comparison-matrix table');
  const vw = document.documentElement.clientWidth;
  const wrapper = table.closest('.table-wrapper');
  const rows = [...table.querySelectorAll('tbody tr')].map(tr => {
    const r = tr.cells[1].getBoundingClientRect();
    return {family: tr.cells[0].innerText.trim(), left: r.left, right: r.right,
            text: tr.cells[1].innerText.trim()};
  });
  return {second: table.querySelector('thead th:nth-child(2)').innerText, vw: vw, rows: rows,
          scrolls: wrapper.scrollWidth > wrapper.clientWidth + 1};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_matrix_shows_each_familys_speedup_without_scrolling(
    layout_font, html_build: Build, site_url: str, browser_context, width: str
):
    """The same-harness speedup (with tau) is the column after the family, and at 390 px (one card
    per family) and 1,400 px every family's speedup is in view without scrolling sideways."""
    w, h = WIDTHS[width]
    page = _open(browser_context, f"{site_url}/{SURVEY}/summary.html", w, h)
    m = page.evaluate(MATRIX_SPEEDUP_JS)
    page.close()
    assert "same harness" in m["second"], m["second"]
    assert not m["scrolls"], f"at {w}px the matrix scrolls sideways"
    assert len(m["rows"]) == 5, m["rows"]
    for row in m["rows"]:
        assert row["left"] >= 0 and row["right"] <= m["vw"], f"at {w}px: {row}"
        assert "×" in row["text"] and "(" in row["text"], row


FIT_JS = """() => [...document.querySelectorAll('pre.mermaid')].map(pre => {
  const svg = pre.querySelector('svg');
  return {width: svg.getBoundingClientRect().width, box: pre.clientWidth, scrolls: pre.scrollWidth > pre.clientWidth + 1};
})"""


@pytest.mark.browser
def test_decision_tree_needs_no_sideways_scrolling_on_a_phone(
    layout_font, html_build: Build, site_url: str, browser_context
):
    """At 390 px every chart of the decision tree fits its column: every answer is reachable
    without scrolling sideways (the node text stays at 12 px or more: see the test above)."""
    page = _open(browser_context, f"{site_url}/{SURVEY}/decision-tree.html", *WIDTHS["phone"])
    charts = page.evaluate(FIT_JS)
    sizes = page.evaluate(DIAGRAM_JS)
    page.close()
    assert len(charts) >= 3, charts
    wide = [c for c in charts if c["scrolls"] or c["width"] > c["box"] + 1]
    assert not wide, f"charts wider than the 390 px column: {wide}"
    assert min(d["minText"] for d in sizes) >= MIN_DIAGRAM_TEXT_PX, sizes


@pytest.mark.browser
def test_every_diagram_has_a_title_for_screen_readers(html_build: Build, site_url: str, browser_context):
    """Each chart carries an accessible title (mermaid's accTitle: an SVG <title> the SVG is
    labelled by) and a description (accDescr)."""
    problems = []
    for rel in diagram_pages(html_build.outdir):
        page = _open(browser_context, f"{site_url}/{rel}", *WIDTHS["desktop"])
        found = page.evaluate(
            """() => [...document.querySelectorAll('pre.mermaid svg')].map(svg => {
              const id = svg.getAttribute('aria-labelledby');
              const title = id && document.getElementById(id);
              const desc = svg.getAttribute('aria-describedby');
              return {title: title ? title.textContent.trim() : '', desc: !!(desc && document.getElementById(desc))};
            })"""
        )
        page.close()
        problems += [
            f"{rel}, diagram {i}: {f}" for i, f in enumerate(found, 1) if not (f["title"] and f["desc"])
        ]
    assert not problems, "\n".join(problems)


DIAGRAM_JS = """() => [...document.querySelectorAll('pre.mermaid svg')].map(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const labels = [...svg.querySelectorAll('.node .nodeLabel, .node text')];
  const sizes = labels.map(el => parseFloat(getComputedStyle(el).fontSize) * scale);
  return {height: svg.getBoundingClientRect().height, minText: Math.min(...sizes), maxText: Math.max(...sizes),
          labels: labels.length};
})"""


def test_diagram_text_is_legible_and_charts_fit(
    layout_font, html_build: Build, site_url: str, browser_context
):
    """At 1,400 px every chart's node text renders at 12 px or more, the same size in every chart,
    and no chart is taller than 900 px."""
    w, h = WIDTHS["desktop"]
    sizes, problems = [], []
    for rel in diagram_pages(html_build.outdir):
        page = _open(browser_context, f"{site_url}/{rel}", w, h)
        for i, d in enumerate(page.evaluate(DIAGRAM_JS), start=1):
            name = f"{rel}, diagram {i}"
            if not d["labels"]:
                problems.append(f"{name}: no node labels found")
                continue
            sizes += [d["minText"], d["maxText"]]
            if d["minText"] < MIN_DIAGRAM_TEXT_PX:
                problems.append(f"{name}: node text renders at {d['minText']:.1f}px")
            if d["height"] > MAX_DIAGRAM_HEIGHT_PX:
                problems.append(f"{name}: {d['height']:.0f}px tall")
        page.close()
    assert sizes, "no diagram measured"
    assert max(sizes) - min(sizes) < 0.5, (
        f"node text sizes differ between charts: {min(sizes):.1f}-{max(sizes):.1f}px"
    )
    assert not problems, "\n".join(problems)


CONTRAST_JS = """() => {
  function rgb(s) { const m = s.match(/[\\d.]+/g).map(Number); return {c: m.slice(0, 3), a: m.length > 3 ? m[3] : 1}; }
  function lum(c) { const v = c.map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
                    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; }
  function background(el) {            // first opaque background up the tree (page background last)
    for (let e = el; e; e = e.parentElement) {
      const b = rgb(getComputedStyle(e).backgroundColor);
      if (b.a > 0.99) return b.c;
    }
    return rgb(getComputedStyle(document.body).backgroundColor).c;
  }
  return [...document.querySelectorAll('pre.mermaid svg .edgeLabel')].filter(e => e.textContent.trim())
    .map(e => {
      const text = e.querySelector('p, span, text') || e;
      const fg = lum(rgb(getComputedStyle(text).color).c), bg = lum(background(text));
      return {label: e.textContent.trim(), ratio: (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05)};
    });
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_diagram_edge_labels_have_contrast(html_build: Build, site_url: str, browser_context, theme: str):
    """Edge-label text against its background meets 4.5:1 (WCAG AA) in both themes."""
    w, h = WIDTHS["desktop"]
    problems, measured = [], 0
    for rel in diagram_pages(html_build.outdir):
        page = _open(browser_context, f"{site_url}/{rel}", w, h, theme)
        for lab in page.evaluate(CONTRAST_JS):
            measured += 1
            if lab["ratio"] < MIN_CONTRAST:
                problems.append(f"{rel} ({theme}): edge label {lab['label']!r} at {lab['ratio']:.2f}:1")
        page.close()
    assert measured, "no edge label measured"
    assert not problems, "\n".join(problems)


def test_verdict_answers_first(html_build: Build, site_url: str, browser_context):
    """The verdict opens with a callout of at most 250 words that says Defer, before any heading."""
    page = _open(browser_context, f"{site_url}/{SURVEY}/grammar-tutor-verdict.html", *WIDTHS["desktop"])
    first = page.evaluate("""() => {
      const a = document.querySelector('article .admonition');
      if (!a) return null;
      const h2 = document.querySelector('article h2');
      const before = !h2 || (a.compareDocumentPosition(h2) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
      const body = [...a.children].filter(c => !c.classList.contains('admonition-title')).map(c => c.innerText).join(' ');
      return {text: body, beforeFirstHeading: before};
    }""")
    page.close()
    assert first is not None, "the verdict has no callout"
    words = len(first["text"].split())
    assert words <= MAX_CALLOUT_WORDS, f"the verdict's callout has {words} words"
    assert "Defer" in first["text"]
    assert first["beforeFirstHeading"], "the callout must come before the first section"


@pytest.mark.browser
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_verdict_box_is_titled_and_body_sized(
    layout_font, html_build: Build, site_url: str, browser_context, width: str
):
    """The verdict's callout is titled "Verdict" (not the alert's "Important"), and its title and
    text are at the size of the page's body text."""
    page = _open(browser_context, f"{site_url}/{SURVEY}/grammar-tutor-verdict.html", *WIDTHS[width])
    box = page.evaluate("""() => {
      const a = document.querySelector('article .admonition');
      const title = a.querySelector('.admonition-title');
      const body = [...a.querySelectorAll('p')].find(p => !p.classList.contains('admonition-title'));
      const page = [...document.querySelectorAll('article section > p')].find(p => !p.closest('.admonition'));
      const px = el => parseFloat(getComputedStyle(el).fontSize);
      return {title: title.textContent.trim(), titlePx: px(title), bodyPx: px(body), pagePx: px(page)};
    }""")
    page.close()
    assert box["title"] == "Verdict", box
    assert box["titlePx"] >= box["pagePx"] - 0.5 and abs(box["bodyPx"] - box["pagePx"]) < 0.5, box


CODE_JS = """() => [...document.querySelectorAll('div.doctest pre, div.highlight-pycon pre')]
  .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => pre.innerText.split('\\n').reduce((a, b) => (a.length >= b.length ? a : b)))"""


def test_examples_fit_their_code_box(layout_font, sweep):
    """At 1,400 px no example scrolls sideways: every input and output line is visible."""
    problems = [f"{rel}: {line!r}" for rel, rec in sweep("desktop").items() for line in rec["code"]]
    assert not problems, "examples wider than their code box (longest line shown):\n" + "\n".join(problems)


def test_no_formula_has_a_tex_error(sweep):
    """MathJax typesets every formula without an error box (e.g. a stray control character)."""
    problems = [f"{rel}: {b!r}" for rel, rec in sweep("desktop").items() for b in rec["tex"]]
    assert not problems, "\n".join(problems)


MIN_PLOT_TEXT_PX = 12.0
PLOT_TEXT_JS = """async () => {
  const out = [];
  for (const img of document.querySelectorAll('article img[src$=".svg"]')) {
    const svg = new DOMParser().parseFromString(await (await fetch(img.src)).text(), 'image/svg+xml').documentElement;
    const box = svg.getAttribute('viewBox').split(/\\s+/).map(Number);
    const texts = [...svg.querySelectorAll('text')];
    const sizes = texts.map(t => {
      const m = (t.getAttribute('style') || '').match(/font(?:-size)?:[^;]*?([\\d.]+)px/);
      return m ? Number(m[1]) : null;
    });
    const fills = texts.map(t => { const m = (t.getAttribute('style') || '').match(/fill:\\s*(#[0-9a-fA-F]{6})/); return m ? m[1] : null; });
    out.push({src: img.getAttribute('src'), texts: sizes.length, missing: sizes.filter(s => s === null).length,
              smallest: Math.min(...sizes.filter(s => s !== null)) * img.getBoundingClientRect().width / box[2],
              fills: [...new Set(fills)], background: getComputedStyle(img).backgroundColor});
  }
  return out;
}"""


def _luminance(rgb: tuple[float, float, float]) -> float:
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (x / 255 for x in rgb)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(fg: str, bg: str) -> float:
    """WCAG contrast of ``#rrggbb`` text on an ``rgb(r, g, b)`` background."""
    a = _luminance(tuple(int(fg[i : i + 2], 16) for i in (1, 3, 5)))
    b = _luminance(tuple(float(x) for x in bg[bg.index("(") + 1 : bg.index(")")].split(",")[:3]))
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_plot_text_is_legible_on_a_phone(layout_font, sweep, theme: str):
    """At 390 px every plot's smallest text (tick labels included) renders at 12 px or more, and
    every text colour has 4.5:1 contrast against the plot's background, in both themes.

    The plots keep their text as SVG text (``svg.fonttype: none`` in docs/_plots/_style.py), so the
    size each label is drawn at is its font size times the image's scale on the page; the SVGs are
    transparent and the stylesheet sets them on an opaque card, whose colour is the background."""
    problems, measured = [], 0
    for rel, rec in sweep("phone", theme).items():
        for plot in rec["plots"]:
            measured += 1
            if plot["texts"] == 0 or plot["missing"]:
                problems.append(f"{rel}: {plot['src']}: text drawn as paths, size unknown ({plot})")
            elif plot["smallest"] < MIN_PLOT_TEXT_PX:
                problems.append(f"{rel}: {plot['src']}: smallest text {plot['smallest']:.1f}px at 390 px")
            if not plot["background"].startswith("rgb(") or None in plot["fills"]:
                problems.append(
                    f"{rel}: {plot['src']}: no opaque background or a text colour unknown ({plot})"
                )
                continue
            for fill in plot["fills"]:
                if _contrast(fill, plot["background"]) < MIN_CONTRAST:
                    ratio = _contrast(fill, plot["background"])
                    problems.append(f"{rel} ({theme}): {plot['src']}: text {fill} at {ratio:.2f}:1")
    assert measured, "no plot measured"
    assert not problems, "\n".join(problems)


def test_search_snippets_show_symbols_not_tex(html_build: Build, site_url: str, browser_context):
    """Search results quote the page with formulas as plain symbols (α, τ), not TeX source."""
    page, _, errors = render_page(browser_context, f"{site_url}/search.html?q=acceptance")
    page.wait_for_function(
        "() => document.querySelectorAll('ul.search li p.context').length >= 3", timeout=RENDER_TIMEOUT_MS
    )
    page.wait_for_timeout(500)
    snippets = page.eval_on_selector_all("ul.search li p.context", "els => els.map(e => e.textContent)")
    page.close()
    assert not errors, errors
    assert any(sym in s for s in snippets for sym in "ατβ"), snippets
    assert not [s for s in snippets if "\\(" in s or "\\alpha" in s or "\\tau" in s], snippets


MAX_SUMMARY_WORDS = 1250  # "one page": about 1,200 words, tables and footnotes included


def test_summary_is_one_page(layout_font, html_build: Build, site_url: str, browser_context):
    """The survey summary reads as one page: about 1,200 rendered words, tables and footnotes included,
    and it opens with the answer before the first section."""
    page = _open(browser_context, f"{site_url}/{SURVEY}/summary.html", *WIDTHS["desktop"])
    text = page.evaluate("() => document.querySelector('article').innerText")
    first = page.evaluate("() => document.querySelector('article section p').innerText")
    page.close()
    words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    assert len(words) <= MAX_SUMMARY_WORDS, f"summary has {len(words)} words"
    assert first.startswith("The answer."), first[:80]
