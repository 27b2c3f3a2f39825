"""The benchmark's web server without deferral: a connector that keeps no job.

``python -m bench`` measures what durable deferral costs ``POST /api/adventures``
against a second gunicorn started with ``DJANGO_SETTINGS_MODULE=bench.settings_nodefer``.
That server runs the production code unchanged: the request validates its input,
writes its rows in its transaction, opens the savepoint and calls ``defer``. Only
the connector behind ``defer`` differs: instead of inserting the job row (with its
trigger and ``NOTIFY``) in the request's transaction, it hands back a job id and
forgets the job. Entries created there are never generated.
"""

from __future__ import annotations

import contextlib
from typing import Any

import procrastinate
from procrastinate import sql
from procrastinate.testing import InMemoryConnector

DEFER_JOBS = sql.queries["defer_jobs"]

# The connector swap lasts as long as the process (see ``discard_deferred_jobs``).
_swap = contextlib.ExitStack()


class DiscardingConnector(InMemoryConnector):
    """Procrastinate's in-memory connector, keeping nothing.

    ``InMemoryConnector`` keeps every job, its events and every query it ran, and
    checks a new job's queueing lock against every job it keeps: over the
    thousands of requests of a benchmark run, that memory and that scan grow with
    the run and would slow its later rounds. It also answers a synchronous defer
    through ``async_to_sync``, a new thread and event loop per call, which a real
    defer (one query on the request's own connection) does not pay. Here a defer
    only numbers its jobs.
    """

    def _discard(self, jobs: list[Any]) -> list[dict[str, Any]]:
        return [{"id": next(self.job_counter)} for _ in jobs]

    def execute_query_all(self, query: str, **arguments: Any) -> list[dict[str, Any]]:
        if query == DEFER_JOBS:
            return self._discard(arguments["jobs"])
        return super().execute_query_all(query, **arguments)

    async def execute_query_all_async(self, query: str, **arguments: Any) -> list[dict[str, Any]]:
        if query == DEFER_JOBS:
            return self._discard(arguments["jobs"])
        return await super().execute_query_all_async(query, **arguments)


def discard_deferred_jobs(app: procrastinate.App) -> None:
    """``PROCRASTINATE_ON_APP_READY`` of ``bench.settings_nodefer``: from now on,
    deferring through ``app`` goes to a ``DiscardingConnector``."""
    _swap.enter_context(app.replace_connector(DiscardingConnector()))
