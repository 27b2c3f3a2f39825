"""The learner's side of the API, as the sections call it: one request per
fresh connection (for paced, single requests; ``sections/api.py`` has the
load generator on keep-alive connections)."""

from __future__ import annotations

import http.client
import json
from typing import Any

from .plan import ADVENTURE
from .processes import BenchError


def call(
    port: int, method: str, path: str, token: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """One request on a fresh connection: its status and its JSON (or raw start)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, data[:500]


def create_adventure(port: int, token: str) -> dict[str, Any]:
    """``POST /api/adventures``: the adventure, its first entry pending."""
    status, body = call(port, "POST", "/api/adventures", token, ADVENTURE)
    if status != 201:
        raise BenchError(f"POST /api/adventures answered {status}: {body!r}")
    return body


def decide(port: int, token: str, adventure_id: str, entry_id: str, choice_id: str) -> str:
    """``POST /api/adventures/{id}/decisions``: the next entry's id."""
    status, body = call(
        port,
        "POST",
        f"/api/adventures/{adventure_id}/decisions",
        token,
        {"entry_id": str(entry_id), "choice_id": str(choice_id)},
    )
    if status != 201:
        raise BenchError(f"POST decisions answered {status}: {body!r}")
    return str(body["next_entry"]["id"])


def choices(port: int, token: str, adventure_id: str, entry_id: str) -> list[str]:
    """The ids of a complete entry's choices, in order (``GET`` the entry)."""
    status, body = call(port, "GET", f"/api/adventures/{adventure_id}/entries/{entry_id}", token)
    if status != 200:
        raise BenchError(f"GET entry {entry_id} answered {status}: {body!r}")
    return [choice["id"] for choice in sorted(body["choices"], key=lambda c: c["index"])]
