"""A web process serves ``WEB_THREADS`` sync requests at once; the others wait
their turn instead of failing (``langlearn/admission.py``), and only a request
that waits past ``WEB_QUEUE_TIMEOUT`` gets 503 with ``Retry-After``. Both
against the real server (gunicorn, uvicorn workers) and the real hasher."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from email.message import Message

import psycopg
import pytest
from django.db import connection

from accounts.models import User

from tests.support.processes import WebServer, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-passphrase"
OUT_OF_REACH = "100000/hour"  # the throttles must not shape a burst


def _post(base: str, path: str, body: dict) -> tuple[int, Message, dict]:
    request = urllib.request.Request(
        f"{base}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"{}")


def _at_once(calls: list) -> list:
    """Each call on a thread of its own, released together; their results in order."""
    results: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # reported with the others
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def _status(answer: tuple | Exception) -> int | str:
    return answer[0] if isinstance(answer, tuple) else repr(answer)


def test_a_burst_many_times_the_pool_is_answered_in_full(tmp_path):
    """48 sign-ups at once, then 48 sign-ins, on one process with 2 slots and
    2 connections. (With no line, some fail on the pool's timeout.)"""
    burst = 48
    server = WebServer(
        tmp_path,
        WEB_THREADS="2",
        WEB_DB_POOL_SIZE="2",
        # A request that waited for a connection would fail fast: what holds
        # the burst is the line, not the pool's patience.
        WEB_DB_POOL_TIMEOUT="0.5",
        THROTTLE_REGISTER=OUT_OF_REACH,
        THROTTLE_LOGIN=OUT_OF_REACH,
    )
    try:
        names = [f"pupil{index}" for index in range(burst)]
        signed_up = _at_once(
            [
                lambda name=name: _post(
                    server.base, "/api/auth/register", {"username": name, "password": PASSWORD}
                )
                for name in names
            ]
        )
        assert Counter(_status(answer) for answer in signed_up) == {201: burst}
        signed_in = _at_once(
            [
                lambda name=name: _post(
                    server.base, "/api/auth/token", {"username": name, "password": PASSWORD}
                )
                for name in names
            ]
        )
        assert Counter(_status(answer) for answer in signed_in) == {200: burst}
        assert all(answer[2]["access"] for answer in signed_in)
    finally:
        server.stop()
    assert set(User.objects.values_list("username", flat=True)) == set(names)
    assert "busy:" not in server.output()


@pytest.fixture
def users_table_locked() -> Iterator[psycopg.Connection]:
    """Registrations block on their INSERT until the test lets go (reads go on)."""
    with psycopg.connect(**connection.get_connection_params()) as holder:
        holder.execute("LOCK TABLE accounts_user IN EXCLUSIVE MODE")
        yield holder
        holder.rollback()


def _inserts_waiting() -> int:
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as probe:
        [(count,)] = probe.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"accounts_user\"%%'"
        ).fetchall()
    return count


def test_a_request_whose_wait_passes_the_deadline_gets_503_with_retry_after(
    tmp_path, users_table_locked
):
    server = WebServer(tmp_path, WEB_THREADS="1", WEB_QUEUE_TIMEOUT="1.5")
    try:
        first: list = []
        holder = threading.Thread(
            target=lambda: first.append(
                _post(server.base, "/api/auth/register", {"username": "ana", "password": PASSWORD})
            )
        )
        holder.start()
        # The one slot is taken: ana's registration waits on the locked table.
        wait_for(_inserts_waiting, timeout=30, what="the first registration to block")

        started = time.monotonic()
        status, headers, body = _post(
            server.base, "/api/auth/register", {"username": "bea", "password": PASSWORD}
        )
        waited = time.monotonic() - started
        assert status == 503
        assert headers.get("Retry-After") == "2"  # seconds: the deadline, rounded up
        assert body == {
            "detail": "The service is busy. Please try again in a moment.",
            "code": "busy",
        }
        assert waited >= 1.5
        # A load balancer's probe does not wait in line.
        with urllib.request.urlopen(f"{server.base}/healthz", timeout=10) as health:
            assert health.status == 200

        users_table_locked.rollback()  # the slot's request goes on
        holder.join(30)
        assert first[0][0] == 201
        # The line is free again: the refused learner's retry gets in.
        assert (
            _post(server.base, "/api/auth/register", {"username": "bea", "password": PASSWORD})[0]
            == 201
        )
    finally:
        server.stop()
    assert "busy: POST /api/auth/register waited" in server.output()
    assert set(User.objects.values_list("username", flat=True)) == {"ana", "bea"}
