"""A typo in a citation is a bug.

Every arXiv id and commit SHA written in the survey summary and in the site bibliography must match
the reference data file exactly, and every id / SHA in the data file must appear, exactly as written
there, on the pages it names, next to its date.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "experiments" / "36-speculative-survey" / "citations.toml"
PAGES = {
    "summary": ROOT / "experiments" / "36-speculative-survey" / "summary.md",
    "references": ROOT / "docs" / "references.md",
}

ARXIV_ID = re.compile(r"\d{4}\.\d{4,5}(v\d+)?")
SHA = re.compile(r"[0-9a-f]{40}")
# Anything that looks like an arXiv id, near misses included (3-5 digits, a dot, 3-6 digits, an
# optional version). It must not start inside a longer number, so DOIs such as 10.1145/1498765.1498785
# and decimals are not picked up.
ARXIV_LIKE = re.compile(r"(?<![\d.])\d{3,5}\.\d{3,6}(?:v\d*)?(?![\w])")
# Maximal runs of letters and digits; long ones are checked as possible commit hashes.
ALNUM_RUN = re.compile(r"[0-9A-Za-z]+")
HEXISH = re.compile(r"[0-9a-fA-F]+")


def load_data(path: Path = DATA) -> dict:
    with path.open("rb") as f:
        return tomllib.load(f)


def arxiv_forms(data: dict) -> set[str]:
    """The arXiv strings a page may contain: each id bare, and with its recorded version."""
    forms = set()
    for paper in data["paper"]:
        forms.add(paper["arxiv"])
        if paper["version"]:
            forms.add(paper["arxiv"] + paper["version"])
    return forms


def shas(data: dict) -> set[str]:
    return {commit["sha"] for commit in data["commit"]}


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
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def iso(value: object) -> str:
    assert isinstance(value, dt.date), f"{value!r} should be a TOML date"
    return value.isoformat()


def problems_on_page(name: str, text: str, data: dict) -> list[str]:
    """Everything wrong with the citations on one page (an empty list if nothing is)."""
    problems = []
    allowed_ids = arxiv_forms(data)
    allowed_shas = shas(data)

    # Page -> data: every id and hash written on the page is known, character for character.
    for found in written_arxiv_ids(text):
        if not ARXIV_ID.fullmatch(found):
            problems.append(f"{name}: malformed arXiv id {found!r}")
        elif found not in allowed_ids:
            problems.append(f"{name}: arXiv id {found!r} is not in citations.toml")
    for found in written_hashes(text):
        if not SHA.fullmatch(found):
            problems.append(f"{name}: {found!r} looks like a commit hash but is not 40 lowercase hex")
        elif found not in allowed_shas:
            problems.append(f"{name}: commit {found!r} is not in citations.toml")

    # Data -> page: each entry meant for this page is written exactly, next to its dates.
    blocks = paragraphs(text)
    for paper in data["paper"]:
        if name not in paper["pages"]:
            continue
        form = paper["arxiv"] + paper["version"]
        if form not in text:
            problems.append(f"{name}: {paper['key']} should cite arXiv {form}")
            continue
        dates = [iso(paper[k]) for k in ("version_date", "first_submitted") if k in paper]
        if dates and not any(form in b and all(d in b for d in dates) for b in blocks):
            problems.append(f"{name}: no paragraph gives {form} with its date(s) {dates}")
    for commit in data["commit"]:
        if name not in commit["pages"]:
            continue
        if commit["sha"] not in text:
            problems.append(f"{name}: {commit['key']} should cite commit {commit['sha']}")
            continue
        if "commit_date" in commit:
            date = iso(commit["commit_date"])
            if not any(commit["sha"] in b and date in b for b in blocks):
                problems.append(f"{name}: no paragraph gives commit {commit['sha']} with {date}")
    return problems


# --- the data file itself --------------------------------------------------------------------------


def test_data_file_is_well_formed():
    data = load_data()
    keys = [entry["key"] for entry in data["paper"] + data["commit"]]
    assert len(keys) == len(set(keys)), "duplicate keys"
    for paper in data["paper"]:
        assert ARXIV_ID.fullmatch(paper["arxiv"]) and "v" not in paper["arxiv"], paper["key"]
        assert paper["version"] == "" or re.fullmatch(r"v\d+", paper["version"]), paper["key"]
        assert set(paper["pages"]) <= set(PAGES), paper["key"]
        for k in ("version_date", "first_submitted"):
            if k in paper:
                assert isinstance(paper[k], dt.date), (paper["key"], k)
        if "version_date" in paper:
            assert paper["version"], f"{paper['key']}: a version date needs a version"
    for commit in data["commit"]:
        assert SHA.fullmatch(commit["sha"]), commit["key"]
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", commit["repo"]), commit["key"]
        assert set(commit["pages"]) <= set(PAGES), commit["key"]
        if "commit_date" in commit:
            assert isinstance(commit["commit_date"], dt.date), commit["key"]
    assert len(shas(data)) == len(data["commit"]), "duplicate SHAs"


# --- the pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_citations_match_data(name):
    problems = problems_on_page(name, PAGES[name].read_text(encoding="utf-8"), load_data())
    assert not problems, "\n".join(problems)


def test_summary_cites_the_four_official_repositories():
    text = PAGES["summary"].read_text(encoding="utf-8")
    for repo in (
        "FasterDecoding/Medusa",
        "SafeAILab/EAGLE",
        "hao-ai-lab/LookaheadDecoding",
        "hemingkx/Spec-Bench",
    ):
        assert f"https://github.com/{repo}" in text, repo


# --- the checker catches a one-character typo ----------------------------------------------------------


def _one_char_typos(token: str):
    """Every change of a single digit or hex letter in ``token`` to a different character."""
    for i, ch in enumerate(token):
        if ch.isdigit():
            yield token[:i] + str((int(ch) + 1) % 10) + token[i + 1 :]
        elif ch in "abcdef":
            yield token[:i] + ("a" if ch != "a" else "b") + token[i + 1 :]


def _cited_tokens():
    data = load_data()
    for paper in data["paper"]:
        for name in paper["pages"]:
            yield name, paper["arxiv"] + paper["version"]
    for commit in data["commit"]:
        for name in commit["pages"]:
            yield name, commit["sha"]


@pytest.mark.parametrize("name,token", sorted(set(_cited_tokens())))
def test_any_one_character_typo_is_caught(name, token):
    data = load_data()
    text = PAGES[name].read_text(encoding="utf-8")
    assert token in text
    start = text.index(token)
    for typo in _one_char_typos(token):
        # Mistype only the first occurrence; the checker must still notice.
        mutated = text[:start] + typo + text[start + len(token) :]
        assert problems_on_page(name, mutated, data), f"typo {typo!r} for {token!r} not caught"
    # Dropping or doubling a character is caught too.
    for mutated_token in (token[:-1], token + token[-1], token[1:]):
        mutated = text[:start] + mutated_token + text[start + len(token) :]
        assert problems_on_page(name, mutated, data), f"{mutated_token!r} for {token!r} not caught"


def test_a_typo_in_a_date_is_caught():
    data = load_data()
    text = PAGES["summary"].read_text(encoding="utf-8")
    assert not problems_on_page("summary", text, data)
    for wrong, right in (("2024-06-15", "2024-06-14"), ("2024-04-19", "2024-04-18")):
        assert right in text
        assert problems_on_page("summary", text.replace(right, wrong), data), right
