"""The per-entry lock that keeps one entry out of two pipeline runs at once.

Procrastinate's queueing lock allows one *queued* job per entry, and its lock
one *running* job per adventure, but a job re-queued while it still runs (a
staff "re-run", a rescue that raced a slow heartbeat) could otherwise run the
entry twice and pay the providers twice.
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


class _LockSession:
    """One PostgreSQL session per worker process (per event loop) that holds the
    advisory locks of all the entries the process is running.

    It used to be a new connection per job: a connect (and authentication) on
    every job's critical path (``python -m bench``: part of
    ``overhead_stages_ms_p50.before_generation``). Session-level advisory locks
    are re-entrant within a session, so the entries this process holds are also
    kept in ``held``: a second run of an entry in the same process is refused
    there, a run in another process by PostgreSQL.
    """

    def __init__(self) -> None:
        self.connection: psycopg.AsyncConnection[Any] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.params: dict[str, Any] | None = None
        self.held: set[UUID] = set()
        self.connecting: asyncio.Lock | None = None

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            # A new event loop (tests run the pipeline with async_to_sync): the
            # old connection belongs to the old loop; drop it, locks and all.
            self._forget()
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

    def _forget(self) -> None:
        if self.connection is not None and not self.connection.closed:
            self.connection.pgconn.finish()  # closes the socket: the server drops its locks
        self.connection = None

    async def _execute(self, statement: str, key: int) -> bool:
        for attempt in (1, 2):
            connection = await self._connection()
            try:
                cursor = await connection.execute(statement, [key])
                row = await cursor.fetchone()
                return bool(row and row[0])
            except psycopg.OperationalError:
                # The server dropped the session (a restart, a failover): the
                # locks it held are gone, as they were with a connection per job.
                if attempt == 2 or not connection.broken:
                    raise
                logger.warning("the entry-lock session was lost; reconnecting")
        raise AssertionError("unreachable")

    async def try_lock(self, entry_id: UUID) -> bool:
        await self._connection()  # settles which loop's `held` applies
        if entry_id in self.held:
            return False
        self.held.add(entry_id)  # before awaiting: a concurrent run here sees it
        try:
            acquired = await self._execute("SELECT pg_try_advisory_lock(%s)", _key(entry_id))
        except BaseException:
            self.held.discard(entry_id)
            raise
        if not acquired:
            self.held.discard(entry_id)
        return acquired

    async def unlock(self, entry_id: UUID) -> None:
        try:
            connection = self.connection
            if connection is not None and not connection.closed and not connection.broken:
                await self._execute("SELECT pg_advisory_unlock(%s)", _key(entry_id))
        finally:
            self.held.discard(entry_id)


def _key(entry_id: UUID) -> int:
    return int.from_bytes(entry_id.bytes[:8], "big", signed=True)


_session = _LockSession()


def close() -> None:
    """Close the lock session (releasing whatever it holds); the next lock opens
    another. For tests, whose event loops come and go."""
    _session._forget()
    _session.held = set()


@asynccontextmanager
async def entry_lock(entry_id: UUID) -> AsyncIterator[bool]:
    """Try to take a PostgreSQL advisory lock on the entry; yield whether it was taken.

    The lock is held, for the whole run, by the process's lock session (above):
    if the worker dies, the server drops the session and the lock with it, so a
    lock can never outlive its holder.
    """
    acquired = await _session.try_lock(entry_id)
    try:
        yield acquired
    finally:
        if acquired:
            await _session.unlock(entry_id)
