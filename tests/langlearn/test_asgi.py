"""``langlearn.asgi.application``, the handler gunicorn's uvicorn workers run:
a sync view is served by the whole middleware chain in one thread hop, with
the same answers as Django's own handler gives. (The events stream, the one
async view, is served through the real server in
``tests/deploy/test_run_serve.py``.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref import sync
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.db import connections

from langlearn.asgi import ASGIHandler, application


async def _aserve(
    app: Any, path: str, *, method: str = "GET", body: bytes = b"", headers: dict | None = None
) -> tuple[int, dict[str, str], bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-length", str(len(body)).encode()),
            *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
    start = await communicator.receive_output(timeout=10)
    assert start["type"] == "http.response.start"
    content = b""
    while True:
        message = await communicator.receive_output(timeout=10)
        content += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await communicator.wait(timeout=10)
    response_headers = {name.decode().lower(): value.decode() for name, value in start["headers"]}
    return start["status"], response_headers, content


def _serve(app: Any, path: str, **request: Any) -> tuple[int, dict[str, str], bytes]:
    return async_to_sync(_aserve)(app, path, **request)


@pytest.fixture(autouse=True)
def _connections_closed_after_each_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each request runs in a thread of its own here: its connection is closed
    when the request finishes (as the server's pool takes it back), not left
    open in a thread that is gone."""
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions the request's handling hands to a thread (each a hop
    from the event loop to a thread and back)."""
    handed: list[str] = []
    original = sync.SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        handed.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counted)
    return handed


@pytest.mark.django_db(transaction=True)
def test_a_sync_view_is_served_in_one_hop_with_every_middleware(hops):
    status, headers, content = _serve(
        application, "/healthz", headers={"X-Request-ID": "probe-1234"}
    )
    assert status == 200
    assert json.loads(content) == {"status": "ok"}
    # The middleware ran: the request id echoed, the security headers set.
    assert headers["x-request-id"] == "probe-1234"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    # Django's signals (request started; the response's close) and the view
    # with all its middleware: one hop each.
    ours = len(hops)
    assert ours == 3, hops
    assert [name for name in hops if "get_response" in name] == ["BaseHandler.get_response"]

    # The same request through Django's own ASGI handler hops far more often.
    hops.clear()
    status, stock_headers, stock_content = _serve(
        DjangoASGIHandler(), "/healthz", headers={"X-Request-ID": "probe-1234"}
    )
    assert (status, stock_content) == (200, content)
    assert stock_headers.keys() == headers.keys()
    assert len(hops) >= ours + 8, hops


@pytest.mark.django_db(transaction=True)
def test_errors_and_bodies_are_answered_as_by_djangos_handler():
    for app in (application, DjangoASGIHandler()):
        status, headers, content = _serve(app, "/api/no-such-thing")
        assert status == 404
        assert headers["content-type"] == "application/json"
        assert json.loads(content)["code"] == "not_found"

        status, _, content = _serve(
            app,
            "/api/auth/register",
            method="POST",
            body=b'{"username": "ana"',
            headers={"Content-Type": "application/json"},
        )
        assert status == 400
        assert json.loads(content)["code"] == "parse_error"

    status, _, content = _serve(
        application,
        "/api/auth/register",
        method="POST",
        body=json.dumps({"username": "ana", "password": "a-long-passphrase"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert status == 201, content
    from accounts.models import User

    assert User.objects.filter(username="ana").exists()


def test_the_events_stream_takes_the_async_path():
    from django.test import RequestFactory

    from langlearn.asgi import _serves_async_view

    factory = RequestFactory()
    adventure = "0553e062-37d9-4a9b-88dc-8839ee565412"
    assert _serves_async_view(factory.get(f"/api/adventures/{adventure}/events"))
    assert not _serves_async_view(factory.get(f"/api/adventures/{adventure}/decisions"))
    assert not _serves_async_view(factory.get("/nowhere"))
    assert isinstance(application, ASGIHandler)
