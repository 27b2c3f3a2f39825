"""``/healthz``: 200 when the database answers and is migrated; 503 otherwise,
without telling the caller why. The unhealthy cases run the real web server
(gunicorn) against a database that is down, or not migrated."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from psycopg import sql
from rest_framework.test import APIClient

from tests.support.processes import ASGI, ROOT, subprocess_env, wait_for

GUNICORN = str(Path(ROOT / ".venv" / "bin" / "gunicorn"))


@pytest.mark.django_db
def test_healthy_without_authentication_and_never_throttled():
    client = APIClient()
    for _ in range(40):  # more than any throttle rate allows per minute
        response = client.get("/healthz")
        assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert client.post("/healthz").status_code == 405


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture
def web(tmp_path) -> Iterator[Callable[..., str]]:
    """Start gunicorn with extra environment; return its base URL."""
    processes: list[subprocess.Popen] = []

    def start(**env: str) -> str:
        port = _free_port()
        log = (tmp_path / f"web-{port}.log").open("w")
        processes.append(
            subprocess.Popen(
                [GUNICORN, *ASGI, "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                cwd=ROOT,
                env=subprocess_env(tmp_path, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        base = f"http://127.0.0.1:{port}"

        def answering() -> bool:
            try:
                _get(f"{base}/healthz")
            except OSError:
                return False
            return True

        wait_for(answering, timeout=30, what="gunicorn to answer")
        return base

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def _logs(tmp_path: Path) -> str:
    return "".join(log.read_text() for log in tmp_path.glob("web-*.log"))


@pytest.mark.slow
def test_unhealthy_when_the_database_is_down(web, tmp_path):
    # A port we hold without listening: every connection to it is refused.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        base = web(DATABASE_URL=f"postgresql://langlearn:secret-pw@127.0.0.1:{port}/langlearn")
        status, body = _get(f"{base}/healthz")
    assert status == 503
    assert json.loads(body) == {"status": "unavailable"}  # nothing about why
    assert "unhealthy: database unreachable (OperationalError)" in _logs(tmp_path)
    assert "secret-pw" not in _logs(tmp_path)


def _server_connection() -> psycopg.Connection:
    """An autocommit connection to the suite's PostgreSQL server (embedded or not)."""
    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    return psycopg.connect(**params, autocommit=True)


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A database with no tables on the suite's server, dropped afterwards."""
    name = f"healthz_{uuid.uuid4().hex[:8]}"
    with _server_connection() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with _server_connection() as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.mark.slow
def test_unhealthy_when_migrations_are_not_applied(web, empty_database, tmp_path):
    base = web(DATABASE_NAME=empty_database)
    status, body = _get(f"{base}/healthz")
    assert status == 503
    assert json.loads(body) == {"status": "unavailable"}
    assert "unhealthy: migrations are not applied" in _logs(tmp_path)
