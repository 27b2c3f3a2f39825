"""Parse an RSS or Atom document (feedparser) into the items we keep.

The body is handed to feedparser as a stream, never as a string: given a
string, feedparser would open a URL or a local file named by it.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import xml.sax
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
from django.utils.html import strip_tags

HEADLINE_MAX = 500
SUMMARY_MAX = 4000
LINK_MAX = 2000


class FeedError(Exception):
    """Not a feed we can read; ``str()`` is a one-line reason for staff."""


@dataclass(frozen=True)
class ParsedItem:
    key: str  # sha256 of guid
    guid: str
    headline: str
    summary: str
    link: str
    published_at: datetime | None


def parse(body: bytes, *, url: str) -> list[ParsedItem]:
    """The feed's items, once each (a guid listed twice keeps its first item)."""
    parsed = feedparser.parse(io.BytesIO(body))
    problem = parsed.get("bozo_exception")
    if isinstance(problem, xml.sax.SAXException):
        raise FeedError(f"malformed feed: {_one_line(str(problem))}")
    if not parsed.get("version"):
        raise FeedError("not an RSS or Atom feed")
    items: dict[str, ParsedItem] = {}
    for entry in parsed.entries:
        item = _item(entry, base=url)
        if item is not None and item.key not in items:
            items[item.key] = item
    return list(items.values())


def _item(entry: Any, *, base: str) -> ParsedItem | None:
    link = _http_link(entry.get("link", ""), base=base)
    guid = (entry.get("id") or "").strip() or link
    headline = _text(entry.get("title", ""))[:HEADLINE_MAX]
    if not guid or not headline:
        return None  # nothing to tell it apart by, or nothing to show
    summary = _text(entry.get("summary", ""))
    if len(summary) > SUMMARY_MAX:
        summary = summary[: SUMMARY_MAX - 1].rstrip() + "…"
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    published = datetime.fromtimestamp(calendar.timegm(when), tz=UTC) if when else None
    return ParsedItem(
        key=hashlib.sha256(guid.encode()).hexdigest(),
        guid=guid,
        headline=headline,
        summary=summary,
        link=link,
        published_at=published,
    )


def _text(value: str) -> str:
    """Plain text: tags stripped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(strip_tags(value)).split())


def _http_link(value: str, *, base: str) -> str:
    """An absolute http(s) link, or '' (no ``javascript:`` links reach a page)."""
    link = urljoin(base, value.strip()) if value else ""
    if urlsplit(link).scheme not in ("http", "https") or len(link) > LINK_MAX:
        return ""
    return link


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
