"""Structured logs: pipeline lines carry the job, entry and adventure ids; request
lines carry a request id; no password, token or key ever reaches a log line."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import cast

import pytest
from rest_framework.test import APIClient

from adventures.models import Entry
from adventures.services import adventure_create

from tests.support.factories import make_user
from tests.support.processes import ROOT, subprocess_env, wait_for

PASSWORD = "correct-horse-battery-staple-42"


def _console_handler() -> logging.StreamHandler:
    [handler] = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    return cast(logging.StreamHandler, handler)


@pytest.fixture
def captured_log() -> Iterator[io.StringIO]:
    """What the configured console handler (its filters and formatter) writes,
    at DEBUG level, in JSON."""
    from langlearn.logging import JsonFormatter

    handler, root = _console_handler(), logging.getLogger()
    buffer = io.StringIO()
    old_stream, old_formatter, old_level = handler.stream, handler.formatter, root.level
    handler.setStream(buffer)
    handler.setFormatter(JsonFormatter())
    root.setLevel(logging.DEBUG)
    yield buffer
    handler.setStream(old_stream)
    handler.setFormatter(old_formatter)
    root.setLevel(old_level)


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.django_db
def test_a_login_never_logs_the_password_or_the_tokens(captured_log):
    client = APIClient()
    registered = client.post(
        "/api/auth/register", {"username": "ines", "password": PASSWORD}, format="json"
    )
    assert registered.status_code == 201
    wrong = client.post(
        "/api/auth/token", {"username": "ines", "password": PASSWORD + "x"}, format="json"
    )
    assert wrong.status_code == 401
    tokens = client.post(
        "/api/auth/token",
        {"username": "ines", "password": PASSWORD},
        format="json",
        HTTP_X_REQUEST_ID="req-login-0001",
    )
    assert tokens.status_code == 200
    assert tokens["X-Request-ID"] == "req-login-0001"
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    assert client.get("/api/adventures").status_code == 200

    text = captured_log.getvalue()
    lines = _lines(text)
    login = [line for line in lines if line["message"].startswith("POST /api/auth/token 200")]
    assert login[0]["request_id"] == "req-login-0001"
    assert login[0]["path"] == "/api/auth/token"
    assert any(line["message"].startswith("POST /api/auth/token 401") for line in lines)
    assert all("request_id" in line for line in lines if line["logger"] == "langlearn.request")
    assert PASSWORD not in text
    assert tokens.json()["access"] not in text
    assert tokens.json()["refresh"] not in text


@pytest.mark.django_db
def test_an_insane_request_id_is_replaced():
    response = APIClient().get("/healthz", HTTP_X_REQUEST_ID="bad id; drop table")
    assert response["X-Request-ID"] != "bad id; drop table"
    assert len(response["X-Request-ID"]) == 32


def test_secrets_in_messages_extras_and_tracebacks_are_scrubbed(captured_log):
    logger = logging.getLogger("adventures.test")
    logger.warning("login for %s", {"username": "ana", "password": PASSWORD})
    logger.info("calling deepl", extra={"api_key": "deepl-key-123", "path": "/v2/translate"})
    logger.info("headers: Authorization: Bearer eyJhbGciOiJI.eyJzdWIiOiIx.c2lnbmF0dXJl")
    logger.info("DEEPL_API_KEY=deepl-key-456 input_tokens=12")
    try:
        raise ValueError(f"bad payload password={PASSWORD}")
    except ValueError:
        logger.exception("failed")
    text = captured_log.getvalue()
    for secret in (PASSWORD, "deepl-key-123", "deepl-key-456", "eyJhbGciOiJI"):
        assert secret not in text
    lines = _lines(text)
    assert lines[0]["message"] == "login for {'username': 'ana', 'password': '[redacted]'}"
    assert lines[1]["path"] == "/v2/translate"
    assert lines[3]["message"] == "DEEPL_API_KEY=[redacted] input_tokens=12"
    assert "password=[redacted]" in lines[4]["exception"]


def test_readable_lines_carry_the_ids_too():
    from langlearn.logging import ContextFilter, ReadableFormatter, job_context

    record = logging.LogRecord("adventures.pipeline", logging.INFO, "", 0, "voiced", None, None)
    with job_context(job_id=7, entry_id="e-1", adventure_id="a-1"):
        ContextFilter().filter(record)
    line = ReadableFormatter().format(record)
    assert line.endswith("INFO adventures.pipeline voiced [job_id=7 entry_id=e-1 adventure_id=a-1]")


def _settings_value(tmp_path, expression: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; print({expression})",
        ],
        cwd=ROOT,
        env={**subprocess_env(tmp_path, **env), "DJANGO_SETTINGS_MODULE": "langlearn.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
def test_json_is_the_default_in_production_and_a_bad_format_is_refused(tmp_path):
    production = {"DEBUG": "false", "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "example.org"}
    assert _settings_value(tmp_path, "settings.LOG_FORMAT", **production).stdout == "json\n"
    refused = _settings_value(tmp_path, "settings.LOG_FORMAT", LOG_FORMAT="xml")
    assert refused.returncode == 1
    assert "LOG_FORMAT must be json or readable, not 'xml'" in refused.stderr


@pytest.mark.django_db(transaction=True)
def test_every_pipeline_log_line_carries_job_entry_and_adventure_ids(start_worker):
    worker = start_worker(LOG_FORMAT="json")
    adventure = adventure_create(user=make_user(), target_language="es")
    entry = adventure.entries.get()
    wait_for(
        lambda: Entry.objects.get(id=entry.id).status == Entry.Status.COMPLETE,
        timeout=60,
        what="the entry to complete",
    )
    # The stalled-job rescue also ends "with status: Success": wait for the pipeline job's line.
    wait_for(
        lambda: any(
            "generate_adventure_entry" in line and "ended with status: Success" in line
            for line in worker.output().splitlines()
        ),
        what="the pipeline job's last line",
    )

    # Log lines are JSON; the CLI's own banner ("Launching a worker…") is not a log line.
    lines = _lines("\n".join(ln for ln in worker.output().splitlines() if ln.startswith("{")))
    from procrastinate.contrib.django.models import ProcrastinateJob

    [job] = ProcrastinateJob.objects.filter(task_name="adventures.generate_adventure_entry")
    # The worker also runs maintenance jobs (the stalled-job rescue); their
    # lines carry their own job id and no entry.
    job_lines = [
        line
        for line in lines
        if line.get("job_id") == job.id or line["logger"] == "adventures.pipeline"
    ]
    messages = [line["message"] for line in job_lines]
    assert "generate_adventure_entry started (attempt 1)" in messages
    assert any(m.startswith("generate_adventure_entry finished in") for m in messages)
    assert any("ended with status: Success" in m for m in messages)  # Procrastinate's own
    for line in job_lines:
        assert line["entry_id"] == str(entry.id), line
        assert line["adventure_id"] == str(adventure.id), line
        assert isinstance(line["job_id"], int), line
    assert len({line["job_id"] for line in job_lines}) == 1


@pytest.mark.django_db
def test_without_tracing_configured_jobs_carry_no_trace_context():
    from procrastinate.contrib.django.models import ProcrastinateJob

    adventure = adventure_create(user=make_user(), target_language="fr")
    job = ProcrastinateJob.objects.get(args__entry_id=str(adventure.entries.get().id))
    assert set(job.args) == {"adventure_id", "entry_id", "user_id"}


@pytest.mark.django_db
def test_a_4xx_response_logs_one_line_with_its_request_id(captured_log):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get("/api/adventures", HTTP_X_REQUEST_ID="req-4xx-00001").status_code == 401
    missing = "/api/adventures/00000000-0000-0000-0000-000000000000"
    learner = APIClient()
    learner.force_authenticate(make_user())
    assert learner.get(missing, HTTP_X_REQUEST_ID="req-4xx-00002").status_code == 404

    lines = _lines(captured_log.getvalue())
    about = [line for line in lines if "/api/adventures" in line["message"]]
    assert [(line["message"].split()[:3], line["request_id"]) for line in about] == [
        (["GET", "/api/adventures", "401"], "req-4xx-00001"),
        (["GET", missing, "404"], "req-4xx-00002"),
    ]
