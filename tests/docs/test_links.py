"""Every relative link in README.md and docs/ leads somewhere.

`mkdocs build --strict` (a step of `run.py test`) checks the links between the
pages of docs/; this also covers README.md, which lives outside the site, and
links from the docs to files of the repository. An anchor must name a heading
of the target page, as both MkDocs and GitHub spell it.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """The text without code blocks and code spans, where links are not links."""
    return CODE.sub("", FENCE.sub("", text))


def mkdocs_slug(heading: str) -> str:
    """Python-Markdown's ``toc`` slug, which MkDocs uses."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading (punctuation dropped, each space a hyphen)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [CODE.sub(lambda m: m.group(0).strip("`"), h) for h in HEADING.findall(text)]


def links(page: Path) -> list[str]:
    return LINK.findall(prose(page.read_text(encoding="utf-8")))


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists() or not resolved.is_relative_to(root):
            broken.append(f"{target}: no such file")
            continue
        if not anchor:
            continue
        if resolved.suffix != ".md":
            broken.append(f"{target}: an anchor into a file that is not a page")
            continue
        titles = headings(resolved)
        if anchor not in {mkdocs_slug(t) for t in titles}:
            broken.append(f"{target}: no such heading (MkDocs)")
        elif page.name == "README.md" and anchor not in {github_slug(t) for t in titles}:
            broken.append(f"{target}: no such heading (GitHub)")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    assert broken_links(page) == [], f"broken links in {page.relative_to(ROOT)}"


def test_every_docs_page_is_checked() -> None:
    assert ROOT / "README.md" in PAGES
    assert ROOT / "docs" / "index.md" in PAGES
    assert ROOT / "docs" / "decisions" / "index.md" in PAGES


def test_a_broken_link_is_caught(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Live status (Server-Sent Events)\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n"
        "[ok](#title) [ok](other.md#live-status-server-sent-events) `[code](not-a-link.md)`\n"
        "[gone](missing.md) [no anchor](other.md#live-status) [outside](../x.md)\n"
        "```\n[fenced](fenced.md)\n```\n"
    )
    assert broken_links(page, root=tmp_path) == [
        "missing.md: no such file",
        "other.md#live-status: no such heading (MkDocs)",
        "../x.md: no such file",
    ]
