"""Take it with you: everything about a learner as one JSON document, written
as it is read.

The document (``FORMAT``, version ``VERSION``)::

    {"format": "langlearn-export", "version": 1, "exported_at": "…",
     "profile": {id, username, email, first_name, last_name, native_language,
                 date_joined, last_login},
     "stories": [{id, target_language, native_language, level, theme, title,
                  status, created_at, updated_at,
                  "passages": [{id, position, status, text, is_final, …,
                                "sentences": [{index, text, translation, start_ms, end_ms}],
                                "choices": [{id, index, text, translation}],
                                "tokens": [{index, sentence, text, lemma, pos, band}],
                                "audio": {file, url, content_type, duration_ms, size_bytes} | null,
                                "decision": {choice_id, next_entry_id, created_at} | null}]}],
     "words": [{id, language, lemma, status, sentence, translation, entry_id,
                created_at, updated_at,
                "card": {due, state, step, stability, difficulty, last_review} | null,
                "reviews": [{review_id, rating, reviewed_at, due, card_before, card_after}]}],
     "placements": [{language, level, vocabulary_size, …, answers, answered_at}],
     "progress": [{language, words, streak_days, passages_read, audio_minutes, …}]}

``chunks`` yields it piece by piece: stories, passages and words are read
in batches (``BATCH``), each batch's rows with what hangs under them in a few
queries, as plain values (model instances with prefetched rows form cycles
that only the garbage collector's rare full passes free), so memory stays flat
however much the learner has.

``zip_blocks`` gives the same document as ``langlearn.json`` in a zip, with
each passage's audio file beside it.

What is exported is declared per model (``EXPORTED``), and what is left out
with its reason (``LEFT_OUT``); the suite checks that every model that holds a
learner's rows (``ownership.owned_models``) is in one of the two.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.contrib.admin.models import LogEntry
from django.db import models
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from adventures.models import (
    Adventure,
    Audio,
    Choice,
    Decision,
    DroppedBranch,
    Entry,
    EntryEvent,
    Sentence,
    Token,
)
from outbound import factory
from outbound.errors import ProviderError
from vocabulary import progress as vocabulary_progress
from vocabulary.models import Card, Placement, Review, Word

FORMAT = "langlearn-export"
VERSION = 1
BATCH = 200

# Where each model's rows are in the document.
EXPORTED: dict[type[models.Model], str] = {
    User: "profile",
    Adventure: "stories",
    Entry: "stories.passages",
    Sentence: "stories.passages.sentences",
    Choice: "stories.passages.choices",
    Token: "stories.passages.tokens",
    Audio: "stories.passages.audio",
    Decision: "stories.passages.decision",
    Word: "words",
    Card: "words.card",
    Review: "words.reviews",
    Placement: "placements",
}
# The learner's rows that are not in it, and why.
LEFT_OUT: dict[type[models.Model], str] = {
    EntryEvent: "each status a passage went through, as the live stream sent it; "
    "the passages' statuses are exported",
    DroppedBranch: "what passages generated ahead and never shown cost the operator",
    OutstandingToken: "sign-in tokens: secrets, not data about the learner",
    BlacklistedToken: "sign-in tokens revoked: secrets, not data about the learner",
    LogEntry: "the staff console's record of what a staff member did",
    User.groups.through: "staff permissions (the console's groups)",
    User.user_permissions.through: "staff permissions",
}

_PASSAGE_FIELDS = (
    "id",
    "position",
    "status",
    "text",
    "is_final",
    "created_at",
    "completed_at",
    "review_words",
    "review_words_used",
    "level_fit",
    "level_estimate",
    "level_words_above",
    "level_reasons",
    "coverage",
)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not exportable: {type(value).__name__}")


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False)


def _fields(obj: models.Model, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in names}


def chunks(*, user: User) -> Iterator[str]:
    """The export of ``user`` (see the module docstring), piece by piece."""
    head = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now(),
        "profile": _fields(
            user,
            (
                "id",
                "username",
                "email",
                "first_name",
                "last_name",
                "native_language",
                "date_joined",
                "last_login",
            ),
        ),
    }
    yield _dumps(head)[:-1] + ', "stories": ['
    first = True
    for story in Adventure.objects.filter(user=user).order_by("created_at", "id").iterator():
        if not first:
            yield ", "
        yield from _story(story)
        first = False
    yield '], "words": ['
    yield from _words(user)
    yield '], "placements": '
    yield _dumps(
        [
            _fields(
                placement,
                (
                    "language",
                    "level",
                    "vocabulary_size",
                    "hits",
                    "real_words",
                    "false_alarms",
                    "pseudo_words",
                    "bands",
                    "answers",
                    "answered_at",
                ),
            )
            for placement in Placement.objects.filter(user=user).order_by("language")
        ]
    )
    yield ', "progress": ' + _dumps(_progress(user)) + "}"


def _story(story: Adventure) -> Iterator[str]:
    head = _fields(
        story,
        (
            "id",
            "target_language",
            "native_language",
            "level",
            "theme",
            "title",
            "status",
            "created_at",
            "updated_at",
        ),
    )
    yield _dumps(head)[:-1] + ', "passages": ['
    for n, passage in enumerate(_passages(story)):
        yield (", " if n else "") + passage
    yield "]}"


def _passages(story: Adventure) -> Iterator[str]:
    """The story's passages (branches generated ahead and not shown are not
    the learner's story), a batch at a time with what hangs under them."""
    entries = (
        Entry.objects.filter(adventure=story, position__isnull=False)
        .order_by("position")
        .values(*_PASSAGE_FIELDS)
    )
    storage = factory.get_audio_storage()
    for batch in _batches(entries.iterator(chunk_size=BATCH)):
        ids = [entry["id"] for entry in batch]
        sentences = _by_entry(
            Sentence.objects.filter(entry_id__in=ids).order_by("index"),
            ("index", "text", "translation", "start_ms", "end_ms"),
        )
        choices = _by_entry(
            Choice.objects.filter(entry_id__in=ids).order_by("index"),
            ("id", "index", "text", "translation"),
        )
        tokens = _by_entry(
            Token.objects.filter(entry_id__in=ids).order_by("index"),
            ("index", "sentence", "text", "lemma", "pos", "band"),
        )
        audio = _one_by_entry(
            Audio.objects.filter(entry_id__in=ids),
            ("file", "content_type", "duration_ms", "size_bytes"),
        )
        decisions = _one_by_entry(
            Decision.objects.filter(entry_id__in=ids), ("choice_id", "next_entry_id", "created_at")
        )
        for played in audio.values():
            # Where to fetch the file (signed, when the storage signs its URLs).
            played["url"] = storage.url(played["file"])
        for entry in batch:
            key = entry["id"]
            entry["sentences"] = sentences.get(key, [])
            entry["choices"] = choices.get(key, [])
            entry["tokens"] = tokens.get(key, [])
            entry["audio"] = audio.get(key)
            entry["decision"] = decisions.get(key)
            yield _dumps(entry)


def _words(user: User) -> Iterator[str]:
    words = (
        Word.objects.filter(user=user)
        .order_by("created_at", "id")
        .values(
            "id",
            "language",
            "lemma",
            "status",
            "sentence",
            "translation",
            "entry_id",
            "created_at",
            "updated_at",
        )
    )
    first = True
    for batch in _batches(words.iterator(chunk_size=BATCH)):
        ids = [word["id"] for word in batch]
        cards = _one_by(
            Card.objects.filter(word_id__in=ids),
            "word_id",
            ("due", "state", "step", "stability", "difficulty", "last_review"),
        )
        reviews = _by(
            Review.objects.filter(word_id__in=ids).order_by("reviewed_at", "id"),
            "word_id",
            ("review_id", "rating", "reviewed_at", "due", "card_before", "card_after"),
        )
        for word in batch:
            word["card"] = cards.get(word["id"])
            word["reviews"] = reviews.get(word["id"], [])
            yield ("" if first else ", ") + _dumps(word)
            first = False


def _batches(rows: Iterator[Any]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _by(rows: models.QuerySet, key: str, fields: tuple[str, ...]) -> dict[Any, list[dict]]:
    """``rows`` (plain values, in their order) grouped by ``key``."""
    grouped: dict[Any, list[dict]] = {}
    for row in rows.values(key, *fields):
        grouped.setdefault(row.pop(key), []).append(row)
    return grouped


def _one_by(rows: models.QuerySet, key: str, fields: tuple[str, ...]) -> dict[Any, dict]:
    return {owner: found[0] for owner, found in _by(rows, key, fields).items()}


def _by_entry(rows: models.QuerySet, fields: tuple[str, ...]) -> dict[Any, list[dict]]:
    return _by(rows, "entry_id", fields)


def _one_by_entry(rows: models.QuerySet, fields: tuple[str, ...]) -> dict[Any, dict]:
    return _one_by(rows, "entry_id", fields)


def _progress(user: User) -> list[dict[str, Any]]:
    """Progress per language learnt, as ``GET /api/progress`` gives it (days in UTC)."""
    languages = sorted(
        set(Adventure.objects.filter(user=user).values_list("target_language", flat=True))
        | set(Word.objects.filter(user=user).values_list("language", flat=True))
    )
    figures = []
    for language in languages:
        result = vocabulary_progress.progress(user=user, language=language, zone=ZoneInfo("UTC"))
        figures.append(
            {
                "language": result.language,
                "words": result.words,
                "reviews_today": result.reviews_today,
                "due_now": result.due_now,
                "streak_days": result.streak_days,
                "passages_read": result.passages_read,
                "audio_minutes": result.audio_minutes,
            }
        )
    return figures


def buffered(pieces: Iterator[str], size: int = 64 * 1024) -> Iterator[bytes]:
    """``pieces`` joined into blocks of about ``size`` bytes (fewer, larger
    writes; under ASGI, one thread hop each)."""
    block: list[str] = []
    length = 0
    for piece in pieces:
        block.append(piece)
        length += len(piece)
        if length >= size:
            yield "".join(block).encode()
            block, length = [], 0
    if block:
        yield "".join(block).encode()


class _Sink:
    """Where ``zipfile`` writes: kept until ``drained`` (it cannot seek, so
    ``zipfile`` writes each member's sizes after its data)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drained(self) -> Iterator[bytes]:
        if self._parts:
            yield b"".join(self._parts)
            self._parts = []


def zip_blocks(*, user: User) -> Iterator[bytes]:
    """The export as a zip, block by block: ``langlearn.json`` (the document
    above) and each passage's audio file under its name in storage
    (``audio/<story>/<passage>.wav``), read one at a time. A file the storage
    has lost is left out (its passage still names it)."""
    sink = _Sink()
    storage = factory.get_audio_storage()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)  # type: ignore[call-overload]
    with archive:
        with archive.open("langlearn.json", "w", force_zip64=True) as member:
            for block in buffered(chunks(user=user)):
                member.write(block)
                yield from sink.drained()
        names = (
            Audio.objects.filter(entry__adventure__user=user, entry__position__isnull=False)
            .order_by("entry__adventure__created_at", "entry__position")
            .values_list("file", flat=True)
        )
        for name in names.iterator(chunk_size=BATCH):
            try:
                content = storage.read(name)
            except ProviderError:
                continue
            # Audio is compressed already.
            archive.writestr(name, content, compress_type=zipfile.ZIP_STORED)
            yield from sink.drained()
    yield from sink.drained()
