"""The real DeepL SDK, driven against a local fake of DeepL's API v2."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from django.core.cache import cache

from langlearn import languages
from outbound import factory
from outbound.deepl.client import DeepLTranslator, deepl_target_code
from outbound.errors import ProviderError

from tests.support.fakes import deepl as fake
from tests.support.fakes.server import FakeServer, Reply, json_reply

PASSAGE = ["Llegas a un pueblo pequeño junto al mar.", "Caminas hacia el faro."]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with fake.fake_deepl() as server:
        yield server


def translator(server: FakeServer, *, timeout: float = 5.0, key: str = fake.AUTH_KEY):
    return DeepLTranslator(auth_key=key, server_url=server.url, timeout=timeout)


def translate(server: FakeServer, target: str = "en", **options):
    return asyncio.run(
        translator(server, **options).translate(
            PASSAGE, source_language="es", target_language=target, context=" ".join(PASSAGE)
        )
    )


def test_one_request_per_passage_with_context_and_billing(server):
    result = translate(server)

    [sent] = server.requests
    assert sent.method == "POST"
    assert sent.path == "/v2/translate"
    assert sent.headers["authorization"] == f"DeepL-Auth-Key {fake.AUTH_KEY}"
    body = sent.json()
    assert body["text"] == PASSAGE
    assert body["source_lang"] == "ES"
    assert body["target_lang"] == "EN-GB"
    assert body["split_sentences"] == "0"  # one translation per sentence, in order
    assert body["context"] == " ".join(PASSAGE)
    assert result.texts == [
        "You arrive at a small village by the sea.",
        "You walk towards the lighthouse.",
    ]
    assert result.billed_characters == sum(map(len, PASSAGE))


@pytest.mark.parametrize(
    ("native", "variants", "sent"),
    [
        ("en", {}, "EN-GB"),
        ("en", {"DEEPL_ENGLISH_VARIANT": "EN-US"}, "EN-US"),
        ("pt", {}, "PT-PT"),
        ("pt", {"DEEPL_PORTUGUESE_VARIANT": "PT-BR"}, "PT-BR"),
        ("de", {}, "DE"),
    ],
)
def test_native_codes_map_to_deepl_targets(server, settings, native, variants, sent):
    for name, value in variants.items():
        setattr(settings, name, value)
    result = translate(server, target=native)
    assert server.requests[0].json()["target_lang"] == sent
    assert len(result.texts) == 2


def test_every_language_we_translate_into_is_a_current_deepl_target(server):
    """The registry's ``translate_into`` languages, mapped as the client maps
    them, are all in DeepL's documented target list, none of them a code kept
    only for backward compatibility (EN, PT)."""
    documented = {code for code, _ in fake.TARGETS}
    for language in languages.native_languages():
        code = deepl_target_code(language.code)
        assert code in documented, (language.code, code)
        assert code not in fake.LEGACY_TARGETS, (language.code, code)


@pytest.mark.django_db
def test_requests_never_ask_deepl_for_its_languages(server, settings, anonymous, api):
    """Validation reads the language registry only: with the real DeepL client
    configured and nothing cached, registering, listing languages and starting
    an adventure send nothing to DeepL (nor, by the network guard, anywhere)."""
    settings.STUB_GENERATION = False
    settings.DEEPL_API_KEY = fake.AUTH_KEY
    settings.DEEPL_SERVER_URL = server.url
    factory.reset()
    cache.clear()

    registered = anonymous.post(
        "/api/auth/register",
        {"username": "kim", "password": "a-long-passphrase", "native_language": "ko"},
        format="json",
    )
    assert registered.status_code == 201
    native = api.get("/api/languages").json()["native_languages"]
    assert {"code": "ja", "name": "Japanese"} in native
    created = api.post(
        "/api/adventures", {"target_language": "es", "native_language": "ja"}, format="json"
    )
    assert created.status_code == 201
    refused = api.post(
        "/api/adventures", {"target_language": "es", "native_language": "xx"}, format="json"
    )
    assert refused.status_code == 400
    assert "xx" in str(refused.json()["native_language"])
    assert server.requests == []


@pytest.mark.parametrize(
    ("status", "transient"),
    [(429, True), (500, True), (503, True), (400, False), (403, False), (456, False)],
)
def test_http_errors_are_mapped(server, status, transient):
    server.queue(json_reply({"message": "nope"}, status))
    with pytest.raises(ProviderError) as caught:
        translate(server)
    assert caught.value.transient is transient
    assert caught.value.status == status
    assert len(server.requests) == 1  # SDK retries are off


def test_a_wrong_key_is_permanent(server):
    with pytest.raises(ProviderError) as caught:
        translate(server, key="wrong:fx")
    assert caught.value.transient is False
    assert caught.value.status == 403


def test_an_unsupported_target_is_permanent(server):
    with pytest.raises(ProviderError) as caught:
        translate(server, target="eu")  # Basque: a DeepL source language only
    assert caught.value.transient is False


def test_a_slow_answer_times_out_as_transient(server):
    server.queue(Reply(delay=5))
    with pytest.raises(ProviderError, match="timed out") as caught:
        translate(server, timeout=0.2)
    assert caught.value.transient is True


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body="<html>Bad gateway</html>", headers={"Content-Type": "text/html"}),
        json_reply({"translations": [{"text": "Only one", "detected_source_language": "ES"}]}),
        json_reply({"translations": [{"text": "One", "billed_characters": 3}]}),
    ],
    ids=["html", "no-billing", "one-of-two"],
)
def test_a_malformed_or_incomplete_body_is_transient(server, reply):
    server.queue(reply)
    with pytest.raises(ProviderError, match="malformed") as caught:
        translate(server)
    assert caught.value.transient is True
