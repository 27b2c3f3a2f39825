"""System checks for operators: ``manage.py check --database default``, and
``manage.py migrate`` (which ``run.py serve`` and ``compose/start-api`` run
before starting the web server) runs them too."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.db import connections

# docs/deployment.md#sizing: a worker holds about 7 connections, whatever its
# concurrency; a few more are kept for migrations, the admin's commands, psql.
WORKER_CONNECTIONS = 7
SPARE_CONNECTIONS = 5
# The events streams' LISTEN connection and the one for their reads, per web process.
EVENTS_CONNECTIONS = 2


def web_connections() -> int:
    """The most connections the web service opens: its pool and the events
    streams' two, per web process."""
    return settings.WEB_CONCURRENCY * (settings.WEB_DB_POOL_SIZE + EVENTS_CONNECTIONS)


@checks.register(checks.Tags.database)
def connections_fit(databases: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A warning when ``WEB_CONCURRENCY`` web processes, their pools and one
    worker would need more connections than the server accepts."""
    if not databases or "default" not in databases:
        return []
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int,"
            " current_setting('superuser_reserved_connections')::int"
        )
        maximum, reserved = cursor.fetchone()
    available = maximum - reserved
    needed = web_connections() + WORKER_CONNECTIONS + SPARE_CONNECTIONS
    if needed <= available:
        return []
    return [
        checks.Warning(
            f"The web service may open {web_connections()} database connections "
            f"(WEB_CONCURRENCY={settings.WEB_CONCURRENCY} processes x "
            f"(WEB_DB_POOL_SIZE={settings.WEB_DB_POOL_SIZE} + {EVENTS_CONNECTIONS})); "
            f"with one worker ({WORKER_CONNECTIONS}) and {SPARE_CONNECTIONS} to spare that is "
            f"{needed}, more than the {available} the database server accepts "
            f"(max_connections {maximum} less {reserved} reserved).",
            hint="Lower WEB_CONCURRENCY or WEB_THREADS, or raise PostgreSQL's "
            "max_connections: docs/deployment.md, Sizing.",
            id="operations.W001",
        )
    ]
