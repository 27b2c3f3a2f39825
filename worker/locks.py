"""PostgreSQL advisory locks for the worker's runs: one session per process.

Procrastinate's queueing lock allows one *queued* job per entry, and its lock
one *running* job per adventure, but a job re-queued while it still runs (a
staff "re-run", a rescue that raced a slow heartbeat) could otherwise run the
entry twice and pay the providers twice; a digest may be built by a job and by
``build_digest`` at once. ``advisory_lock`` keeps each to one run.

The locks are held by one PostgreSQL session per worker process (per event
loop), opened on first use: not a connection per run, whose connect would sit
on every job's critical path. If the process dies, the server drops the session
and its locks with it, so a lock never outlives its holder. Session-level
advisory locks are re-entrant within a session, so the keys this process holds
are also kept in ``held``: a second run in the same process is refused there,
a run in another process by PostgreSQL.

A key is one 64-bit number (``uuid_key``) or two 32-bit ones (a namespace and
an id); PostgreSQL keeps the two forms apart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import psycopg
from asgiref.sync import sync_to_async
from procrastinate.contrib.django.utils import connector_params

logger = logging.getLogger(__name__)

Key = tuple[int] | tuple[int, int]


def uuid_key(value: UUID) -> int:
    """A one-number lock key for a UUID: its first 64 bits."""
    return int.from_bytes(value.bytes[:8], "big", signed=True)


class _LockSession:
    def __init__(self) -> None:
        self.connection: psycopg.AsyncConnection[Any] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.params: dict[str, Any] | None = None
        self.held: set[Key] = set()
        self.connecting: asyncio.Lock | None = None

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            # A new event loop (tests run the pipeline with async_to_sync): the
            # old connection belongs to the old loop; drop it, locks and all.
            self.forget()
            self.loop, self.connecting, self.held = loop, asyncio.Lock(), set()
        assert self.connecting is not None
        async with self.connecting:
            if self.connection is None or self.connection.closed or self.connection.broken:
                if self.params is None:
                    self.params = await sync_to_async(connector_params)()
                self.connection = await psycopg.AsyncConnection.connect(
                    **self.params, autocommit=True
                )
            return self.connection

    def forget(self) -> None:
        if self.connection is not None and not self.connection.closed:
            self.connection.pgconn.finish()  # closes the socket: the server drops its locks
        self.connection = None

    async def _execute(self, function: str, key: Key) -> bool:
        statement = f"SELECT {function}({', '.join(['%s'] * len(key))})"
        for attempt in (1, 2):
            connection = await self._connection()
            try:
                cursor = await connection.execute(statement, list(key))
                row = await cursor.fetchone()
                return bool(row and row[0])
            except psycopg.OperationalError:
                # The server dropped the session (a restart, a failover): the
                # locks it held are gone with it.
                if attempt == 2 or not connection.broken:
                    raise
                logger.warning("the advisory-lock session was lost; reconnecting")
        raise AssertionError("unreachable")

    async def try_lock(self, key: Key) -> bool:
        await self._connection()  # settles which loop's `held` applies
        if key in self.held:
            return False
        self.held.add(key)  # before awaiting: a concurrent run here sees it
        try:
            acquired = await self._execute("pg_try_advisory_lock", key)
        except BaseException:
            self.held.discard(key)
            raise
        if not acquired:
            self.held.discard(key)
        return acquired

    async def unlock(self, key: Key) -> None:
        try:
            connection = self.connection
            if connection is not None and not connection.closed and not connection.broken:
                await self._execute("pg_advisory_unlock", key)
        finally:
            self.held.discard(key)


_session = _LockSession()


def close() -> None:
    """Close the lock session (releasing whatever it holds); the next lock opens
    another. For tests, whose event loops come and go."""
    _session.forget()
    _session.held = set()


@asynccontextmanager
async def advisory_lock(*key: int) -> AsyncIterator[bool]:
    """Try to take the advisory lock ``key`` (one or two numbers) for the
    block; yield whether it was taken. Never waits."""
    if len(key) not in (1, 2):
        raise ValueError(f"an advisory lock key is one or two numbers, not {key!r}")
    held: Key = (key[0],) if len(key) == 1 else (key[0], key[1])
    acquired = await _session.try_lock(held)
    try:
        yield acquired
    finally:
        if acquired:
            await _session.unlock(held)
