"""The voice step: each sentence read on its own (in parallel, within a bound),
the WAVs joined into the entry's one file, each sentence's place in it stored.

Driven through the real google-genai SDK against the Gemini fake (a 3.8 model
on the Interactions API answering WAV, an earlier one on generateContent
answering raw L16) and through the stub voice."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.core.files.storage import storages
from django.db import connections

from adventures import selectors, services, steps
from adventures.models import Audio, Entry
from outbound import factory
from outbound.errors import ProviderError
from outbound.gemini.stub import CHARS_PER_SECOND
from worker.orm import db
from worker.providers import VoicedSentences, voice_sentences

from tests.support.audio import assert_sentences_tile_the_audio, wav_duration_ms
from tests.support.factories import make_adventure, make_complete_entry, make_user
from tests.support.fakes import gemini as fake
from tests.support.fakes.server import FakeServer, Request

SENTENCES = [
    "Llegas a un pueblo pequeño.",
    "Hace frío.",
    "Un pescador te mira con curiosidad desde su barca.",
    "Sonríes.",
    "El faro está lejos.",
]


@pytest.fixture
def gemini(settings) -> Iterator[FakeServer]:
    with fake.fake_gemini() as server:
        settings.STUB_GENERATION = False
        settings.GEMINI_API_KEY = fake.API_KEY
        settings.GEMINI_BASE_URL = server.url
        factory.reset()
        yield server
    factory.reset()


def voiced(language: str = "es", sentences: list[str] = SENTENCES) -> VoicedSentences:
    return asyncio.run(voice_sentences(sentences, language=language))


def as_payload(result: VoicedSentences) -> list[dict[str, int]]:
    return [{"start_ms": start, "end_ms": end} for start, end in result.offsets]


@pytest.mark.parametrize(
    ("model", "mime"),
    [("gemini-3.8-flash-lite-tts", "audio/wav"), ("gemini-3.1-flash-tts-preview", "audio/L16")],
)
def test_each_sentence_is_voiced_verbatim_and_placed_in_the_joined_file(
    gemini, settings, model, mime
):
    settings.GEMINI_TTS_MODEL = model
    factory.reset()

    result = voiced()

    assert sorted(fake.spoken_text(request) for request in gemini.requests) == sorted(SENTENCES)
    assert not any(fake.style_in_text(request) for request in gemini.requests)
    assert {fake.model_of(request) for request in gemini.requests} == {model}
    # 3.8 through the Interactions API, the earlier model through generateContent.
    assert all(fake.is_interaction(request) == (mime == "audio/wav") for request in gemini.requests)
    assert result.content_type == "audio/wav"
    assert wav_duration_ms(result.audio) == result.duration_ms
    assert_sentences_tile_the_audio(as_payload(result), result.duration_ms)
    # Each sentence lasts as long as the voice's audio for it, in order.
    lengths = [end - start for start, end in result.offsets]
    assert lengths == [pytest.approx(fake.seconds_for(s) * 1000, abs=1) for s in SENTENCES]


def test_the_stub_voice_gives_real_timings_too(settings):
    settings.STUB_GENERATION = True
    factory.reset()
    result = voiced()
    assert wav_duration_ms(result.audio) == result.duration_ms
    assert_sentences_tile_the_audio(as_payload(result), result.duration_ms)
    lengths = [end - start for start, end in result.offsets]
    expected = [max(1.0, len(s) / CHARS_PER_SECOND) * 1000 for s in SENTENCES]
    assert lengths == [pytest.approx(ms, abs=1) for ms in expected]


def test_no_more_calls_at_once_than_the_bound(gemini, settings):
    settings.VOICE_CONCURRENCY = 2
    busy, most, lock = 0, 0, threading.Lock()

    def slow(request: Request):
        nonlocal busy, most
        with lock:
            busy += 1
            most = max(most, busy)
        time.sleep(0.2)  # the voice's latency, so the calls overlap
        with lock:
            busy -= 1
        return fake.respond(request)

    gemini.respond = slow
    voiced()
    assert most == 2  # in parallel, never more than the bound


def test_a_sentence_refused_for_good_fails_the_step_at_once(gemini):
    gemini.queue(fake.error(400, "INVALID_ARGUMENT", "unsupported text"))
    with pytest.raises(ProviderError) as caught:
        voiced()
    assert caught.value.transient is False
    assert caught.value.status == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", ["gemini-3.8-flash-lite-tts", "gemini-3.1-flash-tts-preview"])
def test_the_step_stores_one_file_and_each_sentences_place(gemini, settings, model):
    settings.GEMINI_TTS_MODEL = model
    factory.reset()
    adventure = make_adventure(make_user(), target_language="es")
    entry = make_complete_entry(
        adventure, sentences=[(text, "") for text in SENTENCES], audio=False
    )
    entry = Entry.objects.select_related("adventure").get(id=entry.id)

    asyncio.run(steps.voice(entry, selectors.entry_passage(entry=entry)))
    asyncio.run(db(connections.close_all)())  # the ORM thread's own connection

    entry.refresh_from_db()
    stored = storages["audio"].open(entry.audio.file).read()
    duration = wav_duration_ms(stored)  # what a player reads from the header
    assert entry.audio.duration_ms == duration
    assert entry.audio.size_bytes == len(stored)
    assert entry.audio_seconds * 1000 == duration  # the cost: exact audio seconds
    sentences = list(entry.sentences.order_by("index").values("start_ms", "end_ms"))
    assert len(sentences) == len(SENTENCES)
    assert_sentences_tile_the_audio(sentences, duration)


@pytest.mark.django_db
def test_voicing_again_replaces_the_audio_and_the_places():
    """A retried voice step records over the first record: one audio row (its
    first ``created_at`` kept), the new file, length and places."""
    entry = make_complete_entry(
        make_adventure(make_user()), sentences=[(text, "") for text in SENTENCES[:3]], audio=False
    )
    services.entry_record_audio(
        entry_id=entry.id,
        name="audio/first.wav",
        content_type="audio/wav",
        duration_ms=3000,
        size_bytes=96044,
        sentence_offsets=[(0, 1000), (1000, 2000), (2000, 3000)],
    )
    first = Audio.objects.get(entry=entry)
    services.entry_record_audio(
        entry_id=entry.id,
        name="audio/second.wav",
        content_type="audio/wav",
        duration_ms=4500,
        size_bytes=144044,
        sentence_offsets=[(0, 1500), (1500, 3000), (3000, 4500)],
    )
    entry.refresh_from_db()
    audio = Audio.objects.get(entry=entry)
    assert (audio.id, audio.created_at) == (first.id, first.created_at)
    assert (audio.file, audio.duration_ms, audio.size_bytes) == ("audio/second.wav", 4500, 144044)
    assert entry.audio_seconds == Decimal("4.5")
    assert entry.voiced_at is not None
    places = list(entry.sentences.order_by("index").values_list("start_ms", "end_ms"))
    assert places == [(0, 1500), (1500, 3000), (3000, 4500)]
