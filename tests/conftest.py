from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from outbound import factory

ROOT = Path(__file__).resolve().parent.parent


# --- The embedded PostgreSQL: stopped again if this test run started it -----------
def _embedded_dir() -> Path | None:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "langlearn.embedded_pg":
        return None
    return Path(settings.EMBEDDED_DB_DIR)


def pytest_sessionstart(session: pytest.Session) -> None:
    data_dir = _embedded_dir()
    session.config.stash[_STARTED_BY_US] = bool(
        data_dir and not (data_dir / "postmaster.pid").exists()
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Leave the machine as the run found it: a server that was running (a
    developer's) keeps running; one the tests started is stopped."""
    data_dir = _embedded_dir()
    if data_dir and session.config.stash.get(_STARTED_BY_US, False):
        from langlearn import embedded_pg

        embedded_pg.stop(data_dir)


_STARTED_BY_US = pytest.StashKey[bool]()


# --- Network guard (issue 3) -------------------------------------------------------
# Tests reach only this machine: 127.0.0.1, ::1 and unix sockets (the embedded
# PostgreSQL). Any other connection or name lookup is refused *and* fails the
# test, even when the code under test swallows the error (an SDK turning it
# into a "transient" failure, say).
_LOOPBACK_NAMES = {"localhost", "::1", "ip6-localhost", "testserver"}
_network_violations: list[str] = []


def _is_loopback(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).strip("[]").lower()
    return host in _LOOPBACK_NAMES or host.startswith("127.") or host == "::ffff:127.0.0.1"


def _refuse(what: str) -> OSError:
    _network_violations.append(what)
    return ConnectionRefusedError(f"tests may not reach the network ({what})")


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
    getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise _refuse(f"connect to {address[0]}:{address[1]}")

    def guarded_connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            _network_violations.append(f"look up {host}")
            raise socket.gaierror(socket.EAI_NONAME, f"tests may not look up {host}")
        return getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded_connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = guarded_getaddrinfo
    yield
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo


@pytest.fixture(autouse=True)
def _network_check(_no_network) -> Iterator[None]:
    _network_violations.clear()
    yield
    if _network_violations:
        found = ", ".join(_network_violations)
        _network_violations.clear()
        pytest.fail(f"the test tried to reach the network: {found}")


# --- end of network guard ----------------------------------------------------------


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


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path: Path) -> Iterator[None]:
    """Stub providers, audio in a temporary folder, fresh throttle counters."""
    settings.STUB_GENERATION = True
    settings.MEDIA_ROOT = tmp_path / "media"
    audio = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path / "media", "base_url": settings.MEDIA_URL},
    }
    settings.STORAGES = {**settings.STORAGES, "default": audio, "audio": audio}
    factory.reset()
    yield
    factory.reset()


@pytest.fixture(autouse=True)
def _clear_cache(request) -> None:
    if "django_db_setup" in request.fixturenames or request.node.get_closest_marker("django_db"):
        cache.clear()


def make_user(username: str = "ana", password: str = "a-long-passphrase", **extra: Any) -> User:
    return User.objects.create_user(username=username, password=password, **extra)


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def learner(db) -> User:
    return make_user()


@pytest.fixture
def api(learner) -> APIClient:
    return client_for(learner)


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def truncate_jobs() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, "
            "procrastinate_periodic_defers, procrastinate_workers CASCADE"
        )


def subprocess_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process using this test run's database."""
    env = {
        **os.environ,
        "DATABASE_NAME": connection.settings_dict["NAME"],
        "STUB_GENERATION": "true",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
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


Worker = Process


def poll_entry_complete(
    client: APIClient, adventure_id: str, entry_id: str, worker: Process
) -> dict:
    """Poll the API until the entry is complete; fail (showing the worker's
    log) if it ends in error or the deadline passes."""

    def complete():
        body = client.get(f"/api/adventures/{adventure_id}/entries/{entry_id}").json()
        assert body["status"] != "error", body
        return body if body["status"] == "complete" else None

    try:
        return wait_for(complete, timeout=60, what=f"entry {entry_id} to complete")
    except BaseException:
        print(worker.output())
        raise


@pytest.fixture
def start_worker(tmp_path: Path, transactional_db) -> Iterator[Callable[..., Worker]]:
    """Start ``manage.py procrastinate worker`` as a real separate process."""
    truncate_jobs()
    workers: list[Worker] = []

    def start(*args: str, **env: str) -> Worker:
        worker = Process(
            [sys.executable, "manage.py", "procrastinate", "worker", *args],
            subprocess_env(tmp_path, **env),
            tmp_path / f"worker-{len(workers)}.log",
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        code = worker.stop(timeout=10)
        if code not in (0, -signal.SIGTERM, -signal.SIGKILL):
            print(f"--- worker log ({worker.log}) exited {code} ---\n{worker.output()}")
    truncate_jobs()
