"""The web server's access log keeps secrets out (issue 11, item 6): compose/start-api
run as compose runs it (gunicorn with uvicorn workers, issue 14, whose access
line uvicorn writes), then requests carrying a token in the query string, in
the Referer and in the Authorization header, and an events ticket."""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import ROOT, Process, subprocess_env, wait_for

BIN = Path(sys.executable).parent
SECRET = "s3cr3t-value-that-must-not-leak"
ADVENTURE = "8d3d9b52-4b6f-4a3e-9d0c-2f4f1c0e6a11"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, headers: dict[str, str]) -> int | None:
    request = urllib.request.Request(url, headers={"Host": "langlearn.example", **headers})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_start_api_access_log_leaves_out_query_strings_and_secrets(tmp_path):
    port = _free_port()
    env = subprocess_env(
        tmp_path,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        ALLOWED_HOSTS="langlearn.example",
    )
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("GUNICORN_CMD_ARGS", None)
    api = Process([str(ROOT / "compose" / "start-api")], env, tmp_path / "api.log")
    try:
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            assert api.running(), api.output()
            return _get(f"{base}/healthz", {}) == 200

        wait_for(up, timeout=90, what="gunicorn to serve")
        statuses = [
            _get(f"{base}/api/adventures?token={SECRET}&page=2", {}),
            _get(f"{base}/api/adventures/{ADVENTURE}/events?ticket={SECRET}", {}),
            _get(
                f"{base}/api/languages",
                {
                    "Referer": f"https://app.example/reset?password={SECRET}",
                    "Authorization": f"Bearer {SECRET}",
                },
            ),
        ]
        assert statuses == [401, 401, 401]

        def logged() -> bool:
            return "/api/languages" in api.output() and "/events" in api.output()

        wait_for(logged, timeout=30, what="the access log lines")
    finally:
        api.stop(timeout=20)
    log = api.output()
    access = [line for line in log.splitlines() if '"GET /api/' in line]
    assert len(access) == 3, log
    assert '"GET /api/adventures HTTP/1.1" 401' in access[0]
    assert f'"GET /api/adventures/{ADVENTURE}/events HTTP/1.1" 401' in access[1]
    assert '"GET /api/languages HTTP/1.1" 401' in access[2]
    assert SECRET not in log
