"""The digest pipeline, in this process: the stub writer (or the real Anthropic
SDK against its local fake), the real spaCy annotator, stub translator and
voice; a failing step resumes without paying the LLM again."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.files.storage import storages

from langlearn.provider_settings import Fault
from news import digests
from news.models import Digest, NewsSource
from news.pipeline import run_digest_pipeline
from outbound import factory
from outbound.errors import ProviderError
from outbound.gemini.stub import CHARS_PER_SECOND

from tests.support.audio import assert_sentences_tile_the_audio, wav_duration_ms
from tests.support.factories import make_adventure, make_news_item, make_news_source, make_user
from tests.support.fakes import anthropic as fake_anthropic
from tests.support.fakes.server import FakeServer

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 1, 6)
NOON = datetime.datetime(2025, 1, 6, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def news() -> dict[str, NewsSource]:
    spanish = make_news_source(url="https://noticias.example/rss", language="es")
    french = make_news_source(url="https://nouvelles.example/rss", language="fr")
    make_news_item(french, guid="phare", headline="Le phare brille", published_at=NOON)
    make_news_item(spanish, guid="faro", headline="El faro brilla", published_at=NOON)
    make_news_item(
        spanish,
        guid="fiesta",
        headline="Los pescadores celebran",
        published_at=NOON - datetime.timedelta(hours=3),
    )
    make_news_item(  # the day before: not in this digest
        spanish,
        guid="ayer",
        headline="Noticia de ayer",
        published_at=NOON - datetime.timedelta(days=1),
    )
    return {"es": spanish, "fr": french}


def build(digest: Digest) -> Digest:
    async_to_sync(run_digest_pipeline)(digest_id=digest.id)
    digest.refresh_from_db()
    return digest


def make_digest(language: str = "es", level: str = "A2") -> Digest:
    [digest] = digests_for(language, level)
    return digest


def digests_for(language: str, level: str) -> list[Digest]:
    plan = digests.build_plan(date=DAY, target_languages=[language], levels=[level])
    return digests.digests_for(plan)


def calls(log: Path) -> Counter[str]:
    return Counter(log.read_text().split()) if log.exists() else Counter()


def test_a_digest_is_written_translated_annotated_and_voiced(news):
    learner = make_user("ana", native_language="de")
    make_adventure(learner, target_language="es", native_language="de")
    digest = build(make_digest())

    assert digest.status == Digest.Status.COMPLETE
    steps = (digest.generated_at, digest.translated_at, digest.annotated_at, digest.voiced_at)
    assert None not in steps
    assert digest.completed_at is not None
    sentences = list(digest.sentences.order_by("index"))
    assert sentences[0].text == "Estas son las noticias del 2025-01-06."
    # Same-language items first, newest first; the day before is left out.
    assert sentences[1].text == "Noticia 1: El faro brilla."
    assert sentences[2].text == "Noticia 2: Los pescadores celebran."
    assert sentences[3].text == "Noticia 3: Le phare brille."
    assert [c.item.headline for c in digest.citations.select_related("item")] == [
        "El faro brilla",
        "Los pescadores celebran",
        "Le phare brille",
    ]
    # Into every native language of the target language's learners, and English.
    for sentence in sentences:
        assert set(sentence.translations.values_list("language", flat=True)) == {"de", "en"}
    tokens = list(digest.tokens.order_by("index"))
    assert tokens[0].text == "Estas"
    assert {token.sentence for token in tokens} == set(range(len(sentences)))
    assert digest.audio.duration_ms > 0
    assert digest.audio.file.startswith("audio/digests/2025-01-06/es-A2-")
    assert digest.llm_output_tokens > 0
    assert digest.translated_characters > 0


def test_each_sentence_of_a_digest_has_its_place_in_the_audio(news):
    digest = build(make_digest())

    stored = storages["audio"].open(digest.audio.file).read()
    duration = wav_duration_ms(stored)  # what a player reads from the header
    assert digest.audio.duration_ms == duration
    sentences = list(digest.sentences.order_by("index").values("text", "start_ms", "end_ms"))
    assert len(sentences) == 5
    # A tap on a sentence plays exactly that sentence, the whole file over.
    assert_sentences_tile_the_audio(sentences, duration)
    first = sentences[0]
    assert first["end_ms"] == round(len(first["text"]) / CHARS_PER_SECOND * 1000)  # stub pace


def test_a_provider_failure_mid_digest_resumes_without_paying_the_llm_again(
    news, settings, tmp_path
):
    log = tmp_path / "calls.log"
    settings.STUB_CALL_LOG = str(log)
    settings.STUB_FAULTS = {"voice": Fault(transient=False, probability=1.0)}
    factory.reset()
    digest = make_digest()

    with pytest.raises(ProviderError, match="injected fault"):
        build(digest)
    digest.refresh_from_db()
    assert digest.generated_at is not None
    assert digest.voiced_at is None
    assert digest.sentences.count() == 5
    # Translating and annotating finished beside the failed voicing: recorded.
    # (The voice reads each sentence on its own: the calls under way when the
    # first one failed for good failed too, the rest were never made.)
    first_run = calls(log)
    faults = first_run.pop("voice:fault")
    assert 1 <= faults <= 5
    assert first_run == {"generate": 1, "translate": 1, "annotate": 1}
    digests.digest_fail(digest_id=digest.id, detail="ProviderError: injected fault")
    assert digests.digests_rerun(digest_ids=[digest.id]).requeued == [digest.id]

    settings.STUB_FAULTS = {}
    digest = build(digest)
    assert digest.status == Digest.Status.COMPLETE
    # Written, translated and annotated once; only the voicing ran again.
    assert calls(log) == {
        "generate": 1,
        "translate": 1,
        "annotate": 1,
        "voice:fault": faults,
        "voice": 5,  # one call per sentence
    }


def test_the_real_anthropic_sdk_writes_the_digest_once_across_a_failure(news, settings):
    with fake_anthropic.fake_anthropic() as server:
        settings.STUB_GENERATION = False
        settings.ANTHROPIC_API_KEY = fake_anthropic.API_KEY
        settings.ANTHROPIC_BASE_URL = server.url
        settings.STUB_FAULTS = {"voice": Fault(transient=False, probability=1.0)}
        factory.reset()
        digest = make_digest()
        with pytest.raises(ProviderError):
            build(digest)
        settings.STUB_FAULTS = {}
        digest = build(digest)
        assert_one_digest_request(server)

    assert digest.status == Digest.Status.COMPLETE
    assert digest.title == "Las noticias del día"
    assert (
        list(digest.sentences.order_by("index").values_list("text", flat=True))
        == (fake_anthropic.DIGESTS["es"])
    )
    assert [c.item.headline for c in digest.citations.select_related("item")] == [
        "El faro brilla",
        "Los pescadores celebran",
    ]
    assert digest.llm_input_tokens > 500


def assert_one_digest_request(server: FakeServer) -> None:
    [request] = server.requests
    body = request.json()
    assert body["tool_choice"] == {"type": "tool", "name": "write_digest"}
    prompt = body["messages"][0]["content"]
    assert "Target language: Spanish (es)" in prompt
    assert "CEFR A2" in prompt
    assert "[1] (Spanish) El faro brilla" in prompt
    assert "[3] (French) Le phare brille" in prompt
    assert "Noticia de ayer" not in prompt


def test_no_items_that_day_makes_no_digest(news):
    plan = digests.build_plan(date=DAY + datetime.timedelta(days=2), target_languages=["es"])
    assert plan.items == 0
    assert digests.digests_for(plan) == []
    assert not Digest.objects.exists()


def test_a_complete_digest_is_left_alone(news, settings, tmp_path):
    digest = build(make_digest())
    settings.STUB_CALL_LOG = str(tmp_path / "calls.log")
    again = build(digest)
    assert again.completed_at == digest.completed_at
    assert calls(tmp_path / "calls.log") == Counter()


@pytest.fixture(autouse=True)
def _no_faults(settings) -> Iterator[None]:
    settings.STUB_FAULTS = {}
    yield
    factory.reset()
