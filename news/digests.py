"""The news digest's use cases: which items and languages a digest gets, every
change of its status, and what each pipeline step found.

A digest is ``pending`` (its job is queued) → ``generating`` → ``complete``, or
``error`` once its job has failed for good; ``digests_rerun`` puts one in error
back to ``pending`` with a new job, in the same transaction. Each step's result
is recorded with its ``Digest.*_at`` timestamp in one transaction, so a retried
job resumes after the recorded steps (``news.pipeline``).

**Translation** is eager: when a digest is built it is translated into every
native language that learners of its target language have (their adventures'
native languages) plus ``DIGEST_NATIVE_LANGUAGES`` (English by default). A
digest is read by many learners the morning after it is made, by far most of
them in a handful of native languages; translating then keeps a read a plain
database read (no provider call, no pending state while a learner waits) and
the translator is paid once per language, like an entry. A learner whose
native language has no translation yet (they started after the digest was
made) gets the sentences with ``translation: null``.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from procrastinate import exceptions as procrastinate_exceptions

from adventures.models import Adventure
from langlearn import languages
from outbound.roles import AnnotatedToken, DigestRequest, DigestSourceItem, WrittenDigest

from .models import (
    Digest,
    DigestAudio,
    DigestItem,
    DigestSentence,
    DigestToken,
    DigestTranslation,
    NewsItem,
)
from .services import digests_ensure

logger = logging.getLogger(__name__)

ERROR_DETAIL_LIMIT = 4000
TITLE_LENGTH = 200


# --- What a digest is made from ------------------------------------------------------


def day_bounds(date: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(date, datetime.time.min, tzinfo=datetime.UTC)
    return start, start + datetime.timedelta(days=1)


def day_items(*, date: datetime.date) -> QuerySet[NewsItem]:
    """The items of ``date`` (UTC): published that day, or first seen that day
    when the feed gave no time; newest first."""
    start, end = day_bounds(date)
    return (
        NewsItem.objects.alias(at=Coalesce("published_at", "first_seen_at"))
        .filter(at__gte=start, at__lt=end, source__enabled=True)
        .select_related("source")
        .order_by("-at", "-id")
    )


def digest_request(*, digest: Digest) -> tuple[DigestRequest, list[int]]:
    """What the writer gets for ``digest`` and the item ids behind its numbers:
    the day's items, those from sources in the target language first, at most
    ``DIGEST_MAX_ITEMS``."""
    items = list(day_items(date=digest.date))
    items.sort(key=lambda item: item.source.language != digest.target_language)  # stable
    items = items[: settings.DIGEST_MAX_ITEMS]
    request = DigestRequest(
        target_language=digest.target_language,
        level=digest.level,
        date=digest.date.isoformat(),
        items=[
            DigestSourceItem(
                number=n,
                headline=item.headline,
                summary=item.summary[:600],
                language=item.source.language,
            )
            for n, item in enumerate(items, start=1)
        ],
    )
    return request, [item.id for item in items]


def native_languages(*, target_language: str) -> list[str]:
    """The languages a digest in ``target_language`` is translated into: its
    learners' native languages and ``DIGEST_NATIVE_LANGUAGES``."""
    learners = (
        Adventure.objects.filter(target_language=target_language)
        .order_by()
        .values_list("native_language", flat=True)
        .distinct()
    )
    wanted = set(learners) | set(settings.DIGEST_NATIVE_LANGUAGES)
    return sorted(
        code for code in wanted if code != target_language and languages.can_translate_to(code)
    )


@dataclass
class BuildPlan:
    """What a build of ``date`` would do (``build_digest --dry-run``) or did."""

    date: datetime.date
    items: int
    wanted: list[tuple[str, str]] = field(default_factory=list)  # (language, level)


def build_plan(
    *,
    date: datetime.date,
    target_languages: Iterable[str] | None = None,
    levels: Iterable[str] | None = None,
) -> BuildPlan:
    wanted_languages = list(target_languages or settings.DIGEST_LANGUAGES)
    wanted_levels = list(levels or settings.DIGEST_LEVELS)
    return BuildPlan(
        date=date,
        items=day_items(date=date).count(),
        wanted=[(lang, level) for lang in wanted_languages for level in wanted_levels],
    )


def digests_for(plan: BuildPlan) -> list[Digest]:
    """The plan's digests, made ``pending`` where missing (none without items)."""
    if not plan.items or not plan.wanted:
        return []
    wanted_languages = list(dict.fromkeys(lang for lang, _ in plan.wanted))
    levels = list(dict.fromkeys(level for _, level in plan.wanted))
    return digests_ensure(date=plan.date, languages=wanted_languages, levels=levels)


# --- Status ------------------------------------------------------------------------


def defer_digest_job(digest: Digest) -> int | None:
    """Queue the build job of ``digest`` in the caller's transaction; None when
    one is already queued (``queueing_lock = "digest:<id>"``)."""
    from .tasks import build_digest

    try:
        with transaction.atomic():
            lock = f"digest:{digest.id}"  # one queued job, and one running, per digest
            return build_digest.configure(lock=lock, queueing_lock=lock).defer(digest_id=digest.id)
    except procrastinate_exceptions.AlreadyEnqueued:
        return None


@transaction.atomic
def digests_queue_pending(*, digests: Iterable[Digest]) -> int:
    """Queue a job for each ``pending`` digest; return how many were queued."""
    ids = [digest.id for digest in digests]
    queued = 0
    for digest in Digest.objects.select_for_update().filter(
        id__in=ids, status=Digest.Status.PENDING
    ):
        queued += defer_digest_job(digest) is not None
    return queued


@dataclass
class RerunResult:
    requeued: list[int] = field(default_factory=list)
    skipped: int = 0


@transaction.atomic
def digests_rerun(*, digest_ids: Iterable[int]) -> RerunResult:
    """Put the digests in ``error`` back to ``pending`` and queue them again;
    the pipeline resumes after each one's last finished step."""
    ids = list(digest_ids)
    result = RerunResult()
    for digest in Digest.objects.select_for_update().filter(id__in=ids).order_by("id"):
        if digest.status != Digest.Status.ERROR:
            result.skipped += 1
            continue
        digest.status = Digest.Status.PENDING
        digest.error_detail = ""
        digest.save(update_fields=["status", "error_detail", "updated_at"])
        defer_digest_job(digest)
        result.requeued.append(digest.id)
    return result


@transaction.atomic
def digest_start(*, digest_id: int) -> Digest | None:
    """Mark the digest ``generating``; None when it is complete or gone."""
    digest = Digest.objects.select_for_update().filter(id=digest_id).first()
    if digest is None or digest.status == Digest.Status.COMPLETE:
        return None
    digest.status = Digest.Status.GENERATING
    digest.error_detail = ""
    digest.save(update_fields=["status", "error_detail", "updated_at"])
    return digest


@transaction.atomic
def digest_complete(*, digest_id: int) -> None:
    now = timezone.now()
    Digest.objects.filter(id=digest_id).update(
        status=Digest.Status.COMPLETE, completed_at=now, updated_at=now
    )


@transaction.atomic
def digest_fail(*, digest_id: int, detail: str) -> None:
    """The digest's job failed for good: ``error``, with ``detail`` for staff."""
    Digest.objects.filter(id=digest_id).exclude(status=Digest.Status.COMPLETE).update(
        status=Digest.Status.ERROR,
        error_detail=detail[:ERROR_DETAIL_LIMIT],
        updated_at=timezone.now(),
    )


# --- What each step found ------------------------------------------------------------


@transaction.atomic
def digest_record_generation(
    *, digest_id: int, written: WrittenDigest, item_ids: list[int]
) -> None:
    """The reading, the items it cites (by the numbers the writer saw) and
    what the LLM billed."""
    sentences = [s.strip() for s in written.sentences if s.strip()]
    DigestSentence.objects.filter(digest_id=digest_id).delete()
    DigestItem.objects.filter(digest_id=digest_id).delete()
    DigestSentence.objects.bulk_create(
        DigestSentence(digest_id=digest_id, index=i, text=text) for i, text in enumerate(sentences)
    )
    cited = list(dict.fromkeys(item_ids[number - 1] for number in written.cited))
    DigestItem.objects.bulk_create(
        DigestItem(digest_id=digest_id, item_id=item_id, index=i) for i, item_id in enumerate(cited)
    )
    now = timezone.now()
    Digest.objects.filter(id=digest_id).update(
        title=written.title.strip()[:TITLE_LENGTH],
        text=" ".join(sentences),
        generated_at=now,
        llm_input_tokens=written.input_tokens,
        llm_output_tokens=written.output_tokens,
        updated_at=now,
    )


def digest_sentences(*, digest_id: int) -> list[str]:
    return list(
        DigestSentence.objects.filter(digest_id=digest_id)
        .order_by("index")
        .values_list("text", flat=True)
    )


def digest_translated_languages(*, digest_id: int) -> set[str]:
    return set(
        DigestTranslation.objects.filter(sentence__digest_id=digest_id)
        .values_list("language", flat=True)
        .distinct()
    )


@transaction.atomic
def digest_record_translation(
    *, digest_id: int, language: str, texts: list[str], billed_characters: int
) -> None:
    """The sentences in one native language (in order)."""
    sentences = list(DigestSentence.objects.filter(digest_id=digest_id).order_by("index"))
    DigestTranslation.objects.filter(sentence__digest_id=digest_id, language=language).delete()
    DigestTranslation.objects.bulk_create(
        DigestTranslation(sentence=sentence, language=language, text=text)
        for sentence, text in zip(sentences, texts, strict=True)
    )
    Digest.objects.filter(id=digest_id).update(
        translated_characters=F("translated_characters") + billed_characters,
        updated_at=timezone.now(),
    )


@transaction.atomic
def digest_record_translated(*, digest_id: int) -> None:
    """Every wanted native language has its translation."""
    now = timezone.now()
    Digest.objects.filter(id=digest_id).update(translated_at=now, updated_at=now)


@transaction.atomic
def digest_record_tokens(*, digest_id: int, tokens: list[AnnotatedToken]) -> None:
    DigestToken.objects.filter(digest_id=digest_id).delete()
    DigestToken.objects.bulk_create(
        DigestToken(
            digest_id=digest_id,
            index=i,
            sentence=token.sentence,
            text=token.text[:200],
            lemma=token.lemma[:200],
            pos=token.pos[:16],
        )
        for i, token in enumerate(tokens)
    )
    now = timezone.now()
    Digest.objects.filter(id=digest_id).update(annotated_at=now, updated_at=now)


@transaction.atomic
def digest_record_audio(
    *,
    digest_id: int,
    name: str,
    content_type: str,
    duration_ms: int,
    size_bytes: int,
    sentence_offsets: Sequence[tuple[int, int]] = (),
) -> None:
    """The stored audio file of the reading, how long it plays, and where in it
    each sentence is read (``(start_ms, end_ms)`` by sentence index)."""
    sentences = {
        sentence.index: sentence for sentence in DigestSentence.objects.filter(digest_id=digest_id)
    }
    for index, (start_ms, end_ms) in enumerate(sentence_offsets):
        if index in sentences:
            sentences[index].start_ms, sentences[index].end_ms = start_ms, end_ms
    DigestSentence.objects.bulk_update(sentences.values(), ["start_ms", "end_ms"])
    DigestAudio.objects.update_or_create(
        digest_id=digest_id,
        defaults={
            "file": name,
            "content_type": content_type,
            "duration_ms": duration_ms,
            "size_bytes": size_bytes,
        },
    )
    now = timezone.now()
    Digest.objects.filter(id=digest_id).update(voiced_at=now, updated_at=now)


# --- For operators -------------------------------------------------------------------


def digests_of(*, date: datetime.date) -> QuerySet[Digest]:
    return Digest.objects.filter(date=date).order_by("target_language", "level")
