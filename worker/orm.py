"""``db``: ORM work made awaitable from the worker's event loop."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async

P = ParamSpec("P")
R = TypeVar("R")


def db(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``function`` (ORM work) made awaitable from the worker's event loop.

    ``thread_sensitive=True``, on purpose: every ORM call of a worker process
    runs on one shared thread with one Django connection, the one that
    Procrastinate's per-job ``close_old_connections`` visits, so that after
    PostgreSQL drops connections (a restart, a failover) the next call
    reconnects. Each call is one short transaction while a job spends seconds
    waiting for providers, so the thread is not the bottleneck
    (``docs/decisions/0004-one-orm-thread-per-worker.md``).
    """
    return sync_to_async(function, thread_sensitive=True)
