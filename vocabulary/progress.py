"""A learner's progress in one language: ``GET /api/progress``.

Days are calendar days in the learner's time zone (``tz``, UTC unless given).

A **passage read** is a complete entry of one of the learner's adventures in
the language that the learner acted on: made the decision at its end, marked
it known ("page to known") or saved a word from it. Its day is the day of the
first such act. (Opening an entry is not recorded, so reading it without
acting on it does not count; nor does a passage whose words were all saved
before from other passages and that was then abandoned.)

**Coverage** is the mean known-word coverage of the learner's latest
``RECENT_PASSAGES`` passages in the language (how much of each they knew when
it was written).

The **streak** is the number of consecutive days, up to today, with a review
or a passage read; a streak that ended yesterday is still running (today is
not over), so it counts back from yesterday when today has no activity yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from adventures.models import Decision, Entry

from .models import Card, Review, Word

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class Progress:
    language: str
    words: dict[str, int]  # by status, every status present
    reviews_today: int
    due_now: int
    streak_days: int
    active_today: bool
    passages_read: int
    audio_minutes: float
    coverage: RecentCoverage


# How many of the learner's latest passages the mean coverage is over.
RECENT_PASSAGES = 20


@dataclass(frozen=True)
class RecentCoverage:
    """The mean coverage of the learner's latest passages in the language
    (``langlearn.difficulty.coverage``, measured when each was written)."""

    passages: int
    known: float | None
    learning: float | None
    new_words: float | None  # per passage


def recent_coverage(*, user: User, language: str) -> RecentCoverage:
    rows = list(
        Entry.objects.filter(
            adventure__user=user,
            adventure__target_language=language,
            annotated_at__isnull=False,
        )
        .exclude(coverage={})
        .order_by("-annotated_at")
        .values_list("coverage", flat=True)[:RECENT_PASSAGES]
    )
    measured = [row for row in rows if row.get("known") is not None]

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    return RecentCoverage(
        passages=len(measured),
        known=mean([row["known"] for row in measured]),
        learning=mean([row["learning"] for row in measured]),
        new_words=mean([float(len(row["new_words"])) for row in measured]),
    )


def passages_read(*, user: User, language: str) -> dict[object, datetime]:
    """``{entry id: when it was first acted on}`` for the learner's passages read."""
    complete = Entry.objects.filter(
        adventure__user=user,
        adventure__target_language=language,
        status=Entry.Status.COMPLETE,
    )
    first: dict[object, datetime] = {}
    decided = Decision.objects.filter(entry__in=complete).values_list("entry_id", "created_at")
    saved = (
        Word.objects.filter(user=user, language=language, entry__in=complete)
        .values("entry_id")
        .annotate(at=Min("created_at"))
        .values_list("entry_id", "at")
        .order_by()
    )
    for entry_id, at in [*decided, *saved]:
        if entry_id not in first or at < first[entry_id]:
            first[entry_id] = at
    return first


def streak(days: set[date], today: date) -> int:
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def progress(*, user: User, language: str, zone: ZoneInfo) -> Progress:
    now = timezone.now()
    today = now.astimezone(zone).date()
    by_status = dict(
        Word.objects.filter(user=user, language=language)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    reviews = Review.objects.filter(user=user, word__language=language)
    start_of_today = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    review_days = set(
        reviews.annotate(day=TruncDate("reviewed_at", tzinfo=zone))
        .values_list("day", flat=True)
        .distinct()
    )
    read = passages_read(user=user, language=language)
    read_days = {at.astimezone(zone).date() for at in read.values()}
    audio = Entry.objects.filter(id__in=list(read)).aggregate(seconds=Sum("audio_seconds"))
    seconds = audio["seconds"] or Decimal(0)
    return Progress(
        language=language,
        words={status: by_status.get(status, 0) for status in Word.Status.values},
        reviews_today=reviews.filter(reviewed_at__gte=start_of_today).count(),
        due_now=Card.objects.filter(
            word__user=user,
            word__language=language,
            word__status=Word.Status.LEARNING,
            due__lte=now,
        ).count(),
        streak_days=streak(review_days | read_days, today),
        active_today=today in review_days | read_days,
        passages_read=len(read),
        audio_minutes=round(float(seconds) / 60, 1),
        coverage=recent_coverage(user=user, language=language),
    )
