"""Checks on the site's sources and build outputs, shared by the tests (no pytest in here).

- :func:`unexecuted_examples` finds ``>>>`` examples in Markdown that the Sphinx doctest builder
  would not run (a ``>>>`` in a ```python fence is skipped without a word).
- :func:`mermaid_labels` pulls the node and edge labels out of a mermaid flowchart, so a browser
  test can check that the rendered SVG holds them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_DIRS = (ROOT / "docs", ROOT / "experiments")

# Fences whose content the doctest builder executes (conf.py maps ```pycon onto `doctest`).
EXECUTED_FENCES = {"pycon", "{doctest}", "{testcode}", "{testsetup}", "{testcleanup}", "{testoutput}"}
FENCE_RE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>[^\s`]*)")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    why: str

    def __str__(self) -> str:
        rel = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{rel}:{self.line}: {self.why}"


def page_sources() -> list[Path]:
    """Every Markdown page of the site and of the survey, sorted."""
    return sorted(p for d in PAGE_DIRS for p in d.rglob("*.md") if "_build" not in p.parts)


def fenced_lines(text: str):
    """Yield ``(lineno, line, info)`` for every line that is not itself a fence marker, where ``info``
    is the info string of the innermost open fence (``None`` outside any fence).

    Walks the Markdown fence by fence (```, ~~~ and MyST's ::: colon fences, nested ones included).
    """
    stack: list[tuple[str, str]] = []  # open fences: (marker, info)
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = FENCE_RE.match(line)
        if m:
            marker, info = m["fence"], m["info"].lower()
            if stack and marker[0] == stack[-1][0][0] and len(marker) >= len(stack[-1][0]) and not info:
                stack.pop()
                continue
            if info or not stack:
                stack.append((marker, info))
                continue
        yield lineno, line, (stack[-1][1] if stack else None)


def unexecuted_examples(text: str, path: Path = Path("<string>")) -> list[Finding]:
    """Lines starting with ``>>>`` that no executed fence holds, and skipped examples.

    A ``>>>`` line is fine only inside an executed fence (see ``EXECUTED_FENCES``). A
    ``doctest: +SKIP`` flag anywhere is reported too: it runs nothing and says nothing.
    """
    findings: list[Finding] = []
    for lineno, line, inner in fenced_lines(text):
        if "+SKIP" in line and "doctest" in line:
            findings.append(Finding(path, lineno, "doctest +SKIP: an example that never runs"))
        if line.lstrip().startswith(">>>") and inner not in EXECUTED_FENCES:
            where = f"a ```{inner} fence" if inner else "plain text"
            findings.append(
                Finding(path, lineno, f"'>>>' example in {where}: the doctest builder would not run it")
            )
    return findings


MAX_EXAMPLE_LINE = 80  # characters: what a 736 px code box shows at 1,400 px with room to spare


def long_example_lines(
    text: str, path: Path = Path("<string>"), limit: int = MAX_EXAMPLE_LINE
) -> list[Finding]:
    """Lines of executed examples (input and output) longer than ``limit`` characters."""
    return [
        Finding(path, lineno, f"example line of {len(line)} characters (limit {limit})")
        for lineno, line, inner in fenced_lines(text)
        if inner in EXECUTED_FENCES and len(line) > limit
    ]


def long_example_lines_in_pages() -> list[Finding]:
    return [f for p in page_sources() for f in long_example_lines(p.read_text(encoding="utf-8"), p)]


def unexecuted_examples_in_pages() -> list[Finding]:
    return [f for p in page_sources() for f in unexecuted_examples(p.read_text(encoding="utf-8"), p)]


# --- mermaid --------------------------------------------------------------------------------------
MERMAID_PRE_RE = re.compile(r'<pre[^>]*class="mermaid[^"]*"[^>]*>(.*?)</pre>', re.S)
OPEN = r"(?:\(\[|\[\[|\[\(|\(\(|\{\{|\[|\(|\{|>)"
CLOSE = r"(?:\]\)|\]\]|\)\]|\)\)|\}\}|\]|\)|\})"
QUOTED_NODE_RE = re.compile(rf'[A-Za-z0-9_]+\s*{OPEN}\s*"(?P<label>[^"]*)"\s*{CLOSE}')
NODE_RE = re.compile(rf"[A-Za-z0-9_]+\s*{OPEN}(?P<label>[^\"\[\]\(\)\{{\}}|]+){CLOSE}")
EDGE_RE = re.compile(r'\|\s*"?(?P<label>[^|"]+?)"?\s*\||-\.(?P<dotted>[^.>-][^>]*?)\.->')


def mermaid_blocks(page_html: str) -> list[str]:
    """The mermaid source of each diagram in a built page, in page order."""
    return [html.unescape(m).strip() for m in MERMAID_PRE_RE.findall(page_html)]


def _normalise(label: str) -> str:
    label = re.sub(r"<br\s*/?>", " ", label)
    label = html.unescape(label)
    label = re.sub(r"#(\w+);", lambda m: html.unescape(f"&{m[1]};"), label)  # mermaid's #quot; escapes
    return re.sub(r"\s+", "", label)


def mermaid_labels(source: str) -> list[str]:
    """Node and edge labels of a flowchart, whitespace removed (SVG text drops line breaks)."""
    labels = []
    for line in source.splitlines():
        line = line.split("%%")[0]
        if not line.strip() or line.strip().startswith(
            ("flowchart", "graph", "classDef", "class ", "style ", "linkStyle", "accTitle", "accDescr")
        ):
            continue
        labels += [_normalise(m["label"]) for m in QUOTED_NODE_RE.finditer(line)]
        line = QUOTED_NODE_RE.sub(" ", line)
        labels += [_normalise(m["label"]) for m in NODE_RE.finditer(line)]
        labels += [_normalise((m["label"] or m["dotted"]).strip().strip('"')) for m in EDGE_RE.finditer(line)]
    return [lab for lab in labels if lab]


def normalise_text(text: str) -> str:
    return re.sub(r"\s+", "", text)
