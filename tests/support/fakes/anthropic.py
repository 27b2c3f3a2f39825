"""A fake of Anthropic's Messages API (``POST /v1/messages``).

By default it answers like the model would: one forced tool call, named by the
request's ``tool_choice`` (``{"type": "tool", "name": …}``), whose ``input``
follows the tool's ``input_schema``, with realistic usage figures. For
``write_passage``: a title only when the schema asks for one, no choices when
the schema has none. For ``write_digest``: a short reading citing the first
items of the prompt. Shapes as documented at
https://platform.claude.com/docs/en/api/messages (response ``content`` blocks
of ``type: "tool_use"`` with ``id``, ``name``, ``input``; ``stop_reason:
"tool_use"``; ``usage``) and
https://platform.claude.com/docs/en/agents-and-tools/tool-use/overview (forcing
one tool with ``tool_choice: {"type": "tool", "name": …}``).

It follows the current documentation (read with the ``search`` tool, 2026-11-28):

- Claude Haiku 5.5 migration guide,
  https://platform.claude.com/docs/en/models/haiku-5-5/migration-guide: the
  Claude API id is ``claude-haiku-5-5`` (was ``claude-haiku-4-5``); "Remove
  temperature, top_p and top_k from your requests"; "Handle stop_reason:
  "refusal". Claude Haiku 5.5 runs safety classifiers that may decline a
  request, and it has no server-side fallback."
- What's new in Claude Haiku 5.5,
  https://platform.claude.com/docs/en/models/haiku-5-5/whats-new-haiku-5-5:
  "Non-default sampling parameters return an error" (breaking); responses may
  start with a thinking block, so blocks are chosen by ``type``.

So a request to ``claude-haiku-5-5`` carrying ``temperature``, ``top_p`` or
``top_k`` gets a 400 ``invalid_request_error``; ``refusal()`` is the answer
the safety classifiers give (``stop_reason: "refusal"``, no tool call). The
exact wording of the 400's message is not in the pages we could read; ours is
made up.

Like the model asked to, it uses the learner's words to review that the tool's
``sentences`` description lists (``"word"``, quoted), in one sentence of its own.
Tool use and forced ``tool_choice``:
https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use
"""

from __future__ import annotations

import re
from typing import Any

from .server import FakeServer, Reply, Request, json_reply

API_KEY = "sk-ant-test-key"
MODEL = "claude-haiku-5-5"
SAMPLING = ("temperature", "top_p", "top_k")

PASSAGES = {
    "es": {
        "title": "La llave del faro",
        "sentences": [
            "Llegas a un pueblo pequeño junto al mar.",
            "En la playa encuentras una llave vieja y oxidada.",
            "Un pescador te mira con curiosidad.",
        ],
        "choices": [
            "Preguntas al pescador por la llave.",
            "Caminas hacia el faro.",
            "Guardas la llave y vuelves al hotel.",
        ],
    },
    "fr": {
        "title": "La clé du phare",
        "sentences": [
            "Tu arrives dans un petit village au bord de la mer.",
            "Sur la plage, tu trouves une vieille clé rouillée.",
        ],
        "choices": ["Tu parles au pêcheur.", "Tu marches vers le phare."],
    },
}
ENDING = {
    "es": ["Abres la puerta del faro con la llave.", "Desde arriba, ves todo el pueblo. Fin."],
    "fr": ["Tu ouvres la porte du phare avec la clé.", "D'en haut, tu vois tout le village."],
}


DIGESTS = {
    "es": [
        "Hoy hay dos noticias importantes.",
        "El faro del puerto vuelve a brillar después de diez años.",
        "En la ciudad, muchas personas van al mercado nuevo.",
    ],
    "fr": [
        "Aujourd'hui, il y a deux nouvelles importantes.",
        "Le phare du port brille de nouveau après dix ans.",
    ],
}


def tool_answer(
    tool_input: dict[str, Any],
    *,
    stop_reason: str = "tool_use",
    name: str = "write_passage",
    **usage: int,
) -> Reply:
    return message(
        [
            {
                "type": "tool_use",
                "id": "toolu_01FakeFake",
                "name": name,
                "input": tool_input,
            }
        ],
        stop_reason=stop_reason,
        **usage,
    )


def refusal(**usage: int) -> Reply:
    """The safety classifiers declined the request: no tool call, no passage."""
    return message([], stop_reason="refusal", **usage)


def message(content: list[dict[str, Any]], *, stop_reason: str, **usage: int) -> Reply:
    return json_reply(
        {
            "id": "msg_01FakeFakeFake",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": usage.get("input_tokens", 812),
                "output_tokens": usage.get("output_tokens", 164),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        },
        **{"request-id": "req_fake"},
    )


def error(status: int, kind: str, message: str) -> Reply:
    return json_reply({"type": "error", "error": {"type": kind, "message": message}}, status)


def review_words(tool: dict[str, Any]) -> list[str]:
    """The words the request asks the passage to use (from the forced tool)."""
    description = tool["input_schema"]["properties"]["sentences"].get("description", "")
    match = re.search(r"reviewing these words: (.*?)\. Use", description)
    return re.findall(r'"([^"]+)"', match.group(1)) if match else []


def respond(request: Request) -> Reply:
    if request.method != "POST" or request.path != "/v1/messages":
        return error(404, "not_found_error", f"no route {request.path}")
    if (
        request.headers.get("x-api-key") != API_KEY
        and request.headers.get("authorization") != f"Bearer {API_KEY}"
    ):
        return error(401, "authentication_error", "invalid x-api-key")
    body = request.json()
    if body.get("model") == MODEL:
        refused = [name for name in SAMPLING if name in body]
        if refused:
            return error(
                400,
                "invalid_request_error",
                f"{refused[0]}: sampling parameters are not supported for {MODEL}",
            )
    prompt = body["messages"][-1]["content"]
    match = re.search(r"Target language: .*?\((\w+)\)", prompt)
    language = match.group(1) if match else "es"
    if body.get("tool_choice", {}).get("name") == "write_digest":
        offered = [int(n) for n in re.findall(r"^\[(\d+)\]", prompt, flags=re.MULTILINE)]
        digest = {
            "title": "Las noticias del día",
            "sentences": DIGESTS.get(language, DIGESTS["es"]),
            "cited_items": offered[:2],
        }
        return tool_answer(digest, name="write_digest", input_tokens=500 + len(prompt) // 4)
    passage = PASSAGES.get(language, PASSAGES["es"])
    schema = body["tools"][0]["input_schema"]["properties"]
    answer: dict[str, Any] = {}
    if "title" in schema:
        answer["title"] = passage["title"]
    if "choices" in schema:
        answer["sentences"] = passage["sentences"]
        answer["choices"] = passage["choices"]
    else:
        answer["sentences"] = ENDING.get(language, ENDING["es"])
    if words := review_words(body["tools"][0]):
        answer["sentences"] = [*answer["sentences"], f"Piensas en {', '.join(words)}."]
    return tool_answer(answer, input_tokens=600 + len(prompt) // 4)


def fake_anthropic() -> FakeServer:
    return FakeServer(respond)
