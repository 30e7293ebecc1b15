"""What the code cites exists: comments and docstrings under src/, tests/ and bench/ may point only at files
that are in the repository, at sections those files have, and the documents' own links resolve.

A citation of a section reads `docs/<name>.md, 'Section heading'` (or `docs/<name>.md#anchor`). Notes and
specifications that live outside the repository cannot be cited: a reader of the code has no way to
open them, so the code says what it needs in its own words or points into docs/.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("src", "tests", "bench")
DOCUMENTS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

# Forms that cite documents which are not in the repository, however they are spelled.
FORBIDDEN = {
    "the design notes": re.compile(r"\bDESIGN(?:\.md\b|:)"),
    "a numbered section of a specification": re.compile(r"\bspec(?:'s)?\s*(?:§|section\b|\d)", re.I),
    "a numbered weak spot": re.compile(r"\bweak spots?\s*(?:#\s*)?\d", re.I),
    "a numbered section": re.compile(r"§\s*\d|\bsection \d+\b", re.I),
    "the reference notes": re.compile(r"\breference/[\w.-]+"),
}
# Sections of published standards may be cited by number: "RFC 6716 §3.1".
STANDARD = re.compile(r"\bRFC \d+\s*$")
MARKDOWN_PATH = re.compile(r"(?<![\w/.:-])((?:[\w-]+/)*[\w.-]+\.md)\b(?:#([\w-]+))?")
SECTION = re.compile(r"(docs/[\w.-]+\.md),\s*['\"‘“]([^'\"’”]+)['\"’”]")


@dataclass(frozen=True)
class Note:
    """A comment block or a docstring, with its lines joined."""

    path: Path
    line: int
    text: str

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def python_files() -> list[Path]:
    return sorted(p for top in SCANNED for p in (ROOT / top).rglob("*.py") if ".venv" not in p.parts)


def notes(path: Path) -> Iterator[Note]:
    """Every comment block (consecutive comment lines joined) and every docstring of a module."""
    source = path.read_text(encoding="utf-8")
    block: list[str] = []
    start = last = 0
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            row = token.start[0]
            if block and row != last + 1:
                yield Note(path, start, " ".join(block))
                block = []
            if not block:
                start = row
            block.append(token.string.lstrip("#").strip())
            last = row
    if block:
        yield Note(path, start, " ".join(block))
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node, clean=True)
            if docstring:
                line = node.body[0].lineno if node.body else 1
                yield Note(path, line, " ".join(docstring.split()))


# Only files that mention anything of the sort are parsed: tokenizing every file would take seconds.
MENTIONS = re.compile(r"\.md\b|§|\bspec|weak spot|reference/|DESIGN|section \d", re.I)


@functools.cache
def all_notes() -> tuple[Note, ...]:
    candidates = [p for p in python_files() if MENTIONS.search(p.read_text(encoding="utf-8"))]
    return tuple(note for path in candidates for note in notes(path))


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@functools.cache
def headings(document: Path) -> tuple[str, ...]:
    text = re.sub(r"(?ms)^```.*?^```", "", document.read_text(encoding="utf-8"))
    return tuple(m[1].strip() for m in re.finditer(r"(?m)^#{1,6}\s+(.+?)\s*#*\s*$", text))


@functools.cache
def anchors(document: Path) -> frozenset[str]:
    seen: Counter[str] = Counter()
    found = set()
    for heading in headings(document):
        base = slug(heading)
        found.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return frozenset(found)


def test_the_scan_sees_comments_and_docstrings() -> None:
    here = list(notes(Path(__file__)))
    assert any(n.text.startswith("What the code cites exists") for n in here), "the module docstring"
    assert any("however they are spelled" in n.text for n in here), "a comment"
    assert slug("A `play` command, step by step") == "a-play-command-step-by-step"
    assert slug("Errors 10062, 40060 and 50027") == "errors-10062-40060-and-50027"


def test_nothing_cites_documents_outside_the_repository() -> None:
    found = []
    for note in all_notes():
        for what, pattern in FORBIDDEN.items():
            hits = [m for m in pattern.finditer(note.text) if not STANDARD.search(note.text[: m.start()])]
            if hits:
                found.append(
                    f"{note.where()}: {what}: …{note.text[max(hits[0].start() - 30, 0) : hits[0].end() + 30]}…"
                )
                break
    assert not found, "cite docs/ instead (or say it in the code's own words):\n" + "\n".join(found)


def test_cited_markdown_files_exist() -> None:
    missing = []
    for note in all_notes():
        for match in MARKDOWN_PATH.finditer(note.text):
            target = ROOT / match[1]
            if not target.is_file():
                missing.append(f"{note.where()}: {match[1]}")
            elif match[2] and match[2] not in anchors(target):
                missing.append(f"{note.where()}: {match[1]}#{match[2]} (no such heading)")
    assert not missing, "comments and docstrings cite files that are not there:\n" + "\n".join(missing)


def test_cited_sections_exist() -> None:
    cited = [(note, m[1], m[2]) for note in all_notes() for m in SECTION.finditer(note.text)]
    assert cited, "the code cites sections of docs/ (the pattern must keep finding them)"
    wrong = [
        f"{note.where()}: {path}, '{section}'"
        for note, path, section in cited
        if not (ROOT / path).is_file() or section not in headings(ROOT / path)
    ]
    assert not wrong, "no such section:\n" + "\n".join(wrong)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_links_between_documents_resolve(document: Path) -> None:
    text = re.sub(r"(?ms)^```.*?^```", "", document.read_text(encoding="utf-8"))
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{document.name} links to what is not there: {broken}"
