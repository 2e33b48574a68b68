"""Sphinx configuration for the specdec site.

Sources live in ``docs/``; this file sits at the repository root and is passed with ``-c .``:
``sphinx-build -M html docs _build -c .``. Paths below are relative to this file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sphinx_copybutton
from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting import toplevel
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.formatting.unsrt import date
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import (
    FieldIsMissing,
    field,
    href,
    join,
    node,
    optional,
    optional_field,
    sentence,
    tag,
    words,
)
from sphinx.ext.doctest import DoctestDirective
from sphinx.util import logging

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))

import specdec  # noqa: E402

project = "specdec"
author = "the specdec authors"
copyright = "2026, the specdec authors"
release = specdec.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.githubpages",
    "sphinxcontrib.mermaid",
    "sphinx_copybutton",
    "matplotlib.sphinxext.plot_directive",
    "sphinxcontrib.bibtex",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
nitpicky = True

# --- MyST -------------------------------------------------------------------------------------
# ```mermaid and ```pycon fences (what GitHub renders and highlights) become Sphinx directives, so
# the same Markdown file reads well on GitHub and runs on the site.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "alert"]
myst_fence_as_directive = ["mermaid", "pycon"]
myst_heading_anchors = 3

# --- Doctest ----------------------------------------------------------------------------------
doctest_global_setup = """
import numpy as np
np.set_printoptions(legacy=False)
"""
doctest_test_doctest_blocks = "default"

# --- Mermaid, served from this site only -------------------------------------------------------
# The ESM bundle of mermaid (version pinned in package.json / package-lock.json, matching the
# default of the pinned sphinxcontrib-mermaid release) is copied into docs/_static/mermaid/ by
# `make assets`; nothing is fetched from a CDN at view time.
MERMAID_VERSION = "11.12.1"
mermaid_version = MERMAID_VERSION
mermaid_use_local = "mermaid/mermaid.esm.min.mjs"
# Diagrams keep their natural size (no fixed 500 px box), shrinking only to fit the column.
mermaid_init_config = {
    "startOnLoad": False,
    "flowchart": {"useMaxWidth": False, "nodeSpacing": 24, "rankSpacing": 36},
}
mermaid_height = "auto"
mermaid_width = "100%"
mermaid_d3_zoom = False
mermaid_fullscreen = False
mermaid_light_theme = "default"
mermaid_dark_theme = "dark"

# --- Math, served from this site only ---------------------------------------------------------
# MathJax 3.2.2 (pinned in package.json) is copied into docs/_static/mathjax/ by `make assets`;
# its fonts and on-demand TeX extensions load from beside it, never from a CDN.
mathjax_path = "mathjax/tex-chtml.js"
# What MyST's dollarmath sets when the builder starts (its default `myst_mathjax_classes`), written
# here so that the value does not change during the build (see "Stable configuration" below).
mathjax4_config = {"options": {"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}}

# --- Bibliography: one .bib file, read by the site and by tests/test_citations.py -----------------
# Entries are labelled by their `shorthand` field (the name the prose uses) and list the commit that
# was read, with its date, for repositories and blog sources; {cite:t} / {cite:p} give author-year
# references in running text.
bibtex_bibfiles = ["docs/references.bib"]
bibtex_default_style = "specdec"
bibtex_reference_style = "author_year"


class ShorthandLabelStyle(BaseLabelStyle):
    """Label every entry by its ``shorthand`` field ("Leviathan et al. 2023", "EAGLE-2", ...)."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield entry.fields["shorthand"]


@node
def names_et_al(children, context, role):
    """pybtex's ``names``, but an author list ending in ``and others`` reads "... et al."."""
    persons = context["entry"].persons.get(role)
    if not persons:
        raise FieldIsMissing(role, context["entry"])
    style = context["style"]
    shown = [person for person in persons if str(person) != "others"]
    formatted = [style.format_name(person, style.abbreviate_names) for person in shown]
    text = join(sep=", ", sep2=" and ", last_sep=", and ")[formatted].format_data(context)
    return Text(text, " et al.") if len(shown) < len(persons) else text


class SpecdecStyle(UnsrtStyle):
    """pybtex's unsrt, with titles kept as written, shorthand labels and the commit that was read."""

    default_label_style = "shorthand"

    def format_names(self, role, as_sentence=True):
        formatted = names_et_al(role)
        return sentence[formatted] if as_sentence else formatted

    def format_title(self, e, which_field, as_sentence=True):
        title = field(which_field)
        return sentence[title] if as_sentence else title

    def format_commit(self, e):
        repository = field("repository", raw=True)
        return sentence[
            words[
                "Commit",
                tag("tt")[field("commit", raw=True)],
                optional[words["of", href[join["https://github.com/", repository]][repository]]],
                optional[join["(", field("commitdate", raw=True), ")"]],
            ]
        ]

    def get_misc_template(self, e):
        return toplevel[
            optional[sentence[self.format_names("author")]],
            optional[self.format_title(e, "title")],
            sentence[optional[field("howpublished")], optional[date]],
            optional[self.format_commit(e)],
            sentence[optional_field("note")],
            self.format_web_refs(e),
        ]


register_plugin("pybtex.style.labels", "shorthand", ShorthandLabelStyle)
register_plugin("pybtex.style.formatting", "specdec", SpecdecStyle)

# --- HTML -------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "specdec: speculative decoding, computed"
html_show_sourcelink = True
html_favicon = "docs/_static/favicon.svg"
html_copy_source = True

# --- Stable configuration -------------------------------------------------------------------------
# Sphinx compares this file's values with those pickled by the previous build; where they differ it
# says "The configuration has changed (...)" and rebuilds what those options affect. Some values are
# changed while a build runs: the HTML builder adds priority 800 to html_css_files and html_js_files
# entries, sphinx-copybutton appends its static folder to html_static_path and MyST sets
# mathjax4_config. Each is written here as the build leaves it, so that a second build finds the same
# configuration. The theme's own option, pygments_dark_style, is registered only when the theme loads,
# after the comparison; setup() drops it once furo has read it, so that the pickled configuration
# lacks it too.
COPYBUTTON_STATIC = str(Path(sphinx_copybutton.__file__).parent.joinpath("_static").absolute())
html_static_path = ["docs/_static", COPYBUTTON_STATIC]  # setup() drops the second copy appended
html_css_files = [("specdec.css", {"priority": 800})]
html_js_files = [("specdec.js", {"priority": 800})]

# --- autodoc: plain signatures, no cross-references to numpy's (offline) inventory -------------
autodoc_typehints = "none"
autodoc_member_order = "bysource"
# Defaults as written in the source (`WEIGHTS`), not their values on the building machine (a path).
autodoc_preserve_defaults = True

# --- matplotlib plot directive: figures are built with the site ----------------------------------
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("svg", 100)]
plot_rcparams = {"savefig.transparent": True}


class PyconDirective(DoctestDirective):
    """A ```pycon fence is a ``doctest`` block: highlighted on GitHub, executed by Sphinx."""

    def run(self):
        self.name = "doctest"
        return super().run()


def missing_bundles(static_paths, confdir, bundles) -> list[str]:
    """A message for each of ``bundles`` (name -> (file, what the site would lack)) that no folder of
    ``static_paths`` (relative to ``confdir``) holds: the bundles `make assets` copies."""
    missing = []
    for name, (rel, lacks) in bundles.items():
        if not any((Path(confdir) / folder / rel).is_file() for folder in static_paths):
            missing.append(
                f"the {name} bundle is missing: no html_static_path folder holds {rel} (expected "
                f"{Path(static_paths[0]) / rel}), so the site would show no {lacks}; run `make assets` "
                "(or `make html`), which copies it from node_modules"
            )
    return missing


def _check_bundles(app):
    """A build for the web without the copied bundles warns, so the strict build (-W) fails."""
    if app.builder.format != "html":
        return
    bundles = {
        "mermaid": (app.config.mermaid_use_local, "diagrams"),
        "MathJax": (app.config.mathjax_path, "formulas"),
        "Pyodide": (PYODIDE_MODULE, "calculator"),
    }
    for message in missing_bundles(app.config.html_static_path, app.confdir, bundles):
        logging.getLogger("specdec.conf").warning(message)


# --- The calculator page: specdec's own roofline and speedup code, run by Pyodide in the browser ----
# Pyodide 314.0.8 (pinned in package.json) is copied into docs/_static/pyodide/ by `make assets`; the
# page loads it from there, only when the reader starts the calculator. The Python it runs is zipped
# from src/ by every HTML build (never a copied file that could drift from the CLI).
PYODIDE_MODULE = "pyodide/pyodide.mjs"
CALCULATOR_PAGE = "calculator"
CALCULATOR_ZIP = "specdec-calculator.zip"
# What `specdec roofline` and `specdec speedup` import (pure Python, no NumPy: tests/test_calculator.py
# runs the archive with NumPy blocked), its presets, and the page's glue, docs/_static/calculator.py.
CALCULATOR_SOURCES = {
    **{
        f"specdec/{rel}": f"src/specdec/{rel}"
        for rel in (
            "__init__.py",
            "_checks.py",
            "cli.py",
            "tutor/__init__.py",
            "tutor/cli.py",
            "data/presets.toml",
            *(
                f"perf/{name}.py"
                for name in ("__init__", "units", "hardware", "shapes", "hf_config", "presets")
                + ("kernels", "crossovers", "report", "requests", "speedup")
            ),
        )
    },
    "specdec_calculator.py": "docs/_static/calculator.py",
}


def write_archive(path: Path, root: Path = ROOT) -> Path:
    """Zip :data:`CALCULATOR_SOURCES` (archive name -> file under ``root``) into ``path``; the same sources
    give the same bytes (fixed timestamps and order)."""
    import zipfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rel in CALCULATOR_SOURCES.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, (root / rel).read_bytes())
    return path


def _calculator_archive(app, exception):
    """After an HTML build: ``_static/specdec-calculator.zip``, the modules the calculator imports."""
    if exception is None and app.builder.format == "html":
        write_archive(Path(app.outdir) / "_static" / CALCULATOR_ZIP, ROOT)


def _calculator_script(app, pagename, templatename, context, doctree):
    """The calculator's script is loaded by its page alone (a module: it imports Pyodide on demand)."""
    if pagename == CALCULATOR_PAGE:
        app.add_js_file("calculator.js", type="module")


def _drop_repeated_static_paths(app):
    """sphinx-copybutton appends COPYBUTTON_STATIC, already listed: keep each folder once."""
    app.config.html_static_path[:] = list(dict.fromkeys(app.config.html_static_path))


def _drop_theme_option(app):
    """furo registers pygments_dark_style as the theme loads, after Sphinx has compared this
    configuration with the previous build's, and reads it when the builder starts. Dropped after that
    read, it is not pickled either, so the next build does not report it as changed."""
    app.config._options.pop("pygments_dark_style", None)
    app.config.__dict__.pop("pygments_dark_style", None)


# The survey's pages open with a GitHub alert (`> [!IMPORTANT]`), which GitHub and MyST title by its
# kind ("Important"). On the site, the alert that gives a page's answer is titled by what it is.
ANSWER_TITLES = {"experiments/36-speculative-survey/grammar-tutor-verdict": "Verdict"}


def _title_answer(app, doctree):
    """The first alert of a page in ANSWER_TITLES becomes an admonition with that title and the class
    ``answer`` (set at body-text size by specdec.css)."""
    title = ANSWER_TITLES.get(app.env.docname)
    if title is None:
        return
    for alert in doctree.findall(nodes.Admonition):
        box = nodes.admonition("", nodes.title("", title), *alert.children, classes=["answer"])
        box.source, box.line = alert.source, alert.line
        alert.replace_self(box)
        return


RECORDS = Path(__file__).resolve().parent / "bench" / "results"


def _redraw_plots_after_records(app, env, added, changed, removed):
    """matplotlib's plot directive draws a figure again only when its script changes, and only on a page
    being read; the figures here draw the recorded runs of ``bench/results/``. A figure older than the
    newest record is removed and the pages with figures are read again, so re-recording a run redraws
    them without ``make clean``."""
    figures = Path(app.doctreedir).parent / "plot_directive"
    if not figures.is_dir():
        return []  # nothing drawn yet: every figure is drawn now
    newest = max(f.stat().st_mtime for f in RECORDS.iterdir() if f.is_file())
    stale = [f for f in figures.rglob("*") if f.is_file() and f.stat().st_mtime < newest]
    for f in stale:
        f.unlink()
    if not stale:
        return []
    return [doc for doc in env.found_docs if "plot::" in Path(env.doc2path(doc)).read_text(encoding="utf-8")]


def setup(app):
    app.add_directive("pycon", PyconDirective)
    app.connect("doctree-read", _title_answer)
    app.connect("builder-inited", _check_bundles)
    app.connect("env-get-outdated", _redraw_plots_after_records)
    app.connect("html-page-context", _calculator_script)
    app.connect("build-finished", _calculator_archive)
    # after sphinx-copybutton's and furo's own builder-inited handlers (priority 500)
    app.connect("builder-inited", _drop_repeated_static_paths, priority=900)
    app.connect("builder-inited", _drop_theme_option, priority=900)


# --- copy buttons copy the code, not the >>> prompts or the printed output -----------------------
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
