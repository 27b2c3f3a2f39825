"""The learner's digests: the list (filters, newest first, pages, 400s) and one
digest's reading, built by the real pipeline with the stub providers."""

from __future__ import annotations

import datetime

import pytest
from asgiref.sync import async_to_sync

from news import digests
from news.models import Digest
from news.pipeline import run_digest_pipeline
from vocabulary.models import Word

from tests.support.api import client_for
from tests.support.audio import assert_sentences_tile_the_audio
from tests.support.factories import (
    make_adventure,
    make_digest,
    make_news_item,
    make_news_source,
    make_user,
)

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 1, 6)


def built_digest() -> Digest:
    source = make_news_source(url="https://noticias.example/rss", language="es", name="Puerto")
    noon = datetime.datetime(2025, 1, 6, 12, tzinfo=datetime.UTC)
    make_news_item(source, guid="faro", headline="El faro brilla", published_at=noon)
    plan = digests.build_plan(date=DAY, target_languages=["es"], levels=["A2"])
    [digest] = digests.digests_for(plan)
    async_to_sync(run_digest_pipeline)(digest_id=digest.id)
    digest.refresh_from_db()
    assert digest.status == Digest.Status.COMPLETE
    return digest


def test_the_list_is_complete_digests_newest_first_filtered_and_paged(api):
    older = make_digest(date=DAY - datetime.timedelta(days=1))
    newer = make_digest(date=DAY)
    french = make_digest(date=DAY, target_language="fr")
    b1 = make_digest(date=DAY, level="B1")
    make_digest(date=DAY + datetime.timedelta(days=1), status=Digest.Status.GENERATING)

    body = api.get("/api/digests").json()
    assert body["count"] == 4
    assert [d["id"] for d in body["results"]] == [newer.id, b1.id, french.id, older.id]
    assert body["results"][0] == {
        "id": newer.id,
        "date": "2025-01-06",
        "target_language": "es",
        "level": "A2",
        "title": "Las noticias",
    }
    only = api.get("/api/digests?language=es&level=A2").json()
    assert [d["id"] for d in only["results"]] == [newer.id, older.id]
    page = api.get("/api/digests?language=es&level=A2&page_size=1&page=2").json()
    assert [d["id"] for d in page["results"]] == [older.id]
    assert page["previous"] is not None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("language=ja", "language"),
        ("language=", "language"),
        ("language=xx-long-code", "language"),
        ("level=D1", "level"),
        ("level=", "level"),
        ("level=a2", "level"),
        ("page_size=0", "page_size"),
        ("page_size=many", "page_size"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(api, query, field):
    response = api.get(f"/api/digests?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()


def test_a_page_past_the_end_and_an_anonymous_caller(api, anonymous):
    assert api.get("/api/digests?page=9").status_code == 404
    assert anonymous.get("/api/digests").status_code == 401
    digest = make_digest()
    assert anonymous.get(f"/api/digests/{digest.id}").status_code == 401


def test_a_digest_is_read_like_an_entry_with_its_sources(learner):
    learner.native_language = "de"
    learner.save()
    make_adventure(learner, target_language="es", native_language="de")
    digest = built_digest()
    saved = Word.objects.create(user=learner, language="es", lemma="noticia")
    api = client_for(learner)

    body = api.get(f"/api/digests/{digest.id}").json()
    assert body["id"] == digest.id
    assert body["date"] == "2025-01-06"
    assert body["target_language"] == "es"
    assert body["level"] == "A2"
    assert body["text"].startswith("Estas son las noticias del 2025-01-06. Noticia 1:")
    assert body["translation_language"] == "de"
    assert body["sentences"][1] == {
        "text": "Noticia 1: El faro brilla.",
        "translation": "[de] Noticia 1: El faro brilla.",  # the stub translator's mark
        "start_ms": body["sentences"][0]["end_ms"],  # read right after the first one
        "end_ms": body["sentences"][2]["start_ms"],
    }
    statuses = {token["lemma"].lower(): token for token in body["tokens"]}
    assert statuses["noticia"]["status"] == "learning"
    assert statuses["noticia"]["word_id"] == str(saved.id)
    assert statuses["faro"]["status"] == "new"
    assert set(body["tokens"][0]) == {"text", "lemma", "pos", "sentence", "status", "word_id"}
    assert body["audio"]["url"].startswith("http://testserver/media/audio/digests/2025-01-06/")
    assert body["audio"]["duration_ms"] > 0
    # Each sentence's place in the audio: a tap plays exactly that sentence.
    assert_sentences_tile_the_audio(body["sentences"], body["audio"]["duration_ms"])
    assert body["sources"] == [
        {
            "headline": "El faro brilla",
            "link": "https://noticias.example/faro",
            "published_at": "2025-01-06T12:00:00Z",
            "source_name": "Puerto",
        }
    ]

    # A learner reading in a language nobody learnt Spanish in when it was made.
    other = make_user("ben", native_language="fr")
    sentences = client_for(other).get(f"/api/digests/{digest.id}").json()["sentences"]
    assert sentences[1]["translation"] is None


def test_a_digest_in_few_queries(learner, django_assert_max_num_queries):
    digest = built_digest()
    api = client_for(learner)
    with django_assert_max_num_queries(12):
        assert api.get(f"/api/digests/{digest.id}").status_code == 200


@pytest.mark.parametrize("path", ["0", "99999", "99999999999999999999999", "abc", "1/"])
def test_unknown_or_unfinished_digests_are_404(api, path):
    response = api.get(f"/api/digests/{path}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    pending = make_digest(date=DAY + datetime.timedelta(days=3), status=Digest.Status.PENDING)
    assert api.get(f"/api/digests/{pending.id}").status_code == 404
