"""A fake of DeepL's API v2: ``GET /v2/languages`` and ``POST /v2/translate``."""

from __future__ import annotations

from .server import FakeServer, Reply, Request, json_reply

AUTH_KEY = "deepl-test-key:fx"

TARGETS = [
    ("DE", "German"),
    ("EN-GB", "English (British)"),
    ("EN-US", "English (American)"),
    ("ES", "Spanish"),
    ("FR", "French"),
    ("IT", "Italian"),
    ("JA", "Japanese"),
    ("PT-BR", "Portuguese (Brazilian)"),
    ("PT-PT", "Portuguese (European)"),
]
KNOWN = {
    "Llegas a un pueblo pequeño junto al mar.": "You arrive at a small village by the sea.",
    "Caminas hacia el faro.": "You walk towards the lighthouse.",
}


def respond(request: Request) -> Reply:
    if request.headers.get("authorization") != f"DeepL-Auth-Key {AUTH_KEY}":
        return json_reply({"message": "Wrong endpoint or invalid auth key"}, 403)
    if request.method == "GET" and request.path == "/v2/languages":
        return json_reply(
            [
                {"language": code, "name": name, "supports_formality": False}
                for code, name in TARGETS
            ]
        )
    if request.method == "POST" and request.path == "/v2/translate":
        body = request.json()
        target = body["target_lang"]
        if target not in {code for code, _ in TARGETS}:
            return json_reply({"message": f"Value for 'target_lang' not supported: {target}"}, 400)
        return json_reply(
            {
                "translations": [
                    {
                        "detected_source_language": body.get("source_lang", "ES"),
                        "text": KNOWN.get(text, f"({target}) {text}"),
                        "billed_characters": len(text),
                    }
                    for text in body["text"]
                ]
            }
        )
    return json_reply({"message": "Not found"}, 404)


def fake_deepl() -> FakeServer:
    return FakeServer(respond)
