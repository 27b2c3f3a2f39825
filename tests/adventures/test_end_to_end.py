"""A learner's whole session, with the real worker running as its own process."""

from __future__ import annotations

import io
import wave

import pytest
from rest_framework.test import APIClient

from outbound.gemini.stub import CHARS_PER_SECOND

from tests.support.audio import assert_sentences_tile_the_audio, wav_duration_ms
from tests.support.worker import poll_entry_complete

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_learner_plays_an_adventure_through_the_worker(start_worker, settings):
    worker = start_worker()
    client = APIClient()

    assert (
        client.post(
            "/api/auth/register",
            {
                "username": "lucia",
                "password": "sol-y-sombra-2026",
                "native_language": "en",
            },
            format="json",
        ).status_code
        == 201
    )
    tokens = client.post(
        "/api/auth/token",
        {"username": "lucia", "password": "sol-y-sombra-2026"},
        format="json",
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    created = client.post(
        "/api/adventures",
        {"target_language": "es", "level": "A2", "theme": "the sea"},
        format="json",
    )
    assert created.status_code == 201, created.content
    adventure = created.json()
    assert adventure["status"] == "awaiting_first_entry"
    [first] = adventure["entries"]
    assert first["status"] == "pending"

    entry = poll_entry_complete(client, adventure["id"], first["id"], worker)
    adventure = client.get(f"/api/adventures/{adventure['id']}").json()
    assert adventure["status"] == "active"
    assert adventure["title"] == "El faro del acantilado"

    assert entry["text"].startswith("Es una mañana fría")
    opening = "Es una mañana fría en un pequeño pueblo de pescadores."
    assert entry["sentences"][0] == {
        "text": opening,
        "translation": "It is a cold morning in a small fishing village.",
        "start_ms": 0,
        "end_ms": round(len(opening) / CHARS_PER_SECOND * 1000),  # the stub reads at this pace
    }
    assert 2 <= len(entry["choices"]) <= 4
    assert all(choice["translation"] for choice in entry["choices"])
    lemmas = {token["text"]: token["lemma"] for token in entry["tokens"]}
    assert lemmas["pescadores"] == "pescador"
    assert entry["error"] is None
    assert entry["decision"] is None

    audio = client.get(entry["audio"]["url"])
    assert audio.status_code == 200
    body = b"".join(audio.streaming_content)
    with wave.open(io.BytesIO(body)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert seconds * 1000 == pytest.approx(entry["audio"]["duration_ms"], abs=1)
    assert entry["audio"]["content_type"] == "audio/wav"
    # Each sentence's place in that file: a tap plays exactly that sentence.
    assert wav_duration_ms(body) == entry["audio"]["duration_ms"]
    assert_sentences_tile_the_audio(entry["sentences"], entry["audio"]["duration_ms"])

    choice = entry["choices"][1]
    decided = client.post(
        f"/api/adventures/{adventure['id']}/decisions",
        {"entry_id": entry["id"], "choice_id": choice["id"]},
        format="json",
    )
    assert decided.status_code == 201, decided.content
    next_entry = decided.json()["next_entry"]
    assert next_entry["position"] == 2

    second = poll_entry_complete(client, adventure["id"], next_entry["id"], worker)
    # The next passage follows from the choice the learner made.
    assert second["sentences"][0]["text"] == (
        "Los pescadores se ríen, pero uno de ellos te dibuja un mapa."
    )
    first_again = client.get(f"/api/adventures/{adventure['id']}/entries/{entry['id']}").json()
    assert first_again["decision"] == {"choice_id": choice["id"]}


def test_the_story_ends_with_a_final_entry_without_choices(start_worker, settings):
    from tests.support.api import client_for
    from tests.support.factories import make_user

    settings.STORY_LENGTH = 2  # decided when the entry is created, by the web side
    worker = start_worker()
    client = client_for(make_user())
    adventure = client.post("/api/adventures", {"target_language": "fr"}, format="json").json()
    first = poll_entry_complete(client, adventure["id"], adventure["entries"][0]["id"], worker)
    decided = client.post(
        f"/api/adventures/{adventure['id']}/decisions",
        {"entry_id": first["id"], "choice_id": first["choices"][0]["id"]},
        format="json",
    ).json()
    last = poll_entry_complete(client, adventure["id"], decided["next_entry"]["id"], worker)
    assert last["choices"] == []
    assert last["text"]
    assert client.get(f"/api/adventures/{adventure['id']}").json()["status"] == "completed"
