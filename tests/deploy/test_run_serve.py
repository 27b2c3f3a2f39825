"""`python3 run.py serve`, end to end: web + worker on one command, a
database restart under them, and Ctrl-C stopping everything."""

from __future__ import annotations

import http.client as http_client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from django.conf import settings
from procrastinate.contrib.django.models import ProcrastinateJob

from adventures.models import Entry
from langlearn import embedded_pg

from tests.support.api import client_for
from tests.support.database import truncate_jobs
from tests.support.factories import make_user
from tests.support.processes import ROOT, subprocess_env, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Http:
    def __init__(self, base: str) -> None:
        self.base, self.token = base, None

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {self.token}"} if self.token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, self._json(response)
        except urllib.error.HTTPError as error:
            return error.code, self._json(error)
        except (urllib.error.URLError, ConnectionError):
            return 0, {}

    @staticmethod
    def _json(response) -> dict:
        if "json" not in response.headers.get("Content-Type", ""):
            return {}
        return json.loads(response.read() or b"{}")


def embedded_data_dir() -> Path:
    if settings.DATABASES["default"]["ENGINE"] != "langlearn.embedded_pg":
        pytest.skip("restarts the embedded PostgreSQL; DATABASE_URL points elsewhere")
    return Path(settings.EMBEDDED_DB_DIR)


@pytest.fixture
def own_data_dir() -> Iterator[Path]:
    """A data folder beside the suite's (the server's own user must reach it)
    for an embedded server of a test's own, stopped and removed afterwards."""
    (ROOT / ".data").mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="test-serve-", dir=ROOT / ".data"))
    yield path
    embedded_pg.stop(path / "postgres")
    shutil.rmtree(path, ignore_errors=True)


def test_serve_runs_web_and_worker_survives_a_database_restart_and_stops(tmp_path, own_data_dir):
    """On an embedded server of its own: the suite's (which other test
    processes use meanwhile) is never stopped."""
    data_dir = own_data_dir / "postgres"
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        [sys.executable, "run.py", "serve"],
        cwd=ROOT,
        env=subprocess_env(
            tmp_path,
            PORT=str(port),
            WORKER_POLLING_INTERVAL="0.5",
            LANGLEARN_DATA_DIR=str(own_data_dir),
            DATABASE_URL="",
            DATABASE_NAME="langlearn",
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    http = Http(f"http://127.0.0.1:{port}/api")
    try:
        wait_for(lambda: http.call("GET", "/schema/")[0] == 200, timeout=90, what="web")
        assert "Press Ctrl-C to stop" in (tmp_path / "serve.log").read_text()
        # Local development: serve turns DEBUG on (the settings' default is off).
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=10)
        assert "URLconf" in missing.value.read().decode()
        user = {"username": "ana", "password": "a-long-passphrase"}
        assert http.call("POST", "/auth/register", user)[0] == 201
        http.token = http.call("POST", "/auth/token", user)[1]["access"]

        def play() -> None:
            status, adventure = http.call("POST", "/adventures", {"target_language": "pt"})
            assert status == 201, adventure
            path = f"/adventures/{adventure['id']}/entries/{adventure['entries'][0]['id']}"
            wait_for(
                lambda: http.call("GET", path)[1].get("status") == "complete",
                timeout=90,
                what="the entry to complete",
            )

        play()

        embedded_pg.stop(data_dir)
        try:
            status, body = http.call("GET", "/adventures")
            assert status == 503
            assert body["detail"] == "The service is briefly unavailable. Please try again."
        finally:
            embedded_pg.ensure_running(data_dir, recheck=True)
        # Queued work carries on once the database is back: the worker
        # reconnects, or run.py starts it again if it gave up.
        play()
        children = psutil.Process(serve.pid).children(recursive=True)
        assert children
    finally:
        serve.send_signal(signal.SIGINT)
        code = serve.wait(timeout=120)
        log.close()
    output = (tmp_path / "serve.log").read_text()
    assert code == 0, output
    assert "-> stopped" in output
    assert not [child for child in children if child.is_running() and child.status() != "zombie"]


def start_serve(tmp_path: Path, port: int, **env: str) -> subprocess.Popen:
    """``run.py serve`` in a process group of its own, as a terminal runs it:
    a signal to that group is what Ctrl-C sends."""
    return subprocess.Popen(
        [sys.executable, "run.py", "serve"],
        cwd=ROOT,
        env=subprocess_env(tmp_path, PORT=str(port), WORKER_POLLING_INTERVAL="0.5", **env),
        stdout=(tmp_path / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def ctrl_c(serve: subprocess.Popen) -> None:
    os.killpg(serve.pid, signal.SIGINT)


def entry_being_voiced(tmp_path: Path, voice_ms: int) -> tuple[Entry, subprocess.Popen]:
    """``run.py serve`` with slow voicing, and an entry whose passage is written
    and is being voiced."""
    serve = start_serve(tmp_path, free_port(), STUB_LATENCY_MS=f"voice={voice_ms}")
    client = client_for(make_user())
    body = client.post("/api/adventures", {"target_language": "es"}, format="json").json()
    entry_id = body["entries"][0]["id"]
    try:
        wait_for(
            lambda: Entry.objects.filter(id=entry_id, generated_at__isnull=False).exists(),
            timeout=90,
            what="the passage to be generated",
        )
    except BaseException:
        os.killpg(serve.pid, signal.SIGKILL)
        print((tmp_path / "serve.log").read_text())
        raise
    return Entry.objects.get(id=entry_id), serve


def test_one_ctrl_c_lets_the_running_entry_finish(tmp_path):
    embedded_data_dir()
    truncate_jobs()
    entry, serve = entry_being_voiced(tmp_path, voice_ms=4000)
    ctrl_c(serve)
    code = serve.wait(timeout=120)
    output = (tmp_path / "serve.log").read_text()
    entry.refresh_from_db()
    assert entry.status == "complete", output
    [job] = ProcrastinateJob.objects.filter(task_name="adventures.generate_adventure_entry")
    assert job.status == "succeeded"
    assert code == 0, output
    assert "running jobs finish or go back to the queue" in output
    assert not (Path(settings.DATA_DIR) / "serve.pid").exists()


def test_a_second_ctrl_c_stops_at_once(tmp_path):
    embedded_data_dir()
    truncate_jobs()
    entry, serve = entry_being_voiced(tmp_path, voice_ms=60000)
    ctrl_c(serve)
    # The handler's own line: the banner also says "running jobs finish", and a
    # second SIGINT sent before the first is handled would merge with it.
    wait_for(
        lambda: "-> stopping: running jobs finish" in (tmp_path / "serve.log").read_text(),
        timeout=10,
        what="the first Ctrl-C to be taken",
    )
    ctrl_c(serve)
    assert serve.wait(timeout=15) == 1  # long before the voice (60 s) is done
    assert "-> stopping at once" in (tmp_path / "serve.log").read_text()
    entry.refresh_from_db()
    assert entry.status == "generating"  # the stalled-job rescue picks it up


def test_serve_refuses_embedded_db_stop_while_it_runs(tmp_path):
    data_dir = embedded_data_dir()
    truncate_jobs()
    port = free_port()
    serve = start_serve(tmp_path, port)
    http = Http(f"http://127.0.0.1:{port}/api")
    try:
        wait_for(lambda: http.call("GET", "/schema/")[0] == 200, timeout=90, what="web")
        result = subprocess.run(
            [sys.executable, "manage.py", "embedded_db", "stop"],
            cwd=ROOT,
            env=subprocess_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert f"`python3 run.py serve` (pid {serve.pid}) is using the embedded server" in (
            result.stderr
        )
        assert (data_dir / "postmaster.pid").exists()  # still running
    finally:
        ctrl_c(serve)
        serve.wait(timeout=120)


def test_a_busy_port_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        serve = start_serve(tmp_path, port)
        code = serve.wait(timeout=60)
    output = (tmp_path / "serve.log").read_text()
    assert code == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in output
    assert "set PORT to another one" in output
    assert "langlearn is running" not in output


def read_events(response: Any, until: Callable[[list[dict]], bool]) -> tuple[list[dict], int]:
    """Parse Server-Sent Events from ``response`` until ``until(events)``;
    also count the heartbeat comments met on the way."""
    events: list[dict] = []
    block: dict = {}
    heartbeats = 0
    while not until(events):
        line = response.readline().decode()
        assert line, f"the stream ended after {events}"
        line = line.rstrip("\n")
        if line == "":
            if "data" in block:
                events.append(block)
            block = {}
        elif line.startswith(":"):
            heartbeats += 1
        else:
            name, _, value = line.partition(": ")
            block[name] = json.loads(value) if name == "data" else value
    return events, heartbeats


def test_serve_streams_live_status_over_asgi_and_stops_with_streams_open(tmp_path):
    """The events stream through the real server (gunicorn + uvicorn workers,
    the worker's commits NOTIFYing it), with a ticket; Ctrl-C with the stream
    still open stops everything in seconds."""
    embedded_data_dir()
    truncate_jobs()
    port = free_port()
    serve = start_serve(tmp_path, port, EVENTS_HEARTBEAT_SECONDS="0.3", STUB_LATENCY_MS="voice=600")
    http = Http(f"http://127.0.0.1:{port}/api")
    try:
        wait_for(lambda: http.call("GET", "/schema/")[0] == 200, timeout=90, what="web")
        user = {"username": "ana", "password": "a-long-passphrase"}
        assert http.call("POST", "/auth/register", user)[0] == 201
        http.token = http.call("POST", "/auth/token", user)[1]["access"]
        status, adventure = http.call("POST", "/adventures", {"target_language": "es"})
        assert status == 201
        status, ticket = http.call("POST", f"/adventures/{adventure['id']}/events/ticket")
        assert status == 201

        connection = http_client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(
            "GET", f"/api/adventures/{adventure['id']}/events?ticket={ticket['ticket']}"
        )
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream"
        events, heartbeats = read_events(
            response, until=lambda seen: any(e["data"]["status"] == "complete" for e in seen)
        )
        entry_id = adventure["entries"][0]["id"]
        assert [(e["data"]["id"], e["data"]["status"]) for e in events] == [
            (entry_id, "pending"),
            (entry_id, "generating"),
            (entry_id, "complete"),
        ]
        assert heartbeats >= 1  # voicing took 0.6 s: heartbeats meanwhile
        ids = [int(e["id"]) for e in events]
        assert ids == sorted(ids)
    except BaseException:
        os.killpg(serve.pid, signal.SIGKILL)
        print((tmp_path / "serve.log").read_text())
        raise
    started = time.monotonic()
    ctrl_c(serve)
    code = serve.wait(timeout=60)
    output = (tmp_path / "serve.log").read_text()
    assert code == 0, output
    assert time.monotonic() - started < 30, output  # not gunicorn's whole graceful timeout
    connection.close()
