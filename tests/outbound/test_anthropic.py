"""The real Anthropic SDK, driven against a local fake of the Messages API."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from outbound.anthropic.client import AnthropicGenerator
from outbound.errors import ProviderError
from outbound.roles import DigestRequest, DigestSourceItem, GenerationRequest, PastEntry

from tests.support.fakes import anthropic as fake
from tests.support.fakes.server import FakeServer, Reply, json_reply


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with fake.fake_anthropic() as server:
        yield server


def generator(server: FakeServer, *, timeout: float = 5.0, api_key: str = fake.API_KEY):
    return AnthropicGenerator(
        api_key=api_key, model=fake.MODEL, base_url=server.url, timeout=timeout
    )


def generate(server: FakeServer, request: GenerationRequest, **options) -> object:
    return asyncio.run(generator(server, **options).generate(request))


OPENING = GenerationRequest(
    target_language="es", level="A1", theme="the sea", position=1, is_final=False
)


def test_the_opening_request_and_the_parsed_passage(server):
    passage = generate(server, OPENING)

    [sent] = server.requests
    body = sent.json()
    assert sent.path == "/v1/messages"
    assert fake.API_KEY in (
        sent.headers.get("x-api-key", "") + sent.headers.get("authorization", "")
    )
    assert body["model"] == "claude-haiku-5-5"
    assert not set(fake.SAMPLING) & set(body)  # Haiku 5.5 refuses them
    assert body["tool_choice"] == {"type": "tool", "name": "write_passage"}
    [tool] = body["tools"]
    assert tool["name"] == "write_passage"
    assert tool["input_schema"]["required"] == ["title", "sentences", "choices"]
    prompt = body["messages"][0]["content"]
    assert "Target language: Spanish (es)" in prompt
    assert "CEFR A1" in prompt
    assert "at most 8 words" in prompt
    assert "Theme: the sea" in prompt
    assert "give the story a title" in prompt

    assert passage.title == "La llave del faro"
    assert passage.sentences[0] == "Llegas a un pueblo pequeño junto al mar."
    assert len(passage.choices) == 3
    assert passage.input_tokens > 600
    assert passage.output_tokens == 164


def test_a_final_passage_follows_the_story_and_the_last_choice(server):
    request = GenerationRequest(
        target_language="fr",
        level="B2",
        theme="",
        position=3,
        is_final=True,
        history=[
            PastEntry("Tu arrives au village.", chosen="Tu parles au pêcheur."),
            PastEntry("Le pêcheur te montre le phare.", chosen="Tu marches vers le phare."),
        ],
        chosen_index=1,
    )
    passage = generate(server, request)

    body = server.requests[0].json()
    schema = body["tools"][0]["input_schema"]
    assert "choices" not in schema["properties"]  # the model cannot offer any
    assert "title" not in schema["properties"]
    prompt = body["messages"][0]["content"]
    assert "[Passage 1] Tu arrives au village." in prompt
    assert "[The learner chose] Tu marches vers le phare." in prompt
    assert "because of the learner's last choice" in prompt
    assert "final passage" in prompt
    assert "CEFR B2" in prompt
    assert passage.choices == []
    assert passage.title is None
    assert passage.sentences[0] == "Tu ouvres la porte du phare avec la clé."


@pytest.mark.parametrize(
    ("status", "kind", "transient"),
    [
        (429, "rate_limit_error", True),
        (529, "overloaded_error", True),
        (500, "api_error", True),
        (503, "api_error", True),
        (400, "invalid_request_error", False),
        (401, "authentication_error", False),
        (403, "permission_error", False),
    ],
)
def test_http_errors_are_mapped(server, status, kind, transient):
    server.queue(fake.error(status, kind, "something went wrong"))
    with pytest.raises(ProviderError) as caught:
        generate(server, OPENING)
    assert caught.value.transient is transient
    assert caught.value.status == status
    assert caught.value.provider == "anthropic"
    assert len(server.requests) == 1  # the SDK did not retry on its own


def test_a_wrong_key_is_permanent(server):
    with pytest.raises(ProviderError) as caught:
        generate(server, OPENING, api_key="sk-ant-wrong")
    assert caught.value.transient is False
    assert caught.value.status == 401


def test_a_slow_answer_times_out_as_transient(server):
    server.queue(Reply(delay=5))
    with pytest.raises(ProviderError, match="timed out") as caught:
        generate(server, OPENING, timeout=0.3)
    assert caught.value.transient is True


def test_a_refused_connection_is_transient():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    client = AnthropicGenerator(
        api_key=fake.API_KEY, model="m", base_url=f"http://127.0.0.1:{port}", timeout=2
    )
    with pytest.raises(ProviderError, match="connection") as caught:
        asyncio.run(client.generate(OPENING))
    assert caught.value.transient is True


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body="<html>Bad gateway</html>", headers={"Content-Type": "text/html"}),
        json_reply({"id": "msg_1", "type": "message"}),
        json_reply(
            {"id": "msg_1", "type": "message", "content": [{"type": "text", "text": "Hola"}]}
        ),
    ],
    ids=["html", "no-content", "text-not-tool"],
)
def test_a_malformed_or_incomplete_body_is_transient(server, reply):
    server.queue(reply)
    with pytest.raises(ProviderError) as caught:
        generate(server, OPENING)
    assert caught.value.transient is True


SENTENCES = ["Llegas al puerto."]


@pytest.mark.parametrize(
    ("tool_input", "stop_reason", "problem"),
    [
        ({"title": "T", "sentences": SENTENCES, "choices": ["Nadas."]}, "tool_use", "got 1"),
        (
            {"title": "T", "sentences": SENTENCES, "choices": ["A.", "B.", "C.", "D.", "E."]},
            "tool_use",
            "got 5",
        ),
        ({"title": "T", "sentences": [], "choices": ["A.", "B."]}, "tool_use", "empty"),
        ({"title": "T", "sentences": ["  "], "choices": ["A.", "B."]}, "tool_use", "empty"),
        ({"title": "T", "sentences": "Llegas.", "choices": ["A.", "B."]}, "tool_use", "list"),
        ({"title": "T", "sentences": SENTENCES}, "max_tokens", "max_tokens"),
    ],
    ids=["one-choice", "five-choices", "no-sentences", "blank", "not-a-list", "cut"],
)
def test_an_unusable_answer_is_a_retryable_content_failure(
    server, tool_input, stop_reason, problem
):
    server.queue(fake.tool_answer(tool_input, stop_reason=stop_reason))
    with pytest.raises(ProviderError, match="unusable answer") as caught:
        generate(server, OPENING)
    assert problem in str(caught.value)
    assert caught.value.transient is True


def test_a_refusal_is_permanent_with_a_detail_staff_can_act_on(server):
    """Retrying the same prompt repeats the refusal (Haiku 5.5 migration guide)."""
    server.queue(fake.refusal())
    with pytest.raises(ProviderError) as caught:
        generate(server, OPENING)
    assert caught.value.transient is False
    assert "declined" in caught.value.message
    assert "refusal" in caught.value.message
    assert len(server.requests) == 1


def test_retry_after_is_read_from_the_answer(server):
    """Anthropic says how long to wait on 429/529; the in-step retry honours it."""
    reply = fake.error(429, "rate_limit_error", "slow down")
    reply.headers["Retry-After"] = "7"
    server.queue(reply)
    with pytest.raises(ProviderError) as caught:
        generate(server, OPENING)
    assert caught.value.retry_after == 7.0
    server.queue(fake.error(503, "api_error", "try later"))
    with pytest.raises(ProviderError) as caught:
        generate(server, OPENING)
    assert caught.value.retry_after is None


# --- The digest writer (the same client, a forced write_digest call) ----------------

DIGEST_REQUEST = DigestRequest(
    target_language="es",
    level="B1",
    date="2025-01-06",
    items=[
        DigestSourceItem(1, "El faro brilla", "Tras diez años, el faro se enciende.", "es"),
        DigestSourceItem(2, "Le phare brille", "", "fr"),
        DigestSourceItem(3, "Los pescadores celebran", "", "es"),
    ],
)


def write_digest(server: FakeServer, request: DigestRequest = DIGEST_REQUEST):
    return asyncio.run(generator(server).write_digest(request))


def test_the_digest_request_and_the_parsed_reading(server):
    written = write_digest(server)

    [sent] = server.requests
    body = sent.json()
    assert body["tool_choice"] == {"type": "tool", "name": "write_digest"}
    [tool] = body["tools"]
    assert tool["input_schema"]["required"] == ["title", "sentences", "cited_items"]
    prompt = body["messages"][0]["content"]
    assert "Target language: Spanish (es)" in prompt
    assert "CEFR B1" in prompt
    assert "The news of 2025-01-06:" in prompt
    assert "[1] (Spanish) El faro brilla\n    Tras diez años, el faro se enciende." in prompt
    assert "[2] (French) Le phare brille" in prompt
    assert "news reading" in body["system"]

    assert written.title == "Las noticias del día"
    assert written.sentences == fake.DIGESTS["es"]
    assert written.cited == [1, 2]
    assert written.input_tokens > 500
    assert written.output_tokens == 164


@pytest.mark.parametrize(
    ("tool_input", "problem"),
    [
        ({"title": "T", "sentences": ["Hoy."], "cited_items": [4]}, "not offered: [4]"),
        ({"title": "T", "sentences": ["Hoy."], "cited_items": []}, "no item cited"),
        ({"title": "T", "sentences": ["Hoy."], "cited_items": ["1"]}, "list of integers"),
        ({"title": "T", "sentences": [], "cited_items": [1]}, "empty"),
        ({"title": "T", "sentences": ["Hoy."] * 21, "cited_items": [1]}, "at most 20"),
        ({"title": "T", "sentences": ["Hoy."]}, "list of integers"),
    ],
    ids=["unknown-item", "none-cited", "strings", "empty", "too-long", "no-citations"],
)
def test_an_unusable_digest_is_a_retryable_content_failure(server, tool_input, problem):
    server.queue(fake.tool_answer(tool_input, name="write_digest"))
    with pytest.raises(ProviderError, match="unusable answer") as caught:
        write_digest(server)
    assert problem in str(caught.value)
    assert caught.value.transient is True


def test_a_passage_call_is_no_digest(server):
    server.queue(fake.tool_answer({"sentences": ["Hoy."], "cited_items": [1]}))
    with pytest.raises(ProviderError, match="no write_digest call"):
        write_digest(server)
