"""The real google-genai SDK, driven against a local fake of Gemini TTS."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from collections.abc import Iterator

import pytest
import requests

from outbound.errors import ProviderError
from outbound.gemini.client import STYLE, GeminiVoice, parse_pcm_mime
from outbound.gemini.wav import duration_ms, join_wavs, pcm_to_wav

from tests.support.fakes import gemini as fake
from tests.support.fakes.server import FakeServer, Reply, Request, json_reply

TEXT = "Llegas a un pueblo pequeño junto al mar."
DEFAULT = "gemini-3.8-flash-lite-tts"  # Interactions API, answers a WAV file
L16_MODEL = "gemini-3.1-flash-tts-preview"  # an earlier model: generateContent, raw L16


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with fake.fake_gemini() as server:
        yield server


def voice(
    server: FakeServer, *, timeout: float = 5.0, key: str = fake.API_KEY, model: str = DEFAULT
) -> GeminiVoice:
    return GeminiVoice(
        api_key=key,
        model=model,
        voices={"es": "Kore", "fr": "Leda"},
        base_url=server.url,
        timeout=timeout,
    )


def synthesize(server: FakeServer, text: str = TEXT, language: str = "es", **options):
    return asyncio.run(voice(server, **options).synthesize(text, language=language))


def voice_name(request: Request) -> str:
    """The voice asked for, on either call. The SDK sends generateContent's
    speechConfig inner fields in snake_case (proto3 JSON accepts both)."""
    body = request.json()
    if fake.is_interaction(request):
        [config] = body["generation_config"]["speech_config"]
        return config["voice"]
    speech = body["generationConfig"]["speechConfig"]
    config = speech.get("voiceConfig") or speech["voice_config"]
    prebuilt = config.get("prebuiltVoiceConfig") or config["prebuilt_voice_config"]
    return prebuilt.get("voiceName") or prebuilt["voice_name"]


def read_wav(audio: bytes) -> tuple[int, int, float]:
    with wave.open(io.BytesIO(audio)) as wav:
        return wav.getnchannels(), wav.getframerate(), wav.getnframes() / wav.getframerate()


def assert_heard(speech, text: str = TEXT) -> None:
    assert speech.content_type == "audio/wav"
    channels, rate, seconds = read_wav(speech.audio)
    assert (channels, rate) == (1, 24_000)
    assert seconds == pytest.approx(fake.seconds_for(text), abs=0.001)
    assert speech.duration_ms == round(seconds * 1000)


@pytest.mark.parametrize("model", [DEFAULT, "gemini-3.8-flash-tts"])
def test_3_8_goes_through_the_interactions_api(server, model):
    speech = synthesize(server, model=model)

    [sent] = server.requests
    assert sent.method == "POST"
    assert fake.is_interaction(sent)  # POST /{version}/interactions, never generateContent
    assert sent.headers["x-goog-api-key"] == fake.API_KEY
    body = sent.json()
    assert body["model"] == model
    # One user turn; the text verbatim, the delivery in its speech_metadata annotation.
    [turn] = body["input"]
    assert turn["type"] == "user_input"
    [block] = turn["content"]
    assert block == {
        "type": "text",
        "text": TEXT,
        "annotations": [{"type": "speech_metadata", "style": STYLE}],
    }
    assert not fake.style_in_text(sent)
    assert body["response_format"] == {"type": "audio"}
    assert body["generation_config"] == {"speech_config": [{"voice": "Kore"}]}  # no sampling
    assert body["store"] is False
    assert_heard(speech)


def test_an_earlier_model_goes_through_generate_content(server):
    speech = synthesize(server, model=L16_MODEL)

    [sent] = server.requests
    assert sent.path.endswith(f"/models/{L16_MODEL}:generateContent")
    assert sent.headers["x-goog-api-key"] == fake.API_KEY
    assert fake.spoken_text(sent) == TEXT
    assert fake.style_of(sent) == STYLE
    config = sent.json()["generationConfig"]
    assert config["responseModalities"] == ["AUDIO"]
    assert not set(fake.SAMPLING) & set(config)
    assert voice_name(sent) == "Kore"
    assert_heard(speech)  # raw L16 wrapped in a WAV header


def test_the_fake_refuses_3_8_on_generate_content(server):
    """The developer API shows 3.8 only through Interactions (see the fake)."""
    answer = requests.post(
        f"{server.url}/v1beta/models/{DEFAULT}:generateContent",
        json={"contents": [{"parts": [{"text": "Hola."}]}]},
        headers={"x-goog-api-key": fake.API_KEY},
        timeout=5,
    )
    assert answer.status_code == 404


def test_a_wav_answer_is_kept_as_sent(server):
    """3.8 answers a whole WAV file: we store it as is, its length from its header."""
    wav = fake.wav_file(fake.tone(0.75, rate=16_000), rate=16_000)
    server.queue(fake.audio_interaction(wav, "audio/wav"))
    speech = synthesize(server)
    assert speech.audio == wav
    assert speech.duration_ms == 750


def test_a_wav_answer_on_generate_content_is_kept_too(server):
    wav = fake.wav_file(fake.tone(0.5))
    server.queue(fake.audio_answer(wav, "audio/wav"))
    speech = synthesize(server, model=L16_MODEL)
    assert speech.audio == wav
    assert speech.duration_ms == 500


def test_raw_l16_from_interactions_is_wrapped_at_its_rate(server):
    pcm = fake.tone(0.5, rate=16_000)
    server.queue(fake.audio_interaction(pcm, "audio/l16", sample_rate=16_000, channels=1))
    speech = synthesize(server)
    assert read_wav(speech.audio) == (1, 16_000, 0.5)
    assert speech.duration_ms == 500


def test_a_style_line_in_the_text_would_be_heard(server):
    """The fake reads whatever text it gets: a style line would lengthen the audio."""
    synthesize(server, "Hola.")
    assert fake.spoken_text(server.requests[0]) == "Hola."
    assert fake.style_in_text(fake_request("Read this aloud slowly and clearly: Hola."))


def fake_request(text: str) -> Request:
    body = {"model": DEFAULT, "input": [{"type": "user_input", "content": [{"text": text}]}]}
    return Request("POST", "/v1beta/interactions", {}, {}, json.dumps(body).encode())


def test_sampling_parameters_are_refused_by_3_8(server):
    """What the fake does with them (the client never sends any)."""
    answer = requests.post(
        f"{server.url}/v1beta/interactions",
        json={
            "model": DEFAULT,
            "input": [{"type": "user_input", "content": [{"type": "text", "text": "Hola."}]}],
            "response_format": {"type": "audio"},
            "generation_config": {"temperature": 0.3},
        },
        headers={"x-goog-api-key": fake.API_KEY},
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("model", [DEFAULT, L16_MODEL])
def test_each_language_has_its_voice(server, model):
    synthesize(server, "Tu arrives au village.", language="fr", model=model)
    assert voice_name(server.requests[0]) == "Leda"


def test_a_language_without_a_voice_is_refused_without_a_call(server):
    with pytest.raises(ProviderError) as caught:
        synthesize(server, language="ja")
    assert caught.value.transient is False
    assert server.requests == []


def test_the_sample_rate_comes_from_the_mime_type(server):
    server.queue(fake.audio_answer(fake.tone(0.5, rate=16_000), "audio/L16;codec=pcm;rate=16000"))
    speech = synthesize(server, model=L16_MODEL)
    assert read_wav(speech.audio)[1:] == (16_000, 0.5)
    assert speech.duration_ms == 500


def test_pcm_to_wav_gives_a_file_a_wav_reader_accepts():
    pcm = fake.tone(1.5)
    audio = pcm_to_wav(pcm, rate=24_000)
    assert audio[:4] == b"RIFF"
    assert audio[8:12] == b"WAVE"
    assert read_wav(audio) == (1, 24_000, 1.5)
    assert duration_ms(len(pcm), rate=24_000) == 1500
    assert parse_pcm_mime("audio/L16;codec=pcm;rate=24000") == 24_000
    assert parse_pcm_mime("audio/mpeg") is None


@pytest.mark.parametrize("model", [DEFAULT, L16_MODEL])
@pytest.mark.parametrize(
    ("status", "name", "transient"),
    [
        (429, "RESOURCE_EXHAUSTED", True),
        (500, "INTERNAL", True),
        (503, "UNAVAILABLE", True),
        (400, "INVALID_ARGUMENT", False),
        (403, "PERMISSION_DENIED", False),
        (404, "NOT_FOUND", False),
    ],
)
def test_http_errors_are_mapped(server, model, status, name, transient):
    server.queue(fake.error(status, name, "something went wrong"))
    with pytest.raises(ProviderError) as caught:
        synthesize(server, model=model)
    assert caught.value.transient is transient
    assert caught.value.status == status
    assert name in caught.value.message  # what staff read in the failure detail
    assert len(server.requests) == 1  # SDK retries are off


@pytest.mark.parametrize("model", [DEFAULT, L16_MODEL])
def test_a_wrong_key_is_permanent(server, model):
    with pytest.raises(ProviderError) as caught:
        synthesize(server, key="wrong", model=model)
    assert caught.value.transient is False
    assert "API key not valid" in caught.value.message


@pytest.mark.parametrize("model", [DEFAULT, L16_MODEL])
def test_a_slow_answer_times_out_as_transient(server, model):
    server.queue(Reply(delay=5))
    with pytest.raises(ProviderError, match="timed out") as caught:
        synthesize(server, timeout=0.3, model=model)
    assert caught.value.transient is True


def test_a_closed_port_is_a_transient_connection_error():
    with fake.fake_gemini() as gone:
        url = gone.url
    broken = GeminiVoice(api_key=fake.API_KEY, model=DEFAULT, voices={"es": "Kore"}, base_url=url)
    with pytest.raises(ProviderError) as caught:
        asyncio.run(broken.synthesize(TEXT, language="es"))
    assert caught.value.transient is True


HTML = Reply(body="<html>Bad gateway</html>", headers={"Content-Type": "text/html"})


@pytest.mark.parametrize(
    "reply",
    [
        HTML,
        fake.interaction([]),
        fake.interaction([{"type": "text", "text": "Hola"}]),
        fake.interaction([], status="failed"),
        fake.audio_interaction(b"RIFF-but-not-really", "audio/wav"),
        fake.audio_interaction(fake.tone(0.1), "audio/mpeg"),
        json_reply(
            {
                "id": "x",
                "status": "completed",
                "steps": [
                    {
                        "type": "model_output",
                        "content": [{"type": "audio", "mime_type": "audio/wav", "data": "%%%"}],
                    }
                ],
            }
        ),
    ],
    ids=[
        "html",
        "no-output",
        "text-not-audio",
        "failed",
        "broken-wav",
        "unknown-format",
        "not-base64",
    ],
)
def test_a_malformed_or_audioless_interaction_is_transient(server, reply):
    server.queue(reply)
    with pytest.raises(ProviderError) as caught:
        synthesize(server)
    assert caught.value.transient is True


@pytest.mark.parametrize(
    "reply",
    [
        HTML,
        json_reply({"candidates": []}),
        json_reply(
            {
                "candidates": [
                    {
                        "content": {"role": "model", "parts": [{"text": "Hola"}]},
                        "finishReason": "STOP",
                    }
                ]
            }
        ),
        json_reply({"candidates": [{"finishReason": "OTHER"}]}),
        fake.audio_answer(b"RIFF-but-not-really", "audio/wav"),
    ],
    ids=["html", "no-candidates", "text-not-audio", "no-content", "broken-wav"],
)
def test_a_malformed_or_audioless_generate_content_is_transient(server, reply):
    server.queue(reply)
    with pytest.raises(ProviderError) as caught:
        synthesize(server, model=L16_MODEL)
    assert caught.value.transient is True


@pytest.mark.parametrize("model", [DEFAULT, L16_MODEL])
def test_retry_after_is_read_from_the_answer(server, model):
    reply = fake.error(429, "RESOURCE_EXHAUSTED", "slow down")
    reply.headers["Retry-After"] = "3"
    server.queue(reply)
    with pytest.raises(ProviderError) as caught:
        synthesize(server, model=model)
    assert caught.value.retry_after == 3.0


def test_joined_wavs_play_one_after_another_with_each_ones_place():
    parts = [pcm_to_wav(fake.tone(seconds), rate=24_000) for seconds in (0.5, 1.25, 0.001)]
    joined = join_wavs(parts)
    assert read_wav(joined.audio) == (1, 24_000, pytest.approx(1.751, abs=1e-6))
    assert joined.duration_ms == 1751
    assert joined.offsets == [(0, 500), (500, 1750), (1750, 1751)]


def test_wavs_of_different_formats_are_not_joined():
    with pytest.raises(ValueError, match="cannot join"):
        join_wavs([pcm_to_wav(b"\0\0", rate=24_000), pcm_to_wav(b"\0\0", rate=16_000)])
    with pytest.raises(ValueError, match="not a PCM WAV"):
        join_wavs([b"RIFF nonsense"])
