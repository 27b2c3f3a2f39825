"""A fake of the Gemini developer API's text-to-speech: the Interactions
endpoint for the 3.8 models, ``generateContent`` for the earlier ones.

It answers the way Google documents the current TTS models (read with the
``search`` tool, 2026-11-28):

- Speech generation (TTS), the developer API's guide,
  https://ai.google.dev/gemini-api/docs/speech-generation: the 3.8 models
  (``gemini-3.8-flash-tts``, ``gemini-3.8-flash-lite-tts``) are shown ONLY
  through ``client.interactions.create`` (google-genai >= 2.25): the verbatim
  transcript goes in ``input``, the turn-level style in a ``speech_metadata``
  annotation on the text block, the voice in
  ``generation_config.speech_config``, with ``response_format={"type":
  "audio"}``; its example saves the model's default WAV output (audio/wav).
  (Read in its Korean, Chinese and German renderings; the English excerpt we
  could reach stops before the code.) ``speech_config`` is a list of
  ``{"voice": ...}``. The REST form: a curl of the guide's body
  (https://gist.github.com/simonw/a82f3aef2677c623d1776092d6b21224) posts to
  ``/v1beta/interactions`` with the ``x-goog-api-key`` header; the installed
  SDK (google-genai 3.6.1) posts the same body to ``/v1/interactions``.
- Interactions API, https://ai.google.dev/gemini-api/docs/interactions.md.txt:
  the server stores interactions unless ``store=false`` (stateless);
  "the original generateContent API remains fully supported" (in general —
  no page says it serves the 3.8 TTS models on the developer API).
- The response: an ``Interaction`` whose ``steps`` end with a ``model_output``
  step whose ``content`` holds ``{"type": "audio", "mime_type": ...,
  "data": <base64>}`` (the Interaction resource,
  https://docs.cloud.google.com/gemini-enterprise-agent-platform/reference/rest/v1beta1/Interaction,
  and the data-model notes of google/skills,
  skills/cloud/gemini-interactions-api/references/data_model.md; the
  installed SDK's ``AudioContent`` type: ``data``, ``mime_type``,
  ``sample_rate``, ``channels``).
- Migrate to Gemini 3.8 TTS (Gemini Enterprise API),
  https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/text-to-speech/migration-guide
  ("Summary of changes"): the 3.8 models read ``text`` as a *verbatim
  transcript* (style written into it "may be read aloud"); a unary request
  answers "a complete WAV file (16-bit PCM, 24 kHz, mono)" (earlier models:
  raw 16-bit PCM, 24 kHz, mono); ``temperature``/``topP``/``topK`` are
  "rejected with an INVALID_ARGUMENT error". There ``generateContent``
  serves 3.8 — but that is the Enterprise (Vertex) API, not the one we call.
- The earlier models (``gemini-3.1-flash-tts-preview``, a "legacy preview
  model", https://ai.google.dev/gemini-api/docs/models/gemini-3.1-flash-tts-preview.md.txt)
  answer on ``generateContent`` with raw ``audio/L16;codec=pcm;rate=24000``.

So: ``POST /{v1,v1beta}/interactions`` answers a ``gemini-3.8-*`` model with
``audio/wav`` (a whole RIFF file) and any other model with raw ``audio/l16``;
``generateContent`` answers the earlier models with raw L16 and REFUSES a
3.8 model with 404 NOT_FOUND — the developer docs show 3.8 only through
Interactions; the exact refusal is the fake's assumption, no page shows it.
Errors have Google's usual shape ``{"error": {"code", "message", "status"}}``.
The audio is as long as the *whole* text takes to read — a style line left
in the text is spoken, and so lengthens the audio; tests can also look for
one with ``style_in_text``. Sampling parameters sent for a 3.8 model are
refused (400 INVALID_ARGUMENT) on either endpoint.
"""

from __future__ import annotations

import base64
import io
import math
import re
import struct
import wave
from typing import Any

from .server import FakeServer, Reply, Request, json_reply

API_KEY = "gemini-test-key"
RATE = 24_000
SECONDS_PER_CHAR = 0.02
MAX_SECONDS = 3.0
L16 = f"audio/L16;codec=pcm;rate={RATE}"
WAV = "audio/wav"
SAMPLING = ("temperature", "topP", "topK", "top_p", "top_k")
INTERACTIONS = re.compile(r"^/v1(beta)?/interactions$")
# Words a delivery instruction written into the transcript would use.
STYLE_IN_TEXT = re.compile(
    r"read (this|the following)|aloud|say the following|slowly and clearly", re.IGNORECASE
)


def answers_wav(model: str) -> bool:
    """The 3.8 TTS models answer a WAV file by default; earlier ones raw L16."""
    return model.startswith("gemini-3.8-")


def tone(seconds: float, rate: int = RATE) -> bytes:
    frames = int(rate * seconds)
    return b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 220 * i / rate))) for i in range(frames)
    )


def wav_file(pcm: bytes, rate: int = RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


def seconds_for(text: str) -> float:
    return min(len(text) * SECONDS_PER_CHAR, MAX_SECONDS)


def audio_answer(audio: bytes, mime: str = L16, *, model: str = "gemini-test-tts") -> Reply:
    """A ``generateContent`` answer carrying audio."""
    return json_reply(
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [
                            {
                                "inlineData": {
                                    "mimeType": mime,
                                    "data": base64.b64encode(audio).decode(),
                                }
                            }
                        ],
                    },
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": 40,
                "candidatesTokenCount": len(audio) // 960,
                "totalTokenCount": 40 + len(audio) // 960,
            },
            "modelVersion": model,
        }
    )


def interaction(
    content: list[dict[str, Any]],
    *,
    model: str = "gemini-3.8-flash-lite-tts",
    status: str = "completed",
) -> Reply:
    """An Interactions answer whose model output is ``content``."""
    steps = [{"type": "model_output", "content": content}] if content else []
    return json_reply(
        {
            "id": "interaction-fake-1",
            "status": status,
            "model": model,
            "created": "2026-11-28T12:00:00Z",
            "updated": "2026-11-28T12:00:01Z",
            "steps": steps,
            "usage": {"total_input_tokens": 40, "total_output_tokens": 100, "total_tokens": 140},
        }
    )


def audio_interaction(
    audio: bytes, mime: str = WAV, *, model: str = "gemini-3.8-flash-lite-tts", **extra: Any
) -> Reply:
    """An Interactions answer carrying audio (``extra``: sample_rate, channels)."""
    block = {"type": "audio", "mime_type": mime, "data": base64.b64encode(audio).decode()}
    return interaction([{**block, **extra}], model=model)


def error(code: int, status: str, message: str) -> Reply:
    return json_reply({"error": {"code": code, "message": message, "status": status}}, code)


def is_interaction(request: Request) -> bool:
    return bool(INTERACTIONS.match(request.path))


def text_block(body: dict[str, Any]) -> dict[str, Any]:
    """The text sent: an Interactions ``input`` block or a generateContent part."""
    if "input" in body:
        turn = body["input"][0] if isinstance(body["input"], list) else body["input"]
        return turn["content"][0]
    return body["contents"][0]["parts"][0]


def spoken_text(request: Request) -> str:
    """The transcript a request asked to be read (all of it is read)."""
    return text_block(request.json())["text"]


def style_of(request: Request) -> str | None:
    block = text_block(request.json())
    for annotation in block.get("annotations") or []:
        if annotation.get("type") == "speech_metadata":
            return annotation.get("style")
    metadata = block.get("speechMetadata") or block.get("speech_metadata") or {}
    return metadata.get("style")


def style_in_text(request: Request) -> bool:
    """Whether a delivery instruction was written into the verbatim text."""
    return bool(STYLE_IN_TEXT.search(spoken_text(request)))


def model_of(request: Request) -> str:
    if is_interaction(request):
        return request.json()["model"]
    return request.path.rsplit("/", 1)[-1].split(":", 1)[0]


def sampling_refused(model: str, config: dict[str, Any]) -> Reply | None:
    refused = [name for name in SAMPLING if name in config]
    if answers_wav(model) and refused:
        return error(400, "INVALID_ARGUMENT", f"{refused[0]} is not supported for model {model}")
    return None


def respond_interaction(body: dict[str, Any]) -> Reply:
    model = body.get("model") or ""
    if not model:
        return error(400, "INVALID_ARGUMENT", "model is required")
    if (body.get("response_format") or {}).get("type") != "audio":
        return error(400, "INVALID_ARGUMENT", f"{model} only produces audio")
    refused = sampling_refused(model, body.get("generation_config") or {})
    if refused:
        return refused
    pcm = tone(seconds_for(text_block(body)["text"]))
    if answers_wav(model):
        return audio_interaction(wav_file(pcm), WAV, model=model)
    return audio_interaction(pcm, "audio/l16", model=model, sample_rate=RATE, channels=1)


def respond_generate_content(request: Request) -> Reply:
    model, body = model_of(request), request.json()
    if answers_wav(model):
        version = request.path.strip("/").split("/", 1)[0]
        return error(
            404,
            "NOT_FOUND",
            f"models/{model} is not found for API version {version}, or is not supported "
            "for generateContent. Use the Interactions API.",
        )
    refused = sampling_refused(model, body.get("generationConfig") or {})
    if refused:
        return refused
    pcm = tone(seconds_for(text_block(body)["text"]))
    return audio_answer(pcm, L16, model=model)


def respond(request: Request) -> Reply:
    if request.headers.get("x-goog-api-key") != API_KEY:
        return error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
    if request.method == "POST" and is_interaction(request):
        return respond_interaction(request.json())
    if request.method == "POST" and request.path.endswith(":generateContent"):
        return respond_generate_content(request)
    return error(404, "NOT_FOUND", f"no route {request.path}")


def fake_gemini() -> FakeServer:
    return FakeServer(respond)
