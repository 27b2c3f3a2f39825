"""Rows built directly, for tests about what reads them (admin pages, commands,
selectors). Each factory takes the fields that matter to the test as keyword
arguments and fills the rest with a small, realistic Spanish story.

Tests about how rows come to be (the API, the services, the pipeline) build
them through those instead.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from accounts.models import User
from adventures.models import Adventure, Audio, Choice, Decision, Entry, Sentence, Token
from news.models import Digest, NewsItem, NewsSource

PASSWORD = "a-long-passphrase"
SENTENCES = (
    ("Es una mañana fría.", "It is a cold morning."),
    ("Los pescadores se ríen.", "The fishermen laugh."),
)
CHOICES = (("Ir al faro", "Go to the lighthouse"), ("Volver", "Go back"))
# (text, lemma, part of speech, index of the sentence)
TOKENS = (("pescadores", "pescador", "NOUN", 1), ("ríen", "reír", "VERB", 1))


def make_user(username: str = "ana", password: str = PASSWORD, **extra: Any) -> User:
    return User.objects.create_user(username=username, password=password, **extra)


def make_adventure(user: User, **fields: Any) -> Adventure:
    fields = {"target_language": "es", "native_language": "en", **fields}
    return Adventure.objects.create(user=user, **fields)


def make_entry(
    adventure: Adventure,
    *,
    position: int = 1,
    status: str = Entry.Status.PENDING,
    **fields: Any,
) -> Entry:
    """An entry as the pipeline left it in ``status``; nothing under it."""
    return Entry.objects.create(adventure=adventure, position=position, status=status, **fields)


def make_complete_entry(
    adventure: Adventure,
    *,
    position: int = 1,
    sentences: Sequence[tuple[str, str]] = SENTENCES,
    choices: Sequence[tuple[str, str]] = CHOICES,
    tokens: Sequence[tuple[str, str, str, int]] = TOKENS,
    audio: bool = True,
    **fields: Any,
) -> Entry:
    """A ``complete`` entry with its sentences, choices, tokens and (by
    default) audio; every step's timestamp set. ``choices=()`` ends the story."""
    now = timezone.now()
    entry = make_entry(
        adventure,
        position=position,
        status=Entry.Status.COMPLETE,
        **{
            "text": " ".join(text for text, _ in sentences),
            "is_final": not choices,
            "generated_at": now,
            "translated_at": now,
            "annotated_at": now,
            "voiced_at": now if audio else None,
            "completed_at": now,
            **fields,
        },
    )
    for index, (text, translation) in enumerate(sentences):
        Sentence.objects.create(entry=entry, index=index, text=text, translation=translation)
    for index, (text, translation) in enumerate(choices):
        Choice.objects.create(entry=entry, index=index, text=text, translation=translation)
    for index, (text, lemma, pos, sentence) in enumerate(tokens):
        Token.objects.create(
            entry=entry, index=index, sentence=sentence, text=text, lemma=lemma, pos=pos
        )
    if audio:
        Audio.objects.create(
            entry=entry,
            file=f"audio/{adventure.id}/{entry.id}.wav",
            content_type="audio/wav",
            duration_ms=2400,
            size_bytes=76844,
        )
    return entry


def make_decision(
    entry: Entry, *, choice: Choice | None = None, next_entry: Entry | None = None
) -> Decision:
    """The learner's decision on ``entry``: its first choice unless told, leading
    to ``next_entry`` (a new pending entry after it unless told)."""
    if choice is None:
        choice = entry.choices.order_by("index")[0]
    if next_entry is None:
        assert entry.position is not None
        next_entry = make_entry(entry.adventure, position=entry.position + 1)
    return Decision.objects.create(entry=entry, choice=choice, next_entry=next_entry)


def make_news_source(**fields: Any) -> NewsSource:
    fields = {"url": "https://noticias.example/rss", "language": "es", **fields}
    return NewsSource.objects.create(**fields)


def make_news_item(source: NewsSource, *, guid: str = "faro", **fields: Any) -> NewsItem:
    now = timezone.now()
    fields = {
        "headline": "El faro vuelve a brillar",
        "summary": "Tras diez años, el faro se enciende.",
        "link": f"https://noticias.example/{guid}",
        "published_at": now,
        "first_seen_at": now,
        "last_seen_at": now,
        **fields,
    }
    key = hashlib.sha256(guid.encode()).hexdigest()
    return NewsItem.objects.create(source=source, key=key, guid=guid, **fields)


def make_digest(**fields: Any) -> Digest:
    """A digest row (``complete`` with a title unless told otherwise), no reading."""
    fields = {
        "date": datetime.date(2025, 1, 6),
        "target_language": "es",
        "level": "A2",
        "status": Digest.Status.COMPLETE,
        "title": "Las noticias",
        **fields,
    }
    return Digest.objects.create(**fields)
