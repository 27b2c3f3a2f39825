"""Errors under /api/ are JSON ``{"detail", "code"}`` whatever went wrong and
whatever DEBUG says; requests Django refuses log one line, not a traceback
(issue 11, items 2 and 8)."""

from __future__ import annotations

import http.client
import io
import json
import logging
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.support.factories import make_user
from tests.support.processes import ASGI, ROOT, Process, subprocess_env, wait_for

NESTED = "[" * 1000 + "]" * 1000
NESTED_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000


@pytest.fixture
def captured_log() -> Iterator[io.StringIO]:
    """What the configured console handler (with its filters) writes."""
    [handler] = [
        h
        for h in logging.getLogger().handlers
        if h.get_name() == "console" and isinstance(h, logging.StreamHandler)
    ]
    buffer = io.StringIO()
    old_stream = handler.stream
    handler.setStream(buffer)
    yield buffer
    handler.setStream(old_stream)


@pytest.fixture(params=[True, False], ids=["DEBUG=true", "DEBUG=false"])
def debug(request, settings) -> bool:
    settings.DEBUG = request.param
    return request.param


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) >= {"detail", "code"}, body
    assert body["code"] == code, body
    return body


# --- item 2: nested JSON --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("body", [NESTED, NESTED_OBJECT, "[" * 40 + "]" * 40])
def test_deeply_nested_json_is_a_400_on_every_json_endpoint(body, captured_log):
    learner = make_user()
    signed_in = APIClient()
    token = signed_in.post(
        "/api/auth/token",
        {"username": "ana", "password": "a-long-passphrase"},
        format="json",
    ).json()["access"]
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    adventure = signed_in.post("/api/adventures", {"target_language": "es"}, format="json").json()
    anonymous = APIClient()
    cases = [
        (anonymous, "/api/auth/register"),
        (anonymous, "/api/auth/token"),
        (anonymous, "/api/auth/token/refresh"),
        (signed_in, "/api/adventures"),
        (signed_in, f"/api/adventures/{adventure['id']}/decisions"),
    ]
    for client, path in cases:
        response = client.post(path, body, content_type="application/json")
        answer = assert_error(response, 400, "parse_error")
        assert "nested" in answer["detail"], (path, answer)
    assert learner.adventures.count() == 1
    log = captured_log.getvalue()
    assert "Traceback" not in log
    assert "RecursionError" not in log


@pytest.mark.django_db
def test_json_that_is_not_too_deep_still_parses(api):
    # 3 levels: the decision body is an object; a list inside it is a field error.
    response = api.post(
        f"/api/adventures/{uuid.uuid4()}/decisions",
        {"entry_id": [[1]], "choice_id": str(uuid.uuid4())},
        format="json",
    )
    assert response.status_code == 400
    assert "entry_id" in response.json()


# --- item 8: JSON errors outside DRF's views --------------------------------------------------


@pytest.mark.django_db
def test_unknown_api_paths_are_json_404s(api, debug):
    adventure = api.post("/api/adventures", {"target_language": "es"}, format="json").json()
    for path in (
        "/api/adventures/not-a-uuid",
        f"/api/adventures/{adventure['id']}/entries/42",
        "/api/nothing-here",
        "/api/",
        "/api/auth/register/",
    ):
        assert_error(api.get(path), 404, "not_found")
    slash = assert_error(api.get("/api/adventures/"), 404, "not_found")
    assert "trailing slash" in slash["detail"]
    # Outside /api/ Django's pages stay as they were.
    page = api.get("/no-such-page")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_a_json_413(api, debug, settings, captured_log):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    big = json.dumps({"target_language": "es", "theme": "x" * 4096})
    body = assert_error(
        api.post("/api/adventures", big, content_type="application/json"), 413, "too_large"
    )
    assert "2048 bytes" in body["detail"]
    anonymous = APIClient()
    registration = json.dumps({"username": "bo", "password": "p" * 4096})
    response = anonymous.post("/api/auth/register", registration, content_type="application/json")
    assert_error(response, 413, "too_large")
    assert "Traceback" not in captured_log.getvalue()
    # The admin's login form keeps Django's HTML answer, and logs one line.
    admin = anonymous.post("/admin/login/", {"username": "x" * 4096, "password": "y"})
    assert admin.status_code == 400
    assert admin["Content-Type"].startswith("text/html")
    log = captured_log.getvalue()
    assert "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE" in log
    assert "Traceback" not in log


@pytest.mark.django_db
def test_a_500_under_api_is_json_and_logged_with_its_traceback(debug, settings, captured_log):
    settings.ROOT_URLCONF = "tests.support.api_errors_urls"
    client = APIClient()
    for path in ("/api/broken/drf", "/api/broken/plain"):
        body = assert_error(client.get(path), 500, "server_error")
        assert "broke" not in body["detail"]  # nothing about what went wrong
    log = captured_log.getvalue()
    assert "unhandled RuntimeError on GET /api/broken/drf" in log
    assert "RuntimeError: the plain view broke" in log  # the traceback, for us


@pytest.mark.django_db
def test_drf_errors_carry_a_code(api, anonymous):
    assert_error(anonymous.get("/api/adventures"), 401, "not_authenticated")
    assert_error(
        anonymous.post("/api/auth/token", {"username": "x", "password": "y"}, format="json"),
        401,
        "no_active_account",
    )
    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION="Bearer nope")
    assert_error(forged.get("/api/adventures"), 401, "token_not_valid")
    assert_error(api.delete("/api/languages"), 405, "method_not_allowed")
    assert_error(
        api.post("/api/adventures", "target_language=es", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )
    assert_error(
        api.post("/api/adventures", "{", content_type="application/json"), 400, "parse_error"
    )
    assert_error(api.get("/api/adventures?page=9"), 404, "not_found")
    assert_error(api.get(f"/api/adventures/{uuid.uuid4()}"), 404, "not_found")


@pytest.mark.django_db
def test_refused_requests_log_one_line(anonymous, debug, captured_log):
    bad_host = anonymous.get("/api/languages", HTTP_HOST="evil.example")
    assert_error(bad_host, 400, "bad_request")
    outside = anonymous.get("/media/../../etc/passwd")
    assert outside.status_code in (400, 404)
    log = captured_log.getvalue()
    assert "Invalid HTTP_HOST header: 'evil.example'" in log
    assert "Traceback" not in log
    for line in log.splitlines():
        assert not line.startswith((" ", "django.core.exceptions")), line


# --- the same with a real server, DEBUG=false -------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, method: str, path: str, body: bytes = b"", **headers: str):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            method, path, body=body, headers={"Content-Type": "application/json", **headers}
        )
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


@pytest.fixture
def production_server(tmp_path: Path) -> Iterator[tuple[int, Process]]:
    port = _free_port()
    server = Process(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            *ASGI,
            "--bind",
            f"127.0.0.1:{port}",
        ],
        subprocess_env(
            tmp_path,
            DEBUG="false",
            SECRET_KEY="a-test-secret-key-that-is-long-enough-for-django",
            ALLOWED_HOSTS="127.0.0.1",
            LOG_FORMAT="json",
            DJANGO_SETTINGS_MODULE="tests.support.api_errors_settings",
        ),
        tmp_path / "gunicorn.log",
    )

    def answering() -> bool:
        try:
            return _request(port, "GET", "/healthz")[0] == 200
        except OSError:
            return False

    try:
        wait_for(answering, timeout=60, what="gunicorn to answer")
        yield port, server
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_production_server_answers_json_errors_and_logs_no_tracebacks(production_server):
    port, server = production_server
    answers = {
        "trailing slash": _request(port, "GET", "/api/adventures/"),
        "not a uuid": _request(port, "GET", "/api/adventures/xyz"),
        "nested": _request(port, "POST", "/api/auth/register", NESTED.encode()),
        "too big": _request(port, "POST", "/api/auth/register", b" " * 3_000_000),
        "bad host": _request(port, "GET", "/api/languages", Host="evil.example"),
        "500": _request(port, "GET", "/api/broken/plain"),
    }
    expected = {
        "trailing slash": (404, "not_found"),
        "not a uuid": (404, "not_found"),
        "nested": (400, "parse_error"),
        "too big": (413, "too_large"),
        "bad host": (400, "bad_request"),
        "500": (500, "server_error"),
    }
    for case, (status, content_type, body) in answers.items():
        assert content_type.startswith("application/json"), (case, body[:200])
        assert (status, json.loads(body)["code"]) == expected[case], case
    server.stop()
    records = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    with_traceback = [record["message"] for record in records if "exception" in record]
    assert with_traceback == ["unhandled RuntimeError on GET /api/broken/plain"]
    messages = " ".join(record["message"] for record in records)
    assert "Invalid HTTP_HOST header: 'evil.example'" in messages
