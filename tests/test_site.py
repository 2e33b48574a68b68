"""The site builds without a warning, every page example runs, and none is silently skipped."""

from __future__ import annotations

import pickle
import re

from docutils import nodes

from conftest import BUILD, Build
from sitecheck import (
    ROOT,
    long_example_lines,
    long_example_lines_in_pages,
    unexecuted_examples,
    unexecuted_examples_in_pages,
)


def test_html_build_is_strict_and_clean(html_build: Build):
    warnings = [line for line in html_build.output.splitlines() if "WARNING" in line or "ERROR" in line]
    assert html_build.returncode == 0 and not warnings, "\n".join(warnings) or html_build.output[-3000:]
    assert (html_build.outdir / "index.html").is_file()
    assert (html_build.outdir / ".nojekyll").is_file(), "sphinx.ext.githubpages writes .nojekyll"


def _doctest_summary(output_txt: str) -> dict[str, int]:
    def grab(pattern: str) -> int:
        m = re.search(pattern, output_txt, re.M)
        assert m, f"no {pattern!r} in the doctest summary:\n{output_txt[-2000:]}"
        return int(m[1])

    return {
        "tests": grab(r"^\s*(\d+) tests?$"),
        "failures": grab(r"^\s*(\d+) failures? in tests$"),
        "setup_failures": grab(r"^\s*(\d+) failures? in setup code$"),
    }


def test_every_page_example_runs_and_passes(doctest_build: Build):
    report = (doctest_build.outdir / "output.txt").read_text(encoding="utf-8")
    summary = _doctest_summary(report)
    assert doctest_build.returncode == 0, doctest_build.output[-4000:]
    assert summary["failures"] == 0 and summary["setup_failures"] == 0, report[-4000:]
    assert summary["tests"] > 0, "the doctest builder ran zero examples"


def _doctree(docname: str) -> nodes.document:
    with open(BUILD / "doctrees" / f"{docname}.doctree", "rb") as fh:
        return pickle.load(fh)


def _docnames() -> list[str]:
    return sorted(str(p.relative_to(ROOT / "docs").with_suffix("")) for p in (ROOT / "docs").rglob("*.md"))


def test_pages_with_examples_are_each_run(doctest_build: Build):
    """Every page that holds an executed block shows up in the doctest report with >= 1 test."""
    report = (doctest_build.outdir / "output.txt").read_text(encoding="utf-8")
    ran = {
        m[1]: int(m[2])
        for m in re.finditer(r"^Document: (\S+)\n-+\n(?:.*\n)*?(\d+) passed and \d+ failed", report, re.M)
    }
    for docname in _docnames():
        tree = _doctree(docname)
        if any("testnodetype" in n for n in tree.findall(nodes.Element)):
            assert ran.get(docname, 0) > 0, f"{docname}: has examples but the doctest builder ran none"


def test_no_unexecuted_example_in_built_pages(html_build: Build):
    """In the doctrees (includes resolved), every block holding '>>>' is one the doctest builder runs."""
    assert html_build.returncode == 0
    bad = []
    for docname in _docnames():
        for node in _doctree(docname).findall(
            lambda n: isinstance(n, (nodes.literal_block, nodes.doctest_block))
        ):
            if (
                ">>>" in node.astext()
                and "testnodetype" not in node
                and not isinstance(node, nodes.doctest_block)
            ):
                bad.append(
                    f"{docname}: a '>>>' block ({node.get('language', 'no language')}) that is not executed"
                )
    assert not bad, "\n".join(bad)


def test_no_unexecuted_example_in_sources():
    findings = unexecuted_examples_in_pages()
    assert not findings, "\n".join(map(str, findings))


def test_unexecuted_example_check_catches_each_case():
    text = "\n".join(
        [
            "```python",
            ">>> 1 + 1",
            "2",
            "```",  # skipped without a word by Sphinx
            "```pycon",
            ">>> 1",
            "1",
            "```",  # executed
            ">>> outside any fence",  # a blockquote in Markdown
            "```{doctest}",
            ">>> f()  # doctest: +SKIP",
            "```",  # skipped on purpose
        ]
    )
    lines = sorted(f.line for f in unexecuted_examples(text))
    assert lines == [2, 9, 11]


def test_example_lines_fit_the_code_box():
    """Every line of every executed example, output included, is at most 80 characters: the code
    box shows about 90 at 1,400 px (the browser test checks the rendered boxes too)."""
    findings = long_example_lines_in_pages()
    assert not findings, "\n".join(map(str, findings))


def test_long_example_check_catches_input_and_output_only_in_examples():
    text = "\n".join(
        [
            "```pycon",
            ">>> x = 1",
            ">>> print('" + "a" * 80 + "')",
            "a" * 81,
            "```",
            "```python",
            "b" * 100,
            "```",
            "c" * 100,
        ]
    )
    found = long_example_lines(text)
    assert [f.line for f in found] == [3, 4]


def test_no_page_shows_the_building_machines_paths(html_build: Build):
    """Defaults and constants render as written in the source, never as this checkout's absolute path."""
    leaks = [
        p.relative_to(html_build.outdir).as_posix()
        for p in html_build.outdir.rglob("*.html")
        if str(ROOT) in p.read_text(encoding="utf-8")
    ]
    assert not leaks, f"pages showing {ROOT}: {leaks}"


# Names a newcomer cannot know: the lab exercise's own section and step numbers. The bibliography's
# entry for the lab brief says once what its blocks were; pages say what a figure is instead.
IN_HOUSE_LABEL = re.compile(r"\bPhase[- ]\d+|\bBlock [A-Z]\b")


def test_pages_use_no_in_house_labels():
    from sitecheck import page_sources

    found = [
        f"{path.relative_to(ROOT)}:{n}: {m.group(0)!r}"
        for path in page_sources()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for m in IN_HOUSE_LABEL.finditer(line)
    ]
    assert not found, "\n".join(found)


def test_one_notation_table():
    """The symbols are defined in one table (docs/index.md); other pages link to it. (The evidence
    page's table of each paper's letters is a mapping, not a second definition.)"""
    from sitecheck import page_sources

    tables = [
        str(path.relative_to(ROOT))
        for path in page_sources()
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"\|\s*symbol\s*\|\s*meaning\s*\|", line)
    ]
    assert tables == ["docs/index.md"], tables
