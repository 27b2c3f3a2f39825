"""A whole story through the real worker, with every real client (Anthropic,
DeepL, Gemini, Bunny storage) talking HTTP to local fakes instead of stubs."""

from __future__ import annotations

import io
import wave
from contextlib import ExitStack
from decimal import Decimal

import pytest
import requests

from adventures.models import Adventure, Entry
from adventures.selectors import adventure_costs
from outbound import factory

from tests.support.api import client_for
from tests.support.audio import assert_sentences_tile_the_audio, wav_duration_ms
from tests.support.factories import make_user
from tests.support.fakes import anthropic as fake_anthropic
from tests.support.fakes import bunny as fake_bunny
from tests.support.fakes import deepl as fake_deepl
from tests.support.fakes import gemini as fake_gemini
from tests.support.processes import wait_for
from tests.support.worker import poll_entry_complete

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_story_completes_on_the_real_clients(start_worker, settings):
    with ExitStack() as stack:
        claude = stack.enter_context(fake_anthropic.fake_anthropic())
        deepl = stack.enter_context(fake_deepl.fake_deepl())
        gemini = stack.enter_context(fake_gemini.fake_gemini())
        bunny = stack.enter_context(fake_bunny.FakeBunny())
        env = {
            "STUB_GENERATION": "false",
            "ANTHROPIC_API_KEY": fake_anthropic.API_KEY,
            "ANTHROPIC_BASE_URL": claude.url,
            "DEEPL_API_KEY": fake_deepl.AUTH_KEY,
            "DEEPL_SERVER_URL": deepl.url,
            "GEMINI_API_KEY": fake_gemini.API_KEY,
            "GEMINI_BASE_URL": gemini.url,
            "PROVIDER_TIMEOUT": "10",
            "STORAGE_BACKEND": "bunny",
            "BUNNY_STORAGE_ZONE": fake_bunny.ZONE,
            "BUNNY_STORAGE_API_KEY": fake_bunny.ACCESS_KEY,
            "BUNNY_STORAGE_ENDPOINT": bunny.storage.url,
            "BUNNY_PULL_ZONE_URL": bunny.pull_zone.url,
            "BUNNY_TOKEN_KEY": fake_bunny.TOKEN_KEY,
        }
        # The web side (this process) uses the same real clients and storage.
        settings.STUB_GENERATION = False
        for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "DEEPL_API_KEY"):
            setattr(settings, name, env[name])
        settings.DEEPL_SERVER_URL = deepl.url
        settings.GEMINI_API_KEY = fake_gemini.API_KEY
        settings.GEMINI_BASE_URL = gemini.url
        audio = {
            "BACKEND": "outbound.storage.bunny.BunnyStorage",
            "OPTIONS": {
                "storage_zone": fake_bunny.ZONE,
                "api_key": fake_bunny.ACCESS_KEY,
                "endpoint": bunny.storage.url,
                "pull_zone_url": bunny.pull_zone.url,
                "token_key": fake_bunny.TOKEN_KEY,
            },
        }
        settings.STORAGES = {**settings.STORAGES, "audio": audio}
        settings.STORY_LENGTH = 2
        factory.reset()

        worker = start_worker(**env)
        client = client_for(make_user(native_language="en"))
        created = client.post(
            "/api/adventures",
            {"target_language": "es", "level": "A2", "theme": "the sea"},
            format="json",
        )
        assert created.status_code == 201, created.content
        adventure = created.json()

        first = poll_entry_complete(client, adventure["id"], adventure["entries"][0]["id"], worker)
        assert client.get(f"/api/adventures/{adventure['id']}").json()["title"] == (
            "La llave del faro"
        )
        opening = "Llegas a un pueblo pequeño junto al mar."
        assert first["sentences"][0] == {
            "text": opening,
            "translation": "You arrive at a small village by the sea.",
            "start_ms": 0,
            "end_ms": round(fake_gemini.seconds_for(opening) * 1000),
        }
        assert [c["translation"] for c in first["choices"]][1] == "You walk towards the lighthouse."
        assert len(first["choices"]) == 3
        lemmas = {token["text"]: token["lemma"] for token in first["tokens"]}
        assert lemmas["Llegas"] == "llegar"

        served = requests.get(first["audio"]["url"], timeout=5)
        assert served.status_code == 200
        with wave.open(io.BytesIO(served.content)) as wav:
            seconds = wav.getnframes() / wav.getframerate()
        assert seconds * 1000 == pytest.approx(first["audio"]["duration_ms"], abs=1)
        assert wav_duration_ms(served.content) == first["audio"]["duration_ms"]
        assert_sentences_tile_the_audio(first["sentences"], first["audio"]["duration_ms"])

        # What went out: the model, the DeepL target, the voice.
        assert claude.requests[0].json()["model"] == "claude-haiku-5-5"  # the default
        # The passage is plainly A2 (langlearn/difficulty): not asked for again.
        assert len(claude.requests) == 1
        assert first["level"]["on_level"] is True
        assert first["level"]["regenerated"] is False
        translate = next(r for r in deepl.requests if r.path == "/v2/translate")
        assert translate.json()["target_lang"] == "EN-GB"
        assert "Kore" in gemini.requests[0].body.decode()
        # The default model (3.8, answers WAV): one call per sentence, verbatim.
        assert sorted(fake_gemini.spoken_text(r) for r in gemini.requests) == sorted(
            s["text"] for s in first["sentences"]
        )
        assert not any(fake_gemini.style_in_text(r) for r in gemini.requests)
        assert all(fake_gemini.is_interaction(r) for r in gemini.requests)  # 3.8: Interactions
        assert fake_gemini.model_of(gemini.requests[0]) == "gemini-3.8-flash-lite-tts"

        decided = client.post(
            f"/api/adventures/{adventure['id']}/decisions",
            {"entry_id": first["id"], "choice_id": first["choices"][1]["id"]},
            format="json",
        )
        assert decided.status_code == 201, decided.content
        last = poll_entry_complete(
            client, adventure["id"], decided.json()["next_entry"]["id"], worker
        )
        assert last["choices"] == []
        assert last["sentences"][0]["text"] == "Abres la puerta del faro con la llave."
        # The final request carried the story so far and the learner's choice.
        final_prompt = claude.requests[-1].json()["messages"][0]["content"]
        assert "[The learner chose] Caminas hacia el faro." in final_prompt

    assert client.get(f"/api/adventures/{adventure['id']}").json()["status"] == "completed"
    costs = adventure_costs(Adventure.objects.get(id=adventure["id"]))
    entries = Entry.objects.filter(adventure_id=adventure["id"])
    assert costs.entries == 2
    assert costs.llm_output_tokens == 2 * 164  # one call per passage
    assert costs.llm_input_tokens == sum(e.llm_input_tokens for e in entries) > 600
    assert costs.translated_characters == sum(e.translated_characters for e in entries) > 100
    assert costs.audio_seconds == sum(
        Decimal(e.audio.duration_ms) / 1000 for e in entries.select_related("audio")
    )
    assert costs.audio_seconds > 0


def test_a_refusal_fails_the_entry_for_good_with_a_detail_for_staff(start_worker, settings):
    """Haiku 5.5's safety classifiers decline: no retry would help (the same
    prompt is declined again), so the entry is ``error`` at once, and staff
    read why in its detail."""
    with fake_anthropic.fake_anthropic() as claude:
        claude.respond = lambda request: fake_anthropic.refusal()
        settings.STUB_GENERATION = False
        settings.ANTHROPIC_API_KEY = fake_anthropic.API_KEY
        settings.ANTHROPIC_BASE_URL = claude.url
        factory.reset()
        worker = start_worker(
            STUB_GENERATION="false",
            ANTHROPIC_API_KEY=fake_anthropic.API_KEY,
            ANTHROPIC_BASE_URL=claude.url,
            PIPELINE_MAX_ATTEMPTS="3",
            PIPELINE_RETRY_WAIT_MIN="0.05",
            PIPELINE_RETRY_MULTIPLIER="1",
            PIPELINE_RETRY_JITTER="0.05",
            WORKER_POLLING_INTERVAL="0.2",
        )
        client = client_for(make_user(native_language="en"))
        adventure = client.post("/api/adventures", {"target_language": "es"}, format="json").json()
        entry_id = adventure["entries"][0]["id"]

        def failed() -> Entry | None:
            entry = Entry.objects.get(id=entry_id)
            return entry if entry.status == Entry.Status.ERROR else None

        try:
            entry = wait_for(failed, timeout=60, what="the entry to fail")
        except BaseException:
            print(worker.output())
            raise
        assert "declined" in entry.error_detail
        assert "refusal" in entry.error_detail
        assert "permanent" in entry.error_detail
        body = client.get(f"/api/adventures/{adventure['id']}/entries/{entry_id}").json()
        assert body["status"] == "error"
        assert len(claude.requests) == 1  # not retried, in the step or by the queue
    factory.reset()
