"""Fetching news sources: the one code path ``fetch_news`` and the admin use.

Each source is fetched, parsed and stored on its own: a feed that is
malformed, unreachable, oversized or refused is recorded on its source
(status, error, time) and logged in one line, and the next source is fetched
all the same.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from .feeds import FeedError, ParsedItem, parse
from .fetching import FetchError, fetch
from .models import Digest, NewsItem, NewsSource

logger = logging.getLogger(__name__)

UPDATED_ON_CONFLICT = ["headline", "summary", "link", "published_at", "last_seen_at"]


@dataclass(frozen=True)
class SourceResult:
    source_id: int
    url: str
    language: str
    new: int = 0
    seen: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class FetchReport:
    results: list[SourceResult] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceResult]:
        return [result for result in self.results if not result.ok]

    @property
    def new(self) -> int:
        return sum(result.new for result in self.results)

    @property
    def seen(self) -> int:
        return sum(result.seen for result in self.results)


def sources_to_fetch(*, source_ids: Iterable[int] | None = None) -> list[NewsSource]:
    """The sources named (enabled or not), or every enabled source."""
    if source_ids is not None:
        return list(NewsSource.objects.filter(id__in=list(source_ids)).order_by("id"))
    return list(NewsSource.objects.filter(enabled=True).order_by("id"))


def sources_fetch(*, source_ids: Iterable[int] | None = None) -> FetchReport:
    """Fetch the sources named (enabled or not), or every enabled source."""
    report = FetchReport()
    for source in sources_to_fetch(source_ids=source_ids):
        report.results.append(source_fetch(source=source))
    return report


def source_fetch(*, source: NewsSource) -> SourceResult:
    """Fetch one source, store its new items, record the outcome on the source."""
    try:
        fetched = fetch(source.url)
        items = parse(fetched.body, url=fetched.url)
        new, seen = _store(source, items)
    except (FetchError, FeedError) as exc:
        return _failed(source, str(exc))
    except Exception as exc:  # our bug or the database: still not the others' problem
        logger.exception("news fetch crashed: source=%s url=%s", source.id, source.url)
        return _failed(source, f"internal error: {type(exc).__name__}: {exc}")
    NewsSource.objects.filter(id=source.id).update(
        last_fetch_status=NewsSource.FetchStatus.OK,
        last_fetched_at=timezone.now(),
        last_fetch_error="",
    )
    logger.info("news fetched: source=%s url=%s new=%d seen=%d", source.id, source.url, new, seen)
    return SourceResult(source.id, source.url, source.language, new=new, seen=seen)


def _store(source: NewsSource, items: list[ParsedItem]) -> tuple[int, int]:
    """Insert the items; one already stored is updated, never duplicated.

    One ``INSERT … ON CONFLICT (source, key) DO UPDATE``: the constraint, not a
    prior read, decides what is new, so two fetches of one source at once store
    each item once. A new row gets this fetch's ``now`` as ``first_seen_at`` (an
    updated row keeps its own), which is how the new ones are counted.
    """
    if not items:
        return 0, 0
    now = timezone.now()
    rows = [
        NewsItem(
            source=source,
            key=item.key,
            guid=item.guid,
            headline=item.headline,
            summary=item.summary,
            link=item.link,
            published_at=item.published_at,
            first_seen_at=now,
            last_seen_at=now,
        )
        for item in items
    ]
    with transaction.atomic():
        NewsItem.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["source", "key"],
            update_fields=UPDATED_ON_CONFLICT,
        )
        new = NewsItem.objects.filter(source=source, first_seen_at=now).count()
    return new, len(rows) - new


def _failed(source: NewsSource, error: str) -> SourceResult:
    error = " ".join(error.split())[:1000]  # one line, in the log and on the page
    NewsSource.objects.filter(id=source.id).update(
        last_fetch_status=NewsSource.FetchStatus.ERROR,
        last_fetched_at=timezone.now(),
        last_fetch_error=error,
    )
    logger.warning("news fetch failed: source=%s url=%s error=%s", source.id, source.url, error)
    return SourceResult(source.id, source.url, source.language, error=error)


def digests_ensure(
    *, date: datetime.date, languages: Iterable[str], levels: Iterable[str]
) -> list[Digest]:
    """The digests of ``date`` for each language and level, made ``pending`` if missing.

    ``INSERT … ON CONFLICT DO NOTHING`` on (date, target_language, level): two
    runs for one day, at once or one after the other, leave one digest each.
    """
    wanted = [(language, level) for language in languages for level in levels]
    Digest.objects.bulk_create(
        [Digest(date=date, target_language=lang, level=level) for lang, level in wanted],
        ignore_conflicts=True,
    )
    found = {
        (digest.target_language, digest.level): digest
        for digest in Digest.objects.filter(date=date)
    }
    return [found[key] for key in wanted]
