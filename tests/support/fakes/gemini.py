"""A fake of the Gemini API's ``generateContent`` answering with TTS audio.

Audio comes back as Gemini sends it: base64 raw 16-bit mono PCM at 24 kHz,
MIME ``audio/L16;codec=pcm;rate=24000``; its length follows the text's.
"""

from __future__ import annotations

import base64
import math
import struct

from .server import FakeServer, Reply, Request, json_reply

API_KEY = "gemini-test-key"
RATE = 24_000
SECONDS_PER_CHAR = 0.02


def tone(seconds: float, rate: int = RATE) -> bytes:
    frames = int(rate * seconds)
    return b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 220 * i / rate))) for i in range(frames)
    )


def audio_answer(pcm: bytes, mime: str = f"audio/L16;codec=pcm;rate={RATE}") -> Reply:
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
                                    "data": base64.b64encode(pcm).decode(),
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
                "candidatesTokenCount": len(pcm) // 960,
                "totalTokenCount": 40 + len(pcm) // 960,
            },
            "modelVersion": "gemini-3.8-flash-lite-tts",
        }
    )


def error(code: int, status: str, message: str) -> Reply:
    return json_reply({"error": {"code": code, "message": message, "status": status}}, code)


def respond(request: Request) -> Reply:
    if request.headers.get("x-goog-api-key") != API_KEY:
        return error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
    if request.method != "POST" or not request.path.endswith(":generateContent"):
        return error(404, "NOT_FOUND", f"no route {request.path}")
    body = request.json()
    text = body["contents"][0]["parts"][0]["text"]
    return audio_answer(tone(min(len(text) * SECONDS_PER_CHAR, 3.0)))


def fake_gemini() -> FakeServer:
    return FakeServer(respond)
