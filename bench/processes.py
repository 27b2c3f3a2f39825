"""The processes the benchmark starts: gunicorn and the Procrastinate worker.

Every child is started in its own session (so a Ctrl-C in the terminal reaches
the benchmark only, which then stops its children in order) and is stopped by
its PID: SIGTERM, a grace period, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


class BenchError(Exception):
    """Something the benchmark needs did not work; the message says what."""


def wait_until(predicate: Callable[[], object], *, timeout: float, what: str) -> object:
    """Poll ``predicate`` until it returns something truthy, or raise at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Child:
    """A started process, its log file, and how to stop it."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self.port = 0  # where it listens, for a web server
        with log.open("w") as out:
            self.process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise BenchError(
                f"{self.name} exited with code {self.process.returncode}; "
                f"last lines of {self.log}:\n{self.tail()}"
            )

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 20) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        # gunicorn stops its own workers on SIGTERM; kill any it left behind.
        for orphan in _session_members(self.process.pid):
            orphan.kill()

    def cpu_seconds(self) -> float:
        """CPU time (user and system) used so far by the process and its
        descendants (those alive now, so sample it while they run)."""
        try:
            parent = psutil.Process(self.process.pid)
            family = [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for member in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = member.cpu_times()
                total += times.user + times.system
        return total

    def rss_bytes(self) -> int:
        """Resident memory of the process and all its descendants."""
        try:
            parent = psutil.Process(self.process.pid)
            family = [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0
        total = 0
        for member in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += member.memory_info().rss
        return total


def _session_members(session_id: int) -> list[psutil.Process]:
    members = []
    for process in psutil.process_iter(["pid"]):
        try:
            if os.getsid(process.pid) == session_id and process.pid != os.getpid():
                members.append(process)
        except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
            pass
    return members


def start_web(env: dict[str, str], port: int, log: Path, workers: int = 2) -> Child:
    """gunicorn as the compose files run it: ASGI, 2 uvicorn workers."""
    web = Child(
        "gunicorn",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "langlearn.asgi",
            "--worker-class",
            "langlearn.asgi_worker.UvicornWorker",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        env,
        log,
    )
    web.port = port

    def answers() -> bool:
        web.check_alive()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/api/languages")
            return connection.getresponse().status in (200, 401)
        except OSError:
            return False
        finally:
            connection.close()

    wait_until(answers, timeout=60, what="gunicorn to answer")
    return web


def start_worker(env: dict[str, str], log: Path, listening: Callable[[], bool]) -> Child:
    """``manage.py procrastinate worker``; waits until ``listening()`` says it is."""
    worker = Child("worker", [sys.executable, "manage.py", "procrastinate", "worker"], env, log)

    def ready() -> bool:
        worker.check_alive()
        return listening()

    wait_until(ready, timeout=60, what="the worker to start")
    return worker


class MemorySampler:
    """Peak resident memory of some children, sampled every ``interval`` seconds."""

    def __init__(self, children: dict[str, Child], interval: float = 0.1) -> None:
        self.children = children
        self.interval = interval
        self.peaks = dict.fromkeys(children, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def _run(self) -> None:
        while True:
            for name, child in self.children.items():
                self.peaks[name] = max(self.peaks[name], child.rss_bytes())
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak_mb(self, name: str) -> float:
        return round(self.peaks[name] / 2**20, 1)
