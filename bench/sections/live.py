"""The ``live`` section: status events from the commit to a client.

One web process (gunicorn, one uvicorn worker, as ``run.py serve`` runs each)
serves ``GET /api/adventures/{id}/events``; the bench process commits status
changes itself (``lifecycle.entry_start``, which sends the NOTIFY) and reads the
streams with httpx, so that the commit's clock and the client's are one:

- ``delay_ms``: one stream; from the status change's COMMIT (acknowledged to
  the bench) to the event's ``data:`` line read by the client;
  ``delay_with_commit_ms`` counts from just before the COMMIT (its fsync
  included);
- ``streams``: that many streams open at once, one per adventure, on the same
  process: the database connections the web process holds meanwhile (counted
  by ``application_name`` in ``pg_stat_activity``), its resident memory before
  and with the streams open, and the delay of changes to random adventures.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

import httpx

from ..processes import BenchError, Child, free_port, start_web
from ..stats import distribution

APP_NAME = "langlearn-bench-live"
# Streams open at once (the target: 200 on one web process).
STREAMS = 200
READ_TIMEOUT = 30.0


def _learner(adventures: int) -> tuple[str, list[tuple[str, str, str]]]:
    """A learner's access token and ``adventures`` adventures, each with an entry:
    (adventure id, entry id, user id)."""
    from accounts.models import User
    from accounts.tokens import refresh_token_for
    from adventures.models import Adventure, Entry

    user = User.objects.create_user(username=f"live{time.time_ns()}", password="x" * 20)
    rows = []
    for _ in range(adventures):
        adventure = Adventure.objects.create(
            user=user, target_language="es", native_language="en", theme="live"
        )
        # Written directly: no job is queued, nothing but the bench changes it.
        entry = Entry.objects.create(adventure=adventure, position=1)
        rows.append((str(adventure.id), str(entry.id), str(user.id)))
    return str(refresh_token_for(user).access_token), rows


def _commit_change(adventure_id: str, entry_id: str, user_id: str) -> tuple[float, float]:
    """Commit one status change; perf_counter() just before its COMMIT and once
    PostgreSQL has acknowledged it."""
    from django.db import transaction

    from adventures.services import lifecycle

    with transaction.atomic():
        lifecycle.entry_start(adventure_id=adventure_id, entry_id=entry_id, user_id=user_id)  # type: ignore[arg-type]
        before_commit = time.perf_counter()
    return before_commit, time.perf_counter()


def _web_connections() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
        )
        return cursor.fetchone()[0]


async def _listen(
    client: httpx.AsyncClient,
    url: str,
    token: str,
    index: int,
    ready: asyncio.Queue,
    received: asyncio.Queue,
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            raise BenchError(f"events stream answered {response.status_code}")
        async for line in response.aiter_lines():
            if line.startswith("retry:"):
                await ready.put(index)
            elif line.startswith("data:"):
                await received.put((index, time.perf_counter(), json.loads(line[5:])))


async def _measure(
    port: int,
    token: str,
    adventures: list[tuple[str, str, str]],
    samples: int,
    warmup: int,
    web: Child,
) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}/api/adventures"
    limits = httpx.Limits(max_connections=len(adventures) + 10)
    timeout = httpx.Timeout(READ_TIMEOUT, read=None)
    ready: asyncio.Queue = asyncio.Queue()
    received: asyncio.Queue = asyncio.Queue()
    rss_before = web.rss_bytes()
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        tasks = [
            asyncio.create_task(
                _listen(client, f"{base}/{adventure_id}/events", token, i, ready, received)
            )
            for i, (adventure_id, _, _) in enumerate(adventures)
        ]
        try:
            for _ in adventures:
                await asyncio.wait_for(ready.get(), READ_TIMEOUT)
            connections = [await asyncio.to_thread(_web_connections)]
            delays, with_commit = [], []
            for sample in range(warmup + samples):
                index = random.randrange(len(adventures))
                before, committed = await asyncio.to_thread(_commit_change, *adventures[index])
                while True:
                    got, at, _ = await asyncio.wait_for(received.get(), READ_TIMEOUT)
                    if got == index:
                        break
                if sample >= warmup:
                    delays.append((at - committed) * 1000)
                    with_commit.append((at - before) * 1000)
            connections.append(await asyncio.to_thread(_web_connections))
            rss_with = web.rss_bytes()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "delay_ms": distribution(delays),
        "delay_with_commit_ms": distribution(with_commit),
        "db_connections": max(connections),
        "rss_mb_before": round(rss_before / 2**20, 1),
        "rss_mb": round(rss_with / 2**20, 1),
    }


def measure(
    env: dict[str, str], workdir: Path, *, streams: int, samples: int, warmup: int
) -> tuple[dict[str, Any], Child]:
    """The ``live`` figures; the web child is returned for the caller to stop."""
    token, adventures = _learner(streams)
    web = start_web(env | {"PGAPPNAME": APP_NAME}, free_port(), workdir / "web-live.log", 1)
    try:
        one = asyncio.run(_measure(web.port, token, adventures[:1], samples, warmup, web))
        many = asyncio.run(_measure(web.port, token, adventures, samples, warmup, web))
    except BaseException:
        web.stop()
        raise
    figures = {
        "web_processes": 1,
        "delay_ms": one["delay_ms"],
        "delay_with_commit_ms": one["delay_with_commit_ms"],
        "streams": {"count": streams, **many},
    }
    return figures, web
