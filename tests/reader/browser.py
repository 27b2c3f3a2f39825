"""A real browser on a real server for the reader's tests: Debian's chromium
driven by Playwright (``executable_path``: Playwright downloads no browser),
against gunicorn serving the app as ``run.py serve`` does, with the real
worker beside it and the stub providers."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, ViewportSize, sync_playwright

from tests.support.processes import ROOT, Process, subprocess_env, wait_for

# Screenshots and other files a person may want to look at after a run.
ARTIFACTS = Path(os.environ.get("READER_ARTIFACTS", ROOT / ".data" / "artifacts" / "reader"))
PHONE: ViewportSize = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def need_chromium() -> str:
    """The browser's path; a clear skip without it (a failure on CI, which
    installs it: .ci/run)."""
    path = chromium_path()
    if path:
        return path
    reason = (
        "chromium is not installed: the reader's browser tests drive Debian's "
        "package (apt-get install chromium); Playwright downloads no browser here"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with uvicorn workers on a port of its own, as run.py serve runs it."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.port = free_port()
        environment = subprocess_env(
            tmp_path,
            THROTTLE_REGISTER="100000/hour",
            THROTTLE_LOGIN="100000/minute",
            THROTTLE_ADVENTURE_CREATE="100000/hour",
            DJANGO_SETTINGS_MODULE="tests.support.fast_hasher_settings",
            **env,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = Process(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "langlearn.asgi",
                "--worker-class",
                "langlearn.asgi_worker.UvicornWorker",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                # The access log as compose writes it: what the reader puts in
                # URLs shows there.
                "--access-logfile",
                "-",
                "--logger-class",
                "langlearn.access_log.RedactingLogger",
            ],
            environment,
            tmp_path / f"gunicorn-{self.port}.log",
        )

        def answering() -> bool:
            assert self.process.running(), self.process.output()
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=5) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_for(answering, timeout=60, what="gunicorn to answer")

    def stop(self) -> None:
        self.process.stop(timeout=20)


@pytest.fixture
def reader_server(tmp_path: Path, transactional_db: None) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(**env: str) -> Server:
        server = Server(tmp_path, **env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Chromium, for one test. Ask for it after the fixtures that use the
    database (``reader_server``, ``start_worker``, rows made for the test):
    Playwright's sync API runs an event loop in this thread, and the ORM
    refuses to run under one (its connection would belong to the loop's task,
    never closed)."""
    executable = need_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            # The audio plays when the test clicks Play, as after a tap.
            args=["--autoplay-policy=no-user-gesture-required"],
        )
        yield browser
        browser.close()


class Traffic:
    """The page's requests: their URLs, and the bearer tokens they carried."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        self.tokens: set[str] = set()
        page.on("request", self._seen)

    def _seen(self, request: Request) -> None:
        self.urls.append(request.url)
        authorization = request.headers.get("authorization", "")
        if authorization.startswith("Bearer "):
            self.tokens.add(authorization.removeprefix("Bearer "))
        if request.post_data and "refresh" in request.url:
            self.tokens.update(
                value for value in json.loads(request.post_data).values() if isinstance(value, str)
            )

    def count(self, pattern: str) -> int:
        return sum(1 for url in self.urls if re.search(pattern, url))


class PageProblems:
    """What the page said went wrong: script errors and CSP violations."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"script error: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"console: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
