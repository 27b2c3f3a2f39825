"""Child processes of a test (a server, a command, the worker) and waiting for
what they do."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# gunicorn's arguments for the web server as it runs everywhere (issue 14: ASGI).
ASGI = ("langlearn.asgi", "--worker-class", "langlearn.asgi_worker.UvicornWorker")


def wait_for(
    predicate: Callable[[], Any],
    *,
    timeout: float = 30,
    interval: float = 0.1,
    what: str = "",
) -> Any:
    """Poll ``predicate`` until it returns something truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process using this test run's database."""
    env = {
        **os.environ,
        "DATABASE_NAME": connection.settings_dict["NAME"],
        "STUB_GENERATION": "true",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
        # Workers load each language on first use, as tests need (the warm-up,
        # seconds of CPU for five languages, has tests of its own).
        "WORKER_WARM_LANGUAGES": "",
    }
    env.update(extra)
    return env


class Process:
    """A child process of a test, its output going to a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebServer(Process):
    """gunicorn as it runs everywhere (ASGI, uvicorn workers), on a free port
    of 127.0.0.1, with this test run's database; ready once /healthz answers."""

    def __init__(self, tmp_path: Path, *, workers: int = 1, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [str(ROOT / ".venv" / "bin" / "gunicorn"), *ASGI, "--bind", f"127.0.0.1:{self.port}"]
        super().__init__(
            [*args, "--workers", str(workers)],
            subprocess_env(tmp_path, **env),
            tmp_path / f"gunicorn-{self.port}.log",
        )

        def answering() -> bool:
            assert self.running(), self.output()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                connection.request("GET", "/healthz")
                return connection.getresponse().status == 200
            except OSError:
                return False
            finally:
                connection.close()

        wait_for(answering, timeout=60, what="gunicorn to answer")
