"""A fake of DeepL's API v2: ``GET /v2/languages`` and ``POST /v2/translate``.

Its target languages are DeepL's documented ones ("Supported languages",
https://developers.deepl.com/docs/resources/supported-languages, read with the
``search`` tool, 2026-11-28), cross-checked with the installed ``deepl`` SDK's
``Language`` constants (1.32): regional English and Portuguese (``EN``/``PT``
alone are kept "for backward compatibility"), ``ZH``/``ZH-HANS``/``ZH-HANT``,
``ES-419``, and the rest by bare code. The page also lists many more source-only
languages (marked *), which are not targets. A target outside the list gets
DeepL's 400.
"""

from __future__ import annotations

from .server import FakeServer, Reply, Request, json_reply

AUTH_KEY = "deepl-test-key:fx"

TARGETS = [
    ("AR", "Arabic"),
    ("BG", "Bulgarian"),
    ("CS", "Czech"),
    ("DA", "Danish"),
    ("DE", "German"),
    ("EL", "Greek"),
    ("EN", "English"),  # unspecified variant, kept for backward compatibility
    ("EN-GB", "English (British)"),
    ("EN-US", "English (American)"),
    ("ES", "Spanish"),
    ("ES-419", "Spanish (Latin American)"),
    ("ET", "Estonian"),
    ("FI", "Finnish"),
    ("FR", "French"),
    ("HE", "Hebrew"),
    ("HU", "Hungarian"),
    ("ID", "Indonesian"),
    ("IT", "Italian"),
    ("JA", "Japanese"),
    ("KO", "Korean"),
    ("LT", "Lithuanian"),
    ("LV", "Latvian"),
    ("NB", "Norwegian Bokmål"),
    ("NL", "Dutch"),
    ("PL", "Polish"),
    ("PT", "Portuguese"),  # unspecified variant, kept for backward compatibility
    ("PT-BR", "Portuguese (Brazilian)"),
    ("PT-PT", "Portuguese (European)"),
    ("RO", "Romanian"),
    ("RU", "Russian"),
    ("SK", "Slovak"),
    ("SL", "Slovenian"),
    ("SV", "Swedish"),
    ("TH", "Thai"),
    ("TR", "Turkish"),
    ("UK", "Ukrainian"),
    ("VI", "Vietnamese"),
    ("ZH", "Chinese (simplified)"),
    ("ZH-HANS", "Chinese (simplified)"),
    ("ZH-HANT", "Chinese (traditional)"),
]
# Codes DeepL keeps only for backward compatibility: the client must not send them.
LEGACY_TARGETS = frozenset({"EN", "PT"})
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
