"""Live status: entry status events, from PostgreSQL to the web's event streams.

``lifecycle`` writes an ``EntryEvent`` and sends it with ``pg_notify`` in the
transaction that changes an entry's status. Here, in the web process, one
``Hub`` per event loop (a uvicorn worker has one) holds two database
connections whatever the number of streams:

- the listener: ``LISTEN adventure_events``, fanning each notification out to
  the in-process subscribers of that adventure (one ``asyncio.Queue`` each);
- the query connection: the few reads a stream needs (the token's user, the
  adventure's owner and status, events missed before ``Last-Event-ID``), one at
  a time behind a lock; each is a single indexed read.

Both reconnect on their own. After the listener reconnects every subscriber is
told to read the table again (notifications sent meanwhile were lost), so a
stream never misses an event, and never sends one twice (ids only grow).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from langlearn import metrics

from .models import Adventure, EntryEvent
from .services.lifecycle import EVENTS_CHANNEL

logger = logging.getLogger(__name__)

# A subscriber that falls this far behind reads the table instead.
QUEUE_LIMIT = 1000
# How long a new stream waits for the listener (after a lost connection).
LISTEN_WAIT_SECONDS = 5.0
# Adventure statuses after which nothing changes until the learner acts.
SETTLED = {Adventure.Status.COMPLETED.value, Adventure.Status.ERROR.value}
# The psycopg.connect() arguments Django builds that are not connection parameters.
_NOT_CONNINFO = {"context", "cursor_factory", "prepare_threshold", "server_side_binding"}


class ListenerUnavailable(Exception):
    """The listening connection is down and did not come back in time."""


def _conninfo() -> dict[str, Any]:
    params = connections["default"].get_connection_params()
    return {key: value for key, value in params.items() if key not in _NOT_CONNINFO}


@dataclass(eq=False)
class Subscription:
    adventure_id: str
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    # Set when notifications may have been lost: read the table again.
    stale: bool = False


class Hub:
    """The web process's LISTEN connection and its subscribers (one per stream)."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self.listening = asyncio.Event()
        self._listener: asyncio.Task | None = None
        self._query: psycopg.AsyncConnection | None = None
        self._query_lock = asyncio.Lock()
        self._params: dict[str, Any] | None = None

    async def _connect(self) -> psycopg.AsyncConnection:
        if self._params is None:
            self._params = await sync_to_async(_conninfo, thread_sensitive=False)()
        return await psycopg.AsyncConnection.connect(autocommit=True, **self._params)

    # --- subscribers ---------------------------------------------------------------

    async def subscribe(self, adventure_id: str) -> Subscription:
        """Register a stream; returns once notifications are being received."""
        subscription = Subscription(adventure_id)
        self.subscribers[adventure_id].add(subscription)
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="adventure-events-listener")
        try:
            await asyncio.wait_for(self.listening.wait(), LISTEN_WAIT_SECONDS)
        except TimeoutError:
            self.unsubscribe(subscription)
            raise ListenerUnavailable from None
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        group = self.subscribers.get(subscription.adventure_id)
        if group is not None:
            group.discard(subscription)
            if not group:
                del self.subscribers[subscription.adventure_id]

    def _dispatch(self, payload: str) -> None:
        try:
            event = json.loads(payload)
            adventure_id = event["adventure_id"]
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed %s notification", EVENTS_CHANNEL)
            return
        for subscription in self.subscribers.get(adventure_id, ()):
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                subscription.stale = True

    def _mark_all_stale(self) -> None:
        for group in self.subscribers.values():
            for subscription in group:
                subscription.stale = True
                with contextlib.suppress(asyncio.QueueFull):
                    subscription.queue.put_nowait(None)  # wake it up

    async def _listen(self) -> None:
        pause, connected_before = 0.5, False
        while True:
            try:
                async with await self._connect() as conn:
                    await conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    if connected_before:
                        logger.info("events listener reconnected")
                        self._mark_all_stale()
                    connected_before = True
                    self.listening.set()
                    pause = 0.5
                    async for notify in conn.notifies():
                        self._dispatch(notify.payload)
            except psycopg.Error as exc:
                self.listening.clear()
                logger.warning("events listener lost its connection (%s); retrying", exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 10.0)

    async def aclose(self) -> None:
        """Close both connections (the tests do, for each event loop they run)."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self.listening.clear()
        if self._query is not None:
            await self._query.close()
            self._query = None

    # --- reads -----------------------------------------------------------------------

    async def fetch(self, query: str, params: list[Any]) -> list[tuple]:
        """Run one read on the shared query connection (reconnecting once)."""
        async with self._query_lock:
            for attempt in (1, 2):
                if self._query is None or self._query.closed:
                    self._query = await self._connect()
                try:
                    cursor = await self._query.execute(query, params)
                    return await cursor.fetchall()
                except psycopg.OperationalError:
                    with contextlib.suppress(psycopg.Error):
                        await self._query.close()
                    self._query = None
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    async def events_after(self, adventure_id: str, last_id: int) -> list[dict]:
        rows = await self.fetch(
            f"SELECT id, entry_id, position, status, adventure_status "
            f"FROM {EntryEvent._meta.db_table} WHERE adventure_id = %s AND id > %s ORDER BY id",
            [adventure_id, last_id],
        )
        return [
            {
                "event_id": row[0],
                "adventure_id": adventure_id,
                "id": str(row[1]),
                "position": row[2],
                "status": row[3],
                "adventure_status": row[4],
            }
            for row in rows
        ]

    async def adventure_status(self, adventure_id: str, user_id: str) -> str | None:
        """The adventure's status, or None unless it exists and is the user's."""
        rows = await self.fetch(
            f"SELECT status FROM {Adventure._meta.db_table} WHERE id = %s AND user_id = %s",
            [adventure_id, user_id],
        )
        return rows[0][0] if rows else None

    async def token_version(self, user_id: str) -> int | None:
        """An active user's token version, or None."""
        from accounts.models import User

        rows = await self.fetch(
            f"SELECT token_version FROM {User._meta.db_table} WHERE id = %s AND is_active",
            [user_id],
        )
        return rows[0][0] if rows else None


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """The hub of the running event loop (the process's, under uvicorn)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]


# --- the stream ----------------------------------------------------------------------


def _event_text(event: dict) -> str:
    data = {key: event[key] for key in ("id", "position", "status", "adventure_status")}
    return f"id: {event['event_id']}\ndata: {json.dumps(data)}\n\n"


def _end_text(adventure_status: str) -> str:
    return f"event: end\ndata: {json.dumps({'adventure_status': adventure_status})}\n\n"


async def stream(the_hub: Hub, subscription: Subscription, *, last_id: int) -> AsyncIterator[str]:
    """The text/event-stream body for one subscribed client.

    Events after ``last_id`` from the table first, then live ones; a comment
    every ``EVENTS_HEARTBEAT_SECONDS``; an ``end`` event, then the end, once
    the adventure is ``completed`` or ``error``. After ``EVENTS_STREAM_SECONDS``
    the stream closes without ``end``: EventSource reconnects, with
    ``Last-Event-ID``, possibly to another web process.
    """
    adventure_id = subscription.adventure_id
    heartbeat = settings.EVENTS_HEARTBEAT_SECONDS
    loop = asyncio.get_running_loop()
    closes_at = loop.time() + settings.EVENTS_STREAM_SECONDS
    metrics.EVENT_STREAMS.inc()
    try:
        # Resumed from an id: give it back to EventSource at once, so that a
        # reconnect before the next event still sends Last-Event-ID (which a
        # ticket past its first minute needs; see adventures/api/events.py).
        resumed = f"id: {last_id}\n" if last_id else ""
        yield f"retry: {settings.EVENTS_RETRY_MS}\n{resumed}\n"
        # Subscribed before reading: an event committed from here on is either
        # in these reads or in the queue (or both: ids tell them apart). The
        # status is read first: the newest event read after it, if any, is
        # newer still (each event carries the adventure's status then).
        rows = await the_hub.fetch(
            f"SELECT status FROM {Adventure._meta.db_table} WHERE id = %s",
            [adventure_id],
        )
        if not rows:
            return  # deleted meanwhile
        current = rows[0][0]
        for event in await the_hub.events_after(adventure_id, last_id):
            last_id, current = event["event_id"], event["adventure_status"]
            yield _event_text(event)
        if current in SETTLED:
            yield _end_text(current)
            return
        while True:
            left = closes_at - loop.time()
            if left <= 0:
                return
            try:
                item = await asyncio.wait_for(subscription.queue.get(), min(heartbeat, left))
            except TimeoutError:
                if loop.time() < closes_at:
                    yield ": heartbeat\n\n"
                continue
            if subscription.stale:
                subscription.stale = False
                events = await the_hub.events_after(adventure_id, last_id)
            elif item is None:
                continue
            else:
                events = [item]
            for event in events:
                if event["event_id"] <= last_id:
                    continue
                last_id = event["event_id"]
                yield _event_text(event)
                if event["adventure_status"] in SETTLED:
                    yield _end_text(event["adventure_status"])
                    return
    finally:
        metrics.EVENT_STREAMS.dec()
        the_hub.unsubscribe(subscription)
