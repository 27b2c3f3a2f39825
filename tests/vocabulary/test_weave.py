"""The learner's words woven into the next passage: asked for in the generation
request, written in by the (stub) generator, found by the annotator, recorded
on the entry and flagged on its tokens."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from adventures import selectors as adventure_selectors
from adventures.models import Entry
from outbound.anthropic.client import AnthropicGenerator
from outbound.roles import GenerationRequest
from vocabulary.models import Card, Word

from tests.support.api import client_for
from tests.support.factories import make_adventure, make_entry, make_user
from tests.support.fakes import anthropic as fake_anthropic
from tests.support.pipeline import run_pipeline
from tests.support.worker import poll_entry_complete


def save(api, lemma: str, language: str = "es") -> dict:
    response = api.post("/api/words", {"language": language, "lemma": lemma}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def due_in(word: dict, delta: timedelta) -> None:
    Card.objects.filter(word_id=word["id"]).update(due=timezone.now() + delta)


def entry_payload(api, entry: Entry) -> dict:
    return api.get(f"/api/adventures/{entry.adventure_id}/entries/{entry.id}").json()


@pytest.mark.django_db
def test_the_request_carries_learning_words_due_soonest_first(api, learner, settings):
    settings.WEAVE_WORDS = 3
    later = save(api, "barco")
    overdue = save(api, "faro")
    soon = save(api, "llave")
    not_due = save(api, "ola")
    due_in(later, timedelta(days=2))
    due_in(overdue, timedelta(days=-1))
    due_in(soon, timedelta(hours=1))
    due_in(not_due, timedelta(days=9))
    known = save(api, "mar")
    api.patch(f"/api/words/{known['id']}", {"status": "known"}, format="json")
    save(api, "phare", language="fr")  # another language
    client_for(make_user("ben")).post(  # another learner's
        "/api/words", {"language": "es", "lemma": "puerta"}, format="json"
    )
    entry = make_entry(make_adventure(learner))

    request = adventure_selectors.generation_request(entry=entry)

    assert request.review_words == ["faro", "llave", "barco"]


@pytest.mark.django_db
def test_no_words_are_woven_when_weave_words_is_zero(api, learner, settings):
    settings.WEAVE_WORDS = 0
    save(api, "faro")
    entry = make_entry(make_adventure(learner))
    assert adventure_selectors.generation_request(entry=entry).review_words == []


@pytest.mark.django_db
def test_saved_words_are_written_into_the_next_passage_and_flagged(api, learner):
    faro, pescador = save(api, "faro"), save(api, "pescador")
    due_in(faro, timedelta(minutes=-5))  # due first
    entry = run_pipeline(make_entry(make_adventure(learner)))

    assert entry.status == Entry.Status.COMPLETE
    assert entry.review_words == ["faro", "pescador"]
    assert entry.review_words_used == ["faro", "pescador"]
    body = entry_payload(api, entry)
    assert "faro" in body["text"]
    assert "pescador" in body["text"]
    assert body["review_words"] == ["faro", "pescador"]
    assert body["review_words_used"] == ["faro", "pescador"]
    flagged = {(t["lemma"], t["status"], t["word_id"]) for t in body["tokens"] if t["review"]}
    assert flagged == {("faro", "learning", faro["id"]), ("pescador", "learning", pescador["id"])}
    # Every other token is not flagged, whatever its status.
    assert all(t["lemma"] in {"faro", "pescador"} for t in body["tokens"] if t["review"])


@pytest.mark.django_db
def test_a_requested_word_the_passage_lacks_is_not_counted_used(api, learner):
    # Saved by hand in a form the annotator reads as another lemma
    # (oxidado -> oxidar): requested, but no token has it as its lemma.
    save(api, "oxidado")
    save(api, "llave")
    entry = run_pipeline(make_entry(make_adventure(learner)))
    assert entry.review_words == ["oxidado", "llave"]
    assert entry.review_words_used == ["llave"]
    body = entry_payload(api, entry)
    assert {t["lemma"] for t in body["tokens"] if t["review"]} == {"llave"}


@pytest.mark.django_db
def test_a_passage_without_words_to_review_flags_nothing(api, learner):
    entry = run_pipeline(make_entry(make_adventure(learner)))
    body = entry_payload(api, entry)
    assert body["review_words"] == []
    assert body["review_words_used"] == []
    assert not any(t["review"] for t in body["tokens"])


def test_the_anthropic_request_asks_for_the_words_at_the_learners_level():
    request = GenerationRequest(
        target_language="es",
        level="b1",
        theme="the sea",
        position=2,
        is_final=False,
        chosen_index=0,
        review_words=["faro", "pescador"],
    )
    with fake_anthropic.fake_anthropic() as server:
        generator = AnthropicGenerator(
            api_key=fake_anthropic.API_KEY, model="claude-haiku-4-5", base_url=server.url
        )
        passage = asyncio.run(generator.generate(request))
    [sent] = server.requests
    body = sent.json()
    prompt = body["messages"][-1]["content"]
    assert '"faro", "pescador"' in prompt
    assert "CEFR B1" in prompt
    sentences = body["tools"][0]["input_schema"]["properties"]["sentences"]["description"]
    assert fake_anthropic.review_words(body["tools"][0]) == ["faro", "pescador"]
    assert "CEFR B1" in sentences
    assert "faro" in passage.text
    assert "pescador" in passage.text


def test_the_anthropic_request_without_words_mentions_none():
    request = GenerationRequest(
        target_language="es", level="A2", theme="", position=1, is_final=False
    )
    with fake_anthropic.fake_anthropic() as server:
        generator = AnthropicGenerator(
            api_key=fake_anthropic.API_KEY, model="claude-haiku-4-5", base_url=server.url
        )
        asyncio.run(generator.generate(request))
    body = server.requests[0].json()
    assert "reviewing" not in body["messages"][-1]["content"]
    assert fake_anthropic.review_words(body["tools"][0]) == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_worker_weaves_a_saved_word_into_the_next_entry(start_worker, api):
    worker = start_worker(WEAVE_WORDS="1")
    created = api.post(
        "/api/adventures", {"target_language": "es", "level": "A2"}, format="json"
    ).json()
    first = poll_entry_complete(api, created["id"], created["entries"][0]["id"], worker)
    assert first["review_words"] == []
    token = next(t for t in first["tokens"] if t["lemma"] == "pescador")
    saved = api.post("/api/words", {"token_id": token["id"]}, format="json")
    assert saved.status_code == 201
    save(api, "gaviota")  # saved later: due after pescador, and WEAVE_WORDS is 1

    decided = api.post(
        f"/api/adventures/{created['id']}/decisions",
        {"entry_id": first["id"], "choice_id": first["choices"][0]["id"]},
        format="json",
    )
    assert decided.status_code == 201, decided.content
    second = poll_entry_complete(api, created["id"], decided.json()["next_entry"]["id"], worker)

    assert second["review_words"] == ["pescador"]
    assert second["review_words_used"] == ["pescador"]
    assert "pescador" in second["text"]
    assert "gaviota" not in second["text"]
    flagged = [t for t in second["tokens"] if t["review"]]
    assert flagged
    assert {t["word_id"] for t in flagged} == {saved.json()["id"]}
    assert Word.objects.get(id=saved.json()["id"]).status == "learning"


def _woven_entries(learner) -> list[Entry]:
    adventure = make_adventure(learner)
    now = timezone.now()
    common: dict[str, Any] = {
        "status": Entry.Status.COMPLETE,
        "generated_at": now,
        "annotated_at": now,
    }
    return [
        make_entry(
            adventure,
            position=1,
            review_words=["faro", "llave"],
            review_words_used=["faro"],
            **common,
        ),
        make_entry(
            adventure,
            position=2,
            review_words=["ola", "mar", "barco"],
            review_words_used=["ola", "mar", "barco"],
            **common,
        ),
        make_entry(adventure, position=3, **common),  # asked for none: not counted
    ]


@pytest.mark.django_db
def test_queue_status_reports_the_share_of_requested_words_used(learner):
    _woven_entries(learner)
    out = io.StringIO()
    call_command("queue_status", "--json", stdout=out)
    assert json.loads(out.getvalue())["review_words_24h"] == {
        "entries": 2,
        "requested": 5,
        "used": 4,
        "share": 0.8,
        "mean_share_per_entry": 0.75,
    }
    out = io.StringIO()
    call_command("queue_status", stdout=out)
    assert "Review words, last 24 h: 4 of 5 used (80%) in 2 entries" in out.getvalue()


@pytest.mark.django_db
def test_the_admin_shows_the_share_of_requested_words_used(learner, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    first, _second, _third = _woven_entries(learner)
    console = Client()
    console.force_login(User.objects.create_superuser("staff", password="staff-passphrase-1"))
    listing = console.get(reverse("admin:adventures_entry_changelist")).content.decode()
    assert "1/2 (50%)" in listing
    assert "3/3 (100%)" in listing
    page = console.get(reverse("admin:adventures_entry_change", args=[first.pk])).content.decode()
    assert "1/2 (50%)" in page
    assert "llave" in page
