"""Every relative link and #anchor in README.md and docs/*.md resolves: the file exists, the heading exists."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MD = MarkdownIt("commonmark").enable("table")


def slug(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped (word characters, spaces, hyphens kept), spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def inline_text(token) -> str:
    return "".join(c.content for c in token.children or [] if c.type in ("text", "code_inline"))


def anchors(path: Path) -> set[str]:
    tokens = MD.parse(path.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    out = set()
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            base = slug(inline_text(tokens[i + 1]))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(path: Path) -> list[str]:
    found = []
    for tok in MD.parse(path.read_text(encoding="utf-8")):
        for child in tok.children or []:
            if child.type == "link_open":
                found.append(child.attrs["href"])
    return found


def rel(p: Path) -> str:
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def broken_links(path: Path) -> list[str]:
    bad = []
    for href in links(path):
        if re.match(r"[a-z][a-z0-9+.-]*:", href, re.I):  # http:, mailto:, ...: not checked (offline)
            continue
        target, _, fragment = href.partition("#")
        dest = (path.parent / unquote(target)).resolve() if target else path
        if not dest.exists():
            bad.append(f"{href}: {rel(dest)} does not exist")
        elif fragment and (dest.suffix != ".md" or unquote(fragment) not in anchors(dest)):
            bad.append(f"{href}: no heading #{fragment} in {rel(dest)}")
    return bad


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(doc):
    assert links(doc) or doc.name != "README.md", f"{doc}: no links found (parser broken?)"
    assert broken_links(doc) == []


def test_the_checker_catches_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / "other.md").write_text("# Real heading\n\n## The `code` part: yes\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n\n[ok](other.md#real-heading) [ok2](other.md#the-code-part-yes) [self](#top)\n"
        "[gone](missing.md) [noanchor](other.md#nope) [selfbad](#nope)\n\n"
        "```\n[in code](not-a-link.md)\n```\n"
    )
    assert broken_links(page) == [
        f"missing.md: {tmp_path / 'missing.md'} does not exist",
        f"other.md#nope: no heading #nope in {tmp_path / 'other.md'}",
        f"#nope: no heading #nope in {page}",
    ]
