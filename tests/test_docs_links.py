"""The documentation's relative links resolve: README.md and every page under docs/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# [text](target) and [text](target "title"); images too. Code blocks are skipped: their brackets are code.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def relative_links(page: Path) -> list[str]:
    """Every link target in ``page`` that is not a URL, a mail address or an in-page anchor."""
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code
    targets = _LINK.findall(text)
    return [t for t in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|#)", t, re.I)]


def test_the_checker_finds_links() -> None:
    """The pattern sees the links it must check (else the test below would pass on nothing)."""
    sample = ROOT / "docs" / "tutorials" / "streaming.md"
    assert "../cli.md" in relative_links(sample) and "../../README.md" in relative_links(sample)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    """Every relative link points at a file or directory of this repository."""
    dead = [t for t in relative_links(page) if not (page.parent / t.split("#", 1)[0]).exists()]
    assert dead == [], f"{page.relative_to(ROOT)} links to missing files: {dead}"
