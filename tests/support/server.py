"""The web server as it runs everywhere (gunicorn with uvicorn workers) on a
free port of 127.0.0.1, on this test's database."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .processes import ASGI, ROOT, Process, subprocess_env, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def asgi_server(tmp_path: Path, **env: str) -> Iterator[tuple[str, Process]]:
    """``(base URL, process)`` of a gunicorn answering on ``/healthz``; stopped after."""
    port = free_port()
    server = Process(
        [str(ROOT / ".venv/bin/gunicorn"), *ASGI, "--bind", f"127.0.0.1:{port}"],
        subprocess_env(
            tmp_path,
            DEBUG="false",
            SECRET_KEY="a-test-secret-key-that-is-long-enough-for-django",
            ALLOWED_HOSTS="127.0.0.1",
            DJANGO_SETTINGS_MODULE="tests.support.fast_hasher_settings",
            **env,
        ),
        tmp_path / "gunicorn.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{base}/healthz"), timeout=60, what="gunicorn to answer")
        yield base, server
    finally:
        server.stop()


def call(
    base: str, method: str, path: str, body: dict | None = None, token: str | None = None
) -> tuple[int, Any]:
    """One JSON request to ``base + path``: (status, parsed body or None)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    return status, json.loads(raw) if raw else None
