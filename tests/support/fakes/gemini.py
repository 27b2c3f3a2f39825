"""A fake of the Gemini API's ``generateContent`` answering with TTS audio.

It answers the way Google documents the current TTS models (read with the
``search`` tool, 2026-11-28):

- Migrate to Gemini 3.8 TTS,
  https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/text-to-speech/migration-guide
  ("Summary of changes"): the 3.8 models read ``text`` as a *verbatim
  transcript* (style written into the text "may be read aloud"), style goes in
  ``speech_metadata.style`` on each part; the default output of a unary request
  is "a complete WAV file (16-bit PCM, 24 kHz, mono)" (earlier models: raw
  16-bit PCM, 24 kHz, mono); ``temperature``/``topP``/``topK`` are "rejected
  with an INVALID_ARGUMENT error" (earlier models ignored them);
  ``prebuiltVoiceConfig.voiceName`` "still works for prebuilt voices".
- Speech generation (TTS), https://ai.google.dev/gemini-api/docs/speech-generation
  and the model page
  https://ai.google.dev/gemini-api/docs/models/gemini-3.8-flash-lite-tts.md.txt:
  ``gemini-3.8-flash-tts`` and ``gemini-3.8-flash-lite-tts`` share one request
  schema; the guide saves "the model's default WAV output (audio/wav)".
- Prompting guide,
  https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/text-to-speech/prompting-guide.md.txt:
  request shape ``parts: [{"text": ..., "speechMetadata": {"style": ...}}]``.

So: a ``gemini-3.8-*`` model answers ``audio/wav`` (a whole RIFF file), any
other model answers raw PCM as ``audio/L16;codec=pcm;rate=24000`` (what the
earlier models sent). The audio is as long as the *whole* text takes to read —
a style line left in the text is spoken, and so lengthens the audio; tests can
also look for one with ``style_in_text``. Sampling parameters sent to a 3.8
model are refused (400 INVALID_ARGUMENT).

Not confirmed by the pages available: whether the *developer* API (API key,
generativelanguage.googleapis.com) answers 3.8 on ``generateContent`` — its
guide shows ``client.interactions.create``; the fake serves generateContent.
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


def error(code: int, status: str, message: str) -> Reply:
    return json_reply({"error": {"code": code, "message": message, "status": status}}, code)


def part_of(body: dict[str, Any]) -> dict[str, Any]:
    return body["contents"][0]["parts"][0]


def spoken_text(request: Request) -> str:
    """The transcript a request asked to be read (all of it is read)."""
    return part_of(request.json())["text"]


def style_of(request: Request) -> str | None:
    part = part_of(request.json())
    metadata = part.get("speechMetadata") or part.get("speech_metadata") or {}
    return metadata.get("style")


def style_in_text(request: Request) -> bool:
    """Whether a delivery instruction was written into the verbatim text."""
    return bool(STYLE_IN_TEXT.search(spoken_text(request)))


def model_of(request: Request) -> str:
    return request.path.rsplit("/", 1)[-1].split(":", 1)[0]


def respond(request: Request) -> Reply:
    if request.headers.get("x-goog-api-key") != API_KEY:
        return error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
    if request.method != "POST" or not request.path.endswith(":generateContent"):
        return error(404, "NOT_FOUND", f"no route {request.path}")
    model = model_of(request)
    body = request.json()
    config = body.get("generationConfig") or {}
    if answers_wav(model):
        refused = [name for name in SAMPLING if name in config]
        if refused:
            return error(
                400, "INVALID_ARGUMENT", f"{refused[0]} is not supported for model {model}"
            )
    pcm = tone(seconds_for(part_of(body)["text"]))
    if answers_wav(model):
        return audio_answer(wav_file(pcm), WAV, model=model)
    return audio_answer(pcm, L16, model=model)


def fake_gemini() -> FakeServer:
    return FakeServer(respond)
