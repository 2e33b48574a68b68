"""A typo in a citation is a bug.

``docs/references.bib`` is the one source of citation facts: the site renders its bibliography from
it (sphinxcontrib-bibtex) and these tests read it with pybtex. Every arXiv id and commit SHA written
on any page (``docs/**/*.md`` and the survey under ``experiments/36-speculative-survey/``) must match
an entry exactly; a date written beside one must be a date the entry records; a source is cited one
way everywhere, a ``{cite}`` role linking its entry (every footnote in the survey starts with one,
and no page names a source's ``shorthand`` in plain text before a section, table or figure); and the
built bibliography page must show every entry with its id, commit and note.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from pybtex.database import BibliographyData, parse_file

from conftest import Build
from sitecheck import fenced_lines

ROOT = Path(__file__).resolve().parents[1]
BIB = ROOT / "docs" / "references.bib"
REFERENCES_PAGE = ROOT / "docs" / "references.md"
SURVEY = ROOT / "experiments" / "36-speculative-survey"
# The sections of the bibliography page, by the `keywords` value of their entries.
SECTIONS = {"speculative", "benchmarks", "serving", "engines", "latency", "models", "unpublished"}
OFFICIAL_REPOSITORIES = ("medusa-repo", "eagle-repo", "lookahead-repo", "specbench-repo")

ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}(v\d+)?")
SHA = re.compile(r"[0-9a-f]{40}")
ISO_DATE = re.compile(r"(?<!\d)\d{4}-\d{2}-\d{2}(?!\d)")
# Anything that looks like an arXiv id, near misses included (3-5 digits, a dot, 3-6 digits, an
# optional version). It must not start inside a longer number, so DOIs such as 10.1145/1498765.1498785
# and decimals are not picked up.
ARXIV_LIKE = re.compile(r"(?<![\d.])\d{3,5}\.\d{3,6}(?:v\d*)?(?![\w])")
# Maximal runs of letters and digits; long ones are checked as possible commit hashes.
ALNUM_RUN = re.compile(r"[0-9A-Za-z]+")
HEXISH = re.compile(r"[0-9a-fA-F]+")
# A Markdown footnote definition, "[^label]: text" at the start of a line.
FOOTNOTE_DEF = re.compile(r"^\[\^[^\]]+\]:\s*(.*)$", re.MULTILINE)


def load_bib(path: Path = BIB) -> BibliographyData:
    return parse_file(str(path), bib_format="bibtex")


def pages() -> dict[str, Path]:
    """Every page that may cite: site sources under docs/ and the survey files, by relative path."""
    found = [p for p in (ROOT / "docs").rglob("*.md") if "_static" not in p.parts]
    found += sorted(SURVEY.glob("*.md"))
    return {str(p.relative_to(ROOT)): p for p in sorted(found)}


def arxiv_forms(bib: BibliographyData) -> set[str]:
    """The arXiv strings a page may contain: each id as the .bib gives it, and bare."""
    forms = set()
    for entry in bib.entries.values():
        if "eprint" in entry.fields:
            eprint = entry.fields["eprint"]
            forms |= {eprint, eprint.split("v")[0]}
    return forms


def shas(bib: BibliographyData) -> set[str]:
    return {e.fields["commit"] for e in bib.entries.values() if "commit" in e.fields}


def shorthands(bib: BibliographyData) -> list[str]:
    return [e.fields["shorthand"] for e in bib.entries.values()]


def recorded_dates(entry) -> set[str]:
    """Every ISO date the entry records, in any field (commit date, notes on version dates, ...)."""
    return {d for value in entry.fields.values() for d in ISO_DATE.findall(value)}


def tokens_of(entry) -> set[str]:
    """The strings that, written on a page, cite this entry: its arXiv id (bare) and its commit."""
    found = set()
    if "eprint" in entry.fields:
        found.add(entry.fields["eprint"].split("v")[0])
    if "commit" in entry.fields:
        found.add(entry.fields["commit"])
    return found


def written_arxiv_ids(text: str) -> list[str]:
    return ARXIV_LIKE.findall(text)


def written_hashes(text: str) -> list[str]:
    """Alphanumeric runs that look like (possibly mistyped) commit hashes.

    A run counts if it has a digit and a letter and is either all hex and at least 7 long (a full or
    abbreviated SHA) or 30 to 50 long with at most a few non-hex letters (a SHA with a typo such as
    a 'g').
    """
    found = []
    for m in ALNUM_RUN.finditer(text):
        run = m.group(0)
        has_digit = any(ch.isdigit() for ch in run)
        has_alpha = any(ch.isalpha() for ch in run)
        if not (has_digit and has_alpha):
            continue
        non_hex = sum(1 for ch in run if not HEXISH.fullmatch(ch))
        if (non_hex == 0 and len(run) >= 7) or (30 <= len(run) <= 50 and non_hex <= 3):
            found.append(run)
    return found


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks; each row of a Markdown table is a block of its own, so a date in a
    row is checked against that row's sources only."""
    blocks = []
    for block in re.split(r"\n\s*\n", text):
        if not block.strip():
            continue
        lines = block.splitlines()
        if all(line.lstrip().startswith("|") for line in lines):
            blocks += lines
        else:
            blocks.append(block)
    return blocks


def problems_on_page(name: str, text: str, bib: BibliographyData) -> list[str]:
    """Everything wrong with the citations on one page (an empty list if nothing is)."""
    problems = []
    allowed_ids = arxiv_forms(bib)
    allowed_shas = shas(bib)

    # Every id and hash written on the page is in the .bib, character for character.
    for found in written_arxiv_ids(text):
        if not ARXIV_ID.fullmatch(found):
            problems.append(f"{name}: malformed arXiv id {found!r}")
        elif found not in allowed_ids:
            problems.append(f"{name}: arXiv id {found!r} is not in references.bib")
    for found in written_hashes(text):
        if not SHA.fullmatch(found):
            problems.append(f"{name}: {found!r} looks like a commit hash but is not 40 lowercase hex")
        elif found not in allowed_shas:
            problems.append(f"{name}: commit {found!r} is not in references.bib")

    # A date written in a paragraph that cites an id or commit is a date one of those entries records.
    for block in paragraphs(text):
        cited = [e for e in bib.entries.values() if any(t in block for t in tokens_of(e))]
        if not cited:
            continue
        known = set().union(*(recorded_dates(e) for e in cited))
        for date in ISO_DATE.findall(block):
            if date not in known:
                keys = ", ".join(e.key for e in cited)
                problems.append(f"{name}: date {date} beside {keys} is not a date references.bib records")
    return problems


CITE_ROLE = re.compile(r"\{cite:[a-z]+\}`([^`]+)`")
# What follows a source's name when it is cited rather than merely named: a locator.
LOCATOR = (
    r"(?:§|Tables?|Figure|Fig\.|Algorithm|Alg\.|Appendix|App\.|Theorem|Thm\.|Corollary|Cor\.|Eq\.|Def\."
    r"|abstract|README)"
)


def footnote_problems(name: str, text: str, keys: set[str]) -> list[str]:
    """Footnote definitions that do not open with a ``{cite}`` role naming an entry of the .bib file."""
    problems = []
    for body in FOOTNOTE_DEF.findall(text):
        m = CITE_ROLE.match(body)
        if not m or any(k.strip() not in keys for k in m.group(1).split(",")):
            problems.append(f"{name}: footnote {body[:60]!r} does not open with a {{cite}} of a .bib key")
    return problems


def plain_citations(name: str, text: str, known: list[str]) -> list[str]:
    """Places where a source's shorthand, in plain text, is followed by a locator ("EAGLE-2, Table 1").

    Only prose is read (outside fences, or in an admonition): code is left out, and so are table
    rows, since a column may be named after a source whose cells cite it in footnotes. Roles, links
    and inline code are removed first.
    """
    names = "|".join(re.escape(s) for s in sorted(known, key=len, reverse=True))  # longest first
    cited = re.compile(rf"(?<![\w/\[-])({names})(?![\w-])(?:'s)?(?: \d{{4}})?,? {LOCATOR}")
    problems = []
    for number, line, inner in fenced_lines(text):
        if (inner is not None and not inner.startswith("{admonition")) or line.lstrip().startswith("|"):
            continue
        bare = re.sub(rf"{CITE_ROLE.pattern}|\]\([^)]*\)|`[^`]*`", " ", line)
        if m := cited.search(bare):
            problems.append(f"{name}:{number}: {m.group(1)!r} cited in plain text; use {{cite:label}}")
    return problems


# --- the .bib file itself --------------------------------------------------------------------------


def test_bib_is_well_formed():
    bib = load_bib()
    raw_keys = re.findall(r"^@\w+\{([^,\s]+),", BIB.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(raw_keys) == len(set(raw_keys)) == len(bib.entries), "duplicate or unparsed keys"
    for key, entry in bib.entries.items():
        fields = entry.fields
        assert fields.get("keywords") in SECTIONS, f"{key}: keywords must be one of {sorted(SECTIONS)}"
        assert fields.get("shorthand", "").strip(), f"{key}: no shorthand"
        for value in fields.values():
            for date in ISO_DATE.findall(value):
                dt.date.fromisoformat(date)  # raises on 2024-02-30 and the like
        if "eprint" in fields:
            assert ARXIV_ID.fullmatch(fields["eprint"]), key
            assert fields.get("archiveprefix") == "arXiv", key
        if "commit" in fields:
            assert SHA.fullmatch(fields["commit"]), key
            assert entry.type in {"misc", "software"}, f"{key}: a commit belongs to @misc or @software"
            if "commitdate" in fields:
                dt.date.fromisoformat(fields["commitdate"])
            else:
                assert "commit date not recorded" in fields.get("note", "").lower(), (
                    f"{key}: a commit without its date must say the date is not recorded"
                )
        if entry.type == "software":
            assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", fields.get("url", "")), key
            assert "commit" in fields, f"{key}: a repository is cited at a commit"
        if "repository" in fields:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+", fields["repository"]), key
    assert len(shas(bib)) == sum("commit" in e.fields for e in bib.entries.values()), "duplicate SHAs"


def test_shorthands_are_unique():
    names = [s.casefold() for s in shorthands(load_bib())]
    assert len(names) == len(set(names))


def test_every_entry_is_in_a_section_of_the_bibliography_page():
    filtered = set(
        re.findall(r'^:filter: keywords == "(\w+)"$', REFERENCES_PAGE.read_text(encoding="utf-8"), re.M)
    )
    used = {e.fields["keywords"] for e in load_bib().entries.values()}
    assert filtered == SECTIONS and used <= filtered


# --- the pages ---------------------------------------------------------------------------------


def test_pages_are_found():
    names = set(pages())
    assert "docs/references.md" in names and "experiments/36-speculative-survey/summary.md" in names


@pytest.mark.parametrize("name", sorted(pages()))
def test_page_citations_match_the_bib(name):
    problems = problems_on_page(name, pages()[name].read_text(encoding="utf-8"), load_bib())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(n for n in pages() if n.startswith("experiments/")))
def test_survey_footnotes_open_with_a_citation(name):
    problems = footnote_problems(name, pages()[name].read_text(encoding="utf-8"), set(load_bib().entries))
    assert not problems, "\n".join(problems)


def test_footnote_check_catches_a_plain_or_unknown_source():
    text = (
        "A claim.[^a] Another.[^b]\n\n"
        "[^a]: {cite:label}`leviathan2023`, Table 2.\n"
        "[^b]: Leviathan et al. 2023, Table 2.\n"
        "[^c]: {cite:label}`eagle2_2025`, Table 1.\n"
    )
    problems = footnote_problems("synthetic", text, set(load_bib().entries))
    assert len(problems) == 2, problems
    assert "'Leviathan et al. 2023, Table 2.'" in problems[0] and "eagle2_2025" in problems[1]


@pytest.mark.parametrize("name", sorted(pages()))
def test_no_page_cites_a_source_in_plain_text(name):
    problems = plain_citations(name, pages()[name].read_text(encoding="utf-8"), shorthands(load_bib()))
    assert not problems, "\n".join(problems)


def test_plain_citation_check_catches_each_form():
    known = shorthands(load_bib())
    for line in ("as EAGLE-2, Table 1 shows", "(Medusa §2.1)", "EAGLE's Fig. 1", "Leviathan et al. 2023, §3"):
        assert plain_citations("synthetic", line, known), line
    for line in ("{cite:label}`eagle2_2024`, Table 1", "EAGLE-2 drafts a tree", "| EAGLE-2 Table 1 |"):
        assert not plain_citations("synthetic", line, known), line


def test_survey_cites_the_four_official_repositories():
    bib = load_bib()
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(SURVEY.glob("*.md")))
    for key in OFFICIAL_REPOSITORIES:
        entry = bib.entries[key]
        assert entry.fields["url"] in text or entry.fields["commit"] in text, key


# --- the checker catches a one-character typo ----------------------------------------------------------


def _one_char_typos(token: str):
    """Every change of a single digit or hex letter in ``token`` to a different character."""
    for i, ch in enumerate(token):
        if ch.isdigit():
            yield token[:i] + str((int(ch) + 1) % 10) + token[i + 1 :]
        elif ch in "abcdef":
            yield token[:i] + ("a" if ch != "a" else "b") + token[i + 1 :]


def _written_tokens():
    """(page, token) for every .bib id (as in the .bib, and bare) and SHA written on a page."""
    bib = load_bib()
    tokens = arxiv_forms(bib) | shas(bib)
    for name, path in pages().items():
        text = path.read_text(encoding="utf-8")
        for token in sorted(tokens):
            if re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", text):
                yield name, token


WRITTEN = sorted(set(_written_tokens()))


def test_pages_write_ids_and_commits():
    bib = load_bib()
    written = {token for _, token in WRITTEN}
    assert written & shas(bib) and written & arxiv_forms(bib)


@pytest.mark.parametrize("name,token", WRITTEN)
def test_any_one_character_typo_is_caught(name, token):
    bib = load_bib()
    page = pages()[name].read_text(encoding="utf-8")
    # The block that holds the token's first occurrence, checked as the page checks it: a mistyped
    # token changes nothing outside its own block, so the whole page need not be re-read per typo.
    assert problems_on_page(name, page, bib) == []
    text = next(b for b in paragraphs(page) if re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", b))
    assert problems_on_page(name, text, bib) == []
    start = re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", text).start()
    for typo in _one_char_typos(token):
        # Mistype only the first occurrence; the checker must still notice.
        mutated = text[:start] + typo + text[start + len(token) :]
        assert problems_on_page(name, mutated, bib), f"typo {typo!r} for {token!r} not caught"
    # Dropping or doubling a character is caught too.
    for mutated_token in (token[:-1], token + token[-1], token[1:]):
        mutated = text[:start] + mutated_token + text[start + len(token) :]
        assert problems_on_page(name, mutated, bib), f"{mutated_token!r} for {token!r} not caught"


def test_a_wrong_date_beside_an_id_or_commit_is_caught():
    bib = load_bib()
    good = (
        "Medusa: arXiv 2401.10774v3, 2024-06-14; "
        "code at commit e2a5d20c048a9b0a4092e6933c34313687422518 (2024-04-18)."
    )
    assert not problems_on_page("synthetic", good, bib)
    for right, wrong in (("2024-06-14", "2024-06-15"), ("2024-04-18", "2024-04-19")):
        assert problems_on_page("synthetic", good.replace(right, wrong), bib), wrong
    # A date that belongs to another entry is wrong here too (EAGLE's v3 date beside Medusa's id).
    assert problems_on_page("synthetic", "arXiv 2401.10774v3, 2025-03-04.", bib)


def _written_dates():
    """(page, date) for every date written in a paragraph that cites an id or commit."""
    bib = load_bib()
    for name, path in pages().items():
        for block in paragraphs(path.read_text(encoding="utf-8")):
            if any(t in block for e in bib.entries.values() for t in tokens_of(e)):
                for date in ISO_DATE.findall(block):
                    yield name, date


@pytest.mark.parametrize("name,date", sorted(set(_written_dates())))
def test_a_typo_in_a_written_date_is_caught(name, date):
    text = pages()[name].read_text(encoding="utf-8")
    day = dt.date.fromisoformat(date)
    for wrong in (day + dt.timedelta(days=1), day - dt.timedelta(days=1)):
        mutated = text.replace(date, wrong.isoformat())
        assert problems_on_page(name, mutated, load_bib()), f"{name}: {date} -> {wrong} not caught"


# --- the rendered bibliography ---------------------------------------------------------------------


def _rendered_entries(page: str) -> dict[str, tuple[str, str]]:
    """label -> (inner HTML, plain text) for each citation on the built page."""
    found = {}
    for m in re.finditer(r'<div class="citation" id="[^"]+" role="doc-biblioentry">(.*?)</div>', page, re.S):
        inner = m.group(1)
        label = re.search(r'<span class="label"><span class="fn-bracket">\[</span>(.*?)<span', inner, re.S)
        text = html.unescape(re.sub(r"<[^>]+>", "", inner))
        found[html.unescape(label.group(1)).strip()] = (inner, re.sub(r"\s+", " ", text))
    return found


def _plain(value: str) -> str:
    """A .bib field as the rendered text shows it (whitespace collapsed, quotes straight)."""
    return re.sub(r"\s+", " ", value).replace("“", '"').replace("”", '"').replace("’", "'").strip()


@pytest.mark.build  # reads the built site: a full HTML build
def test_bibliography_page_renders_every_entry(html_build: Build):
    assert html_build.returncode == 0, html_build.output[-3000:]
    page = (html_build.outdir / "references.html").read_text(encoding="utf-8")
    rendered = _rendered_entries(page)
    bib = load_bib()
    assert sorted(rendered) == sorted(shorthands(bib)), "each entry once, labelled by its shorthand"
    for key, entry in bib.entries.items():
        inner, text = rendered[entry.fields["shorthand"]]
        text = _plain(text)
        if "eprint" in entry.fields:
            eprint = entry.fields["eprint"]
            assert f'href="https://arxiv.org/abs/{eprint}">arXiv:{eprint}</a>' in inner, key
        if "commit" in entry.fields:
            sha = entry.fields["commit"]
            assert re.search(rf"<code[^>]*>(<span[^>]*>)?{sha}(</span>)?</code>", inner), key
            if "commitdate" in entry.fields:
                assert f"{sha} ({entry.fields['commitdate']})" in text, key
        if "note" in entry.fields:
            assert _plain(entry.fields["note"]) in text, key
        for date in recorded_dates(entry):
            assert date in text, (key, date)
    # Nothing on the rendered page is a near miss of the .bib either.
    problems = problems_on_page("references.html", "\n\n".join(t for _, t in rendered.values()), bib)
    assert not problems, "\n".join(problems)


# --- the "Use it today" page: version stamps agree with the bibliography ------------------------------

USE_IT_TODAY = ROOT / "docs" / "use-it-today.md"
# "**Checked against vLLM 0.19.1** {cite:label}`vllm-0.19.1`": the engine, its version, the entry.
STAMP = re.compile(r"\*\*Checked against (?P<name>.+?) (?P<version>\S+)\*\* \{cite:label\}`(?P<key>[^`]+)`")


def version_stamps(text: str) -> list[tuple[str, str, str]]:
    return [(m["name"], m["version"], m["key"]) for m in STAMP.finditer(text)]


def stamp_problems(text: str, bib: BibliographyData) -> list[str]:
    """Each stamp names an entry whose `version` and shorthand it repeats; every engine entry (one
    with a `version`) is stamped once; no other version of a stamped engine is written on the page."""
    problems = []
    stamps = version_stamps(text)
    engines = {key for key, e in bib.entries.items() if "version" in e.fields}
    for name, version, key in stamps:
        entry = bib.entries.get(key)
        if entry is None or "version" not in entry.fields:
            problems.append(f"stamp {name} {version}: {key!r} is not an engine entry of references.bib")
            continue
        if entry.fields["version"] != version:
            problems.append(f"stamp {name} {version}: references.bib says {entry.fields['version']}")
        if not entry.fields["shorthand"].startswith(name):
            problems.append(f"stamp {name} {version}: the entry's shorthand is {entry.fields['shorthand']!r}")
        others = set(re.findall(rf"{re.escape(name)} v?(\d+\.\d+(?:\.\d+)?)", text)) - {version}
        if others:
            problems.append(f"{name}: versions {sorted(others)} written beside the stamped {version}")
    stamped = [key for _, _, key in stamps]
    for key in sorted(engines):
        if stamped.count(key) != 1:
            problems.append(f"{key}: stamped {stamped.count(key)} times (once expected)")
    return problems


def test_use_it_today_stamps_agree_with_the_bib():
    text = USE_IT_TODAY.read_text(encoding="utf-8")
    assert len(version_stamps(text)) == 4, "one stamp for each of the four engines"
    problems = stamp_problems(text, load_bib())
    assert not problems, "\n".join(problems)


def test_use_it_today_check_catches_a_wrong_stamp():
    text = USE_IT_TODAY.read_text(encoding="utf-8")
    bib = load_bib()
    assert stamp_problems(text.replace("vLLM 0.19.1**", "vLLM 0.19.2**", 1), bib)
    assert stamp_problems(text.replace("{cite:label}`sglang-0.5.3`", "{cite:label}`vllm-0.19.1`", 1), bib)
    assert stamp_problems(text + "\nSince vLLM 0.18.0 the flag is ...\n", bib)
    assert stamp_problems(STAMP.sub("", text, count=1), bib)  # an engine left unstamped


def test_use_it_today_says_its_snippets_are_not_executed():
    """The page's code blocks are plain python/bash fences, each marked as not executed here."""
    text = USE_IT_TODAY.read_text(encoding="utf-8")
    fences = re.findall(r"^```(\w+)\n(.*?)^```", text, re.M | re.S)
    code = [(lang, body) for lang, body in fences if lang in {"python", "bash"}]
    assert len(code) >= 6, fences
    assert all(body.startswith("# Not executed here") for _, body in code), [b[:40] for _, b in code]
    assert "Not executed here" in text.split("\n## ")[0], "the opening says so before the first section"


# --- the summary's sources table -------------------------------------------------------------------

SUMMARY = SURVEY / "summary.md"
SOURCES_ROW = re.compile(r"^\| (?!source \||---)(?P<cells>.+) \|$", re.MULTILINE)


def sources_rows(text: str) -> dict[str, list[str]]:
    """shorthand -> the other cells of its row, from the table under the summary's "## Sources"."""
    section = text.split("\n## Sources\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for m in SOURCES_ROW.finditer(section):
        cells = [c.strip() for c in m["cells"].split(" | ")]
        rows[cells[0]] = cells[1:]
    return rows


def first_surname(entry) -> str | None:
    people = entry.persons.get("author", [])
    return " ".join(people[0].last_names) if people else None


def sources_problems(text: str, bib: BibliographyData) -> list[str]:
    """Everything wrong with the sources table: a footnote's source without a row, a row naming no
    entry, or a row whose first author, year, arXiv id, commit or commit date differs from the .bib."""
    if "\n## Sources\n" not in text:
        return ["no '## Sources' section"]
    rows = sources_rows(text)
    by_shorthand = {e.fields["shorthand"]: e for e in bib.entries.values()}
    problems = []
    for body in FOOTNOTE_DEF.findall(text):
        for keys in CITE_ROLE.findall(body):
            for key in (k.strip() for k in keys.split(",")):
                cited = bib.entries[key].fields["shorthand"] if key in bib.entries else key
                if cited not in rows:
                    problems.append(f"{cited!r} is cited in a footnote but has no row in the sources table")
    for shorthand, cells in rows.items():
        entry = by_shorthand.get(shorthand)
        if entry is None or len(cells) != 3:
            problems.append(f"row {shorthand!r}: no references.bib entry has that shorthand, or not 4 cells")
            continue
        authors, year, where = cells
        fields = entry.fields
        surname = first_surname(entry)
        if surname is None and authors not in {"–", "not read"}:
            problems.append(f"row {shorthand!r}: the entry has no author, the row says {authors!r}")
        if surname is not None and not authors.startswith(surname):
            problems.append(f"row {shorthand!r}: the first author is {surname!r}, the row says {authors!r}")
        if fields.get("year", "–") != year:
            problems.append(f"row {shorthand!r}: year {year!r}, references.bib {fields.get('year', '–')!r}")
        eprints = {fields["eprint"], fields["eprint"].split("v")[0]} if "eprint" in fields else set()
        if eprints and where.split(" ")[0] not in eprints:
            problems.append(f"row {shorthand!r}: arXiv {where!r}, references.bib {fields['eprint']!r}")
        if "commit" in fields:
            date = fields.get("commitdate", "date not recorded")
            if f"`{fields['commit']}` ({date})" not in where:
                problems.append(f"row {shorthand!r}: expected commit {fields['commit']} ({date})")
            repo = fields.get("repository") or fields.get("url", "").removeprefix("https://github.com/")
            if repo not in where:
                problems.append(f"row {shorthand!r}: the repository is not named")
    return problems


def test_summary_sources_table_matches_the_bib():
    problems = sources_problems(SUMMARY.read_text(encoding="utf-8"), load_bib())
    assert not problems, "\n".join(problems)
    assert len(sources_rows(SUMMARY.read_text(encoding="utf-8"))) >= 20


def test_sources_table_check_catches_mistakes():
    text = SUMMARY.read_text(encoding="utf-8")
    bib = load_bib()
    # A wrong year, a wrong first author, a missing row, a wrong commit date, a missing section.
    assert sources_problems(text.replace("| Medusa | Cai,", "| Medusa | Li,", 1), bib)
    assert sources_problems(
        text.replace("| Sun, Ge, Wei, Wang | 2021 |", "| Sun, Ge, Wei, Wang | 2020 |"), bib
    )
    assert sources_problems(re.sub(r"^\| RSD \|.*\n", "", text, flags=re.M), bib)
    assert sources_problems(text.replace("(2024-04-18)", "(2024-04-19)", 1), bib)
    assert sources_problems(text.replace("\n## Sources\n", "\n## Reading\n"), bib)
    assert sources_problems(text.replace("| IAD | Ge,", "| IAD2 | Ge,"), bib)
