"""The web server's database connections: a request hands its pooled
connection back while it does CPU work that needs none."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections


@contextmanager
def connection_released(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block (a password hash: tens of milliseconds of CPU) with this
    thread's database connection back in the pool, for another request to use;
    the next query after it takes one from the pool again.

    Only where connections come from a pool (the web server: settings.py) and
    outside a transaction: a transaction's work lives on its connection, and a
    connection of its own (the worker, ``manage.py``, the tests) would be
    closed and opened again for nothing. There the block runs as it is.
    """
    connection = connections[using]
    if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
        connection.close()  # with a pool: putconn, the connection stays open
    yield
