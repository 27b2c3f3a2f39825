"""The per-entry lock that keeps one entry out of two pipeline runs at once.

Procrastinate's queueing lock allows one *queued* job per entry, and its lock
one *running* job per adventure, but a job re-queued while it still runs (a
staff "re-run", a rescue that raced a slow heartbeat) could otherwise run the
entry twice and pay the providers twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import psycopg
from asgiref.sync import sync_to_async
from procrastinate.contrib.django.utils import connector_params


@asynccontextmanager
async def entry_lock(entry_id: UUID) -> AsyncIterator[bool]:
    """Try to take a PostgreSQL advisory lock on the entry; yield whether it was taken.

    The lock is held on a connection of its own for the whole run: if the
    worker dies, the server drops the connection and the lock with it, so a
    lock can never outlive its holder.
    """
    params = await sync_to_async(connector_params)()
    key = int.from_bytes(entry_id.bytes[:8], "big", signed=True)
    async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as conn:
        row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", [key])).fetchone()
        acquired = bool(row and row[0])
        try:
            yield acquired
        finally:
            if acquired and not conn.closed:
                await conn.execute("SELECT pg_advisory_unlock(%s)", [key])
