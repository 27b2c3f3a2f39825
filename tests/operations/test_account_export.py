"""Take it with you: ``GET /api/auth/account/export`` holds every model a
learner owns (or names why it leaves one out), and is streamed."""

from __future__ import annotations

import io
import json
import tracemalloc
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from rest_framework.test import APIClient

from adventures.models import Adventure, Audio, Entry, Sentence, Token
from operations.learner_data import export
from operations.learner_data.ownership import owned_models
from vocabulary.models import Card, Review, Word

from tests.support.api import client_for
from tests.support.factories import make_adventure, make_user
from tests.support.learner_data import THEME, make_full_learner

pytestmark = pytest.mark.django_db


def test_every_model_that_holds_a_learners_rows_is_exported_or_left_out_on_purpose():
    owned = set(owned_models())
    exported, left_out = set(export.EXPORTED), set(export.LEFT_OUT)
    assert not exported & left_out
    missing = sorted(model._meta.label for model in owned - exported - left_out)
    assert not missing, f"say where they go in EXPORTED, or why not in LEFT_OUT: {missing}"
    assert exported | left_out == owned


def found(document: Any, path: str) -> list:
    """What is at ``path`` (``stories.passages.tokens``) in ``document``,
    through every list on the way."""
    values = [document]
    for key in path.split("."):
        values = [value[key] for value in values]
        values = [
            item for value in values for item in (value if isinstance(value, list) else [value])
        ]
        values = [value for value in values if value is not None]
    return values


def read_streamed(response: Any) -> bytes:
    """The body of a response streamed from an async iterator, as an ASGI
    server sends it (block by block, the ORM reads in this thread)."""

    async def read() -> bytes:
        return b"".join([block async for block in response.streaming_content])

    return async_to_sync(read)()


def test_the_export_holds_everything_about_the_learner_and_nothing_of_others(settings):
    media = Path(settings.MEDIA_ROOT)
    ana, ben = make_full_learner(media), make_full_learner(media, "ben")
    response = client_for(ana).get("/api/auth/account/export")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="langlearn-')
    raw = read_streamed(response)
    document = json.loads(raw)
    for model, path in export.EXPORTED.items():
        assert found(document, path), f"{model._meta.label}: nothing at {path}"

    assert document["format"] == "langlearn-export"
    assert document["profile"]["username"] == "ana"
    [story] = document["stories"]
    assert story["theme"] == THEME
    first, second = story["passages"]
    assert first["sentences"][1] == {
        "index": 1,
        "text": "Los pescadores se ríen.",
        "translation": "The fishermen laugh.",
        "start_ms": None,
        "end_ms": None,
    }
    assert first["choices"][0]["translation"] == "Go to the lighthouse"
    assert first["decision"]["next_entry_id"] == second["id"]
    assert first["audio"]["file"].endswith(".wav")
    assert first["audio"]["url"] == f"/media/{first['audio']['file']}"
    [word] = document["words"]
    assert (word["lemma"], word["status"]) == ("pescador", "learning")
    assert word["reviews"][0]["rating"] == 3  # good
    assert document["placements"][0]["language"] == "es"
    assert document["progress"][0]["words"]["learning"] == 1
    assert str(ben.pk) not in raw.decode()
    assert "secret" not in json.dumps(document["profile"])


def test_the_zip_holds_the_document_and_the_audio_files(settings):
    media = Path(settings.MEDIA_ROOT)
    ana = make_full_learner(media)
    make_full_learner(media, "ben")
    lost = Audio.objects.filter(entry__adventure__user=ana).order_by("entry__position")[1]
    (media / lost.file).unlink()  # a file the storage has lost is left out
    client = client_for(ana)

    response = client.get("/api/auth/account/export?as=zip")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].endswith('.zip"')
    with zipfile.ZipFile(io.BytesIO(read_streamed(response))) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        document = json.loads(archive.read("langlearn.json"))
        [story] = document["stories"]
        first = story["passages"][0]["audio"]["file"]
        assert names == ["langlearn.json", first]
        assert archive.read(first) == (media / first).read_bytes()
    assert document["profile"]["username"] == "ana"

    wrong = client.get("/api/auth/account/export?as=tar")
    assert wrong.status_code == 400
    assert wrong.json() == {"detail": "as must be json or zip.", "code": "invalid"}


def test_the_export_needs_a_token():
    response = APIClient().get("/api/auth/account/export")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def big_learner(*, words: int, passages: int) -> Any:
    """``words`` saved words, each reviewed once, and ``passages`` passages
    of 8 sentences and 60 tokens (stories of 8), made in bulk."""
    user = make_user("big")
    now = timezone.now()
    entries = []
    for story in range(passages // 8):
        adventure = make_adventure(user, theme=f"story {story}")
        entries += Entry.objects.bulk_create(
            Entry(
                adventure=adventure,
                position=position,
                status="complete",
                text="Es una mañana fría. " * 8,
            )
            for position in range(1, 9)
        )
    Sentence.objects.bulk_create(
        Sentence(entry=entry, index=i, text="Es una mañana fría.", translation="A cold morning.")
        for entry in entries
        for i in range(8)
    )
    Token.objects.bulk_create(
        Token(entry=entry, index=i, sentence=i // 8, text="mañana", lemma="mañana", pos="NOUN")
        for entry in entries
        for i in range(60)
    )
    saved = Word.objects.bulk_create(
        Word(user=user, language="es", lemma=f"palabra{n}", sentence="Es una mañana fría.")
        for n in range(words)
    )
    cards = Card.objects.bulk_create(Card(word=word, due=now) for word in saved)
    state = {"state": 1, "step": 0}
    Review.objects.bulk_create(
        Review(
            user=user,
            word=word,
            card=card,
            review_id=uuid.uuid4(),
            rating=3,
            reviewed_at=now,
            card_before=state,
            card_after=state,
            due=now,
        )
        for word, card in zip(saved, cards, strict=True)
    )
    return user


@pytest.mark.slow
def test_a_big_export_is_streamed_in_flat_memory():
    """10,000 words and 500 passages: the export's peak memory (Python
    allocations while it is read through) stays a small part of its size."""
    user = big_learner(words=10_000, passages=504)
    tracemalloc.start()
    try:
        size = blocks = 0
        for block in export.buffered(export.chunks(user=user)):
            size += len(block)
            blocks += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"export: {size / 1e6:.1f} MB in {blocks} blocks; peak {peak / 1e6:.1f} MB")
    assert Adventure.objects.filter(user=user).count() == 63
    assert size > 10_000_000
    assert peak < size / 4
