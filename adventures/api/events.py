"""The live status of an adventure: ``GET /api/adventures/{id}/events``.

An async view (it needs the ASGI server: ``langlearn/asgi.py``) streaming
``text/event-stream`` from ``adventures.live``. Who may listen:

- ``Authorization: Bearer <access token>``, as everywhere else; or
- ``?ticket=`` from ``POST …/events/ticket`` (``EventTicketApi``): browsers'
  ``EventSource`` cannot send headers, and tokens do not belong in URLs (they
  end up in logs). A ticket is signed (``django.core.signing``), names one
  learner, one adventure and the learner's token version (a password change
  revokes it). It opens a stream for ``EVENTS_TICKET_SECONDS``; after that it
  still serves the reconnects of an ``EventSource`` (requests with
  ``Last-Event-ID``, which EventSource sends once it has had an event) until
  the access token it was asked for with expires (claim ``r``), so a browser's
  automatic reconnect keeps working for as long as the learner is signed in.
  A ticket without ``r`` (issued before reconnects were served) opens streams
  only.

Only the adventure's owner gets its events; anyone else a 404.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tokens import REVOKED_MESSAGE, VERSION_CLAIM

from .. import live

TICKET_SALT = "adventures.events.ticket"


def ticket_issue(*, user: Any, adventure_id: UUID, reconnect_until: int) -> str:
    """A signed ticket for ``user`` to listen to one adventure's events; its
    stream's reconnects are served until ``reconnect_until`` (seconds since
    the epoch)."""
    return signing.dumps(
        {
            "u": str(user.id),
            "a": str(adventure_id),
            "v": user.token_version,
            "r": reconnect_until,
        },
        salt=TICKET_SALT,
    )


class Refused(Exception):
    def __init__(self, status: int, detail: str, code: str) -> None:
        self.status, self.detail, self.code = status, detail, code


def _error(status: int, detail: str, code: str) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _credentials(request: HttpRequest, adventure_id: str) -> tuple[str, int]:
    """The user id and token version the request claims; ``Refused`` if none."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme not in jwt_settings.AUTH_HEADER_TYPES or not raw.strip():
            detail = "Authorization must be 'Bearer <access token>'."
            raise Refused(401, detail, "not_authenticated")
        try:
            token = AccessToken(raw.strip())  # type: ignore[arg-type]
        except TokenError:
            detail = "Given token not valid for any token type"
            raise Refused(401, detail, "token_not_valid") from None
        user_id = token.get(jwt_settings.USER_ID_CLAIM)
        if user_id is None:
            detail = "Token contained no recognizable user identification"
            raise Refused(401, detail, "token_not_valid")
        return str(user_id), int(token.get(VERSION_CLAIM, 0))
    ticket = request.GET.get("ticket", "")
    if not ticket:
        raise Refused(401, "Authentication credentials were not provided.", "not_authenticated")
    try:
        claims = signing.loads(ticket, salt=TICKET_SALT, max_age=settings.EVENTS_TICKET_SECONDS)
    except signing.SignatureExpired:
        claims = _reconnect_claims(request, ticket)
    except signing.BadSignature:
        raise Refused(401, "This ticket is not valid.", "ticket_invalid") from None
    if not isinstance(claims, dict) or claims.get("a") != adventure_id:
        raise Refused(401, "This ticket is for another adventure.", "ticket_invalid")
    return str(claims["u"]), int(claims["v"])


def _reconnect_claims(request: HttpRequest, ticket: str) -> Any:
    """The claims of a ticket past its first ``EVENTS_TICKET_SECONDS``: good
    for an EventSource's reconnect (it sends ``Last-Event-ID``) until ``r``."""
    expired = Refused(401, "This ticket has expired; ask for a new one.", "ticket_expired")
    if "Last-Event-ID" not in request.headers:
        raise expired
    claims = signing.loads(ticket, salt=TICKET_SALT)  # signed: checked just before
    until = claims.get("r") if isinstance(claims, dict) else None
    if not isinstance(until, int) or time.time() >= until:
        raise expired
    return claims


def _last_event_id(request: HttpRequest) -> int:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or "0"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise Refused(400, "Last-Event-ID must be an event id (a whole number).", "invalid")
    return int(raw)


@require_GET
async def adventure_events(request: HttpRequest, adventure_id: UUID) -> HttpResponseBase:
    """Stream the adventure's entry status changes as Server-Sent Events."""
    the_hub = live.hub()
    adventure = str(adventure_id)
    try:
        user_id, version = _credentials(request, adventure)
        last_id = _last_event_id(request)
        current = await the_hub.token_version(user_id)
        if current is None:
            raise Refused(401, "User not found", "user_not_found")
        if current != version:
            raise Refused(401, REVOKED_MESSAGE, "token_revoked")
        if await the_hub.adventure_status(adventure, user_id) is None:
            raise Refused(404, "Not found.", "not_found")
        subscription = await the_hub.subscribe(adventure)
    except Refused as refused:
        return _error(refused.status, refused.detail, refused.code)
    except live.ListenerUnavailable:
        return _error(503, "Live status is unavailable; try again shortly.", "unavailable")
    response = StreamingHttpResponse(
        live.stream(the_hub, subscription, last_id=last_id), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


# --- OpenAPI ---------------------------------------------------------------------------


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


EVENT_STREAM_DESCRIPTION = """\
Server-Sent Events (`text/event-stream`), one per change of an entry's status:

    id: 42
    data: {"id": "<entry id>", "position": 2, "status": "complete", "adventure_status": "active"}

First the events after `Last-Event-ID` (all of them without it), then each change
as it commits; a comment line `: heartbeat` while nothing happens; once the
adventure is `completed` or `error`, a last event `end`
(`event: end` / `data: {"adventure_status": "completed"}`) and the stream closes
(close your `EventSource` on it). Authenticate with the `Authorization` header, or
with `?ticket=` from `POST …/events/ticket` (browsers' `EventSource` cannot send
headers): a ticket opens a stream within `expires_in` seconds, and serves that
stream's reconnects (requests with `Last-Event-ID`) until `reconnect_until`, when
the access token it was asked for with expires."""


# The ``data`` of the stream's events, JSON text: components of their own, so
# that typed clients can parse an event's data with the generated models.
EVENT_COMPONENTS = {
    "AdventureEvent": {
        "type": "object",
        "description": "The data of a message event: an entry's new status.",
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "The entry."},
            "position": {"type": "integer", "minimum": 1},
            "status": {"$ref": "#/components/schemas/EntryStatusEnum"},
            "adventure_status": {"$ref": "#/components/schemas/AdventureStatusEnum"},
        },
        "required": ["id", "position", "status", "adventure_status"],
    },
    "AdventureEndEvent": {
        "type": "object",
        "description": "The data of the end event: the adventure settled, the stream closes.",
        "properties": {
            "adventure_status": {"$ref": "#/components/schemas/AdventureStatusEnum"},
        },
        "required": ["adventure_status"],
    },
}

# The body: the stream's text, read as it comes (SSE lines, not one JSON value).
STREAM_SCHEMA = {
    "type": "string",
    "description": "Server-Sent Events: `id:`, `event:` and `data:` lines, a blank line after "
    "each event; `data` is an AdventureEvent (message) or an AdventureEndEvent (end) as "
    "JSON text.",
}


def openapi_events(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: the events stream is a plain async
    Django view, which the generator does not see; describe it here."""
    result.setdefault("components", {}).setdefault("securitySchemes", {})["eventTicket"] = {
        "type": "apiKey",
        "in": "query",
        "name": "ticket",
        "description": "A ticket from POST /api/adventures/{adventure_id}/events/ticket.",
    }
    result["components"].setdefault("schemas", {}).update(EVENT_COMPONENTS)
    result["paths"]["/api/adventures/{adventure_id}/events"] = {
        "get": {
            "operationId": "adventures_events_stream",
            "summary": "Live status: an event each time one of the adventure's entries "
            "changes status",
            "description": EVENT_STREAM_DESCRIPTION,
            "tags": ["adventures"],
            "security": [{"jwtAuth": []}, {"eventTicket": []}],
            "parameters": [
                {
                    "in": "path",
                    "name": "adventure_id",
                    "required": True,
                    "schema": {"type": "string", "format": "uuid"},
                },
                {
                    "in": "header",
                    "name": "Last-Event-ID",
                    "required": False,
                    "description": "Resume after this event (EventSource sends it "
                    "when it reconnects; empty: from the start).",
                    "schema": {"type": "string", "pattern": "^[0-9]{0,18}$"},
                },
                {
                    "in": "query",
                    "name": "ticket",
                    "required": False,
                    "description": "The eventTicket scheme's ticket, for clients that send "
                    "API-key schemes as no parameter of their own.",
                    "schema": {"type": "string"},
                },
                {
                    "in": "query",
                    "name": "last_event_id",
                    "required": False,
                    "description": "As Last-Event-ID, for a new EventSource.",
                    "schema": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
                },
            ],
            "responses": {
                "200": {
                    "description": "The event stream.",
                    "content": {"text/event-stream": {"schema": STREAM_SCHEMA}},
                },
                "400": _error_response("Last-Event-ID is not an event id."),
                "401": _error_response(
                    "No token or ticket, or a bad, expired or revoked one, or a ticket "
                    "for another adventure."
                ),
                "404": _error_response("Not found, or not yours."),
                "503": _error_response("The service is briefly unavailable: try again."),
            },
        }
    }
    return result
